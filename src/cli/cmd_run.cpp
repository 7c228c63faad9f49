// `bootrig run NAME... | --all`: runs boot-mode scenarios on the rig and leaves a folder of evidence.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/flash/ensure.hpp"
#include "bootrig/report/records.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/scenario/station.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "bootrig/target/target.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct RunCliOptions {
  std::vector<std::string> names;
  bool all = false;
  int retries = 0;
  std::string out;
  bool append = false;
  std::string unit;
  std::string junit;
  bool allow_skip = false;
  bool destructive = false;
  bool no_progress = false;
  std::string suite;
  std::string operator_name;
};

std::vector<Scenario*> chosen_scenarios(const RunCliOptions& o, const RigConfig& rig) {
  std::vector<Scenario*> chosen;
  if (!o.suite.empty()) {
    if (o.all || !o.names.empty()) throw RigError("give scenario names, --all or --suite, not more than one");
    return resolve_suite(rig, o.suite);
  }
  if (o.all) {
    if (!o.names.empty()) throw RigError("give scenario names or --all, not both");
    for (const auto& s : all_scenarios()) chosen.push_back(s.get());
    return chosen;
  }
  if (o.names.empty()) throw RigError("name the scenarios to run (bootrig list shows them), or use --all");
  for (const auto& n : o.names) {
    Scenario* s = find_scenario(n);
    if (!s) throw RigError("no scenario named '" + n + "'; 'bootrig list' shows the names");
    // JUnit and the run folder know a scenario by its name: two runs of one name would be two cases in one.
    if (std::find(chosen.begin(), chosen.end(), s) != chosen.end())
      throw RigError("'" + n +
                     "' is named twice; name each scenario once (--retries N gives it more attempts)");
    chosen.push_back(s);
  }
  return chosen;
}

std::unique_ptr<Progress> run_progress(const RunCliOptions& o, const GlobalOptions& g) {
  // Verbose runs print plain lines: debug lines on stderr would tear a status line redrawn in place.
  bool live = !o.no_progress && !g.quiet && g.verbosity == 0 && wants_live_progress(stdout);
  auto console = g.quiet ? make_silent_progress() : make_progress(stdout, live);
  return make_tee_progress(std::move(console), make_line_progress(log_to_file));
}

// `run --suite eol --unit SERIAL`: one unit as the station tests it (its folder under [station] runs, its
// record in the station's database), without the operator's loop.
int run_suite_unit(const RunCliOptions& o, const GlobalOptions& g, const RigConfig& rig,
                   const std::vector<Scenario*>& chosen) {
  if (o.unit.empty())
    throw RigError("--suite " + o.suite + " records a unit: give its serial number with --unit");
  if (auto why = unit_serial_problem(o.unit); !why.empty()) throw RigError("--unit " + o.unit + ": " + why);
  if (!o.out.empty() || o.append || !o.junit.empty())
    throw RigError(
        "--suite puts the unit's evidence where the station does ([station] runs); leave out --out, "
        "--append and --junit (the unit's folder has junit.xml)");
  check_scenario_images(rig, chosen);
  auto rig_lock = lock_rig(rig, g);
  StationSetup setup = station_setup(rig, o.operator_name, o.suite);
  setup.run.retries = o.retries;
  setup.run.allow_destructive = o.destructive;
  setup.run.command_line = g.command_line;
  RecordStore records(setup.records);
  auto target = Target::open(rig);
  auto progress = run_progress(o, g);
  UnitVerdict v = test_unit(*target, chosen, o.unit, setup, records, *progress);
  target.reset();
  if (!g.quiet) say(verdict_banner(v, false));
  return v.exit_code;
}

