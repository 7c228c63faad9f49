// A station's records: every unit's runs, attempts and measurements in one SQLite database, append-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/report/result.hpp"

struct sqlite3;

namespace bootrig {

// Who and where: recorded with every run.
struct StationIdentity {
  std::string station;    // the station's name ([station] name, else the host name)
  std::string operator_;  // who ran it (--operator, else the login name)
  std::string suite;      // "eol", or "" for a run of named scenarios
};

// The verdict of a whole run as the records keep it: PASS (exit 0), FAIL (1), ERROR (2), INTERRUPTED (3).
std::string run_outcome_name(int exit_code);

// One run as `bootrig records` lists it.
struct RecordedRun {
  std::int64_t id = 0;
  std::string unit;
  std::string started_utc;
  std::string ended_utc;
  std::string outcome;  // run_outcome_name
  std::string suite;
  std::string station;
  std::string operator_;
  std::string firmware_flashed;  // "previous 1.20.2.r4 by cable; ..." or ""
  std::string failures;          // "safeboot-window2: measured outside the limits: ..." (failing scenarios)
  std::string run_folder;
  int run_of_unit = 1;  // 1 for the unit's first run, 2 for its first retest...
};

// What `records` and `records stats` select; every field optional.
struct RecordFilter {
  std::string unit;
  std::string since_utc;  // inclusive, compared as ISO 8601 text ("2026-12-01" or with a time)
  std::string until_utc;  // exclusive
  std::string outcome;    // PASS, FAIL, ERROR, INTERRUPTED
  std::string scenario;   // runs that ran this scenario
};

struct MeasurementStats {
  std::string name;
  std::string unit;
  int n = 0;
  double mean = 0;
  double stddev = 0;                // sample standard deviation (n - 1)
  std::optional<double> low, high;  // the limits of its latest record
  std::optional<double> cpk;        // none without limits, or with fewer than 2 values or no spread
  int out_of_limits = 0;
  bool limits_changed = false;  // the limits differ between records in the period
};

struct RecordStats {
  int runs = 0;
  int units = 0;
  int first_pass = 0;      // units whose first run in the period passed
  int retested_units = 0;  // units run more than once in the period
  int retests = 0;         // runs beyond each unit's first
  double first_pass_yield() const { return units ? static_cast<double>(first_pass) / units : 0.0; }
  std::vector<MeasurementStats> measurements;
};

class RecordStore {
 public:
  // Opens (creating it and its tables when new) the database; WAL mode, so a reader never blocks the
  // station and a cut power loses at most the transaction in flight. RigError when it cannot.
  explicit RecordStore(const std::filesystem::path& path);
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Records a run of `run.unit` in one transaction and returns its id. Nothing is ever updated: a second
  // run of a unit is a new run.
  std::int64_t add_run(const RunSummary& run, const StationIdentity& who, const std::string& run_folder);

  std::vector<RecordedRun> runs(const RecordFilter& filter);
  RecordStats stats(const RecordFilter& filter);

  // One JSON object per attempt's measurement, or one CSV row: for an MES. Columns/keys: run_id, unit,
  // started_utc, run_outcome, station, operator, suite, scenario, attempt, attempt_outcome, measurement,
  // value, unit_of_measure, low, high, within_limits (rows without measurements have them empty).
  std::string export_csv(const RecordFilter& filter);
  std::string export_jsonl(const RecordFilter& filter);

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

// "2026-12-05" or "2026-12-05T06:00:00Z" style dates for --since/--until; RigError naming `what` otherwise.
std::string check_record_date(const std::string& text, const std::string& what);

}  // namespace bootrig
