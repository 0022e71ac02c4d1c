// The generic dialect, for sources with no vendor protocol (an in-house news service, a
// translation pipeline, an RSS bridge): one object, or an array of objects, each with a "type"
// of "news", "trade" or "bar" (scenarios/README.md). Keys are long and self-describing and do
// not overlap between types except "symbol"/"id", so one union of fields serves all three.

#include <string>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds::detail {

namespace {

enum field : unsigned {
  f_type,
  f_id,
  f_published_at,
  f_headline,
  f_body,
  f_symbols,
  f_lang,
  f_source,
  f_url,
  f_symbol,
  f_price,
  f_size,
  f_ts,
  f_open,
  f_high,
  f_low,
  f_close,
  f_volume,
  f_start,
  f_end,
  f_kind,
};

struct element {
  field_bits bits;
  std::string type, id, headline, body, lang, source, url, symbol, kind;
  std::vector<std::string> symbols;
  rules::time_ns published_at = 0, ts = 0, start = 0, end = 0;
  double price = 0, size = 0, open = 0, high = 0, low = 0, close = 0, volume = 0;
};

constexpr std::uint64_t k_news_required = mask({f_id, f_published_at, f_headline});
constexpr std::uint64_t k_news_used =
    k_news_required | mask({f_body, f_symbols, f_lang, f_source, f_url});
constexpr std::uint64_t k_trade_required = mask({f_symbol, f_price, f_ts});
constexpr std::uint64_t k_trade_used = k_trade_required | mask({f_size, f_id});
constexpr std::uint64_t k_bar_required =
    mask({f_symbol, f_open, f_high, f_low, f_close, f_start, f_end});
constexpr std::uint64_t k_bar_used = k_bar_required | mask({f_volume, f_kind});

std::optional<rules::bar_kind> bar_kind_from_name(std::string_view name) {
  if (name == "minute") return rules::bar_kind::minute;
  if (name == "second") return rules::bar_kind::second;
  if (name == "daily") return rules::bar_kind::daily;
  if (name == "updated_minute") return rules::bar_kind::updated_minute;
  return std::nullopt;
}

class generic_decoder final : public decoder {
 public:
  parse_error decode(od::document& doc, frame_sink& sink) override {
    od::json_type type;
    if (const parse_error e = root_type(doc, type); e != parse_error::none) return e;
    if (type == od::json_type::array) {
      od::array arr;
      if (const parse_error e = root_error(doc, doc.get_array().get(arr)); e != parse_error::none) {
        return e;
      }
      return for_each_object(arr, sink, [&](od::object& obj) { return element_of(obj, sink); });
    }
    od::object obj;
    if (const parse_error e = root_error(doc, doc.get_object().get(obj)); e != parse_error::none) {
      return e;
    }
    return element_of(obj, sink);
  }

 private:
  parse_error element_of(od::object& obj, frame_sink& sink) {
    el_.bits.reset();
    const parse_error e = read_element(obj);
    if (e == parse_error::none) dispatch(sink);
    return e;
  }

  parse_error read_element(od::object& obj) {
    element& el = el_;
    field_bits& b = el.bits;
    return for_each_field(obj, [&](const field_key& key, od::value& v)
                                   __attribute__((always_inline)) -> parse_error {
      // clang-format off
      switch (key.code) {
        case key_code("type"): b.set(f_type, read_string(v, el.type)); break;
        case key_code("id"): b.set(f_id, read_id_text(v, el.id)); break;
        case key_code("headline"): b.set(f_headline, read_string(v, el.headline)); break;
        case key_code("body"): b.set(f_body, read_string(v, el.body)); break;
        case key_code("symbols"): {
          const parse_error e = read_string_array(v, el.symbols);
          if (e == parse_error::invalid_json) return e;
          b.set(f_symbols, e == parse_error::none);
          break;
        }
        case key_code("lang"): b.set(f_lang, read_string(v, el.lang)); break;
        case key_code("source"): b.set(f_source, read_string(v, el.source)); break;
        case key_code("url"): b.set(f_url, read_string(v, el.url)); break;
        case key_code("symbol"): b.set(f_symbol, read_string(v, el.symbol)); break;
        case key_code("price"): b.set(f_price, read_double(v, el.price)); break;
        case key_code("size"): b.set(f_size, read_double(v, el.size)); break;
        case key_code("ts"): b.set(f_ts, read_flexible_time(v, el.ts)); break;
        case key_code("open"): b.set(f_open, read_double(v, el.open)); break;
        case key_code("high"): b.set(f_high, read_double(v, el.high)); break;
        case key_code("low"): b.set(f_low, read_double(v, el.low)); break;
        case key_code("close"): b.set(f_close, read_double(v, el.close)); break;
        case key_code("volume"): b.set(f_volume, read_double(v, el.volume)); break;
        case key_code("start"): b.set(f_start, read_flexible_time(v, el.start)); break;
        case key_code("end"): b.set(f_end, read_flexible_time(v, el.end)); break;
        case key_code("kind"): b.set(f_kind, read_string(v, el.kind)); break;
        case 0:
          if (key.text == "published_at") {
            b.set(f_published_at, read_flexible_time(v, el.published_at));
          }
          break;
        default: break;
      }
      // clang-format on
      return parse_error::none;
    });
  }

