// The recovery ladder, rung by rung, each on the timeline and in the attempt's notes.
#include "bootrig/scenario/recovery.hpp"

#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/boot_strategy.hpp"
#include "bootrig/scenario/flash_methods.hpp"

namespace bootrig {

namespace {

std::string recovery_seconds_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", to_ms(d) / 1000.0);
  return buf;
}

bool rom_since(Session& s, std::size_t from) {
  for (const auto& e : s.boot_log().events_since(from))
    if (e.kind == BootEventKind::rom_reset) return true;
  return false;
}

}  // namespace

std::string RecoveryReport::describe() const {
  std::string s = "tried: ";
  for (std::size_t i = 0; i < tried.size(); ++i) s += (i ? "; " : "") + tried[i];
  return s + ". The board is " + state;
}

BoardLost::BoardLost(RecoveryReport r)
    : std::runtime_error(
          (r.cause == LostCause::rig
               ? std::string("the rig cannot reach the board: nothing arrived on the serial port after RESET "
                             "pulses (check the port, the RESET wiring and the board's power). ")
               : std::string("the board's firmware never reaches the REPL, not even in a safe boot (the ROM "
                             "starts; the firmware under test is broken or its UART is off). ")) +
          r.describe()),
      report_(std::move(r)) {}

RecoveryReport recover_board(Session& s, const std::string& why) {
  RecoveryReport r;
  auto step = s.step("recover the board");
  s.note("recovering the board: " + why);
  const TimingProfile& t = s.timing();
  BootStrategy boot(s);
  boot.release_pins();
  const std::uint64_t start_mark = s.serial_mark();
  auto prompt = [&](Duration d) { return bool(s.repl().get_prompt(Deadline::after(d))); };
  auto done = [&](std::string rung, std::string state) {
    r.tried.push_back(std::move(rung));
    r.recovered = true;
    r.state = std::move(state);
    r.any_bytes = true;
    s.forget_board_state();
    s.note("recovered: " + r.describe());
    step.ok();
    return r;
  };

  // A USB adapter re-enumerating after a reset is gone for a moment: the serial driver reopens it, and the
  // Ctrl-C rounds go on meanwhile.
  const Duration gap = s.target().rig().serial.reappear;
  s.waiting("the REPL (Ctrl-C, Ctrl-B), the port back within " + recovery_seconds_text(gap));
  if (prompt(t.prompt_timeout + gap)) return done("Ctrl-C/Ctrl-B: the REPL answered", "at the REPL prompt");
  r.tried.push_back("Ctrl-C/Ctrl-B for " + recovery_seconds_text(t.prompt_timeout + gap) + ": no prompt");

  std::size_t from = s.boot_log().size();
  BootRecord hard = boot.hard_reset();
  r.rom_seen = rom_since(s, from);
  if (hard.prompt || prompt(t.prompt_timeout))
    return done("RESET pulse: the REPL answered after a normal boot", "at the REPL prompt after a RESET pulse");
  r.tried.push_back("RESET pulse: no prompt within " + recovery_seconds_text(t.boot_timeout) +
                    (r.rom_seen ? " (the ROM's reset lines came)" : " (nothing from the ROM)"));

  from = s.boot_log().size();
  BootRecord safe = boot.safe_boot(SafeBootWindow::window1);
  r.rom_seen = r.rom_seen || rom_since(s, from);
  if (safe.prompt || prompt(t.prompt_timeout)) {
    r.via_safe_boot = true;
    return done("safe boot released in window 1: the REPL answered",
                "at the REPL after a safe boot (boot.py and main.py skipped: the board's own scripts may hang "
                "its normal boot)");
  }
  r.tried.push_back("safe boot released in window 1: no prompt" +
                    (safe.diagnosis ? " (the firmware " + safe.diagnosis->describe() + ")" : std::string()));

  FlashMethods methods(s);
  const RigConfig& rig = s.target().rig();
  if (methods.cable_available() && rig.firmware.count("current")) {
    try {
      RigImage img = load_image_file("current", rig.firmware.at("current").path.string(), "[firmware] current");
      methods.cable(img);
      if (prompt(t.prompt_timeout))
        return done("cable flash of " + img.describe() + ": the REPL answered",
                    "at the REPL, running " + img.version + " from a fresh cable flash");
      r.tried.push_back("cable flash of " + img.describe() + ": no prompt afterwards");
    } catch (const RigError& e) {
      r.tried.push_back(std::string("cable flash of current: ") + e.what());
    }
  } else {
    r.tried.push_back(methods.cable_available() ? "no cable flash: the rig names no [firmware] current"
                                                : "no cable flash: the rig has no P2 (bootloader) line");
  }
  boot.release_pins();
  r.any_bytes = s.serial_mark() > start_mark;
  r.rom_seen = r.rom_seen || rom_since(s, 0);
  r.cause = r.rom_seen ? LostCause::board_boot : LostCause::rig;
  r.state = r.rom_seen ? "not reachable: it resets (the ROM's lines come) but never offers a REPL; P12, RESET "
                         "and P2 are released"
                       : std::string("silent: nothing ") + (r.any_bytes ? "readable" : "at all") +
                             " arrived from it; P12, RESET and P2 are released";
  s.note("could not recover the board: " + r.describe());
  return r;
}

}  // namespace bootrig
