// `bootrig lines`: its options and output, separated from the command line so tests can feed hand-made chips.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>

#include "bootrig/hw/gpio.hpp"

namespace bootrig {

struct LinesOptions {
  std::string chip;  // name, number, label or path; empty: all chips
  bool json = false;
};

// The table a person reads: one block per chip, one row per line.
std::string format_lines_text(const std::vector<ChipInfo>& chips);
// {"libgpiod": ..., "chips": [{"name", "label", "path", "num_lines", "lines": [{"offset", "name", "used",
// "consumer", "direction"}]}]}; name and consumer are null when absent.
nlohmann::json lines_json(const std::vector<ChipInfo>& chips, const std::string& libgpiod);

// Lists the backend's chips (or the one --chip names) on out; returns the exit code. Throws RigError
// when --chip matches nothing.
int run_lines(GpioBackend& backend, const LinesOptions& opts, std::ostream& out);

}  // namespace bootrig
