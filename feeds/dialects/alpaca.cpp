// Alpaca market data v2 (stocks stream) and Alpaca news stream: a JSON array of objects tagged
// "T", batched and mixed (feeds.md §1, §2).
//
// Keys mean different things in different message types ("c" is the condition list of a trade
// and the close of a bar; "i" a trade id or a LULD indicator) and "T" need not come first, so
// each element is read in one pass into a union of all the fields we use, telling ambiguous keys
// apart by JSON type, and judged by its type afterwards. A field that only some other type
// needs can therefore never get an element rejected.

#include <string>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds::detail {

namespace {

// One bit per field we read.
enum field : unsigned {
  f_type,  // T
  f_symbol,
  f_time,
  f_id,         // i as integer (trade, cancel)
  f_indicator,  // i as string (LULD)
  f_price,
  f_size,
  f_open,
  f_high,
  f_low,
  f_close,  // c as a number (bars); as an array it is a trade's conditions, which we skip
  f_volume,
  f_bid,
  f_bid_size,
  f_ask,
  f_ask_size,
  f_status_code,
  f_status_message,
  f_reason_code,
  f_reason_message,
  f_limit_up,
  f_limit_down,
  f_orig_id,
  f_orig_price,
  f_orig_size,
  f_corr_id,
  f_corr_price,
  f_corr_size,
  f_action,  // a: "C" cancel, "E" error
  f_msg,
  f_code,
  f_news_id,
  f_headline,
  f_summary,
  f_url,
  f_source,
  f_symbols,
  f_created_at,
  f_updated_at,
};

struct element {
  field_bits bits;
  // In the parser's string buffer (read_string into a view): valid while the frame is decoded,
  // and copied only into the event that keeps it.
  std::string_view type, symbol;
  std::string indicator, status_code, status_message, reason_code, reason_message;
  std::string action, msg, news_id, headline, summary, url, source;
  std::vector<std::string> symbols;
  rules::time_ns time = 0, created_at = 0, updated_at = 0;
  std::int64_t id = 0, orig_id = 0, corr_id = 0, code = 0;
  double price = 0, size = 0, open = 0, high = 0, low = 0, close = 0, volume = 0;
  double bid = 0, bid_size = 0, ask = 0, ask_size = 0, limit_up = 0, limit_down = 0;
  double orig_price = 0, orig_size = 0, corr_price = 0, corr_size = 0;
};

constexpr std::uint64_t k_trade_required = mask({f_symbol, f_price, f_size, f_time});
constexpr std::uint64_t k_trade_used = k_trade_required | mask({f_id});
constexpr std::uint64_t k_quote_required = mask({f_symbol, f_bid, f_ask, f_time});
constexpr std::uint64_t k_quote_used = k_quote_required | mask({f_bid_size, f_ask_size});
constexpr std::uint64_t k_bar_required =
    mask({f_symbol, f_open, f_high, f_low, f_close, f_volume, f_time});
constexpr std::uint64_t k_status_required = mask({f_symbol, f_time});
constexpr std::uint64_t k_status_used =
    k_status_required | mask({f_status_code, f_status_message, f_reason_code, f_reason_message});
constexpr std::uint64_t k_luld_required = mask({f_symbol, f_limit_up, f_limit_down, f_time});
constexpr std::uint64_t k_luld_used = k_luld_required | mask({f_indicator});
constexpr std::uint64_t k_correction_required = mask(
    {f_symbol, f_orig_id, f_orig_price, f_orig_size, f_corr_id, f_corr_price, f_corr_size, f_time});
constexpr std::uint64_t k_cancel_required = mask({f_symbol, f_id, f_price, f_size, f_time});
constexpr std::uint64_t k_cancel_used = k_cancel_required | mask({f_action});
constexpr std::uint64_t k_news_required = mask({f_news_id, f_headline, f_created_at});
constexpr std::uint64_t k_news_used =
    k_news_required | mask({f_summary, f_url, f_source, f_symbols, f_updated_at});

class alpaca_decoder final : public decoder {
 public:
  explicit alpaca_decoder(bool news_endpoint) : news_endpoint_(news_endpoint) {}

