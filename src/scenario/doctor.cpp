// The wiring checks of `bootrig doctor`: each wire proven by what the board does through it (ROM output after
// a RESET pulse, the slow blink with P12 held, the ROM loader with P2 held, the heartbeat on the photodiode),
// and each failure told apart from its neighbours' so that one broken wire fails one check.
#include "bootrig/scenario/doctor.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "bootrig/scenario/boot_strategy.hpp"
#include "bootrig/scenario/progress.hpp"
#include "bootrig/scenario/session.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

namespace fs = std::filesystem;

const char* to_string(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::pass:
      return "PASS";
    case CheckOutcome::fail:
      return "FAIL";
    case CheckOutcome::skip:
      return "SKIP";
  }
  return "?";
}

namespace {

DoctorCheck pass(std::string name, std::string detail) {
  return {std::move(name), CheckOutcome::pass, std::move(detail), ""};
}
DoctorCheck fail(std::string name, std::string detail, std::string hint) {
  return {std::move(name), CheckOutcome::fail, std::move(detail), std::move(hint)};
}
DoctorCheck skip(std::string name, std::string why) {
  return {std::move(name), CheckOutcome::skip, "", std::move(why)};
}

std::string ms_text(Duration d) { return std::to_string(static_cast<long long>(to_ms(d) + 0.5)) + " ms"; }

std::string seconds_text(Duration d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", to_ms(d) / 1000.0);
  return b;
}

// Reads the board's output until one of `stops` appears or the deadline passes; everything read is returned.
std::string read_until(Session& s, std::initializer_list<std::string_view> stops, Deadline d) {
  std::string got;
  for (;;) {
    for (auto stop : stops)
      if (got.find(stop) != std::string::npos) return got;
    auto c = s.serial().read(d);
    if (!c) return got;
    got += c->bytes;
  }
}

// The ROM's reset line, as it prints it: "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)".
std::string rom_line(const std::string& text) {
  auto at = text.find("rst:");
  if (at == std::string::npos) return "";
  auto end = text.find_first_of("\r\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// A name in the interpreter that any reset clears.
bool plant(Session& s) {
  auto a = s.channel().run("_bdoctor = 1", milliseconds(0), Deadline::after(s.timing().prompt_timeout * 3));
  return a && !a->raised();
}
// true: still there (no reset happened); false: gone or the board did not answer.
bool planted_alive(Session& s) {
  if (!s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout))) return false;
  auto a =
      s.channel().run("_r = str(_bdoctor)", milliseconds(0), Deadline::after(s.timing().prompt_timeout * 3));
  return a && !a->raised();
}

// A RESET pulse with the board's output read from the moment RESET is asserted.
struct Pulse {
  TimePoint released{};
  std::string output;     // all that came from assertion to the prompt (or the deadline)
  bool rom = false;       // the ROM's reset line came
  bool download = false;  // the ROM waits for a download (P2 was low at reset)
  bool prompt = false;    // the boot reached a >>> prompt
  Duration rom_after{}, prompt_after{};
};

Pulse reset_pulse(Session& s) {
  const TimingProfile& t = s.timing();
  Pulse p;
  s.serial().discard_input();
  s.reset().set(Level::active);
  TimePoint asserted = s.reset().last_change()->effective;
  s.reset().set_at(Level::inactive, asserted + t.reset_pulse);
  p.released = s.reset().last_change()->effective;
  s.forget_board_state();
  // The ROM prints within its own boot time; a generous second on top covers a slow USB adapter.
  p.output = read_until(s, {"rst:"}, Deadline::after(t.rom_boot + seconds(1)));
  p.rom = p.output.find("rst:") != std::string::npos;
  if (!p.rom) return p;
  p.rom_after = now() - p.released;
  p.output += read_until(s, {">>> ", "waiting for download"}, Deadline::after(t.boot_timeout));
  p.download = p.output.find("waiting for download") != std::string::npos;
  p.prompt = p.output.find(">>> ") != std::string::npos;
  if (p.prompt) p.prompt_after = now() - p.released;
  return p;
}

// The safe-boot patterns the photodiode showed since `from`: a plain reset must show none.
std::optional<LedMeasurement> safe_boot_blink_since(Session& s, TimePoint from) {
  if (!s.led()) return std::nullopt;
  for (const auto& m : s.led()->history()) {
    if (m.start < from) continue;
    if (m.pattern == LedPattern::safeboot_window1 || m.pattern == LedPattern::safeboot_window2 ||
        m.pattern == LedPattern::safeboot_final)
      return m;
  }
  return std::nullopt;
}

std::string on_off(const LedMeasurement& m) {
  return "on " + ms_text(m.on_mean) + " / off " + ms_text(m.off_mean) + " over " + std::to_string(m.periods) +
         " periods";
}

}  // namespace