int run_run(const RunCliOptions& o, const GlobalOptions& g) {
  // Named scenarios are checked before the rig is loaded: a usage error is one line, without the rig's notes.
  std::vector<Scenario*> chosen;
  if (o.suite.empty()) chosen = chosen_scenarios(o, RigConfig{});
  RigConfig rig = load_rig(g);
  if (!o.suite.empty()) chosen = chosen_scenarios(o, rig);
  if (!o.suite.empty()) return run_suite_unit(o, g, rig, chosen);
  check_scenario_images(rig, chosen);
  // Held until the command returns: the lines are released (Target's destructor) before the lock goes.
  auto rig_lock = lock_rig(rig, g);
  // Every output is checked before the run folder is made and the board is touched.
  if (!o.junit.empty()) check_output_file(o.junit, "--junit");
  RunFolder folder(o.out, o.append);
  spdlog::info("evidence folder: {}{}", folder.path().string(),
               folder.placement().empty() ? "" : " (" + folder.placement() + ")");

  RunOptions ro;
  ro.retries = o.retries;
  ro.unit = o.unit;
  // Named on the command line is consent; --all needs --destructive for the scenarios that destroy.
  ro.allow_destructive = o.destructive || !o.all;
  ro.allow_skip = o.allow_skip;
  ro.all = o.all;
  ro.command_line = g.command_line;

  // The folder holds a record even when the rig does not open: every scenario NOT RUN, and why.
  auto write_junit = [&](const RunSummary& summary) {
    if (!o.junit.empty()) write_file_atomically(o.junit, to_junit_xml(summary));
  };
  std::unique_ptr<Target> target;
  try {
    target = Target::open(rig);
  } catch (const Interrupted& e) {
    write_junit(record_unstarted_run(rig, chosen, ro, folder,
                                     std::string(e.what()) + " while the rig was opened", true));
    throw;
  } catch (const RigError& e) {
    write_junit(record_unstarted_run(rig, chosen, ro, folder,
                                     std::string("the rig could not be opened: ") + e.what(), false));
    throw;
  }

  auto progress = run_progress(o, g);
  RunSummary summary = run_scenarios(*target, chosen, ro, folder, *progress);
  target.reset();  // lines released, port closed, before the verdict is reported
  write_junit(summary);
  // -q shows warnings: a run that did not end normally is one (progress, which says it otherwise, is silent).
  if (std::string end = run_end_line(summary); g.quiet && !end.empty())
    std::fprintf(stderr, "bootrig: %s\n", end.c_str());
  return summary.exit_code.value_or(exit_code_for(summary, o.allow_skip));
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<RunCliOptions>();
  auto* cmd = app.add_subcommand("run", "Run boot-mode scenarios on the rig (see 'bootrig list')");
  cmd->add_option("names", o->names, "Scenarios to run, in this order");
  cmd->add_flag("--all", o->all, "Run every scenario");
  cmd->add_option("--retries", o->retries, "Extra attempts after a FAIL or ERROR; a pass after one is FLAKY")
      ->check(CLI::Range(0, 20));
  cmd->add_option(
      "--out", o->out,
      "Evidence folder (default: a new one under ./bootrig-runs/); one that already holds a run is "
      "refused unless --append");
  cmd->add_flag(
      "--append", o->append,
      "When --out already holds a run, put this one in a new numbered subfolder (DIR/run-2, run-3...)");
  cmd->add_option("--unit", o->unit, "The unit's serial number, recorded in the results (factory lines)");
  cmd->add_option("--junit", o->junit, "Also write JUnit XML here (the run folder always has junit.xml)");
  cmd->add_flag("--allow-skip", o->allow_skip, "Exit 0 even if some scenarios were skipped");
  cmd->add_flag(
      "--destructive", o->destructive,
      "With --all, also run the destructive scenarios (factory-reset erases /flash); a scenario named "
      "on the command line runs without it");
  cmd->add_option(
      "--suite", o->suite,
      "Run a suite instead of named scenarios: 'eol', the rig's [station] eol_suite, as the station "
      "does (with --unit: the unit's folder and record go where the station's do)");
  cmd->add_option("--operator", o->operator_name, "Who ran it, for the records (default: $USER)");
  cmd->add_flag("--no-progress", o->no_progress, "Plain timestamped lines even on a terminal");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_run(*o, g); }; });
}

}  // namespace bootrig
