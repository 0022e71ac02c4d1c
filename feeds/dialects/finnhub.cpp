// Finnhub stream: one JSON object per frame with a "type" ("trade", "news", "ping", "error" ...)
// and, for data, a "data" array (feeds.md §3).
//
// Finnhub serialises keys alphabetically, so "data" usually arrives *before* "type". Rather than
// skip the array and come back for it, the items are read in the same pass into a union of the
// trade and news fields (their keys do not overlap) and turned into events once the type is
// known.

#include <string>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds::detail {

namespace {

enum field : unsigned {
  f_symbol,
  f_price,
  f_time,  // t, Unix ms (trades)
  f_volume,
  f_id,
  f_url_id,
  f_headline,
  f_summary,
  f_url,
  f_source,
  f_related,
  f_datetime,  // Unix seconds (news)
};

struct item {
  bool is_object = true;
  field_bits bits;
  std::string symbol, id, url_id, headline, summary, url, source, related;
  double price = 0, volume = 0;
  rules::time_ns time = 0, datetime = 0;
};

constexpr std::uint64_t k_trade_required = mask({f_symbol, f_price, f_time});
constexpr std::uint64_t k_trade_used = k_trade_required | mask({f_volume});
constexpr std::uint64_t k_news_required = mask({f_headline, f_datetime});
constexpr std::uint64_t k_news_used =
    k_news_required | mask({f_id, f_url_id, f_summary, f_url, f_source, f_related});

class finnhub_decoder final : public decoder {
 public:
  parse_error decode(od::document& doc, frame_sink& sink) override {
    od::object obj;
    if (const parse_error e = root_error(doc, doc.get_object().get(obj)); e != parse_error::none) {
      return e;
    }
    field_bits top;  // 0 = type, 1 = data, 2 = msg
    bool data_is_array = false;
    item_count_ = 0;
    const parse_error e =
        for_each_field(obj, [&](const field_key& key, od::value& v) -> parse_error {
          // clang-format off
          switch (key.code) {
            case key_code("type"): top.set(0, read_string(v, type_)); break;
            case key_code("msg"): top.set(2, read_string(v, msg_)); break;
            case key_code("data"): {
              top.set(1, true);
              od::json_type type;
              if (v.type().get(type) != simdjson::SUCCESS || type != od::json_type::array) {
                break;  // judged below, once we know whether this type needs data
              }
              data_is_array = true;
              return read_items(v);
            }
            default: break;
          }
          // clang-format on
          return parse_error::none;
        });
    if (e != parse_error::none) return e;

    if (const parse_error te = top.check(mask({0}), 0); te != parse_error::none) return te;
    const std::string_view type = type_;
    using kind = control_message::kind;
    if (type == "trade" || type == "news") {
      if (!top.has(1)) return parse_error::missing_field;
      if (!data_is_array) return parse_error::unexpected_shape;
      const bool trades = type == "trade";
      for (std::size_t i = 0; i < item_count_; ++i) {
        if (!items_[i].is_object) {
          sink.reject(parse_error::unexpected_shape);
        } else if (trades) {
          trade(items_[i], sink);
        } else {
          news(items_[i], sink);
        }
      }
    } else if (type == "ping") {
      sink.control(kind::ping, 0, std::string());  // liveness only; no reply is documented
    } else if (type == "error") {
      sink.control(kind::error, 0, top.has(2) ? std::move(msg_) : std::string());
    } else {
      sink.ignore();  // "pr" press releases and anything new
    }
    return parse_error::none;
  }

