// `bootrig station [RIG] [--suite eol]`: the end-of-line loop an operator runs all shift.
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/report/records.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/scenario/station.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "bootrig/target/target.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct StationCliOptions {
  std::string rig;
  std::string suite = "eol";
  std::string operator_name;
  int retries = 0;
};

int run_station(const StationCliOptions& o, GlobalOptions& g) {
  if (!o.rig.empty()) {
    if (g.rig && *g.rig != o.rig) throw RigError("give the rig once: as station's argument or with --rig");
    g.rig = o.rig;
  }
  RigConfig rig = load_rig(g);
  std::vector<Scenario*> suite = resolve_suite(rig, o.suite);
  check_scenario_images(rig, suite);
  auto rig_lock = lock_rig(rig, g);
  StationSetup setup = station_setup(rig, o.operator_name, o.suite);
  setup.run.retries = o.retries;
  setup.run.allow_destructive = true;  // the suite is the station's configuration: its own consent
  setup.run.command_line = g.command_line;
  RecordStore records(setup.records);
  auto target = Target::open(rig);
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  say("station " + setup.who.station + ", operator " + setup.who.operator_ + ", rig " + rig.name +
      "; suite " + o.suite + ": " + [&] {
        std::string names;
        for (Scenario* s : suite) names += (names.empty() ? "" : ", ") + s->info().name;
        return names;
      }());
  say("records: " + setup.records.string() + "; unit folders under " + setup.runs.string());
  auto progress = [&]() -> std::unique_ptr<Progress> {
    auto console = g.quiet ? make_silent_progress() : make_progress(stdout, tty && g.verbosity == 0);
    return make_tee_progress(std::move(console), make_line_progress(log_to_file));
  };
  return station_loop(*target, suite, setup, records, STDIN_FILENO, stdout, tty, progress);
}

}  // namespace

void add_station_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<StationCliOptions>();
  auto* cmd = app.add_subcommand(
      "station",
      "End-of-line station: scan a unit's serial number, run the suite, see PASS or FAIL, next unit");
  cmd->add_option("rig", o->rig, "Rig file (as --rig)");
  cmd->add_option("--suite", o->suite,
                  "The suite to run on each unit (default: eol, the rig's [station] eol_suite)");
  cmd->add_option("--operator", o->operator_name, "Who runs the station, for the records (default: $USER)");
  cmd->add_option("--retries", o->retries, "Extra attempts after a FAIL or ERROR; a pass after one is FLAKY")
      ->check(CLI::Range(0, 20));
  cmd->footer("Ctrl-C between units closes the station; every unit is recorded before its verdict is shown.");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_station(*o, g); }; });
}

}  // namespace bootrig
