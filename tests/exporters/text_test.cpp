#include "exporters/text.h"

#include <gtest/gtest.h>

#include "exporters/url.h"

namespace aftershock::exporters {
namespace {

const std::string k_rocket = "\xF0\x9F\x9A\x80";  // U+1F680: 4 bytes, 2 UTF-16 units

TEST(text, lengths_in_each_unit) {
  const std::string s = "a" + k_rocket + "\xE8\x8B\xB1";  // a 🚀 英
  EXPECT_EQ(text_length(s, length_unit::bytes), 8u);
  EXPECT_EQ(text_length(s, length_unit::code_points), 3u);
  EXPECT_EQ(text_length(s, length_unit::utf16), 4u);
  EXPECT_EQ(text_length("a\"b\n", length_unit::json_bytes), 6u);
}

TEST(text, invalid_utf8_decodes_to_replacement_one_byte_at_a_time) {
  const std::string bad = "a\xFF\xE2\x82";  // stray byte, then a truncated 3-byte sequence
  std::size_t i = 1;
  EXPECT_EQ(decode_utf8(bad, i), k_replacement_char);
  EXPECT_EQ(i, 2u);
  EXPECT_EQ(text_length(bad, length_unit::code_points), 4u);
  EXPECT_EQ(text_length("\xED\xA0\x80", length_unit::code_points), 3u);  // encoded surrogate
}

TEST(text, truncate_never_splits_a_surrogate_pair_or_utf8_sequence) {
  std::string rockets;
  for (int i = 0; i < 10; ++i) rockets += k_rocket;
  // 5 UTF-16 units: two rockets (4) and the ellipsis (1); a third rocket would need 2 more.
  EXPECT_EQ(truncate(rockets, 5, length_unit::utf16),
            k_rocket + k_rocket + std::string(k_ellipsis));
  EXPECT_EQ(truncate(rockets, 6, length_unit::utf16),
            k_rocket + k_rocket + std::string(k_ellipsis));
  EXPECT_EQ(truncate(rockets, 20, length_unit::utf16), rockets);
  const std::string cut = truncate(rockets, 10, length_unit::bytes);  // 2 rockets need 8 + 3
  EXPECT_EQ(cut, k_rocket + std::string(k_ellipsis));
  EXPECT_EQ(truncate("abc", 0, length_unit::utf16), "");
}

TEST(text, slack_escapes_only_amp_lt_gt) {
  EXPECT_EQ(escape("<!channel> a&b \"q\" *bold*", dialect::slack_mrkdwn),
            "&lt;!channel&gt; a&amp;b \"q\" *bold*");
}

TEST(text, telegram_html_escapes_markup_and_quotes) {
  EXPECT_EQ(escape("<b>x</b> & \"y\"", dialect::telegram_html),
            "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;");
}

TEST(text, discord_markdown_cannot_make_links_or_emphasis) {
  EXPECT_EQ(escape("[NVDA halted](https://evil.example) **x** <@123>", dialect::discord_markdown),
            "\\[NVDA halted\\]\\(https://evil.example\\) \\*\\*x\\*\\* \\<@123\\>");
}

TEST(text, teams_markdown_is_escaped) {
  EXPECT_EQ(escape("[a](b) _c_ # d", dialect::teams_markdown), "\\[a\\]\\(b\\) \\_c\\_ \\# d");
}

TEST(text, broadcast_mentions_never_ping_in_any_dialect) {
  for (dialect d : {dialect::plain, dialect::slack_mrkdwn, dialect::discord_markdown,
                    dialect::telegram_html, dialect::teams_markdown}) {
    const std::string out = escape("hi @everyone and @Here, @channel! me@example.com", d);
    EXPECT_EQ(out.find("@everyone"), std::string::npos) << out;
    EXPECT_EQ(out.find("@Here"), std::string::npos) << out;
    EXPECT_EQ(out.find("@channel"), std::string::npos) << out;
    EXPECT_NE(out.find("me@example.com"), std::string::npos) << out;  // ordinary '@' untouched
  }
}

TEST(text, newlines_and_controls_become_spaces_and_bidi_overrides_vanish) {
  EXPECT_EQ(escape("a\nb\tc\x1b[31m \xE2\x80\xAEz", dialect::plain), "a b c [31m z");
}

TEST(text, safe_link_urls) {
  EXPECT_EQ(safe_link_url("https://news.example/a?b=1&c=2#f").value(),
            "https://news.example/a?b=1&c=2#f");
  EXPECT_EQ(safe_link_url("HTTP://News.Example/a|b>c").value(), "http://news.example/a%7Cb%3Ec");
  EXPECT_EQ(safe_link_url("https://x.example/(paren)").value(), "https://x.example/%28paren%29");
  EXPECT_FALSE(safe_link_url("javascript:alert(1)"));
  EXPECT_FALSE(safe_link_url("ftp://x.example/"));
  EXPECT_FALSE(safe_link_url("https://nvda.com@evil.example/"));  // userinfo spoofing
  EXPECT_FALSE(safe_link_url("https://a.example/ b"));
  EXPECT_FALSE(safe_link_url("https:///nohost"));
}

TEST(bounded_text, truncates_escaped_text_without_breaking_an_entity) {
  // "&lt;" is 4 units sent: with room for 6, one "<" fits (4) plus the ellipsis (1), not two.
  bounded_text t(dialect::slack_mrkdwn, length_unit::utf16, 6);
  EXPECT_FALSE(t.text("<<<<"));
  EXPECT_EQ(t.str(), "&lt;" + std::string(k_ellipsis));
  EXPECT_TRUE(t.truncated());
  EXPECT_LE(t.used(), 6u);
}

TEST(bounded_text, telegram_counts_visible_characters) {
  bounded_text t(dialect::telegram_html, length_unit::utf16, 5, bounded_text::cost::visible);
  EXPECT_TRUE(t.tag("<b>"));
  EXPECT_TRUE(t.text("<&>"));  // three visible characters
  EXPECT_TRUE(t.tag("</b>"));
  EXPECT_EQ(t.used(), 3u);
  EXPECT_EQ(t.str(), "<b>&lt;&amp;&gt;</b>");
}

TEST(bounded_text, links_per_dialect_and_unsafe_urls_become_text) {
  bounded_text s(dialect::slack_mrkdwn, length_unit::utf16, 200);
  s.link("https://n.example/?a=1&b=2", "A <b>");
  EXPECT_EQ(s.str(), "<https://n.example/?a=1&amp;b=2|A &lt;b&gt;>");
  bounded_text d(dialect::discord_markdown, length_unit::utf16, 200);
  d.link("https://n.example/x", "[x]");
  EXPECT_EQ(d.str(), "[\\[x\\]](https://n.example/x)");
  bounded_text tg(dialect::telegram_html, length_unit::utf16, 200, bounded_text::cost::visible);
  tg.link("https://n.example/?a=1&b=2", "x\"y");
  EXPECT_EQ(tg.str(), "<a href=\"https://n.example/?a=1&amp;b=2\">x&quot;y</a>");
  EXPECT_EQ(tg.used(), 3u);
  bounded_text bad(dialect::slack_mrkdwn, length_unit::utf16, 200);
  bad.link("javascript:alert(1)", "<https://evil.example|NVDA halted>");
  EXPECT_EQ(bad.str(), "&lt;https://evil.example|NVDA halted&gt;");
}

TEST(bounded_text, reserve_keeps_room_for_closing_markup) {
  bounded_text t(dialect::slack_mrkdwn, length_unit::utf16, 10);
  t.reserve(1);
  t.tag("*");
  t.text("abcdefghijklmnop");
  t.release(1);
  EXPECT_TRUE(t.tag("*"));
  EXPECT_LE(t.used(), 10u);
  EXPECT_EQ(t.str().back(), '*');
}

TEST(url, parses_and_redacts) {
  const auto u = parse_http_url("https://hooks.slack.com/services/T0/B0/secret?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.slack.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/services/T0/B0/secret?x=1");
  EXPECT_EQ(redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/\xE2\x80\xA6");
  EXPECT_EQ(redact_url("http://127.0.0.1:9093/api/v2/alerts"),
            "http://127.0.0.1:9093/\xE2\x80\xA6");
  EXPECT_EQ(redact_url("https://api.telegram.org/bot123:ABC/sendMessage").find("ABC"),
            std::string::npos);
  EXPECT_EQ(parse_http_url("http://[::1]:8080")->host, "::1");
  EXPECT_FALSE(parse_http_url("http://user:pw@host/"));
  EXPECT_FALSE(parse_http_url("http://host:99999/"));
  EXPECT_EQ(redact_url("not a url"), "<redacted>");
}

TEST(url, resolves_secret_references) {
  ::setenv("AFTERSHOCK_TEST_SECRET", "https://hooks.example/T/B/x", 1);
  std::string error;
  EXPECT_EQ(resolve_secret("env:AFTERSHOCK_TEST_SECRET", &error).value(),
            "https://hooks.example/T/B/x");
  EXPECT_FALSE(resolve_secret("env:AFTERSHOCK_TEST_UNSET_VAR", &error));
  EXPECT_NE(error.find("not set"), std::string::npos);
  const std::string dir = ::testing::TempDir();
  {
    std::FILE* f = std::fopen((dir + "/tok").c_str(), "w");
    std::fputs("123:ABC\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(resolve_secret("file:" + dir + "/tok", &error).value(), "123:ABC");
  ::setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
  EXPECT_EQ(resolve_secret("cred:tok", &error).value(), "123:ABC");
  EXPECT_FALSE(resolve_secret("cred:../etc/passwd", &error));
  EXPECT_EQ(resolve_secret("https://literal.example/", &error).value(), "https://literal.example/");
  EXPECT_NE(check_secret_ref("env:BAD NAME"), "");
}

}  // namespace
}  // namespace aftershock::exporters
