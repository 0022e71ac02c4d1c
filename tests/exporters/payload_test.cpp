#include "exporters/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>

#include "exporters/text.h"
#include "test_alerts.h"

namespace aftershock::exporters {
namespace {

using aftershock::testing::hostile_alert;
using aftershock::testing::nvda_alert;
using ::testing::HasSubstr;
using ::testing::Not;

render_options options() {
  render_options o;
  o.grafana_url = "https://grafana.example/d/aftershock?var-symbol={{symbol}}";
  o.chat_id = "-1001234567890";
  return o;
}

std::size_t utf16(std::string_view s) { return text_length(s, length_unit::utf16); }

// What a Telegram reader sees: tags removed, entities decoded.
std::string telegram_visible(std::string_view html) {
  std::string out;
  for (std::size_t i = 0; i < html.size();) {
    if (html[i] == '<') {
      i = html.find('>', i) + 1;
    } else if (html.compare(i, 4, "&lt;") == 0) {
      out += '<';
      i += 4;
    } else if (html.compare(i, 4, "&gt;") == 0) {
      out += '>';
      i += 4;
    } else if (html.compare(i, 5, "&amp;") == 0) {
      out += '&';
      i += 5;
    } else if (html.compare(i, 6, "&quot;") == 0) {
      out += '"';
      i += 6;
    } else {
      out += html[i++];
    }
  }
  return out;
}

// Everything that must never get through, whatever the platform.
void expect_defused(const std::string& body) {
  EXPECT_THAT(body, Not(HasSubstr("<!channel>")));
  EXPECT_THAT(body, Not(HasSubstr("<!here>")));
  EXPECT_THAT(body, Not(HasSubstr("<https://evil.example|")));
  EXPECT_THAT(body, Not(HasSubstr("@everyone")));
  EXPECT_THAT(body, Not(HasSubstr("@here")));
  EXPECT_THAT(body, Not(HasSubstr("@channel")));
  EXPECT_THAT(body, Not(HasSubstr("javascript:")));
  EXPECT_THAT(body, Not(HasSubstr("\xE2\x80\xAE")));  // bidi override removed
  EXPECT_THAT(body, Not(HasSubstr("\\ud8")));         // no escaped lone surrogates
}

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& body) {
  simdjson::dom::element doc;
  const auto err = p.parse(body).get(doc);
  EXPECT_EQ(err, simdjson::SUCCESS) << "invalid JSON or UTF-8: " << body.substr(0, 300);
  return doc;
}

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

TEST(slack_payload, blocks_with_fallback_block_id_and_links) {
  const rules::alert a = nvda_alert();
  const std::vector<const rules::alert*> refs{&a};
  const std::string body = render_slack(refs, options());
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_THAT(str(doc["text"]), HasSubstr("NVDA \xC2\xB7 Nvidia"));
  auto blocks = simdjson::dom::array(doc["blocks"]);
  ASSERT_GE(blocks.size(), 3u);
  EXPECT_EQ(str(blocks.at(0)["block_id"]), "alert-bb735c1d38002abd");
  const std::string main = str(blocks.at(0)["text"]["text"]);
  EXPECT_THAT(main, HasSubstr("-10.03% vs previous close 142.62 (2025-01-24, XNAS)"));
  EXPECT_THAT(main, HasSubstr("*Price* 128.31"));
  EXPECT_THAT(main, HasSubstr("2025-01-27 05:59:48 America/New_York (UTC-05:00)"));
  EXPECT_THAT(main, HasSubstr("2025-01-27 10:59:48 UTC"));
  EXPECT_THAT(main,
              HasSubstr("<https://grafana.example/d/aftershock?var-symbol=NVDA|Grafana: NVDA>"));
  const std::string why = str(blocks.at(1)["text"]["text"]);
  EXPECT_THAT(why, HasSubstr("<https://www.benzinga.com/news/25/01/43000104/"
                             "nvidia-shares-slide?utm=a&amp;b=c|Nvidia Shares Slide"));
  EXPECT_THAT(why, HasSubstr("direct mention \"Nvidia\""));
  EXPECT_THAT(why, HasSubstr("theme deepseek via \"DeepSeek\""));
  EXPECT_EQ(bool(doc["unfurl_links"]), false);
}

TEST(slack_payload, hostile_headline_is_escaped_and_truncated) {
  const rules::alert a = hostile_alert();
  const std::vector<const rules::alert*> refs{&a};
  const std::string body = render_slack(refs, options());
  expect_defused(body);
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_LE(utf16(str(doc["text"])), limits::slack_fallback_text);
  std::size_t total = 0;
  for (auto block : simdjson::dom::array(doc["blocks"])) {
    simdjson::dom::element text;
    if (block["text"]["text"].get(text) == simdjson::SUCCESS) {
      EXPECT_LE(utf16(str(text)), limits::slack_section_text);
      total += utf16(str(text));
    }
  }
  EXPECT_LE(total, limits::slack_total_text);
  EXPECT_THAT(body,
              HasSubstr("&lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|NVDA halted&gt;"));
  EXPECT_THAT(body, HasSubstr("\xE2\x80\xA6"));  // cut with an ellipsis
}

TEST(slack_payload, groups_alerts_within_the_block_limit) {
  std::vector<rules::alert> alerts;
  for (int i = 0; i < 10; ++i) alerts.push_back(hostile_alert());
  std::vector<const rules::alert*> refs;
  for (auto& a : alerts) refs.push_back(&a);
  const std::string body = render_slack(refs, options());
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_LE(simdjson::dom::array(doc["blocks"]).size(), limits::slack_max_blocks);
  EXPECT_THAT(str(doc["text"]), HasSubstr("10 aftershock alerts"));
}

TEST(discord_payload, embeds_without_mentions) {
  const rules::alert a = nvda_alert();
  const std::vector<const rules::alert*> refs{&a};
  const std::string body = render_discord(refs, options());
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_EQ(simdjson::dom::array(doc["allowed_mentions"]["parse"]).size(), 0u);
  auto embed = doc["embeds"].at(0);
  EXPECT_THAT(str(embed["title"]), HasSubstr("NVDA \xC2\xB7 Nvidia -10.03%"));
  EXPECT_EQ(str(embed["url"]), "https://grafana.example/d/aftershock?var-symbol=NVDA");
  EXPECT_EQ(int64_t(embed["color"]), 0xE01E5A);
  EXPECT_THAT(str(embed["description"]),
              HasSubstr("[Nvidia Shares Slide In Premarket As DeepSeek Sparks Doubts Over AI "
                        "Spending](https://www.benzinga.com/"));
  EXPECT_THAT(str(embed["footer"]["text"]), HasSubstr("id bb735c1d38002abd"));
  EXPECT_EQ(str(embed["timestamp"]), "2025-01-27T10:59:48.000Z");
}

TEST(discord_payload, hostile_headline_within_every_limit) {
  std::vector<rules::alert> alerts;
  for (int i = 0; i < 10; ++i) alerts.push_back(hostile_alert());
  for (std::size_t n : {std::size_t{1}, std::size_t{10}}) {
    std::vector<const rules::alert*> refs;
    for (std::size_t i = 0; i < n; ++i) refs.push_back(&alerts[i]);
    const std::string body = render_discord(refs, options());
    expect_defused(body);
    EXPECT_THAT(body, Not(HasSubstr("](https://evil")));  // no masked link from a headline
    simdjson::dom::parser p;
    auto doc = parse(p, body);
    EXPECT_LE(utf16(str(doc["content"])), limits::discord_content);
    std::size_t total = 0;
    auto embeds = simdjson::dom::array(doc["embeds"]);
    EXPECT_EQ(embeds.size(), n);
    for (auto e : embeds) {
      const std::size_t title = utf16(str(e["title"]));
      const std::size_t description = utf16(str(e["description"]));
      const std::size_t footer = utf16(str(e["footer"]["text"]));
      EXPECT_LE(title, limits::discord_title);
      EXPECT_LE(description, limits::discord_description);
      EXPECT_LE(footer, limits::discord_footer);
      total += title + description + footer;
      simdjson::dom::array fields;
      if (e["fields"].get(fields) == simdjson::SUCCESS) {
        for (auto f : fields) {
          EXPECT_LE(utf16(str(f["value"])), limits::discord_field_value);
          total += utf16(str(f["name"])) + utf16(str(f["value"]));
        }
      }
    }
    EXPECT_LE(total, limits::discord_total) << n << " embeds";
  }
}

TEST(telegram_payload, html_with_chat_id_and_links) {
  const rules::alert a = nvda_alert();
  const std::vector<const rules::alert*> refs{&a};
  const std::string body = render_telegram(refs, options());
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_EQ(str(doc["chat_id"]), "-1001234567890");
  EXPECT_EQ(str(doc["parse_mode"]), "HTML");
  EXPECT_EQ(bool(doc["link_preview_options"]["is_disabled"]), true);
  const std::string text = str(doc["text"]);
  EXPECT_THAT(text, HasSubstr("<b>\xF0\x9F\x94\xB4 CRITICAL NVDA \xC2\xB7 Nvidia</b>"));
  EXPECT_THAT(text, HasSubstr("<a href=\"https://www.benzinga.com/news/25/01/43000104/"
                              "nvidia-shares-slide?utm=a&amp;b=c\">Nvidia Shares Slide"));
  EXPECT_THAT(text, HasSubstr("<code>id bb735c1d38002abd</code>"));
}

TEST(telegram_payload, hostile_headline_escaped_and_within_4096_visible_utf16) {
  for (std::size_t n : {std::size_t{1}, std::size_t{5}}) {
    std::vector<rules::alert> alerts(n, hostile_alert());
    std::vector<const rules::alert*> refs;
    for (auto& a : alerts) refs.push_back(&a);
    const std::string body = render_telegram(refs, options());
    expect_defused(body);
    simdjson::dom::parser p;
    auto doc = parse(p, body);
    const std::string text = str(doc["text"]);
    EXPECT_LE(utf16(telegram_visible(text)), limits::telegram_text);
    // Only our own tags, balanced: the hostile <b> and <script> arrive as text.
    const std::regex tag("<(/?)([a-z]+)[^>]*>");
    std::vector<std::string> stack;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), tag);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[2];
      EXPECT_TRUE(name == "b" || name == "i" || name == "a" || name == "code") << name;
      if ((*it)[1] == "/") {
        ASSERT_FALSE(stack.empty())
            << text.substr(std::max<std::ptrdiff_t>(0, it->position() - 200), 260);
        EXPECT_EQ(stack.back(), name);
        stack.pop_back();
      } else {
        stack.push_back(name);
      }
    }
    EXPECT_TRUE(stack.empty());
    EXPECT_THAT(text, Not(HasSubstr("\"></a>")));  // no empty links
    EXPECT_THAT(text, HasSubstr("&lt;b&gt;bold&lt;/b&gt;"));
    EXPECT_THAT(text, HasSubstr("&lt;script&gt;"));
  }
}

