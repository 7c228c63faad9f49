// `bootrig doctor [RIG]`: checks a rig's wiring end to end and says in plain words what is wrong and what to
// try, one line per check (PASS, FAIL or SKIP) and a hint under each that did not pass.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/doctor.hpp"
#include "bootrig/target/target.hpp"
#include "cli/board_access.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct DoctorOptions {
  std::string rig;
  BoardOptions board;
};

void print(const DoctorCheck& c) {
  std::printf("%s  %-10s  %s\n", to_string(c.outcome), c.name.c_str(), c.detail.c_str());
  if (!c.hint.empty())
    std::printf("      %-10s  %s %s\n", "",
                c.outcome == CheckOutcome::fail ? "try:" : "why:", c.hint.c_str());
  std::fflush(stdout);
}

int run_doctor(const DoctorOptions& o, GlobalOptions& g) {
  if (!o.rig.empty()) {
    if (g.rig && *g.rig != o.rig)
      throw RigError("bootrig doctor: two rigs named (" + *g.rig + " and " + o.rig + "); give one");
    g.rig = o.rig;
  }
  if (!o.board.port.empty() && g.rig) throw RigError("--port and a rig name two boards; give one of them");
  RigConfig rig = o.board.port.empty() ? load_rig(g)
                                       : Target::port_rig(o.board.port, o.board.baud ? o.board.baud : 115200);
  if (o.board.baud) rig.serial.settings.baud = o.board.baud;
  std::printf("doctor: %s (%s, %s)\n", rig.name.c_str(), rig.source.string().c_str(),
              rig.kind == RigKind::sim ? "SIMULATED module" : "hardware");
  std::vector<DoctorCheck> checks;
  const int me = static_cast<int>(::getpid());
  // On hardware the port and the lines are looked at before bootrig claims them, so that whoever holds them
  // can be named; the simulated module makes its port when it starts.
  if (rig.kind == RigKind::hardware) {
    if (!rig.serial.port.path.empty()) checks.push_back(check_port(rig.serial.port.path, me));
    checks.push_back(check_lines(rig));
    for (const auto& c : checks) print(c);
    for (const auto& c : checks)
      if (c.outcome == CheckOutcome::fail) {
        std::printf("the rest needs the port and the lines; fix the above first\n");
        return static_cast<int>(ExitCode::check_failed);
      }
  }
  std::unique_ptr<Target> target;
  try {
    target = Target::open(rig);
  } catch (const RigError& e) {
    print({"open", CheckOutcome::fail, e.what(), "fix the above and run bootrig doctor again"});
    return static_cast<int>(ExitCode::check_failed);
  }
  if (rig.kind == RigKind::sim) {
    DoctorCheck port = check_port(target->serial_path(), me);
    DoctorCheck lines = check_lines(rig);
    print(port);
    print(lines);
    checks.push_back(port);
    checks.push_back(lines);
  }
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-doctor-" + std::to_string(me));
  auto wiring = check_wiring(*target, dir);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  int failed = 0, passed = 0, skipped = 0;
  for (const auto& c : wiring) print(c);
  checks.insert(checks.end(), wiring.begin(), wiring.end());
  for (const auto& c : checks) {
    failed += c.outcome == CheckOutcome::fail;
    passed += c.outcome == CheckOutcome::pass;
    skipped += c.outcome == CheckOutcome::skip;
  }
  std::printf("doctor: %d checks passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? static_cast<int>(ExitCode::check_failed) : 0;
}

}  // namespace

void add_doctor_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<DoctorOptions>();
  auto* cmd = app.add_subcommand("doctor", "Check a rig's wiring end to end: what is wrong and what to try");
  cmd->add_option("rig", o->rig, "Rig file (default: as --rig)");
  add_board_options(*cmd, o->board);
  cmd->footer("Exit codes: 0 every check passed or skipped, 1 a check failed, 2 bad rig file or usage.");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_doctor(*o, g); }; });
}

}  // namespace bootrig