std::vector<std::string> processes_holding(const std::string& device, int own_pid) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path real = fs::canonical(device, ec);
  if (ec) return out;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(own_pid)) continue;
    std::error_code e2;
    bool holds = false, serves_pty = false;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fd", e2)) {
      std::error_code e3;
      fs::path target = fs::read_symlink(fd.path(), e3);
      holds = holds || target == real;
      serves_pty = serves_pty || target == "/dev/ptmx" || target == "/dev/pts/ptmx";
    }
    // A pseudo-terminal's server (the simulator, socat) holds its slave open too: it is the device, not a
    // competitor for it.
    if (holds && !(serves_pty && real.string().rfind("/dev/pts/", 0) == 0)) {
      std::string comm;
      std::ifstream(proc.path() / "comm") >> comm;
      out.push_back((comm.empty() ? "?" : comm) + " (pid " + pid + ")");
    }
  }
  return out;
}

DoctorCheck check_port(const std::string& path, int own_pid) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return fail("port", path + " does not exist",
                "plug the board's USB cable in, or name the port it has now (`bootrig ports` lists them; a "
                "/dev/serial/by-id/ link survives re-plugging)");
  auto holders = processes_holding(path, own_pid);
  if (!holders.empty()) {
    std::string who;
    for (const auto& h : holders) who += (who.empty() ? "" : ", ") + h;
    return fail(
        "port", path + " is open in " + who,
        "close that program (a terminal such as picocom, screen or mpremote, or ModemManager) and try "
        "again: two programs on one UART garble each other");
  }
  return pass("port", path + " exists and no other process has it open");
}

DoctorCheck check_lines(const RigConfig& rig) {
  if (rig.kind == RigKind::sim)
    return pass("lines", "the simulated module's wires (P12, RESET, P2, photodiode)");
  if (rig.lines.empty())
    return skip("lines",
                "this rig wires no GPIO lines ([serial] only): RESET, P12, P2 and the photodiode are not "
                "checked, and scenarios that need them skip");
  std::vector<ChipInfo> chips;
  try {
    chips = make_gpiod_backend()->chips();
  } catch (const RigError& e) {
    return fail("lines", e.what(),
                "add your user to the gpio group, or check that the GPIO chips exist (`bootrig lines`)");
  }
  std::string found;
  for (const auto& [role, lc] : rig.lines) {
    ResolvedLine where;
    try {
      where = resolve_line(chips, lc.where);
    } catch (const RigError& e) {
      return fail("lines", std::string(to_string(role)) + ": " + e.what(),
                  "fix the rig file's [lines." + std::string(to_string(role)) +
                      "] (`bootrig lines` lists the names)");
    }
    for (const auto& chip : chips) {
      if (chip.path != where.chip_path || where.offset >= chip.lines.size()) continue;
      const LineInfo& info = chip.lines[where.offset];
      if (info.used)
        return fail(
            "lines",
            std::string(to_string(role)) + " (" + where.describe() + ") is in use by '" +
                (info.consumer.empty() ? "an unnamed consumer" : info.consumer) + "'",
            "stop that program or driver (a device-tree overlay, gpioset, another bootrig), or choose "
            "another line");
    }
    found += (found.empty() ? "" : ", ") + std::string(to_string(role)) + " " + where.describe();
  }
  return pass("lines", "found and free: " + found);
}