TEST(teams_payload, adaptive_card_through_workflows) {
  const rules::alert a = nvda_alert();
  const std::vector<const rules::alert*> refs{&a};
  const std::string body = render_teams(refs, options());
  EXPECT_THAT(body, Not(HasSubstr("MessageCard")));
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_EQ(str(doc["type"]), "message");
  auto att = doc["attachments"].at(0);
  EXPECT_EQ(str(att["contentType"]), "application/vnd.microsoft.card.adaptive");
  EXPECT_EQ(str(att["content"]["type"]), "AdaptiveCard");
  auto container = att["content"]["body"].at(0);
  EXPECT_EQ(str(container["id"]), "alert-bb735c1d38002abd");
  EXPECT_THAT(body, HasSubstr("{\"title\":\"Price\",\"value\":\"128.31\"}"));
  EXPECT_THAT(body,
              HasSubstr("[Grafana: NVDA](https://grafana.example/d/aftershock?var-symbol=NVDA)"));
}

TEST(teams_payload, hostile_headline_within_28kb) {
  for (std::size_t n : {std::size_t{1}, std::size_t{10}}) {
    std::vector<rules::alert> alerts(n, hostile_alert());
    std::vector<const rules::alert*> refs;
    for (auto& a : alerts) refs.push_back(&a);
    const std::string body = render_teams(refs, options());
    expect_defused(body);
    EXPECT_THAT(body, Not(HasSubstr("](https://evil")));
    EXPECT_LE(body.size(), limits::teams_body_bytes);
    simdjson::dom::parser p;
    parse(p, body);
    EXPECT_THAT(body, HasSubstr("\\\\[click\\\\]\\\\(https://evil.example/x\\\\)"));
  }
}

