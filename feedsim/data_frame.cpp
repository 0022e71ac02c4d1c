#include "feedsim/data_frame.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "feedsim/json_value.h"
#include "feedsim/message_deflater.h"

namespace aftershock::feedsim {

namespace {

// A structural JSON scanner: finds values' extents and reads the few string fields routing
// needs, without building a document. It trusts the capture to be JSON (the capture reader
// extracted the frame as a JSON value); anything it cannot follow makes the frame opaque.
class scanner {
 public:
  explicit scanner(std::string_view s, std::size_t pos = 0) : s_(s), pos_(pos) {}

  std::size_t pos() const noexcept { return pos_; }
  void skip_ws() noexcept {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool at(char c) noexcept {
    skip_ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  bool eat(char c) noexcept {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  bool at_end() noexcept {
    skip_ws();
    return pos_ == s_.size();
  }

  // At a '"': the raw contents (escapes not decoded) and whether there were escapes.
  bool string(std::string_view& raw, bool& escaped) noexcept {
    if (!eat('"')) return false;
    const std::size_t begin = pos_;
    const std::size_t n = s_.size();
    const char* p = s_.data();
    // A plain loop, not memchr: the strings of a market frame are a few bytes long (keys,
    // symbols, codes), and a call per string cost more than the bytes (the scan is most of the
    // simulator's CPU at full speed). A backslash escapes the byte after it, whatever it is.
    escaped = false;
    while (pos_ < n) {
      const char c = p[pos_];
      if (c == '"') {
        raw = s_.substr(begin, pos_ - begin);
        ++pos_;
        return true;
      }
      if (c == '\\') {
        escaped = true;
        pos_ += 2;
      } else {
        ++pos_;
      }
    }
    return false;
  }

  // Skips one value of any type; its extent is [start, pos()).
  bool value(std::string_view& span) noexcept {
    skip_ws();
    const std::size_t begin = pos_;
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    std::string_view ignored;
    bool escaped;
    if (c == '"') {
      if (!string(ignored, escaped)) return false;
    } else if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        const char d = s_[pos_];
        if (d == '"') {
          if (!string(ignored, escaped)) return false;
          continue;
        }
        ++pos_;
        if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) break;
        }
      }
      if (depth != 0) return false;
    } else {
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' &&
             s_[pos_] != ' ' && s_[pos_] != '\t' && s_[pos_] != '\n' && s_[pos_] != '\r') {
        ++pos_;
      }
      if (pos_ == begin) return false;
    }
    span = s_.substr(begin, pos_ - begin);
    return true;
  }

  // Calls f(key, value_span) for each member of the object at the cursor.
  template <class F>
  bool object(F&& f) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    while (true) {
      std::string_view key, val;
      bool escaped;
      skip_ws();
      if (!string(key, escaped) || !eat(':') || !value(val)) return false;
      f(key, val);
      if (eat(',')) continue;
      return eat('}');
    }
  }

 private:
  std::string_view s_;
  std::size_t pos_;
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Decodes a JSON string's escapes (the raw contents, without quotes). Symbols almost never
// have any; "BTC\/USD" is the case this exists for.
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        auto hex4 = [&](std::size_t at, std::uint32_t& v) {
          if (at + 4 > raw.size()) return false;
          v = 0;
          for (std::size_t k = at; k < at + 4; ++k) {
            const char c = raw[k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return false;
          }
          return true;
        };
        std::uint32_t cp;
        if (!hex4(i + 1, cp)) {
          out += "\\u";
          break;
        }
        i += 4;
        std::uint32_t low;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 2 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u' && hex4(i + 3, low) && low >= 0xdc00 && low < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // \" \\ \/
    }
  }
  return out;
}

bool is_alpaca_control(std::string_view t) noexcept {
  return t == "success" || t == "error" || t == "subscription";
}

}  // namespace

data_frame::data_frame() : encoder_(msgpack_options{}) {}
data_frame::~data_frame() = default;

std::string_view data_frame::keep(std::string s) {
  kept_.push_back(std::move(s));
  return kept_.back();
}

