// What a run found: outcomes per scenario, every attempt kept, and the measurements behind each verdict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

// PASS: the board kept every rule. FAIL: the board broke one. ERROR: the rig could not do its job (port missing,
// line busy, no prompt ever), which says nothing about the board. SKIP: a precondition is unmet (with the reason).
// FLAKY: passed only after failing, which is never reported as PASS.
enum class Outcome { pass, fail, error, skip, flaky };
const char* to_string(Outcome o);  // "PASS", "FAIL", ...

// A measured value put against limits, as a factory station records it per unit.
struct Measurement {
  std::string name;  // e.g. "window2.toggle_ms"
  double value = 0;
  std::string unit;  // "ms", "count", ...
  std::optional<double> low;
  std::optional<double> high;
  bool within_limits() const { return (!low || value >= *low) && (!high || value <= *high); }
};

// What the step before a check found on the board and what it flashed to give the check its images.
struct FirmwareFlash {
  std::string image;    // the rig's [firmware] key, "previous"
  std::string version;  // "1.20.2.r4"
  std::string method;   // "cable", "OTA"
  double seconds = 0;
};
struct FirmwarePrep {
  std::string arrangement;  // what the check needs, "current running, previous as the previous OTA image"
  std::string found;        // "ota_0 runs FiPy 1.20.2.r6; window 2 boots 1.20.2.r4 (factory slot)"
  std::vector<FirmwareFlash> flashed;  // empty: the board already had what the check needs
  // "flashed previous 1.20.2.r4 by cable (2.1 s), current 1.20.2.r6 by OTA (4.0 s)" or "nothing flashed".
  std::string describe_flashed() const;
};

struct Attempt {
  Outcome outcome = Outcome::error;
  std::string message;   // what was expected, what was seen
  std::string evidence;  // last serial lines, the LED pattern at that moment
  double seconds = 0;
  std::vector<Measurement> measurements;
  std::vector<std::string> notes;  // e.g. "window 2 not observed: no photodiode, released at the nominal time"
  std::optional<FirmwarePrep> firmware = std::nullopt;  // when the check needed (or checked) images on the board
  // The board could not be brought back (the recovery ladder failed): no retry, and the run stops here.
  bool stops_run = false;
};

struct ScenarioResult {
  std::string name;
  std::string purpose;
  Outcome outcome = Outcome::error;  // the final verdict over all attempts
  std::vector<Attempt> attempts;
  double seconds = 0;  // all attempts
  std::string folder;  // where its timeline and serial log are, relative to the run folder
};

// The final verdict of a scenario from its attempts: any pass after a failure or error is FLAKY.
Outcome combine_attempts(const std::vector<Attempt>& attempts);

struct RunSummary {
  std::string rig_name;
  std::string rig_source;
  bool simulated = false;
  std::string unit;          // the unit's serial number on a factory line, when given
  std::string started_utc;   // ISO 8601
  std::vector<ScenarioResult> scenarios;
  bool interrupted = false;
  // Set once the run ended by itself (all scenarios, an interruption or a stop): a results.json that says
  // false was left by a run that was killed (SIGKILL, power loss) and holds what happened until then.
  bool complete = false;
  // Why the run ended before its last scenario, when it did for a board that could not be recovered.
  std::string stopped;
};

// 0 when everything passed; 2 when any scenario could not be run by the rig (ERROR); 1 when the board failed
// a check, was FLAKY, or (unless skips are allowed) a scenario was skipped; 3 when interrupted.
int exit_code_for(const RunSummary& run, bool allow_skip);

}  // namespace bootrig