TEST(alertmanager_payload, labels_from_fingerprint_fields) {
  const rules::alert a = nvda_alert();
  const alertmanager_item items[] = {{&a, a.event_time, a.event_time + 300 * rules::k_ns_per_s}};
  const std::string body = render_alertmanager(items, options());
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  auto first = doc.at(0);
  EXPECT_EQ(str(first["labels"]["alertname"]), "aftershock_move");
  EXPECT_EQ(str(first["labels"]["rule"]), "prev_close_move");
  EXPECT_EQ(str(first["labels"]["symbol"]), "NVDA");
  EXPECT_EQ(str(first["labels"]["direction"]), "down");
  EXPECT_EQ(str(first["labels"]["baseline"]), "prev_close");
  EXPECT_EQ(str(first["labels"]["severity"]), "critical");
  EXPECT_EQ(str(first["startsAt"]), "2025-01-27T10:59:48.000Z");
  EXPECT_EQ(str(first["endsAt"]), "2025-01-27T11:04:48.000Z");
  EXPECT_EQ(str(first["generatorURL"]), "https://grafana.example/d/aftershock?var-symbol=NVDA");
  EXPECT_EQ(str(first["annotations"]["alert_id"]), "bb735c1d38002abd");
  EXPECT_THAT(str(first["annotations"]["description"]), HasSubstr("direct mention \"Nvidia\""));
}