  parse_error decode(od::document& doc, frame_sink& sink) override {
    od::array arr;
    if (const parse_error e = root_error(doc, doc.get_array().get(arr)); e != parse_error::none) {
      return e;
    }
    return for_each_object(arr, sink, [&](od::object& obj) {
      el_.bits.reset();
      const parse_error e = read_element(obj);
      if (e == parse_error::none) dispatch(sink);
      return e;
    });
  }

 private:
  parse_error read_element(od::object& obj) {
    element& el = el_;
    field_bits& b = el.bits;
    // Inlined into the field loop: called for every field of every element, the call's
    // prologue and epilogue cost as much as the switch.
    return for_each_field(obj, [&](const field_key& key, od::value& v)
                                   __attribute__((always_inline)) -> parse_error {
      // One line per key: the table is easier to audit than the formatter's layout.
      // clang-format off
      switch (key.code) {
        case key_code("T"): b.set(f_type, read_string(v, el.type)); break;
        case key_code("S"): b.set(f_symbol, read_string(v, el.symbol)); break;
        case key_code("t"): b.set(f_time, read_rfc3339_time(v, el.time, convert_time_)); break;
        // For an ambiguous key, the JSON type picks the slot, and the slot it did not pick is
        // marked unusable: a string "i" on a trade is as wrong as a numeric one on a LULD band.
        case key_code("i"): {
          od::json_type type;
          const bool typed = v.type().get(type) == simdjson::SUCCESS;
          if (typed && type == od::json_type::string) {
            b.set(f_indicator, read_string(v, el.indicator));
            b.set(f_id, false);
          } else {
            b.set(f_id, typed && read_int64(v, el.id));  // int64: crypto ids exceed 2^53
            b.set(f_indicator, false);
          }
          break;
        }
        case key_code("c"): {
          od::json_type type;
          const bool typed = v.type().get(type) == simdjson::SUCCESS;
          // An array is a trade's condition list, which no event keeps.
          b.set(f_close, typed && type != od::json_type::array && read_double(v, el.close));
          break;
        }
        case key_code("p"): b.set(f_price, read_double(v, el.price)); break;
        case key_code("s"): b.set(f_size, read_double(v, el.size)); break;
        case key_code("o"): b.set(f_open, read_double(v, el.open)); break;
        case key_code("h"): b.set(f_high, read_double(v, el.high)); break;
        case key_code("l"): b.set(f_low, read_double(v, el.low)); break;
        case key_code("v"): b.set(f_volume, read_double(v, el.volume)); break;
        case key_code("bp"): b.set(f_bid, read_double(v, el.bid)); break;
        case key_code("bs"): b.set(f_bid_size, read_double(v, el.bid_size)); break;
        case key_code("ap"): b.set(f_ask, read_double(v, el.ask)); break;
        case key_code("as"): b.set(f_ask_size, read_double(v, el.ask_size)); break;
        case key_code("sc"): b.set(f_status_code, read_string(v, el.status_code)); break;
        case key_code("sm"): b.set(f_status_message, read_string(v, el.status_message)); break;
        case key_code("rc"): b.set(f_reason_code, read_string(v, el.reason_code)); break;
        case key_code("rm"): b.set(f_reason_message, read_string(v, el.reason_message)); break;
        case key_code("u"): b.set(f_limit_up, read_double(v, el.limit_up)); break;
        case key_code("d"): b.set(f_limit_down, read_double(v, el.limit_down)); break;
        case key_code("oi"): b.set(f_orig_id, read_int64(v, el.orig_id)); break;
        case key_code("op"): b.set(f_orig_price, read_double(v, el.orig_price)); break;
        case key_code("os"): b.set(f_orig_size, read_double(v, el.orig_size)); break;
        case key_code("ci"): b.set(f_corr_id, read_int64(v, el.corr_id)); break;
        case key_code("cp"): b.set(f_corr_price, read_double(v, el.corr_price)); break;
        case key_code("cs"): b.set(f_corr_size, read_double(v, el.corr_size)); break;
        case key_code("a"): b.set(f_action, read_string(v, el.action)); break;
        case key_code("msg"): b.set(f_msg, read_string(v, el.msg)); break;
        case key_code("code"): b.set(f_code, read_int64(v, el.code)); break;
        case key_code("id"): b.set(f_news_id, read_id_text(v, el.news_id)); break;
        case key_code("headline"): b.set(f_headline, read_string(v, el.headline)); break;
        case key_code("summary"): b.set(f_summary, read_string(v, el.summary)); break;
        case key_code("url"): b.set(f_url, read_string(v, el.url)); break;
        case key_code("source"): b.set(f_source, read_string(v, el.source)); break;
        case key_code("symbols"): {
          const parse_error e = read_string_array(v, el.symbols);
          if (e == parse_error::invalid_json) return e;
          b.set(f_symbols, e == parse_error::none);
          break;
        }
        case 0:  // longer than 8 bytes
          if (key.text == "created_at") {
            b.set(f_created_at, read_rfc3339_time(v, el.created_at, convert_time_));
          } else if (key.text == "updated_at") {
            b.set(f_updated_at, read_rfc3339_time(v, el.updated_at, convert_time_));
          }
          break;
        default: break;  // x, z, n, vw, author, content ...: not used
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
    const std::string_view type = el.type;
    if (type == "success" || type == "error" || type == "subscription") {
      control(sink);
      return;
    }
    if (type.size() != 1) {
      sink.ignore();  // new types may appear without notice (feeds.md §1.5)
      return;
    }
    if (news_endpoint_) {
      if (type[0] == 'n') {
        news(sink);
      } else {
        sink.ignore();
      }
      return;
    }
    switch (type[0]) {
      case 't':
        trade(sink);
        break;
      case 'q':
        quote(sink);
        break;
      case 'b':
        bar(sink, rules::bar_kind::minute);
        break;
      case 'u':
        bar(sink, rules::bar_kind::updated_minute);
        break;
      case 'd':
        bar(sink, rules::bar_kind::daily);
        break;
      case 's':
        status(sink);
        break;
      case 'l':
        luld(sink);
        break;
      case 'c':
        correction(sink);
        break;
      case 'x':
        cancel(sink);
        break;
      default:
        sink.ignore();
        break;  // i (imbalance), n on the stock stream, future types
    }
  }

  // Rejects the element if its fields do not satisfy `required`/`used`; true if it may go on.
  bool check(frame_sink& sink, std::uint64_t required, std::uint64_t used) {
    const parse_error e = el_.bits.check(required, used);
    if (e == parse_error::none) return true;
    sink.reject(e);
    return false;
  }

  void control(frame_sink& sink) {
    element& el = el_;
    using kind = control_message::kind;
    const std::string_view type = el.type;
    std::string message = el.bits.has(f_msg) ? std::move(el.msg) : std::string();
    if (type == "success") {
      const kind k = message == "connected"       ? kind::greeting
                     : message == "authenticated" ? kind::authenticated
                                                  : kind::other_status;
      sink.control(k, 0, std::move(message));
    } else if (type == "error") {
      const int code =
          el.bits.has(f_code) && el.code > 0 && el.code < 100000 ? static_cast<int>(el.code) : 0;
      // 402 is fatal (bad keys: do not loop); 406 means another session holds the slot and is
      // worth retrying with backoff; the session layer needs to tell them apart.
      const kind k = code == 402   ? kind::auth_failed
                     : code == 406 ? kind::connection_limit
                                   : kind::error;
      sink.control(k, code, std::move(message));
    } else {
      sink.control(kind::subscription, 0, std::move(message));
    }
  }

  void trade(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_trade_required, k_trade_used)) return;
    if (!valid_symbol(el.symbol) || !valid_price(el.price) || !valid_size(el.size)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::trade& t = sink.add<rules::trade>();
    t.symbol.append(el.symbol);  // into the empty string's own buffer: no temporary to move
    t.price = el.price;
    t.size = el.size;
    t.time = el.time;
    t.id = el.bits.has(f_id) ? el.id : 0;
  }

  void quote(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_quote_required, k_quote_used)) return;
    const double bid_size = el.bits.has(f_bid_size) ? el.bid_size : 0;
    const double ask_size = el.bits.has(f_ask_size) ? el.ask_size : 0;
    // A side with no interest is quoted as 0, so quotes allow 0 where trades do not.
    if (!valid_symbol(el.symbol) || !valid_size(el.bid) || !valid_size(el.ask) ||
        !valid_size(bid_size) || !valid_size(ask_size)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::quote& q = sink.add<rules::quote>();
    q.symbol.append(el.symbol);
    q.bid = el.bid;
    q.ask = el.ask;
    q.bid_size = bid_size;
    q.ask_size = ask_size;
    q.time = el.time;
  }

  void bar(frame_sink& sink, rules::bar_kind kind) {
    element& el = el_;
    if (!check(sink, k_bar_required, k_bar_required)) return;
    // `t` labels the bar with its start. Minute bars (and their late revisions) are final one
    // minute later. A daily bar is a running snapshot re-sent each minute, and the message does
    // not say when it was taken, so `end` = `start` (the session day's label) rather than
    // inventing a close time: consumers must not read a daily bar's end as "now".
    const rules::time_ns end =
        kind != rules::bar_kind::daily ? el.time + rules::k_ns_per_min : el.time;
    if (!valid_symbol(el.symbol) || !valid_bar_values(el.open, el.high, el.low, el.close,
                                                      el.volume, el.time, end)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::bar& b = sink.add<rules::bar>();
    b.symbol.append(el.symbol);
    b.kind = kind;
    b.open = el.open;
    b.high = el.high;
    b.low = el.low;
    b.close = el.close;
    b.volume = el.volume;
    b.start = el.time;
    b.end = end;
  }

  void status(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_status_required, k_status_used)) return;
    if (!valid_symbol(el.symbol)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::trading_status& s = sink.add<rules::trading_status>();
    s.symbol = std::string(el.symbol);
    if (el.bits.has(f_status_code)) s.status_code = std::move(el.status_code);
    if (el.bits.has(f_status_message)) s.status_message = std::move(el.status_message);
    if (el.bits.has(f_reason_code)) s.reason_code = std::move(el.reason_code);
    if (el.bits.has(f_reason_message)) s.reason_message = std::move(el.reason_message);
    s.time = el.time;
  }

  void luld(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_luld_required, k_luld_used)) return;
    if (!valid_symbol(el.symbol) || !valid_price(el.limit_up) || !valid_price(el.limit_down)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.add<rules::luld_band>(std::string(el.symbol), el.limit_up, el.limit_down,
                               el.bits.has(f_indicator) ? std::move(el.indicator) : std::string(),
                               el.time);
  }

