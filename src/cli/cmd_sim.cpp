// `bootrig sim [RIG]`: runs the simulated module standalone, its UART on a pty (with a stable link) for
// picocom or another bootrig, and its pins under commands from stdin and an owner-only Unix socket.
#include <poll.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/sim/sim_control.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct SimOptions {
  std::string rig;
  std::string dir;
  std::string wires;  // "internal" or "gpio-sim": overrides [sim.wires] kind
  std::string uart;   // overrides [sim.wires] uart
};

std::mutex g_out_m;

void say(const std::string& line) {
  std::lock_guard lk(g_out_m);
  std::cout << line << "\n" << std::flush;
}

int run_sim(const SimOptions& o, const GlobalOptions& g) {
  GlobalOptions eff = g;
  if (!o.rig.empty()) eff.rig = o.rig;
  RigConfig rig = load_rig(eff);
  if (rig.kind != RigKind::sim)
    throw RigError("rig " + rig.source.string() +
                   " describes hardware; `bootrig sim` needs a rig with kind = \"sim\"");
  if (!rig.sim.remote.empty())
    throw RigError("rig " + rig.source.string() +
                   " uses a remote simulator (sim.remote); run `bootrig sim` with a rig "
                   "that simulates the module itself");

  if (o.wires == "gpio-sim") rig.sim.wires.kind = SimWiresKind::gpio_sim;
  if (o.wires == "internal") rig.sim.wires.kind = SimWiresKind::internal;
  if (!o.uart.empty()) rig.sim.wires.uart = o.uart;
  if (rig.sim.wires.kind == SimWiresKind::gpio_sim && rig.sim.wires.uart.empty())
    throw RigError(
        "`bootrig sim --wires gpio-sim` needs the module's UART: --uart /dev/ttyS1 or [sim.wires] uart in " +
        rig.source.string());

  std::filesystem::path dir =
      ensure_private_dir(o.dir.empty() ? default_sim_dir() : std::filesystem::path(o.dir));
  SimModule module(rig.sim, rig.serial.settings.baud);
  module.set_uart_link(dir / "tty");
  module.start();
  SimControlServer server(module, dir / "control.sock");

  const SimConfig& s = rig.sim;
  say("bootrig sim: simulated " + s.board + " (profile " + s.profile + "), factory " + s.factory_version +
      ", ota_0 " + (s.ota0_version.empty() ? std::string("(empty)") : s.ota0_version) + ", active " +
      s.active_slot);
  say("UART:     " + module.uart_device() + " at " + std::to_string(rig.serial.settings.baud) + " baud 8N1");
  if (s.wires.kind == SimWiresKind::gpio_sim)
    say("wires:    gpio-sim lines: P12 " + s.wires.safeboot + ", RESET " + s.wires.reset + ", P2 " +
        s.wires.bootloader + ", photodiode " + s.wires.led + " (drive them with a hardware rig file)");
  else
    say("link:     " + module.uart_path() + "   (e.g. picocom -b " +
        std::to_string(rig.serial.settings.baud) + " " + module.uart_path() + ")");
  say("control:  " + server.path().string() + "   (rig files: [sim] remote = \"" + server.path().string() +
      "\")");
  say(sim_command_summary());

  int watch_id = 0;
  std::string in;
  bool done = false;
  while (!done) {
    pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
    int r = ::poll(p, 2, -1);
    if (r < 0 && errno != EINTR) break;
    if (interrupt::requested()) break;
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[512];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF on stdin ends the simulator, as documented
    in.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while (!done && (nl = in.find('\n')) != std::string::npos) {
      std::string line = in.substr(0, nl);
      in.erase(0, nl + 1);
      SimCommandReply reply = run_sim_command(module, line);
      if (!reply.text.empty()) say(reply.text);
      if (reply.watch && !watch_id) {
        auto lit = std::make_shared<bool>(module.led() != 0);
        watch_id = module.watch_led([lit](LedColour c, TimePoint t) {
          std::string e = sim_led_event_line(c, *lit, t);
          *lit = c != 0;
          say(e);
        });
      }
      done = reply.quit;
    }
  }
  if (watch_id) module.unwatch_led(watch_id);
  module.stop();
  say("bootrig sim: stopped");
  return static_cast<int>(ExitCode::ok);
}

}  // namespace

void add_sim_command(CLI::App& app, GlobalOptions& g) {
  auto opts = std::make_shared<SimOptions>();
  CLI::App* sub = app.add_subcommand(
      "sim",
      "Run the simulated module on its own: its UART on a pty for picocom (or another bootrig), its pins "
      "under commands from stdin and a control socket");
  sub->add_option("rig", opts->rig,
                  "Rig file with kind = \"sim\" (default: the usual rig search, else built-in)");
  sub->add_option(
      "--dir", opts->dir,
      "Folder for the UART link (tty) and control socket (default $XDG_RUNTIME_DIR/bootrig-sim or "
      "/tmp/bootrig-sim-UID; created owner-only)");
  sub->add_option(
         "--wires", opts->wires,
         "How the module is attached: internal (a pty, pins by command) or gpio-sim (pins on gpio-sim "
         "lines named in [sim.wires], UART on a real tty; default: the rig file's [sim.wires] kind)")
      ->check(CLI::IsMember({"internal", "gpio-sim"}));
  sub->add_option("--uart", opts->uart,
                  "With --wires gpio-sim: the tty that is the module's UART0 (e.g. /dev/ttyS1)");
  sub->footer("One command per line on stdin or the control socket; " + sim_command_summary() +
              ". End of input on stdin, quit, Ctrl-C or SIGTERM stop the simulator. See docs/simulator.md.");
  sub->callback([opts, &g] { g.run = [opts, &g] { return run_sim(*opts, g); }; });
}

}  // namespace bootrig
