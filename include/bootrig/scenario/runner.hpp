// Runs scenarios on an opened target: attempts with retries, each in its own evidence folder, and the run's
// result files rewritten as each scenario ends so an interrupted run still leaves its evidence.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bootrig/report/attempt_views.hpp"
#include "bootrig/report/html_report.hpp"
#include "bootrig/report/result.hpp"
#include "bootrig/scenario/progress.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

struct RunOptions {
  int retries = 0;   // extra attempts after a FAIL or ERROR; every attempt is kept
  std::string unit;  // the unit's serial number (factory stations), recorded in every result file
  // Consent for scenarios marked destructive (ScenarioInfo::destructive). Without it they are SKIPped with
  // the reason and listed in every report. `bootrig run` gives it for scenarios named on the command line,
  // and with --destructive.
  bool allow_destructive = false;
  bool allow_skip = false;  // for the exit code recorded in the results, as `run --allow-skip`
  bool all = false;  // `run --all`: scenarios whose ScenarioInfo::needs_images the rig lacks are left out
  std::string command_line;  // recorded in the result files
};

// The run's folder: summary.txt, results.json, junit.xml and report.html (each replaced atomically after
// every attempt), and NN-name/attempt-K/ with each attempt's events.jsonl and serial.log as they happen, and
// its serial.txt and signals.vcd once it ends.
class RunFolder {
 public:
  // `out` empty: a new timestamped folder under ./bootrig-runs/. A folder that already holds a run is refused
  // (RigError) unless `append`: then this run goes into out/run-N/, N the first free number from 2 (the first
  // run is out itself), so that a retest never overwrites or mixes with the runs before it. The folder is
  // checked writable before the constructor returns.
  explicit RunFolder(std::filesystem::path out, bool append = false);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Why the run is not in the folder asked for ("records/X already holds a run; --append put this one in
  // records/X/run-2"); empty when it is.
  const std::string& placement() const { return placement_; }
  std::filesystem::path attempt_dir(std::size_t index, const std::string& scenario, int attempt) const;
  std::string scenario_dir_name(std::size_t index, const std::string& scenario) const;
  // Writes results.json, junit.xml, summary.txt and report.html, in that order, each atomically. A disk
  // that filled during the run (the attempts' logs took the last of it) still gets them: the folder holds
  // kSpaceReserveBytes from the start, given up to the reports when a write fails. Throws RigError when the
  // first three cannot be written; report.html that cannot is a warning (said once), not the run's end.
  void write_results(const RunSummary& run);
  static constexpr long kSpaceReserveBytes = 1024 * 1024;
  // What report.html and the attempts' views need of the rig; set before the first attempt.
  void set_rig_view(RigView view) { rig_view_ = std::move(view); }
  const RigView& rig_view() const { return rig_view_; }

 private:
  // Runs `write`; when it fails and the reserve is held, gives the reserve up and runs it once more.
  void with_space_reserve(const std::function<void()>& write);
  void release_space_reserve();

  std::filesystem::path path_;
  RigView rig_view_;
  std::string placement_;
  // An unlinked file holding the reserve: closing it frees the space, and the kernel frees it when bootrig
  // dies, so nothing is ever left behind in the folder. -1 when there is none (the disk was already full).
  int space_reserve_fd_ = -1;
  std::string html_trouble_;  // why report.html could not be written last time (said once)
  HtmlReportCache html_cache_;  // the finished attempts' diagrams, not read again at every write
};

// What in `dir` shows that it holds a run ("summary.txt", "01-normal-boot/", "run-2/"); empty when nothing
// does.
std::string existing_run_in(const std::filesystem::path& dir);

// Runs `scenarios` in order on `target`. Returns when all ran, or when the run was interrupted or stopped
// (a BoardLost, or a CheckFailed that stops the run): the summary then says so, with the board's state, and
// lists the rest as NOT RUN.
RunSummary run_scenarios(Target& target, const std::vector<Scenario*>& scenarios, const RunOptions& options,
                         RunFolder& folder, Progress& progress);

// For a run that ends before its first scenario (the rig would not open; Ctrl-C while it opened): writes the
// run's reports with every scenario NOT RUN, "not run: <why>", and returns that record, exit code set.
RunSummary record_unstarted_run(const RigConfig& rig, const std::vector<Scenario*>& scenarios,
                                const RunOptions& options, RunFolder& folder, const std::string& why,
                                bool interrupted);

}  // namespace bootrig