  void correction(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_correction_required, k_correction_required)) return;
    if (!valid_symbol(el.symbol) || !valid_price(el.orig_price) || !valid_size(el.orig_size) ||
        !valid_price(el.corr_price) || !valid_size(el.corr_size)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.add<rules::trade_correction>(std::string(el.symbol), el.orig_id, el.orig_price,
                                      el.orig_size, el.corr_id, el.corr_price, el.corr_size,
                                      el.time);
  }

  void cancel(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_cancel_required, k_cancel_used)) return;
    // "C" cancel, "E" error; absent reads as a cancel. Anything else is not a cancel we
    // understand, and guessing would withdraw or keep a print wrongly.
    const bool has_action = el.bits.has(f_action);
    if (!valid_symbol(el.symbol) || !valid_price(el.price) || !valid_size(el.size) ||
        (has_action && el.action != "C" && el.action != "E")) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.add<rules::trade_cancel>(std::string(el.symbol), el.id, el.price, el.size,
                                  has_action && el.action == "E", el.time);
  }

  void news(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_news_required, k_news_used)) return;
    if (el.headline.empty() || el.news_id.empty()) {
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
    n.id = std::move(el.news_id);
    n.headline = std::move(el.headline);
    if (el.bits.has(f_summary)) n.summary = std::move(el.summary);
    if (el.bits.has(f_url)) n.url = std::move(el.url);
    if (el.bits.has(f_source)) n.source = std::move(el.source);
    n.time = el.created_at;
    n.updated = el.bits.has(f_updated_at) ? el.updated_at : 0;
    sink.emit(std::move(n));
  }

  bool news_endpoint_;
  element el_;  // reused element after element: its strings keep their capacity
  rfc3339_converter convert_time_;
};

}  // namespace

std::unique_ptr<decoder> make_alpaca_decoder(bool news_endpoint) {
  return std::make_unique<alpaca_decoder>(news_endpoint);
}

}  // namespace aftershock::feeds::detail
