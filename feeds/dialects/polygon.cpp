// Polygon.io / Massive stocks stream: a JSON array of objects tagged "ev" (feeds.md §4).
//
// As with Alpaca, keys are shared between event types ("s" is a trade's size and an aggregate's
// window start, "c" a quote's condition and an aggregate's close, "i" a trade id or a quote's
// indicator list), so each element is read once into a union of fields and judged by "ev"
// afterwards. Every timestamp is Unix milliseconds. Client libraries disagree on whether the
// trade id `i` and exchange `x` are strings or integers; both are accepted.

#include <string>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds::detail {

namespace {

enum field : unsigned {
  f_ev,
  f_symbol,
  f_id,
  f_price,
  f_s,  // trade size, or aggregate window start (ms)
  f_time,
  f_bid,
  f_bid_size,
  f_ask,
  f_ask_size,
  f_open,
  f_high,
  f_low,
  f_close,
  f_volume,
  f_end,
  f_status,
  f_message,
};

struct element {
  field_bits bits;
  std::string ev, symbol, status, message;
  std::int64_t id = 0;
  double price = 0, s = 0, bid = 0, bid_size = 0, ask = 0, ask_size = 0;
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  rules::time_ns time = 0;
  double end_ms = 0;
};

constexpr std::uint64_t k_trade_required = mask({f_symbol, f_price, f_s, f_time});
constexpr std::uint64_t k_trade_used = k_trade_required | mask({f_id});
constexpr std::uint64_t k_quote_required = mask({f_symbol, f_bid, f_ask, f_time});
constexpr std::uint64_t k_quote_used = k_quote_required | mask({f_bid_size, f_ask_size});
constexpr std::uint64_t k_agg_required =
    mask({f_symbol, f_open, f_high, f_low, f_close, f_volume, f_s, f_end});

class polygon_decoder final : public decoder {
 public:
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
    return for_each_field(obj, [&](const field_key& key, od::value& v)
                                   __attribute__((always_inline)) -> parse_error {
      // clang-format off
      switch (key.code) {
        case key_code("ev"): b.set(f_ev, read_string(v, el.ev)); break;
        case key_code("sym"): b.set(f_symbol, read_string(v, el.symbol)); break;
        case key_code("i"): {
          // The id only labels the print (this feed sends no corrections to match it against),
          // so an id we cannot read leaves it 0 rather than costing the trade. An array is a
          // quote's indicator list: not used.
          od::json_type type;
          std::string_view text;
          if (v.type().get(type) != simdjson::SUCCESS) break;
          if (type == od::json_type::string) {
            if (v.get_string().get(text) == simdjson::SUCCESS && parse_integer(text, el.id)) {
              b.set(f_id, true);
            }
          } else if (type == od::json_type::number && read_int64(v, el.id)) {
            b.set(f_id, true);
          }
          break;
        }
        case key_code("p"): b.set(f_price, read_double(v, el.price)); break;
        case key_code("s"): b.set(f_s, read_double(v, el.s)); break;
        case key_code("t"): b.set(f_time, read_ms_time(v, el.time)); break;
        case key_code("bp"): b.set(f_bid, read_double(v, el.bid)); break;
        case key_code("bs"): b.set(f_bid_size, read_double(v, el.bid_size)); break;
        case key_code("ap"): b.set(f_ask, read_double(v, el.ask)); break;
        case key_code("as"): b.set(f_ask_size, read_double(v, el.ask_size)); break;
        case key_code("o"): b.set(f_open, read_double(v, el.open)); break;
        case key_code("h"): b.set(f_high, read_double(v, el.high)); break;
        case key_code("l"): b.set(f_low, read_double(v, el.low)); break;
        case key_code("c"): {
          // A number is an aggregate's close (or a quote's condition, unused); an array is a
          // trade's condition list, which no event keeps.
          od::json_type type;
          const bool typed = v.type().get(type) == simdjson::SUCCESS;
          b.set(f_close, typed && type != od::json_type::array && read_double(v, el.close));
          break;
        }
        case key_code("v"): b.set(f_volume, read_double(v, el.volume)); break;
        case key_code("e"): b.set(f_end, read_double(v, el.end_ms)); break;
        case key_code("status"): b.set(f_status, read_string(v, el.status)); break;
        case key_code("message"): b.set(f_message, read_string(v, el.message)); break;
        default: break;  // x, z, q, ds, av, op, vw, a, otc, trfi, trft ...: not used
      }
      // clang-format on
      return parse_error::none;
    });
  }