void data_frame::assign(feeds::dialect d, std::string_view text) {
  dialect_ = d;
  text_.assign(text);
  opaque_ = false;
  binance_wrapped_ = false;
  data_count_ = 0;
  open_end_ = close_begin_ = 0;
  elements_.clear();
  symbol_pool_.clear();
  kept_.clear();
  whole_text_.reset();
  whole_msgpack_.reset();
  whole_combined_.reset();
  deflated_.clear();
  element_msgpack_.clear();
  element_msgpack_ready_.clear();

  switch (d) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news:
    case feeds::dialect::polygon_stocks:
      scan_alpaca_or_polygon();
      break;
    case feeds::dialect::finnhub:
      scan_finnhub();
      break;
    case feeds::dialect::binance:
      scan_binance();
      break;
    case feeds::dialect::generic:
      opaque_ = true;
      break;
  }
  if (opaque_) {
    elements_.clear();
    symbol_pool_.clear();
    elements_.push_back(frame_element{text_, {}, {}, 0, 0, false});
    data_count_ = 1;
    return;
  }
  data_count_ = static_cast<std::size_t>(
      std::count_if(elements_.begin(), elements_.end(), [](const auto& e) { return !e.control; }));
}

// [{"T":"t","S":"NVDA",...},...] (Alpaca) and [{"ev":"T","sym":"NVDA",...},...] (Polygon).
void data_frame::scan_alpaca_or_polygon() {
  const bool polygon = dialect_ == feeds::dialect::polygon_stocks;
  const std::string_view kind_key = polygon ? "ev" : "T";
  const std::string_view symbol_key = polygon ? "sym" : "S";
  const std::string_view s = text_;
  scanner sc(s);
  if (!sc.eat('[')) {
    opaque_ = true;
    return;
  }
  open_end_ = sc.pos();
  if (sc.at(']')) {
    close_begin_ = sc.pos();
    sc.eat(']');
    opaque_ = !sc.at_end();
    return;
  }
  while (true) {
    sc.skip_ws();
    const std::size_t begin = sc.pos();
    frame_element el;
    bool ok = true;
    if (sc.at('{')) {
      ok = sc.object([&](std::string_view key, std::string_view val) {
        if (val.size() >= 2 && val.front() == '"' && (key == kind_key || key == symbol_key)) {
          std::string_view raw = val.substr(1, val.size() - 2);
          if (raw.find('\\') != std::string_view::npos) raw = keep(unescape(raw));
          (key == kind_key ? el.kind : el.symbol) = raw;
        } else if (!polygon && key == "symbols" && !val.empty() && val.front() == '[') {
          el.symbols_begin = static_cast<std::uint32_t>(symbol_pool_.size());
          scanner items(val);
          items.eat('[');
          while (!items.at(']')) {
            std::string_view raw;
            bool escaped;
            if (!items.string(raw, escaped)) break;
            symbol_pool_.push_back(escaped ? keep(unescape(raw)) : raw);
            if (!items.eat(',')) break;
          }
          el.symbols_count =
              static_cast<std::uint32_t>(symbol_pool_.size()) - el.symbols_begin;
        }
      });
    } else {
      std::string_view ignored;
      ok = sc.value(ignored);  // not an object: no type, no symbol; forwarded as unknown
    }
    if (!ok) {
      opaque_ = true;
      return;
    }
    el.text = s.substr(begin, sc.pos() - begin);
    el.control = polygon ? el.kind == "status" : is_alpaca_control(el.kind);
    elements_.push_back(el);
    if (sc.eat(',')) continue;
    if (!sc.at(']')) {
      opaque_ = true;
      return;
    }
    close_begin_ = sc.pos();
    sc.eat(']');
    break;
  }
  if (!sc.at_end()) opaque_ = true;
}