TEST(alertmanager_payload, hostile_text_bounded) {
  const rules::alert a = hostile_alert();
  const alertmanager_item items[] = {{&a, a.event_time, a.event_time}};
  const std::string body = render_alertmanager(items, options());
  expect_defused(body);
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_LE(text_length(str(doc.at(0)["annotations"]["description"]), length_unit::code_points),
            limits::alertmanager_annotation);
}

TEST(webhook_payload, template_values_are_json_escaped) {
  render_options o = options();
  o.template_text =
      R"({"text":"{{summary}}","headline":"{{ headline }}","move":{{change_pct}},"id":"{{id}}","link":"{{grafana_url}}","alert":{{alert_json}}})";
  const rules::alert a = hostile_alert();
  const std::string body = render_webhook(a, o);
  simdjson::dom::parser p;
  auto doc = parse(p, body);
  EXPECT_EQ(double(doc["move"]), -10.03);
  EXPECT_EQ(str(doc["id"]), "hostile0000000001");
  EXPECT_EQ(str(doc["alert"]["id"]), "hostile0000000001");
  const std::string headline = str(doc["headline"]);
  EXPECT_LE(headline.size(), limits::webhook_field_bytes);
  EXPECT_EQ(headline.substr(0, 40), aftershock::testing::k_hostile_prefix.substr(0, 40));
  EXPECT_EQ(str(doc["link"]),
            "https://grafana.example/d/aftershock?var-symbol=NVDA%3C%21channel%3E");
  EXPECT_EQ(check_template("{{nope}}").empty(), false);
  EXPECT_EQ(check_template("{{summary"), "'{{' at offset 0 is never closed");
  EXPECT_EQ(check_template(o.template_text), "");
}

TEST(webhook_payload, default_body_is_the_alert_json) {
  const rules::alert a = nvda_alert();
  EXPECT_EQ(render_webhook(a, render_options{}), rules::to_json(a));
}

TEST(console_payload, readable_lines_without_control_characters) {
  rules::alert a = nvda_alert();
  a.headlines[0].headline = "evil \x1b]0;pwned\x07 title";
  const std::string out = render_console(a, options());
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_EQ(out.find('\x07'), std::string::npos);
  EXPECT_THAT(out, HasSubstr("NVDA \xC2\xB7 Nvidia"));
  EXPECT_THAT(out, HasSubstr("price 128.31 at 2025-01-27 05:59:48 America/New_York (UTC-05:00)"));
}

TEST(message_parts, resolved_and_non_price_alerts) {
  rules::alert a = nvda_alert();
  a.status = rules::alert_status::resolved;
  EXPECT_EQ(make_parts(a, options()).badge, "\xE2\x9C\x85 RESOLVED");
  rules::alert stale;
  stale.kind = "feed_stale";
  stale.rule = "feed_watchdog";
  stale.level = rules::severity::info;
  stale.summary = "alpaca feed silent for 90s";
  const alert_parts p = make_parts(stale, options());
  EXPECT_EQ(p.subject, "feed_watchdog");
  EXPECT_EQ(p.move, "");
  EXPECT_EQ(p.grafana_url, "https://grafana.example/d/aftershock?var-symbol=");
  EXPECT_THAT(p.one_line, HasSubstr("(feed_stale)"));
}

}  // namespace
}  // namespace aftershock::exporters