std::vector<DoctorCheck> check_wiring(Target& target, const fs::path& dir) {
  std::vector<DoctorCheck> out;
  const TimingProfile& t = target.rig().timing;
  const bool lines = target.has_line(LineRole::reset) && target.has_line(LineRole::safeboot);
  auto progress = make_silent_progress();
  Attempt attempt;
  fs::create_directories(dir);

  if (!lines) {
    // A serial-only rig: the REPL and the firmware are all there is to check.
    ReplClient repl(target.serial());
    auto p = repl.get_prompt(Deadline::after(t.prompt_timeout * 2));
    if (!p) {
      out.push_back(fail("REPL",
                         "no answer on " + target.serial().describe() + " (" + p.error().describe() + ")",
                         "check the baud rate, TX/RX, and that no program took the REPL off the UART"));
      return out;
    }
    out.push_back(pass("REPL", "a live >>> prompt"));
    CheckedChannel channel(repl);
    auto a = channel.run("import os\nu = os.uname()\n_r = u[2] + ' on ' + u[4]", milliseconds(0),
                         Deadline::after(t.prompt_timeout * 3));
    if (a && !a->raised())
      out.push_back(pass("firmware", "MicroPython " + a->value));
    else
      out.push_back(
          fail("firmware", "os.uname() gave no answer", "run `bootrig exec 'import os; print(os.uname())'`"));
    for (const char* n : {"RESET", "photodiode", "P12", "P2"})
      out.push_back(skip(n, "not wired in this rig"));
    return out;
  }

  Session s(target, dir, *progress, attempt);
  BootStrategy boot(s);

  // The REPL as the board is now; a board held in reset or in the ROM loader answers only after the
  // RESET check, which then says why.
  auto before = s.repl().get_prompt(Deadline::after(t.prompt_timeout));
  const bool alive_before = before.ok();
  const bool planted = alive_before && plant(s);

  // RESET: a pulse must bring the ROM's reset line.
  Pulse p = reset_pulse(s);
  bool board_runs = p.prompt;
  // P12 and P2 are proven through resets: with RESET not reaching the module they cannot be judged.
  const bool reset_reaches = p.rom;
  const std::string reset_needed = "proven through a RESET, which does not reach the module (see RESET)";
  std::string blocked;  // why the board cannot run scripts, for the checks that need it
  if (p.rom) {
    if (!alive_before && !p.prompt && !p.download) {
      out.push_back(
          fail("RESET",
               "the ROM printed \"" + rom_line(p.output) +
                   "\" only while bootrig asserted RESET, and the board was silent before",
               "RESET's polarity is inverted: the module runs only while the line is \"active\"; swap "
               "lines.reset.active (EN is held low to reset)"));
      blocked = "the module is held in reset (see RESET)";
    } else {
      out.push_back(pass("RESET", "\"" + rom_line(p.output) + "\" " + ms_text(p.rom_after) +
                                      " after RESET was released" +
                                      (p.prompt ? ", prompt after " + seconds_text(p.prompt_after) : "")));
    }
  } else if (planted && planted_alive(s)) {
    out.push_back(
        fail("RESET",
             "a " + ms_text(t.reset_pulse) +
                 " pulse did not reset the board (no ROM output, the "
                 "interpreter kept its state)",
             "RESET/EN is not connected: check the wire to EN (RST on the expansion board), the GPIO "
             "named in [lines.reset], and drive = \"open-drain\""));
    board_runs = true;
  } else {
    out.push_back(
        fail("RESET", "no ROM output after a RESET pulse, and the REPL is silent",
             "the module is held in reset: RESET stuck low (a short, a pull-down, the line driven all "
             "the time) or its polarity inverted; measure EN: it must be high between pulses"));
    blocked = "the module is held in reset (see RESET)";
  }

  // P2 low at a plain reset keeps the module in the ROM loader: that is P2's fault, not the board's.
  bool p2_failed_at_rest = false;
  if (p.download) {
    p2_failed_at_rest = true;
    blocked = "the ROM waits for a download at every reset (see P2)";
    board_runs = false;
  }

  if (!blocked.empty()) {
    out.push_back(skip("REPL", blocked));
    out.push_back(skip("firmware", blocked));
  } else if (!board_runs) {
    out.push_back(
        fail("REPL", "the board reset but no >>> prompt came within " + seconds_text(t.boot_timeout),
             "boot.py or main.py may hang or take the REPL off the UART: `bootrig console` and Ctrl-T "
             "then 1 (safe boot) skips them; check the baud rate"));
    out.push_back(skip("firmware", "no REPL"));
  } else {
    s.forget_board_state();
    auto live = s.repl().get_prompt(Deadline::after(t.prompt_timeout));
    if (!live) {
      out.push_back(fail(
          "REPL", "the boot printed a prompt but the REPL did not answer (" + live.error().describe() + ")",
          "the line garbles: check the baud rate, the cable and the adapter's ground"));
      board_runs = false;
    } else {
      out.push_back(pass("REPL", "a live >>> prompt at " + std::to_string(s.serial().baud()) + " baud"));
      auto a = s.channel().run("import os\nu = os.uname()\n_r = u[2] + ' on ' + u[4]", milliseconds(0),
                               Deadline::after(t.prompt_timeout * 3));
      if (a && !a->raised())
        out.push_back(pass("firmware", "MicroPython " + a->value));
      else
        out.push_back(fail("firmware", "os.uname() gave no answer",
                           "the REPL answers but code does not run: try `bootrig exec`"));
    }
  }

  // The photodiode: the heartbeat of the running firmware, sampled as levels too, so that a wire that never
  // changes or reads the wrong way round is told apart.
  bool photodiode_ok = false;
  if (!target.led()) {
    out.push_back(skip("photodiode",
                       "no photodiode in this rig ([lines.led]); safe-boot windows are released at "
                       "their nominal times"));
  } else if (!board_runs) {
    out.push_back(
        skip("photodiode", blocked.empty() ? "the board does not run (no heartbeat to see)" : blocked));
  } else {
    const Duration period = t.heartbeat_on + t.heartbeat_off;
    Deadline until = Deadline::after(period + period / 4);
    int lit = 0, samples = 0;
    while (!until.expired()) {
      lit += target.led()->get() == Level::active ? 1 : 0;
      ++samples;
      wait_until(Deadline::after(milliseconds(10)).min(until));
    }
    auto seen = s.led()->wait_for_pattern(LedPattern::heartbeat, Deadline::after(milliseconds(1)));
    const double lit_share = samples ? static_cast<double>(lit) / samples : 0;
    if (seen) {
      photodiode_ok = true;
      out.push_back(pass("photodiode", "heartbeat: " + on_off(seen->current)));
    } else if (lit == 0) {
      out.push_back(
          fail("photodiode",
               "never saw the LED lit in " + seconds_text(period + period / 4) +
                   " (the heartbeat lights it every " + seconds_text(period) + ")",
               "the photodiode's output is not connected to the GPIO in [lines.led], or the comparator's "
               "threshold is too high (turn the trimmer until its LED follows the module's)"));
    } else if (lit == samples) {
      out.push_back(
          fail("photodiode", "reads lit all the time, no edge in " + seconds_text(period + period / 4),
               "the input is stuck at its active level: a short, a missing pull-up, or the comparator's "
               "threshold too low (ambient light)"));
    } else if (lit_share > 0.5) {
      char b[32];
      std::snprintf(b, sizeof b, "%.0f %%", lit_share * 100);
      out.push_back(
          fail("photodiode",
               std::string("reads lit ") + b + " of the time; the heartbeat lights the LED " +
                   ms_text(t.heartbeat_on) + " in " + seconds_text(period),
               "the polarity is inverted: swap lines.led.active (\"low\" for a comparator that pulls "
               "down while lit)"));
    } else {
      out.push_back(
          fail("photodiode", "saw the LED change, but not as the heartbeat (" + seen.error().describe() + ")",
               "adjust the comparator's threshold or shade the photodiode from ambient light; [timing] "
               "heartbeat_on_ms/heartbeat_off_ms must match the firmware"));
    }
  }

  // P12: a plain reset must not safe-boot, a held one must show window 1's slow blink. Which of the two fails
  // tells a stuck line (always high) from an inverted one (high exactly when released).
  const auto plain_blink = safe_boot_blink_since(s, p.released);
  // First the board's own reading of P12, held and released: it needs no photodiode and names the fault.
  std::optional<WiringFault> p12_read;
  if (board_runs && s.repl().get_prompt(Deadline::after(t.prompt_timeout)))
    p12_read = boot.p12_wiring_fault();
  if (!board_runs) {
    out.push_back(skip("P12", blocked.empty() ? "the board does not run" : blocked));
  } else if (p12_read) {
    out.push_back(fail("P12", p12_read->what, p12_read->hint));
  } else if (!reset_reaches) {
    out.push_back(skip("P12", reset_needed));
  } else if (!photodiode_ok) {
    out.push_back(
        skip("P12", "the slow blink that proves P12 is seen through the photodiode (see photodiode)"));
  } else {
    BootRecord r = boot.safe_boot(SafeBootWindow::window1);
    const bool held_blinks = r.window_observed && r.window_seen;
    if (plain_blink && held_blinks) {
      out.push_back(
          fail("P12",
               "every RESET safe-boots, P12 held or not (the LED showed " +
                   std::string(to_string(plain_blink->pattern)) + " after a plain RESET)",
               "P12 is stuck high: a short to 3V3, or the line driven high by something else; measure "
               "P12 (G28) while bootrig releases it"));
    } else if (plain_blink) {
      out.push_back(fail("P12", "a plain RESET (P12 released) safe-booted and a held one did not",
                         "P12's polarity is inverted: swap lines.safeboot.active (P12 asserts high; an "
                         "inverting transistor in between needs \"low\")"));
    } else if (held_blinks) {
      out.push_back(pass("P12", "held through a reset: slow blink " + on_off(*r.window_seen) + " (nominal " +
                                    ms_text(t.window1_toggle) + " / " + ms_text(t.window1_toggle) + ")"));
    } else {
      out.push_back(
          fail("P12", "held through a reset, but no slow blink (" + r.window_failure + ")",
               "P12 does not reach the module: check the wire to P12 (G28 on the expansion board) and "
               "the GPIO in [lines.safeboot]"));
    }
    if (!r.prompt) (void)s.repl().get_prompt(Deadline::after(t.boot_timeout));
  }

  // P2: held through a reset the ROM must wait for a download, released it must not.
  if (!target.bootloader()) {
    out.push_back(skip("P2", "no P2 line in this rig ([lines.bootloader]): cable flashing needs it"));
  } else if (!blocked.empty() && !p2_failed_at_rest) {
    out.push_back(skip("P2", blocked));
  } else if (!reset_reaches) {
    out.push_back(skip("P2", reset_needed));
  } else {
    s.bootloader()->set(Level::active);
    Pulse held = reset_pulse(s);
    s.bootloader()->set(Level::inactive);
    if (p2_failed_at_rest && held.download) {
      out.push_back(
          fail("P2", "the ROM loader starts at every RESET (\"waiting for download\"), P2 held or not",
               "P2 is stuck low: a short to GND or something else driving G23; measure it while bootrig "
               "releases it"));
    } else if (p2_failed_at_rest) {
      out.push_back(
          fail("P2", "a plain RESET (P2 released) started the ROM loader and a held one booted the firmware",
               "P2's polarity is inverted: swap lines.bootloader.active (P2 is held low for download "
               "mode)"));
    } else if (held.download) {
      out.push_back(pass("P2", "held through a reset: \"waiting for download\" " + ms_text(held.rom_after) +
                                   " after the release"));
    } else {
      out.push_back(fail(
          "P2",
          held.rom ? "held through a reset, but the firmware booted" : "held through a reset, no ROM output",
          "P2 does not reach the module: check the wire to P2 (G23 on the expansion board) and the "
          "GPIO in [lines.bootloader]"));
    }
    // Out of the ROM loader: one more reset with P2 released.
    if (held.download && !p2_failed_at_rest) reset_pulse(s);
  }

  // The clock.
  if (!target.led()) {
    out.push_back(skip("clock", "no photodiode: no GPIO edges to stamp"));
  } else if (target.simulated()) {
    out.push_back(
        pass("clock", "simulated module: LED edges carry the firmware's schedule on CLOCK_MONOTONIC"));
  } else {
    out.push_back(
        pass("clock",
             "GPIO edges are stamped by the kernel on CLOCK_MONOTONIC (converted from "
             "CLOCK_REALTIME on kernels before 5.7), the clock serial bytes and pin changes share"));
  }
  s.safeboot().set(Level::inactive);
  if (s.bootloader()) s.bootloader()->set(Level::inactive);
  return out;
}

}  // namespace bootrig
