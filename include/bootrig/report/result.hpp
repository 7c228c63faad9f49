// What a run found: outcomes per scenario, every attempt kept, and the measurements behind each verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

// PASS: the board kept every rule. FAIL: the board broke one. ERROR: the rig could not do its job (port
// missing, line busy, no prompt ever), which says nothing about the board. SKIP: a precondition is unmet
// (with the reason). FLAKY: passed only after failing, which is never reported as PASS. NOT RUN: the run
// ended (interrupted, or stopped because the board could not be recovered) before the scenario's turn; no
// attempt was made.
enum class Outcome { pass, fail, error, skip, flaky, not_run };
const char* to_string(Outcome o);  // "PASS", "FAIL", ..., "NOT RUN"
inline constexpr int kOutcomeCount = 6;

// A measured value put against limits, as a factory station records it per unit.
struct Measurement {
  std::string name;  // e.g. "window2.toggle_ms"
  double value = 0;
  std::string unit;  // "ms", "count", ...
  std::optional<double> low;
  std::optional<double> high;
  bool within_limits() const { return (!low || value >= *low) && (!high || value <= *high); }
  // "heartbeat.on_ms = 130 ms, limits 28 to 52 ms" (the limits only when there are any).
  std::string describe() const;
};

// One thing a scenario claims to prove, and what this attempt made of it. An expectation that could not be
// checked (no photodiode, no SD card) is listed as such in every report, so that a PASS never claims it.
enum class ExpectationStatus { passed, failed, unchecked };
const char* to_string(ExpectationStatus s);  // "checked-pass", "checked-fail", "unchecked"
struct Expectation {
  std::string what;  // short, e.g. "LED window 1 (slow blink)", "SD card untouched"
  ExpectationStatus status = ExpectationStatus::unchecked;
  std::string detail;  // unchecked: why not ("no photodiode on this rig"); failed: what was seen
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

// Which board an attempt ran on, as the board itself said (os.uname(), machine.unique_id()); empty fields
// were not read in that attempt.
struct BoardIdentity {
  std::string board;             // "FiPy"
  std::string firmware_version;  // os.uname().release, "1.20.2.r6"
  std::string build;             // os.uname().version
  std::string unique_id;         // machine.unique_id() as hex, the base MAC on an ESP32
  bool empty() const {
    return board.empty() && firmware_version.empty() && build.empty() && unique_id.empty();
  }
  // Fills what `other` knows and this does not (a later read wins where both know).
  void merge(const BoardIdentity& other);
};

struct Attempt {
  Outcome outcome = Outcome::error;
  std::string message;   // what was expected, what was seen
  std::string evidence;  // last serial lines, the LED pattern at that moment
  double seconds = 0;
  std::vector<Measurement> measurements;
  std::vector<std::string> notes;  // e.g. "window 2 not observed: no photodiode, released at the nominal time"
  std::optional<FirmwarePrep> firmware = std::nullopt;  // when the check needed (or checked) images on the board
  // The board could not be brought back (the recovery ladder failed, or a broken rule left nothing else
  // checkable): no retry, and the run stops here.
  bool stops_run = false;
  std::vector<Expectation> expectations = {};  // in the order the scenario judged them
  // The simulated module's faults when the attempt began ("garbage_rate=0.001"), when they differ from the
  // run's (a test or the fault matrix changed them); empty otherwise.
  std::vector<std::string> sim_faults = {};
  BoardIdentity board = {};  // what the board said of itself during the attempt
};

struct ScenarioResult {
  std::string name;
  std::string purpose;
  Outcome outcome = Outcome::error;  // the final verdict over all attempts
  std::vector<Attempt> attempts;
  double seconds = 0;  // all attempts
  std::string folder;  // where its timeline and serial log are, relative to the run folder
  // Why no attempt was made: "not run: the run was interrupted", or the SKIP reason of a destructive scenario
  // run without consent. Empty when attempts were made.
  std::string reason = {};
  // SKIP because a destructive scenario was not consented to (--all without --destructive): listed in every
  // report, but it does not make the exit code 1, since leaving it out was the user's choice.
  // Also set when `run --all` left out a check the rig lacks the [firmware] images for
  // (ScenarioInfo::needs_images).
  bool consent_withheld = false;
};

// The final verdict of a scenario from its attempts: any pass after a failure or error is FLAKY.
Outcome combine_attempts(const std::vector<Attempt>& attempts);

// Counts per outcome, in Outcome order.
struct Totals {
  int count[kOutcomeCount] = {};
  int of(Outcome o) const { return count[static_cast<int>(o)]; }
  // "3 passed, 1 failed, 0 errors, 1 skipped, 0 flaky, 2 not run"
  std::string describe() const;
};

struct RunSummary {
  std::string bootrig_version;
  std::string command_line;  // as typed, shell-quoted where needed
  std::string rig_name;
  std::string rig_source;
  std::string rig_sha256;  // of the rig file as it is when the run begins; empty for the built-in rig
  std::string rig_port;    // how the rig file names the module's serial port ("USB serial number 'A5XK'")
  std::string rig_usb_serial;  // the USB adapter's serial number when the rig file names the port by it
  bool simulated = false;
  std::vector<std::string> sim_faults;  // the simulated module's active faults at the start, "name=value"
  std::string unit;          // the unit's serial number on a factory line, when given
  std::string started_utc;   // ISO 8601 with milliseconds
  // CLOCK_MONOTONIC (the clock of every "t" in events.jsonl) read together with started_utc: an event at
  // monotonic t happened at started_utc + (t - started_monotonic_ns).
  std::int64_t started_monotonic_ns = 0;
  std::string ended_utc;  // empty while the run goes
  std::int64_t ended_monotonic_ns = 0;
  std::vector<ScenarioResult> scenarios;  // every scenario asked for, in order; NOT RUN until its turn
  bool finished = false;     // false in the reports written while the run goes (or left by a killed bootrig)
  bool interrupted = false;  // Ctrl-C, SIGTERM
  // Why the run ended before its last scenario: "interrupted by Terminated during safeboot-window2 (3.2 s
  // in)" or "the run stopped after normal-boot: the board could not be recovered ..."; empty otherwise.
  std::string stop_reason;
  // What bootrig knows of the board when the run was interrupted or stopped: "P12 and RESET released; the
  // board was in 'release P12 in window 2 (fast blink)', waiting for window 2 (fast blink)".
  std::string board_state;
  std::optional<int> exit_code;  // set when the run ends

  Totals totals() const;
  // The board the run saw, merged over its attempts in order (the last read wins).
  BoardIdentity board() const;
};

// 0 when everything passed; 2 when any scenario could not be run by the rig (ERROR) or was NOT RUN; 1 when
// the board failed a check, was FLAKY, or (unless skips are allowed) a scenario was skipped; 3 when
// interrupted. A destructive scenario skipped for want of consent does not count.
int exit_code_for(const RunSummary& run, bool allow_skip);

}  // namespace bootrig
