// Hostile headline text (and hostile vendor fields: source, symbol, name, citation URL) cannot
// ping anyone or make a link in any chat payload: Slack, Discord, Microsoft Teams, Telegram.
// tests/exporters covers one hostile headline per platform; this runs a catalogue of attacks,
// one at a time so none hides behind another's truncation, through every chat renderer.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "exporters/payload.h"
#include "tests/exporters/test_alerts.h"

namespace aftershock::exporters {
namespace {

struct attack {
  const char* name;
  std::string text;
};

const std::vector<attack>& attacks() {
  static const std::vector<attack> list = {
      {"slack_broadcast", "<!channel> <!here> <!everyone> NVDA halted"},
      {"slack_user_group_and_channel", "<@U024BE7LH> <!subteam^SAZ94GDB8> <#C024BE7LH> halted"},
      {"slack_link", "<https://evil.example/login|NVDA halted> <http://evil.example>"},
      {"slack_link_split_by_escape", "<https://evil.example/&amp;|NVDA halted>"},
      {"discord_mentions", "@everyone @here <@123456789012345678> <@&987654321098765432>"},
      {"discord_masked_link", "[NVDA halted](https://evil.example/x) [x](<https://evil.example>)"},
      {"markdown_autolink", "<https://evil.example/a> https://evil.example/b"},
      {"telegram_html", "<a href=\"https://evil.example\">NVDA halted</a> <a href=\"tg://user?id=1\">x</a>"},
      {"telegram_entities_smuggled", "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;"},
      {"teams_mention_and_markdown", "<at>Everyone</at> [NVDA halted](https://evil.example)"},
      {"zero_width_and_fullwidth", "@\xE2\x80\x8B" "everyone \xEF\xBC\xA0here @e\xC2\xADveryone"},
      {"bidi_and_controls", "\xE2\x80\xAE" "detlah ADVN\x1b[2J\r\n@channel"},
      {"json_breakout", "\"}],\"text\":\"@channel\",\"x\":[{\"a\":\"\\u0000"},
      {"invalid_utf8", "NVDA \xff\xfe halted \xed\xa0\x80 <!channel>"},
  };
  return list;
}

rules::alert alert_with(const std::string& text) {
  rules::alert a = aftershock::testing::nvda_alert("hostile0000000002");
  a.headlines[0].headline = text;
  a.headlines[0].source = text;
  a.headlines[0].url = "https://nvda.com@evil.example/|NVDA halted>";  // userinfo spoof
  a.headlines[1].url = "javascript:alert(1)";
  a.name = "Nvidia " + text;
  return a;
}

render_options options() {
  render_options o;
  o.grafana_url = "https://grafana.example/d/aftershock?var-symbol={{symbol}}";
  o.chat_id = "-1001234567890";
  return o;
}

// What would ping or make a spoofed link, per platform (each platform's own syntax: Slack's
// <url|text> and <!special>/<@user> means nothing to Telegram, and is inert text there).
const std::vector<std::string>& forbidden(const std::string& platform) {
  static const std::vector<std::string> common = {
      "@everyone", "@here", "@channel",  // broadcast words (escaped forms break them)
      "javascript:", "nvda.com@evil"};   // link targets that must never be made
  static const std::vector<std::string> slack = {
      "<https://evil", "<http://evil", "<!channel", "<!here", "<!everyone", "<!subteam",
      "<@U", "<#C"};
  static const std::vector<std::string> markdown = {  // Discord and Teams masked links
      "](https://evil", "](<https://evil", "](http://evil"};
  static const std::vector<std::string> teams = {"<at>"};
  static const std::vector<std::string> telegram = {
      "href=\\\"https://evil", "href=\\\"tg://", "href=\\\"http://evil"};
  static std::map<std::string, std::vector<std::string>> by_platform;
  if (by_platform.empty()) {
    auto with = [&](std::vector<std::string> extra) {
      extra.insert(extra.end(), common.begin(), common.end());
      return extra;
    };
    by_platform["slack"] = with(slack);
    by_platform["discord"] = with(markdown);
    std::vector<std::string> t = markdown;
    t.insert(t.end(), teams.begin(), teams.end());
    by_platform["teams"] = with(t);
    by_platform["telegram"] = with(telegram);
  }
  return by_platform.at(platform);
}

void expect_inert(const std::string& platform, const std::string& body) {
  SCOPED_TRACE(platform + ": " + body.substr(0, 2000));
  for (const std::string& bad : forbidden(platform)) {
    EXPECT_EQ(body.find(bad), std::string::npos) << platform << " payload has " << bad;
  }
}

class hostile_text : public ::testing::TestWithParam<attack> {};

TEST_P(hostile_text, no_chat_payload_pings_or_links) {
  const rules::alert a = alert_with(GetParam().text);
  const std::vector<const rules::alert*> refs{&a};
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"slack", render_slack(refs, options())},
      {"discord", render_discord(refs, options())},
      {"teams", render_teams(refs, options())},
      {"telegram", render_telegram(refs, options())},
  };
  simdjson::dom::parser parser;
  for (const auto& [platform, body] : bodies) {
    expect_inert(platform, body);
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS)
        << platform << " payload is not valid JSON/UTF-8";
  }
  // Discord pings nobody whatever the text says.
  EXPECT_NE(bodies[1].second.find(R"("allowed_mentions":{"parse":[]})"), std::string::npos);
  // The alert's own links survive: hostile input did not make the renderer drop everything.
  EXPECT_NE(bodies[0].second.find("https://grafana.example/d/aftershock?var-symbol=NVDA"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(catalogue, hostile_text, ::testing::ValuesIn(attacks()),
                         [](const ::testing::TestParamInfo<attack>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace aftershock::exporters
