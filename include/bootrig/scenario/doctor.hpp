// `bootrig doctor`'s checks: the wiring of a rig end to end, each check PASS, FAIL or SKIP with what was
// measured and, when it is not a pass, what is most likely wrong and what to try.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

class Target;

enum class CheckOutcome : std::uint8_t { pass, fail, skip };
const char* to_string(CheckOutcome o);  // "PASS", "FAIL", "SKIP"

struct DoctorCheck {
  std::string name;  // "port", "lines", "REPL", "firmware", "RESET", "photodiode", "P12", "P2", "clock"
  CheckOutcome outcome = CheckOutcome::skip;
  std::string detail;  // what was found or measured
  std::string hint;    // for FAIL and SKIP: what is likely wrong, what to try
};

// Before the rig is opened (so that a holder can be named): the port exists and no other process has it
// open; each GPIO line exists and is free. `own_pid` is left out of the holders.
DoctorCheck check_port(const std::string& path, int own_pid);
DoctorCheck check_lines(const RigConfig& rig);

// With the rig open: the REPL, the firmware, RESET (ROM output after a pulse), the photodiode (the
// heartbeat), P12 (held through a reset: the slow blink, its on/off times), P2 (held through a reset:
// "waiting for download"), the clock edges are stamped with. A check whose evidence depends on a wire that
// failed is SKIP naming that wire, so that one broken wire fails one check. `dir` receives the timeline.
std::vector<DoctorCheck> check_wiring(Target& target, const std::filesystem::path& dir);

// The processes other than `own_pid` that have `device` open: "picocom (pid 812)".
std::vector<std::string> processes_holding(const std::string& device, int own_pid);

}  // namespace bootrig
