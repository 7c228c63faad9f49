// report.html: the run for a person, in one self-contained file (inline CSS and SVG, nothing fetched).
#pragma once

#include <filesystem>
#include <string>

#include "bootrig/report/attempt_views.hpp"
#include "bootrig/report/result.hpp"

namespace bootrig {

// The summary (outcomes, durations, firmware found and flashed, how the run ended), then per scenario attempt
// a timing diagram (lanes P12, RESET, P2, LED and serial; the bootloader's windows shaded at their nominal
// times after each safe-boot reset; bootrig's actions and decisions marked; verdict and measurements written
// on it), the measurements against their limits, the failure message and the serial lines around the
// verdict. The attempts' events are read from their folders under `run_dir`. Well-formed XML as well as
// HTML, so that any XML reader can check it.
std::string to_html_report(const RunSummary& run, const std::filesystem::path& run_dir, const RigView& rig);

}  // namespace bootrig
