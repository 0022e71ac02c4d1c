#include "feedsim/json_value.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace aftershock::feedsim {

const json_value* json_value::find(std::string_view key) const noexcept {
  if (type != kind::object) return nullptr;
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::string_view> json_value::string_field(std::string_view key) const noexcept {
  const json_value* v = find(key);
  if (v == nullptr || v->type != kind::string) return std::nullopt;
  return std::string_view(v->string);
}

json_value json_value::make_string(std::string s) {
  json_value v;
  v.type = kind::string;
  v.string = std::move(s);
  return v;
}

json_value json_value::make_integer(std::int64_t i) {
  json_value v;
  v.type = kind::integer;
  v.integer = i;
  v.number = static_cast<double>(i);
  return v;
}

json_value json_value::make_array(std::vector<json_value> items) {
  json_value v;
  v.type = kind::array;
  v.items = std::move(items);
  return v;
}

namespace {

bool convert(simdjson::dom::element e, json_value& out, int depth, std::string* error) {
  if (depth > k_max_value_depth) {
    if (error) *error = "nested too deeply";
    return false;
  }
  using et = simdjson::dom::element_type;
  switch (e.type()) {
    case et::OBJECT: {
      out.type = json_value::kind::object;
      for (auto field : simdjson::dom::object(e)) {
        json_value child;
        if (!convert(field.value, child, depth + 1, error)) return false;
        out.fields.emplace_back(std::string(field.key), std::move(child));
      }
      return true;
    }
    case et::ARRAY: {
      out.type = json_value::kind::array;
      for (auto item : simdjson::dom::array(e)) {
        json_value child;
        if (!convert(item, child, depth + 1, error)) return false;
        out.items.push_back(std::move(child));
      }
      return true;
    }
    case et::STRING:
      out.type = json_value::kind::string;
      out.string = std::string(std::string_view(e));
      return true;
    case et::INT64:
      out.type = json_value::kind::integer;
      out.integer = std::int64_t(e);
      out.number = static_cast<double>(out.integer);
      return true;
    case et::UINT64: {
      // Above INT64_MAX: keep it as a number (no request field needs such an integer).
      out.type = json_value::kind::number;
      out.number = static_cast<double>(std::uint64_t(e));
      return true;
    }
    case et::DOUBLE:
      out.type = json_value::kind::number;
      out.number = double(e);
      return true;
    case et::BOOL:
      out.type = json_value::kind::boolean;
      out.boolean = bool(e);
      return true;
    case et::NULL_VALUE:
      out.type = json_value::kind::null;
      return true;
  }
  if (error) *error = "unknown JSON type";
  return false;
}

void append_value(std::string& out, const json_value& v) {
  switch (v.type) {
    case json_value::kind::null:
      out += "null";
      break;
    case json_value::kind::boolean:
      out += v.boolean ? "true" : "false";
      break;
    case json_value::kind::integer: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.integer);
      out.append(buf, end);
      break;
    }
    case json_value::kind::number: {
      if (!std::isfinite(v.number)) {
        out += "null";  // JSON has no NaN or infinity
        break;
      }
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.number);
      out.append(buf, end);
      break;
    }
    case json_value::kind::string:
      append_json_string(out, v.string);
      break;
    case json_value::kind::array: {
      out += '[';
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        append_value(out, v.items[i]);
      }
      out += ']';
      break;
    }
    case json_value::kind::object: {
      out += '{';
      for (std::size_t i = 0; i < v.fields.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, v.fields[i].first);
        out += ':';
        append_value(out, v.fields[i].second);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::optional<json_value> parse_json(std::string_view text, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root); err != simdjson::SUCCESS) {
    if (error) *error = simdjson::error_message(err);
    return std::nullopt;
  }
  json_value out;
  if (!convert(root, out, 0, error)) return std::nullopt;
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string to_json(const json_value& v) {
  std::string out;
  append_value(out, v);
  return out;
}

}  // namespace aftershock::feedsim
