// What the benchmarks share: a simulated firmware that boots quickly (when its boot is not what they
// measure), and the statistics every figure of BENCHMARKS.md is given with (median and spread over rounds).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bootrig/rig/rig_config.hpp"

namespace bootrig::bench {

// The firmware's own boot is not what is measured: a quick profile gets the module to its prompt fast.
inline FirmwareTiming quick_boot() {
  FirmwareTiming t;
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  return t;
}

// Rounds of one figure: median, extremes and a percentile, for the "median (min-max)" of every table.
struct Spread {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  bool empty() const { return v.empty(); }
  double pct(double p) const {
    if (v.empty()) return 0;
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(s.size() - 1) + 0.5);
    return s[std::min(i, s.size() - 1)];
  }
  double median() const { return pct(50); }
  double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  // "1.234 (1.200-1.300)" with the given printf precision.
  std::string text(int decimals = 3) const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.*f (%.*f-%.*f)", decimals, median(), decimals, min(), decimals, max());
    return buf;
  }
};

// "met" only when measured at normal priority and within the target; a figure is never met by a setting.
inline const char* verdict(bool within) { return within ? "met" : "**missed**"; }

}  // namespace bootrig::bench
