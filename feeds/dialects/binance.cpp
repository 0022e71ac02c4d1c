// Binance spot streams: one JSON object per frame (feeds.md §5). A raw stream sends the event
// itself ({"e":"trade",...}); a combined stream wraps it as {"stream":"...","data":{...}}; a
// live SUBSCRIBE is answered with {"result":null,"id":N} and a bad request with
// {"code":N,"msg":"..."}. Prices and quantities are decimal strings, parsed with
// std::from_chars (JSON numbers are accepted too).

#include <string>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds::detail {

namespace {

enum field : unsigned {
  f_event,  // e
  f_symbol,
  f_trade_id,  // t
  f_agg_id,    // a
  f_price,
  f_quantity,
  f_trade_time,  // T
  f_result,
  f_request_id,  // id
  f_code,
  f_msg,
  f_data,
};

struct fields {
  field_bits bits;
  bool data_is_object = false;
  std::string event, symbol, request_id, msg;
  std::int64_t trade_id = 0, agg_id = 0, code = 0;
  double price = 0, quantity = 0;
  rules::time_ns trade_time = 0;
};

constexpr std::uint64_t k_trade_required = mask({f_symbol, f_price, f_quantity, f_trade_time});

class binance_decoder final : public decoder {
 public:
  parse_error decode(od::document& doc, frame_sink& sink) override {
    od::object obj;
    if (const parse_error e = root_error(doc, doc.get_object().get(obj)); e != parse_error::none) {
      return e;
    }
    if (const parse_error e = read(obj, outer_, true); e != parse_error::none) return e;
    if (outer_.bits.has(f_data)) {
      if (!outer_.data_is_object) return parse_error::unexpected_shape;
      handle(inner_, sink);
    } else {
      handle(outer_, sink);
    }
    return parse_error::none;
  }

 private:
  // Reads one object's fields. Only the outer object may carry a nested "data" event.
  parse_error read(od::object& obj, fields& f, bool outer) {
    f.bits.reset();
    f.data_is_object = false;
    field_bits& b = f.bits;
    return for_each_field(obj, [&](const field_key& key, od::value& v)
                                   __attribute__((always_inline)) -> parse_error {
      // clang-format off
      switch (key.code) {
        case key_code("e"): b.set(f_event, read_string(v, f.event)); break;
        case key_code("s"): b.set(f_symbol, read_string(v, f.symbol)); break;
        case key_code("t"): b.set(f_trade_id, read_int64(v, f.trade_id)); break;
        case key_code("a"): b.set(f_agg_id, read_int64(v, f.agg_id)); break;
        case key_code("p"): b.set(f_price, read_decimal(v, f.price)); break;
        case key_code("q"): b.set(f_quantity, read_decimal(v, f.quantity)); break;
        case key_code("T"): b.set(f_trade_time, read_ms_time(v, f.trade_time)); break;
        case key_code("result"): b.set(f_result, true); break;  // null, or a list: presence is enough
        case key_code("id"): {
          // Request ids may be int64, a string or null; kept as text for the log.
          if (!read_id_text(v, f.request_id)) f.request_id.clear();
          b.set(f_request_id, true);
          break;
        }
        case key_code("code"): b.set(f_code, read_int64(v, f.code)); break;
        case key_code("msg"): b.set(f_msg, read_string(v, f.msg)); break;
        case key_code("data"): {
          if (!outer) break;
          b.set(f_data, true);
          od::object inner;
          const simdjson::error_code e = v.get_object().get(inner);
          if (e == simdjson::INCORRECT_TYPE) break;
          if (e != simdjson::SUCCESS) return parse_error::invalid_json;
          f.data_is_object = true;
          return read(inner, inner_, false);
        }
        default: break;  // E (event time), m, M, f, l, stream ...: not used
      }
      // clang-format on
      return parse_error::none;
    });
  }

  static void handle(fields& f, frame_sink& sink) {
    using kind = control_message::kind;
    if (f.bits.has(f_event)) {
      const std::string_view event = f.event;
      if (event == "trade") {
        trade(f, sink, f_trade_id, f.trade_id);
      } else if (event == "aggTrade") {
        trade(f, sink, f_agg_id, f.agg_id);
      } else if (event == "serverShutdown") {
        // Maintenance is coming: the session should reconnect now, not when the socket dies.
        sink.control(kind::server_shutdown, 0, std::string());
      } else {
        sink.ignore();
      }
    } else if (f.bits.has(f_result)) {
      sink.control(kind::subscription, 0,
                   f.request_id.empty() ? std::string() : "id=" + f.request_id);
    } else if (f.bits.has(f_code) || f.bits.has(f_msg)) {
      const int code =
          f.bits.has(f_code) && f.code > -100000 && f.code < 100000 ? static_cast<int>(f.code) : 0;
      sink.control(kind::error, code, f.bits.has(f_msg) ? std::move(f.msg) : std::string());
    } else {
      const bool bad = f.bits.check(mask({f_event}), 0) == parse_error::bad_value;
      sink.reject(bad ? parse_error::bad_value : parse_error::missing_field);
    }
  }

  static void trade(fields& f, frame_sink& sink, unsigned id_bit, std::int64_t id) {
    if (const parse_error e = f.bits.check(k_trade_required, k_trade_required | mask({id_bit}));
        e != parse_error::none) {
      sink.reject(e);
      return;
    }
    if (!valid_symbol(f.symbol) || !valid_price(f.price) || !valid_size(f.quantity)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(rules::trade{std::move(f.symbol), f.price, f.quantity, f.trade_time,
                           f.bits.has(id_bit) ? id : 0});
  }

  fields outer_, inner_;
};

}  // namespace

std::unique_ptr<decoder> make_binance_decoder() { return std::make_unique<binance_decoder>(); }

}  // namespace aftershock::feeds::detail
