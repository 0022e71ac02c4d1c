// Alerts for the exporters' tests: a realistic one (the DeepSeek morning) and a hostile one
// whose headline tries to ping, spoof a link, inject markup and overflow every limit.
#pragma once

#include <string>

#include "rules/alert.h"

namespace aftershock::testing {

inline rules::alert nvda_alert(std::string id = "bb735c1d38002abd") {
  rules::alert a;
  a.id = std::move(id);
  a.fingerprint = "9f1c2e3d4b5a6978";
  a.kind = "move";
  a.rule = "prev_close_move";
  a.level = rules::severity::critical;
  a.symbol = "NVDA";
  a.name = "Nvidia";
  a.exchange = "XNAS";
  a.time_zone = "America/New_York";
  a.utc_offset_s = -5 * 3600;
  a.symbols = {"NVDA"};
  a.change_pct = -10.03;
  a.direction = "down";
  a.price = 128.31;
  a.threshold_pct = 10;
  a.base = rules::baseline{"prev_close", 142.62, *rules::parse_rfc3339("2025-01-24T20:59:59Z"),
                           "previous close 142.62 (2025-01-24, XNAS)"};
  a.event_time = *rules::parse_rfc3339("2025-01-27T10:59:48Z");
  rules::citation c;
  c.id = "43000104";
  c.headline = "Nvidia Shares Slide In Premarket As DeepSeek Sparks Doubts Over AI Spending";
  c.source = "benzinga";
  c.url = "https://www.benzinga.com/news/25/01/43000104/nvidia-shares-slide?utm=a&b=c";
  c.published = *rules::parse_rfc3339("2025-01-27T10:15:00Z");
  c.how = rules::link_kind::direct;
  c.matched = "Nvidia";
  a.headlines.push_back(c);
  rules::citation t;
  t.id = "zh-001";
  t.headline = "国产AI DeepSeek登顶苹果App Store美区免费榜";
  t.source = "radiomandarin";
  t.published = *rules::parse_rfc3339("2025-01-26T14:00:00Z");
  t.how = rules::link_kind::theme;
  t.theme = "deepseek";
  t.matched = "DeepSeek";
  a.headlines.push_back(t);
  a.summary =
      "NVDA (Nvidia) -10.03% vs previous close 142.62 (2025-01-24, XNAS): 128.31 at 05:59 "
      "EST (10:59Z); likely cause: Nvidia Shares Slide In Premarket";
  return a;
}

/// The part a reader could be fooled by; the rest of the headline is filler.
inline const std::string k_hostile_prefix =
    "<!channel> <!here> <https://evil.example|NVDA halted> @everyone @here @channel <b>bold</b> "
    "[click](https://evil.example/x) **NVDA** \"quoted\" & more \xE2\x80\xAE reversed ";

/// More than 5,000 characters, with astral emoji (surrogate pairs in UTF-16) all the way.
inline std::string hostile_headline() {
  std::string h = k_hostile_prefix;
  while (h.size() < 5200 * 2)
    h += "DeepSeek \xF0\x9F\x9A\x80 \xE8\x8B\xB1\xE4\xBC\x9F\xE8\xBE\xBE <> & ";
  return h;
}

inline rules::alert hostile_alert() {
  rules::alert a = nvda_alert("hostile0000000001");
  a.symbol = "NVDA<!channel>";
  a.name = "Nvidia @everyone";
  a.headlines[0].headline = hostile_headline();
  a.headlines[0].source = "@here <script>alert(1)</script>";
  a.headlines[1].url = "javascript:alert(1)";  // never a link
  a.summary = "NVDA " + hostile_headline();
  return a;
}

}  // namespace aftershock::testing
