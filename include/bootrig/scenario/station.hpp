// The end-of-line station: one unit after another, each run through the suite, recorded, then judged.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/report/records.hpp"
#include "bootrig/report/result.hpp"
#include "bootrig/scenario/progress.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

struct RigConfig;

// The scenarios of suite `name` ("eol": the rig's [station] eol_suite). RigError for an unknown suite or a
// scenario name the suite lists that does not exist (naming the rig file's key).
std::vector<Scenario*> resolve_suite(const RigConfig& rig, const std::string& name);

// A unit's serial number as a barcode scanner types it: 1 to 64 of letters, digits, '-', '_', '.', '/'
// and ':' (not starting with '.'), since it names the unit's run folder. Returns why not, or "".
std::string unit_serial_problem(const std::string& serial);
// The unit's folder name: '/' and ':' become '_'.
std::string unit_folder_name(const std::string& serial);

// Where a station's records and run folders go, and who is at it.
struct StationSetup {
  std::filesystem::path records;  // the SQLite database
  std::filesystem::path runs;     // unit folders go here: runs/SERIAL, runs/SERIAL/run-2 for a retest
  StationIdentity who;
  RunOptions run;  // retries, command line; unit is set per unit
};
// From the rig's [station] with its defaults filled in (host name, ./bootrig-records.sqlite, ./bootrig-runs).
StationSetup station_setup(const RigConfig& rig, const std::string& operator_name, const std::string& suite);

// What the operator is shown for one unit.
struct UnitVerdict {
  RunSummary summary;
  std::int64_t record_id = 0;
  std::filesystem::path folder;
  int exit_code = 0;
  double cycle_seconds = 0;  // from the serial number entered to the verdict
  bool pass() const { return exit_code == 0; }
  // "safeboot-window1 FAIL: measured outside the limits: window1.period_ms = 1300 ms, limits 800 to 1200 ms".
  std::string failing() const;
};

// Tests one unit: its run folder, the suite (each check flashes what it needs first), and the record,
// committed before this returns, so that no verdict is shown that is not recorded.
UnitVerdict test_unit(Target& target, const std::vector<Scenario*>& suite, const std::string& serial,
                      StationSetup& setup, RecordStore& records, Progress& progress);

// The large verdict an operator sees from across the bench: PASS or FAIL in block letters, the failing
// measurement or check, the cycle time. `colour` adds a green or red background (a terminal).
std::string verdict_banner(const UnitVerdict& v, bool colour);

// A line from `fd` (the scanner or keyboard), without its end; nullopt at end of input. Ctrl-C while waiting
// throws Interrupted.
std::optional<std::string> read_operator_line(int fd);

// The operator's loop: asks for a serial, tests the unit, shows the verdict, asks for the next. Ends at end
// of input or Ctrl-C between units (exit 0), or Ctrl-C during a unit (that unit recorded as INTERRUPTED,
// exit 3). `in_fd` is read; `out` shows prompts and verdicts.
int station_loop(Target& target, const std::vector<Scenario*>& suite, StationSetup& setup,
                 RecordStore& records, int in_fd, std::FILE* out, bool colour,
                 const std::function<std::unique_ptr<Progress>()>& progress);

}  // namespace bootrig