 private:
  parse_error read_items(od::value& v) {
    od::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return parse_error::invalid_json;
    for (auto element : arr) {
      od::value ev;
      if (std::move(element).get(ev) != simdjson::SUCCESS) return parse_error::invalid_json;
      if (item_count_ == items_.size()) items_.emplace_back();
      item& it = items_[item_count_++];  // reused frame after frame, strings keep capacity
      it.bits.reset();
      od::object obj;
      const simdjson::error_code oe = ev.get_object().get(obj);
      it.is_object = oe == simdjson::SUCCESS;
      if (oe == simdjson::INCORRECT_TYPE) continue;
      if (oe != simdjson::SUCCESS) return parse_error::invalid_json;
      const parse_error e = read_item(obj, it);
      if (e != parse_error::none) return e;
    }
    return parse_error::none;
  }

  static parse_error read_item(od::object& obj, item& it) {
    field_bits& b = it.bits;
    return for_each_field(obj, [&](const field_key& key, od::value& v)
                                   __attribute__((always_inline)) -> parse_error {
      // clang-format off
      switch (key.code) {
        case key_code("s"): b.set(f_symbol, read_string(v, it.symbol)); break;
        case key_code("p"): b.set(f_price, read_double(v, it.price)); break;
        case key_code("t"): b.set(f_time, read_ms_time(v, it.time)); break;
        case key_code("v"): b.set(f_volume, read_double(v, it.volume)); break;
        case key_code("id"): b.set(f_id, read_id_text(v, it.id)); break;
        case key_code("urlId"): b.set(f_url_id, read_id_text(v, it.url_id)); break;
        case key_code("headline"): b.set(f_headline, read_string(v, it.headline)); break;
        case key_code("summary"): b.set(f_summary, read_string(v, it.summary)); break;
        case key_code("url"): b.set(f_url, read_string(v, it.url)); break;
        case key_code("source"): b.set(f_source, read_string(v, it.source)); break;
        case key_code("related"): b.set(f_related, read_string(v, it.related)); break;
        case key_code("datetime"): b.set(f_datetime, read_seconds_time(v, it.datetime)); break;
        default: break;  // c (conditions, often null), category, image ...: not used
      }
      // clang-format on
      return parse_error::none;
    });
  }

  static void trade(item& it, frame_sink& sink) {
    if (const parse_error e = it.bits.check(k_trade_required, k_trade_used);
        e != parse_error::none) {
      sink.reject(e);
      return;
    }
    // v = 0 is a price-only update from venues that do not stream trades; absent reads the same.
    const double volume = it.bits.has(f_volume) ? it.volume : 0;
    if (!valid_symbol(it.symbol) || !valid_price(it.price) || !valid_size(volume)) {
      sink.reject(parse_error::bad_value);
      return;
    }
    sink.emit(rules::trade{std::move(it.symbol), it.price, volume, it.time, 0});
  }

  void news(item& it, frame_sink& sink) {
    if (const parse_error e = it.bits.check(k_news_required, k_news_used); e != parse_error::none) {
      sink.reject(e);
      return;
    }
    // The field list says urlId, the sample says id (feeds.md §3): take either, prefer id.
    std::string* id = it.bits.has(f_id) ? &it.id : it.bits.has(f_url_id) ? &it.url_id : nullptr;
    if (id == nullptr) {
      sink.reject(parse_error::missing_field);
      return;
    }
    rules::news n;
    if (id->empty() || it.headline.empty() ||
        (it.bits.has(f_related) && !split_symbols(it.related, n.symbols))) {
      sink.reject(parse_error::bad_value);
      return;
    }
    n.id = std::move(*id);
    n.headline = std::move(it.headline);
    if (it.bits.has(f_summary)) n.summary = std::move(it.summary);
    if (it.bits.has(f_url)) n.url = std::move(it.url);
    if (it.bits.has(f_source)) n.source = std::move(it.source);
    n.time = it.datetime;
    sink.emit(std::move(n));
  }

  std::string type_, msg_;
  std::vector<item> items_;
  std::size_t item_count_ = 0;
};

}  // namespace

std::unique_ptr<decoder> make_finnhub_decoder() { return std::make_unique<finnhub_decoder>(); }

}  // namespace aftershock::feeds::detail
