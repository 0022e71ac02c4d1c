// The table of fuzz targets (names match tests/fuzz/seeds/<name> and
// tests/regressions/<name>), shared by the libFuzzer entry points and the regression test.
#include "fuzz_targets.h"

namespace aftershock::fuzz {
namespace {

template <feeds::dialect D>
void frame_of(const std::uint8_t* data, std::size_t size) {
  frame_parser_one(D, data, size);
}

}  // namespace

const std::vector<target_info>& all_targets() {
  static const std::vector<target_info> targets = {
      {"frame_alpaca_stocks", &frame_of<feeds::dialect::alpaca_stocks>},
      {"frame_alpaca_news", &frame_of<feeds::dialect::alpaca_news>},
      {"frame_finnhub", &frame_of<feeds::dialect::finnhub>},
      {"frame_polygon_stocks", &frame_of<feeds::dialect::polygon_stocks>},
      {"frame_binance", &frame_of<feeds::dialect::binance>},
      {"frame_generic", &frame_of<feeds::dialect::generic>},
      {"capture_reader", &capture_reader_one},
      {"config_loader", &config_loader_one},
      {"headline_matcher", &headline_matcher_one},
  };
  return targets;
}

}  // namespace aftershock::fuzz