  void dispatch(frame_sink& sink) {
    element& el = el_;
    if (!el.bits.has(f_type)) {
      const bool bad = el.bits.check(mask({f_type}), 0) == parse_error::bad_value;
      sink.reject(bad ? parse_error::bad_value : parse_error::missing_field);
      return;
    }
    if (el.type == "news") {
      news(sink);
    } else if (el.type == "trade") {
      trade(sink);
    } else if (el.type == "bar") {
      bar(sink);
    } else {
      sink.ignore();
    }
  }

  bool check(frame_sink& sink, std::uint64_t required, std::uint64_t used) {
    const parse_error e = el_.bits.check(required, used);
    if (e == parse_error::none) return true;
    sink.reject(e);
    return false;
  }

  void news(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_news_required, k_news_used)) return;
    if (el.id.empty() || el.headline.empty()) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::news n;
    if (el.bits.has(f_symbols)) {
      for (const std::string& s : el.symbols) {
        if (!valid_symbol(s)) {
          sink.reject(parse_error::bad_value);
          return;
        }
      }
      n.symbols = std::move(el.symbols);
    }
    n.id = std::move(el.id);
    n.headline = std::move(el.headline);
    if (el.bits.has(f_body)) n.summary = std::move(el.body);
    if (el.bits.has(f_url)) n.url = std::move(el.url);
    if (el.bits.has(f_source)) n.source = std::move(el.source);
    if (el.bits.has(f_lang)) n.lang = std::move(el.lang);
    n.time = el.published_at;
    sink.emit(std::move(n));
  }

  void trade(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_trade_required, k_trade_used)) return;
    const double size = el.bits.has(f_size) ? el.size : 0;
    if (!valid_symbol(el.symbol) || !valid_price(el.price) || !valid_size(size)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    // An integer id labels the print; a text id ("t-17") has no int64 form and stays 0.
    std::int64_t id = 0;
    if (el.bits.has(f_id) && !parse_integer(el.id, id)) id = 0;
    sink.emit(rules::trade{std::move(el.symbol), el.price, size, el.ts, id});
  }

  void bar(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_bar_required, k_bar_used)) return;
    // Without an explicit "kind", the bar's length says what it is.
    rules::bar_kind kind = rules::bar_kind::minute;
    if (el.bits.has(f_kind)) {
      const std::optional<rules::bar_kind> k = bar_kind_from_name(el.kind);
      if (!k) {
        sink.reject(parse_error::bad_value);
        return;
      }
      kind = *k;
    } else if (el.end - el.start == rules::k_ns_per_s) {
      kind = rules::bar_kind::second;
    } else if (el.end - el.start >= rules::k_ns_per_day) {
      kind = rules::bar_kind::daily;
    }
    rules::bar b{std::move(el.symbol),
                 kind,
                 el.open,
                 el.high,
                 el.low,
                 el.close,
                 el.bits.has(f_volume) ? el.volume : 0,
                 el.start,
                 el.end};
    if (!valid_bar(b)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(std::move(b));
  }

  element el_;
};

}  // namespace

std::unique_ptr<decoder> make_generic_decoder() { return std::make_unique<generic_decoder>(); }

}  // namespace aftershock::feeds::detail
