// A small streaming JSON writer for payloads: objects, arrays, escaped strings (through the rules
// vocabulary's append_json_string, so invalid UTF-8 never leaves the process raw), numbers.
// Commas are placed automatically. Value type; one writer per thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "rules/alert.h"

namespace aftershock::exporters {

class json_writer {
 public:
  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  json_writer& key(std::string_view k) {
    separate();
    rules::append_json_string(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    rules::append_json_string(out_, s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(double v) {
    separate();
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.10g", v);
    out_.append(buf, static_cast<std::size_t>(n));
    return *this;
  }
  json_writer& value(std::int64_t v) {
    separate();
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  json_writer& value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  json_writer& null() {
    separate();
    out_ += "null";
    return *this;
  }
  /// Inserts already-valid JSON (e.g. rules::to_json) as one value.
  json_writer& raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }
  /// key + string value.
  json_writer& field(std::string_view k, std::string_view v) { return key(k).value(v); }

  const std::string& str() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

 private:
  json_writer& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  json_writer& close(char c) {
    out_ += c;
    if (!first_.empty()) first_.pop_back();
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace aftershock::exporters
