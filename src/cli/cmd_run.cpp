// `bootrig run NAME... | --all`: runs boot-mode scenarios on the rig and leaves a folder of evidence.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/flash/ensure.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/target/target.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct RunCliOptions {
  std::vector<std::string> names;
  bool all = false;
  int retries = 0;
  std::string out;
  std::string unit;
  std::string junit;
  bool allow_skip = false;
  bool no_progress = false;
};

int run_run(const RunCliOptions& o, const GlobalOptions& g) {
  std::vector<Scenario*> chosen;
  if (o.all) {
    if (!o.names.empty()) throw RigError("give scenario names or --all, not both");
    for (const auto& s : all_scenarios()) chosen.push_back(s.get());
  } else {
    if (o.names.empty()) throw RigError("name the scenarios to run (bootrig list shows them), or use --all");
    for (const auto& n : o.names) {
      Scenario* s = find_scenario(n);
      if (!s) throw RigError("no scenario named '" + n + "'; 'bootrig list' shows the names");
      chosen.push_back(s);
    }
  }
  RigConfig rig = load_rig(g);
  // Every image the checks may flash is read and validated before the board is touched: a bad one is an
  // ERROR (exit 2) with nothing written.
  {
    auto images = load_rig_images(rig);
    check_rig_images(rig, images);
    for (Scenario* s : chosen) resolve_arrangement(s->info().arrangement, images, nullptr);
  }
  RunFolder folder(o.out);
  // The folder first, so that even a rig that fails to open leaves a trace of the attempt.
  spdlog::info("evidence folder: {}", folder.path().string());
  auto target = Target::open(rig);

  bool live = !o.no_progress && !g.quiet && wants_live_progress(stdout);
  auto progress = g.quiet ? make_silent_progress() : make_progress(stdout, live);
  RunOptions ro;
  ro.retries = o.retries;
  ro.unit = o.unit;
  RunSummary summary = run_scenarios(*target, chosen, ro, folder, *progress);
  target.reset();  // lines released, port closed, before the verdict is reported
  if (!o.junit.empty()) write_file_atomically(o.junit, to_junit_xml(summary));
  return exit_code_for(summary, o.allow_skip);
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<RunCliOptions>();
  auto* cmd = app.add_subcommand("run", "Run boot-mode scenarios on the rig (see 'bootrig list')");
  cmd->add_option("names", o->names, "Scenarios to run, in this order");
  cmd->add_flag("--all", o->all, "Run every scenario");
  cmd->add_option("--retries", o->retries, "Extra attempts after a FAIL or ERROR; a pass after one is FLAKY")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--out", o->out, "Evidence folder (default: a new one under ./bootrig-runs/)");
  cmd->add_option("--unit", o->unit, "The unit's serial number, recorded in the results (factory lines)");
  cmd->add_option("--junit", o->junit, "Also write JUnit XML here (the run folder always has junit.xml)");
  cmd->add_flag("--allow-skip", o->allow_skip, "Exit 0 even if some scenarios were skipped");
  cmd->add_flag("--no-progress", o->no_progress, "Plain timestamped lines even on a terminal");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_run(*o, g); }; });
}

}  // namespace bootrig
