// Runs scenarios on an opened target: attempts with retries, each in its own evidence folder, and the run's
// result files rewritten as each scenario ends so an interrupted run still leaves its evidence.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bootrig/report/result.hpp"
#include "bootrig/scenario/progress.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

struct RunOptions {
  int retries = 0;          // extra attempts after a FAIL or ERROR; every attempt is kept
  std::string unit;         // the unit's serial number (factory stations), recorded in every result file
};

// The run's folder: summary.txt (a line per scenario, appended as it ends), results.json and junit.xml
// (rewritten atomically after each scenario), and NN-name/attempt-K/ with each attempt's events.jsonl and
// serial.log.
class RunFolder {
 public:
  // `out` empty: a new timestamped folder under ./bootrig-runs/.
  explicit RunFolder(std::filesystem::path out);
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path attempt_dir(std::size_t index, const std::string& scenario, int attempt) const;
  std::string scenario_dir_name(std::size_t index, const std::string& scenario) const;
  void append_summary(const std::string& line);
  void write_results(const RunSummary& run);

 private:
  std::filesystem::path path_;
};

// Runs `scenarios` in order on `target`. Returns when all ran, or when interrupted (the summary says so).
RunSummary run_scenarios(Target& target, const std::vector<Scenario*>& scenarios, const RunOptions& options,
                         RunFolder& folder, Progress& progress);

}  // namespace bootrig
