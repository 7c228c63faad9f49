// Opens the board for the bench commands: a rig's Target, or a bare serial port given with --port.
#include "cli/board_access.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "bootrig/core/errors.hpp"
#include "cli/commands.hpp"

namespace bootrig {

void add_board_options(CLI::App& cmd, BoardOptions& o) {
  cmd.add_option(
      "--port", o.port,
      "A board on this serial port alone (no rig file, no lines): /dev/ttyUSB0, a by-id link, a pty");
  cmd.add_option("--baud", o.baud, "Baud rate of the board's REPL (default: the rig's, 115200 with --port)")
      ->check(CLI::Range(300u, 4000000u));
}

std::unique_ptr<Target> open_board(const GlobalOptions& g, const BoardOptions& o) {
  if (!o.port.empty()) {
    if (g.rig) throw RigError("--port and --rig name two boards; give one of them");
    spdlog::debug("board on port {} (no rig file)", o.port);
    return Target::open_port(o.port, o.baud ? o.baud : 115200);
  }
  RigConfig rig = load_rig(g);
  if (o.baud) rig.serial.settings.baud = o.baud;
  return Target::open(rig);
}

Duration repl_allowance(const Target& t) {
  const TimingProfile& timing = t.rig().timing;
  // A board bootrig can reset (and a simulated one this command just started) may be booting; one on a bare
  // port was not reset by us and answers within the prompt allowance or not at all.
  if (!t.has_line(LineRole::reset)) return timing.prompt_timeout * 2;
  return timing.boot_timeout + timing.prompt_timeout;
}

void require_prompt(Target& t, ReplClient& repl) {
  auto p = repl.get_prompt(Deadline::after(repl_allowance(t)));
  if (!p)
    throw RigError(t.serial().describe() + ": no MicroPython REPL answered (" + p.error().describe() +
                   "); check the port and baud rate, or whether a program took the REPL off the UART "
                   "(`bootrig doctor` checks the wiring)");
}

}  // namespace bootrig