// {"type":"trade","data":[{"s":"AAPL",...},...]}; news tag `related`, press releases `symbol`,
// both comma-separated lists.
void data_frame::scan_finnhub() {
  const std::string_view s = text_;
  scanner sc(s);
  std::string_view type, data;
  const bool ok = sc.object([&](std::string_view key, std::string_view val) {
    if (key == "type" && val.size() >= 2 && val.front() == '"') {
      type = val.substr(1, val.size() - 2);
    } else if (key == "data") {
      data = val;
    }
  });
  if (!ok || !sc.at_end()) {
    opaque_ = true;
    return;
  }
  const bool batched = type == "trade" || type == "news" || type == "pr";
  if (!batched || data.empty() || data.front() != '[') {
    // A ping, an error or a type we do not know: one element, the whole frame.
    frame_element el;
    el.text = s;
    el.kind = type;
    el.control = type == "ping" || type == "error";
    elements_.push_back(el);
    open_end_ = 0;
    close_begin_ = s.size();
    return;
  }
  const std::size_t data_at = static_cast<std::size_t>(data.data() - s.data());
  scanner items(s, data_at);
  items.eat('[');
  open_end_ = items.pos();
  const std::string_view tag_key = type == "trade" ? "s" : type == "news" ? "related" : "symbol";
  while (!items.at(']')) {
    items.skip_ws();
    const std::size_t begin = items.pos();
    frame_element el;
    el.kind = type;
    std::string_view tag;
    bool ok_item = true;
    if (items.at('{')) {
      ok_item = items.object([&](std::string_view key, std::string_view val) {
        if (key == tag_key && val.size() >= 2 && val.front() == '"') {
          tag = val.substr(1, val.size() - 2);
          if (tag.find('\\') != std::string_view::npos) tag = keep(unescape(tag));
        }
      });
    } else {
      std::string_view ignored;
      ok_item = items.value(ignored);
    }
    if (!ok_item) {
      opaque_ = true;
      return;
    }
    el.text = s.substr(begin, items.pos() - begin);
    if (type == "trade") {
      el.symbol = tag;
    } else {
      el.symbols_begin = static_cast<std::uint32_t>(symbol_pool_.size());
      while (!tag.empty()) {
        const auto comma = tag.find(',');
        std::string_view one = tag.substr(0, comma);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (!one.empty()) symbol_pool_.push_back(one);
        if (comma == std::string_view::npos) break;
        tag.remove_prefix(comma + 1);
      }
      el.symbols_count = static_cast<std::uint32_t>(symbol_pool_.size()) - el.symbols_begin;
    }
    elements_.push_back(el);
    if (!items.eat(',')) break;
  }
  if (!items.at(']')) {
    opaque_ = true;
    return;
  }
  close_begin_ = items.pos();
}

// A raw event {"e":"trade","s":"BTCUSDT",...} or, when the capture recorded a combined
// stream, {"stream":"btcusdt@trade","data":{...}}. Responses to requests ({"result":..,"id":..})
// and serverShutdown notices are control.
void data_frame::scan_binance() {
  const std::string_view s = text_;
  scanner sc(s);
  std::string_view stream, data, event, symbol, kline;
  bool has_result = false, has_u = false, has_b = false, has_a = false;
  const bool ok = sc.object([&](std::string_view key, std::string_view val) {
    auto str = [](std::string_view v) {
      return v.size() >= 2 && v.front() == '"' ? v.substr(1, v.size() - 2) : std::string_view();
    };
    if (key == "stream") stream = str(val);
    else if (key == "data") data = val;
    else if (key == "e") event = str(val);
    else if (key == "s") symbol = str(val);
    else if (key == "k") kline = val;
    else if (key == "result" || key == "id") has_result = true;
    else if (key == "u") has_u = true;
    else if (key == "b") has_b = true;
    else if (key == "a") has_a = true;
  });
  if (!ok || !sc.at_end()) {
    opaque_ = true;
    return;
  }
  frame_element el;
  if (!stream.empty() && !data.empty()) {
    binance_wrapped_ = true;
    el.text = data;
    el.kind = stream;
    el.control = stream == "!serverShutdown";
    elements_.push_back(el);
    return;
  }
  el.text = s;
  if (has_result || event == "serverShutdown") {
    el.control = true;
    elements_.push_back(el);
    return;
  }
  // The stream an event belongs to: lowercase symbol, '@', the stream type.
  std::string name;
  for (char c : symbol) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  name += '@';
  if (event == "trade" || event == "aggTrade") {
    name += event;
  } else if (event == "kline") {
    std::string_view interval;
    scanner k(kline);
    if (!kline.empty()) {
      k.object([&](std::string_view key, std::string_view val) {
        if (key == "i" && val.size() >= 2) interval = val.substr(1, val.size() - 2);
      });
    }
    name += "kline_";
    name += interval;
  } else if (event == "24hrTicker") {
    name += "ticker";
  } else if (event == "24hrMiniTicker") {
    name += "miniTicker";
  } else if (event == "depthUpdate") {
    name += "depth";
  } else if (event.empty() && has_u && has_b && has_a) {
    name += "bookTicker";
  } else {
    name += event;
  }
  binance_kind_ = std::move(name);
  el.kind = binance_kind_;
  el.symbol = symbol;
  elements_.push_back(el);
}

