#include "exporters/alert_sink.h"

#include <cstdio>

namespace aftershock::exporters {

jsonl_sink::jsonl_sink(const std::string& path, bool append) {
  if (path == "-") {
    file_ = stdout;
  } else {
    file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
    owned_ = file_ != nullptr;
  }
}

jsonl_sink::~jsonl_sink() {
  if (file_) std::fflush(file_);
  if (owned_) std::fclose(file_);
}

void jsonl_sink::publish(const rules::alert& a) {
  if (!file_) return;
  line_ = rules::to_json(a);
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

void jsonl_sink::flush() {
  if (file_) std::fflush(file_);
}

}  // namespace aftershock::exporters