  void dispatch(frame_sink& sink) {
    element& el = el_;
    if (!el.bits.has(f_ev)) {
      const bool bad = el.bits.check(mask({f_ev}), 0) == parse_error::bad_value;
      sink.reject(bad ? parse_error::bad_value : parse_error::missing_field);
      return;
    }
    const std::string_view ev = el.ev;
    if (ev == "T") {
      trade(sink);
    } else if (ev == "Q") {
      quote(sink);
    } else if (ev == "A") {
      aggregate(sink, rules::bar_kind::second);
    } else if (ev == "AM") {
      aggregate(sink, rules::bar_kind::minute);
    } else if (ev == "status") {
      status(sink);
    } else {
      sink.ignore();  // LULD, NOI, FMV and anything new
    }
  }

  bool check(frame_sink& sink, std::uint64_t required, std::uint64_t used) {
    const parse_error e = el_.bits.check(required, used);
    if (e == parse_error::none) return true;
    sink.reject(e);
    return false;
  }

  void status(frame_sink& sink) {
    element& el = el_;
    using kind = control_message::kind;
    const std::string_view s = el.bits.has(f_status) ? std::string_view(el.status) : "";
    // auth_failed is fatal (bad key); max_connections means we were evicted by (or evicted)
    // another session and wants its own handling rather than a plain reconnect loop.
    kind k = kind::other_status;
    if (s == "connected") {
      k = kind::greeting;
    } else if (s == "auth_success") {
      k = kind::authenticated;
    } else if (s == "auth_failed") {
      k = kind::auth_failed;
    } else if (s == "auth_timeout" || s == "error") {
      k = kind::error;
    } else if (s == "success") {
      k = kind::subscription;
    } else if (s == "max_connections") {
      k = kind::connection_limit;
    }
    std::string message = el.bits.has(f_message) ? std::move(el.message) : std::string(s);
    sink.control(k, 0, std::move(message));
  }

  void trade(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_trade_required, k_trade_used)) return;
    if (!valid_symbol(el.symbol) || !valid_price(el.price) || !valid_size(el.s)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(
        rules::trade{std::move(el.symbol), el.price, el.s, el.time, el.bits.has(f_id) ? el.id : 0});
  }

  void quote(frame_sink& sink) {
    element& el = el_;
    if (!check(sink, k_quote_required, k_quote_used)) return;
    const double bid_size = el.bits.has(f_bid_size) ? el.bid_size : 0;
    const double ask_size = el.bits.has(f_ask_size) ? el.ask_size : 0;
    // Sizes are in round lots on this feed; kept as sent. A side with no interest is 0.
    if (!valid_symbol(el.symbol) || !valid_size(el.bid) || !valid_size(el.ask) ||
        !valid_size(bid_size) || !valid_size(ask_size)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(rules::quote{std::move(el.symbol), el.bid, el.ask, bid_size, ask_size, el.time});
  }

  void aggregate(frame_sink& sink, rules::bar_kind kind) {
    element& el = el_;
    if (!check(sink, k_agg_required, k_agg_required)) return;
    const std::optional<rules::time_ns> start = time_from_ms(el.s);
    const std::optional<rules::time_ns> end = time_from_ms(el.end_ms);
    if (!start || !end) {
      sink.reject(parse_error::bad_value);
      return;
    }
    rules::bar b{
        std::move(el.symbol), kind, el.open, el.high, el.low, el.close, el.volume, *start, *end};
    if (!valid_bar(b)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(std::move(b));
  }

  element el_;
};

}  // namespace

std::unique_ptr<decoder> make_polygon_decoder() { return std::make_unique<polygon_decoder>(); }

}  // namespace aftershock::feeds::detail