bool data_frame::selects_all(const std::vector<std::uint32_t>& selected) const noexcept {
  return selected.size() == elements_.size();
}

const std::string& data_frame::element_msgpack(std::uint32_t i) {
  if (element_msgpack_.size() != elements_.size()) {
    element_msgpack_.assign(elements_.size(), std::string());
    element_msgpack_ready_.assign(elements_.size(), false);
  }
  if (!element_msgpack_ready_[i]) {
    // An element that is not valid JSON stays empty and is left out of binary frames.
    if (!encoder_.encode(elements_[i].text, element_msgpack_[i])) element_msgpack_[i].clear();
    element_msgpack_ready_[i] = true;
  }
  return element_msgpack_[i];
}

rendered_frame data_frame::render(const std::vector<std::uint32_t>& selected,
                                  render_format format) {
  if (opaque_) {
    if (!whole_text_) whole_text_ = std::make_shared<const std::string>(text_);
    return {whole_text_, false};
  }
  if (selected.empty()) return {};

  if (dialect_ == feeds::dialect::binance) {
    const frame_element& el = elements_[selected.front()];
    if (format.binance_combined) {
      if (!whole_combined_) {
        if (binance_wrapped_) {
          whole_combined_ = std::make_shared<const std::string>(text_);
        } else {
          std::string out;
          out.reserve(text_.size() + el.kind.size() + 24);
          out += "{\"stream\":";
          append_json_string(out, el.kind);
          out += ",\"data\":";
          out += el.text;
          out += '}';
          whole_combined_ = std::make_shared<const std::string>(std::move(out));
        }
      }
      return {whole_combined_, false};
    }
    if (!whole_text_) whole_text_ = std::make_shared<const std::string>(el.text);
    return {whole_text_, false};
  }

  if (format.msgpack) {
    const bool all = selects_all(selected);
    if (all && whole_msgpack_) return {whole_msgpack_, true};
    std::uint32_t count = 0;
    std::size_t size = 0;
    for (auto i : selected) {
      const auto& m = element_msgpack(i);
      if (!m.empty()) {
        ++count;
        size += m.size();
      }
    }
    if (count == 0) return {};
    std::string out = msgpack_array_header(count);
    out.reserve(out.size() + size);
    for (auto i : selected) out += element_msgpack(i);
    auto bytes = std::make_shared<const std::string>(std::move(out));
    if (all) whole_msgpack_ = bytes;
    return {bytes, true};
  }

  if (selects_all(selected)) {
    if (!whole_text_) whole_text_ = std::make_shared<const std::string>(text_);
    return {whole_text_, false};
  }
  // The captured frame with the unselected elements left out: its own prefix (`[`, or
  // Finnhub's `{"type":"trade","data":[`) and suffix, the kept elements comma-separated.
  std::size_t size = open_end_ + (text_.size() - close_begin_) + selected.size();
  for (auto i : selected) size += elements_[i].text.size();
  std::string out;
  out.reserve(size);
  out.append(text_, 0, open_end_);
  for (std::size_t k = 0; k < selected.size(); ++k) {
    if (k) out += ',';
    out += elements_[selected[k]].text;
  }
  out.append(text_, close_begin_, std::string::npos);
  return {std::make_shared<const std::string>(std::move(out)), false};
}

// ---- permessage-deflate ------------------------------------------------------------------------

std::shared_ptr<const std::string> data_frame::deflated(
    const std::shared_ptr<const std::string>& rendered, int level, int window_bits) {
  if (!rendered || rendered->empty()) return nullptr;
  for (const deflated_rendering& d : deflated_) {
    if (d.level == level && d.window_bits == window_bits &&
        (d.rendered == rendered || *d.rendered == *rendered)) {
      return d.bytes;
    }
  }
  if (!deflater_) deflater_ = std::make_unique<message_deflater>();
  std::string out;
  if (!deflater_->deflate(*rendered, level, window_bits, out)) return nullptr;
  auto bytes = std::make_shared<const std::string>(std::move(out));
  deflated_.push_back({rendered, level, window_bits, bytes});
  return bytes;
}

}  // namespace aftershock::feedsim
