// The reset scenarios: soft reset by Ctrl-D and by sys.exit(), hard reset by the RESET pin and by
// machine.reset(). Each plants a name in the interpreter and sets the RTC (a peripheral) before the reset.
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

// What firmware 1.20 really does, named in failures so a person knows it is a known difference.
const char* kSysExitFirmwareNote =
    "This is firmware 1.20's known behaviour: sys.exit() raises SystemExit instead of soft-resetting (at the "
    "REPL it simply returns; in main.py it is treated as an error and the REPL starts), while the user "
    "document says sys.exit() is a soft reset (pycom-boot-behaviour.md, Resets)";

// After a soft reset: the message, the scripts again, the name gone, SOFT_RESET, the RTC kept.
void judge_soft_reset(Session& s, Board& board, const BootRecord& /*r*/, const std::string& how) {
  BoardFacts f = board.facts();
  require_scripts_ran(s, f, "after " + how);
  if (board.name_survived())
    s.fail("expected " + how + " to clear the interpreter, but the name '" + std::string(Board::kPlantedName) +
           "' defined before it still exists");
  if (f.reset_cause != static_cast<int>(ResetCause::soft))
    s.fail("expected machine.reset_cause() to be SOFT_RESET (4) after " + how + ", saw " +
           std::to_string(f.reset_cause) + " (" + reset_cause_name(f.reset_cause) + ")");
  int year = board.rtc_year();
  s.measure({"rtc.year_after_reset", static_cast<double>(year), "year", static_cast<double>(Board::kPlantedYear),
             static_cast<double>(Board::kPlantedYear)});
  if (year != Board::kPlantedYear)
    s.fail("expected " + how + " to leave the peripherals alone, but the RTC set to " +
           std::to_string(Board::kPlantedYear) + " now says " + std::to_string(year));
}

// After a hard reset: ROM lines, the scripts, the name gone, the RTC back at its power-on value.
void judge_hard_reset(Session& s, Board& board, const BootRecord& r, const std::string& how, int rom_cause,
                      const char* rom_name, ResetCause cause) {
  require_rom_cause(s, r, rom_cause, rom_name);
  BoardFacts f = board.facts();
  require_scripts_ran(s, f, "after " + how);
  if (board.name_survived())
    s.fail("expected " + how + " to clear the interpreter, but the name defined before still exists");
  int year = board.rtc_year();
  if (year == Board::kPlantedYear)
    s.fail("expected " + how + " to reset the peripherals like a power cycle, but the RTC kept the year " +
           std::to_string(year) + " set before it");
  if (f.reset_cause != static_cast<int>(cause))
    s.fail("expected machine.reset_cause() to be " + std::string(reset_cause_name(static_cast<int>(cause))) + " (" +
           std::to_string(static_cast<int>(cause)) + ") after " + how + ", saw " + std::to_string(f.reset_cause) +
           " (" + reset_cause_name(f.reset_cause) + ")");
}

class SoftResetCtrlD : public BootCheck {
 public:
  SoftResetCtrlD()
      : BootCheck({"soft-reset-ctrl-d",
                   "Ctrl-D: soft reboot, names cleared, scripts run again, SOFT_RESET, peripherals kept",
                   {"reach the REPL; install evidence scripts", "define a name and set the RTC",
                    "press Ctrl-D at an empty prompt and wait for the prompt",
                    "look up the name; read the reset cause, /flash and the RTC",
                    "restore the board's scripts and reset it"},
                   {"'PYB: soft reboot' (or 'MPY: soft reboot') is printed", "boot.py and main.py run again",
                    "the name is gone (NameError)", "machine.reset_cause() is SOFT_RESET (4)",
                    "the RTC keeps its time (peripherals unaffected)"},
                   {"a REPL reachable on the serial port"},
                   "about 3 s"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    board.plant_state();
    BootRecord r = boot.soft_reset();
    if (!r.soft_reboot) s.fail("expected 'soft reboot' after Ctrl-D: " + r.failure);
    require_prompt(s, r, "Ctrl-D");
    measure_boot(s, r, "soft_reset");
    judge_soft_reset(s, board, r, "Ctrl-D");
  }
};

class SoftResetSysExit : public BootCheck {
 public:
  SoftResetSysExit()
      : BootCheck({"soft-reset-sys-exit",
                   "sys.exit() from a script and from the REPL is a soft reset, as the user document says",
                   {"reach the REPL; install evidence scripts whose main.py calls sys.exit() once (a flag file)",
                    "pulse RESET: main.py runs and calls sys.exit()",
                    "expect a soft reboot and the scripts again, then the prompt",
                    "define a name and set the RTC; type sys.exit() at the REPL",
                    "expect a soft reboot: the name gone, SOFT_RESET, the RTC kept",
                    "restore the board's scripts and reset it"},
                   {"sys.exit() in main.py soft-resets: 'soft reboot', then boot.py and main.py again",
                    "sys.exit() at the REPL soft-resets: the name is gone, SOFT_RESET, the RTC kept"},
                   {"a REPL reachable on the serial port"},
                   "about 5 s"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    const std::string exit_marker = "BOOTRIG:main.py calls sys.exit()";  // for people reading serial.txt
    board.install_evidence(
        "import os, sys\n"
        "if '" + std::string(kExitOnceFile) + "' in os.listdir('/flash'):\n"
        "    os.remove('/flash/" + kExitOnceFile + "')\n"
        "    print('" + exit_marker + "')\n"
        "    sys.exit()\n");
    board.write_file(std::string("/flash/") + kExitOnceFile, "1");

    // From a script: the exit must soft-reset, so the scripts run a second time: the evidence log then
    // shows two boots ("BMBM"), and the flag file is gone (main.py reached its sys.exit()).
    BootRecord r = boot.hard_reset();
    require_prompt(s, r, "a RESET pulse with main.py calling sys.exit()");
    BoardFacts f = board.facts();
    if (f.has(kExitOnceFile))
      s.fail("main.py never reached its sys.exit(): its flag file " + std::string(kExitOnceFile) +
             " is still on the board (evidence log \"" + f.evidence + "\")");
    ScriptsSeen seen = scripts_seen(f.evidence);
    if (seen.boots < 2 || f.evidence.size() < 4)
      s.fail("expected sys.exit() in main.py to soft-reset (boot.py and main.py again), but the evidence log on "
             "the board shows " + std::to_string(seen.boots) + " run(s) of boot.py (\"" + f.evidence + "\"). " +
             kSysExitFirmwareNote);

    // From the REPL.
    board.clear_evidence();
    board.plant_state();
    BootRecord rr = boot.by_command("import sys; sys.exit()");
    require_prompt(s, rr, "sys.exit() at the REPL");
    BoardFacts after = board.facts();
    if (after.evidence.empty() && board.name_survived())
      s.fail("expected sys.exit() at the REPL to soft-reset, but nothing was reset: the scripts did not run "
             "again and the name defined before is still there. " + std::string(kSysExitFirmwareNote));
    judge_soft_reset(s, board, rr, "sys.exit() at the REPL");
  }
};

class HardResetPin : public BootCheck {
 public:
  HardResetPin()
      : BootCheck({"hard-reset-pin",
                   "RESET pulse: full boot with ROM lines, interpreter and peripheral state gone",
                   {"reach the REPL; install evidence scripts", "define a name and set the RTC",
                    "pulse RESET and wait for the prompt", "look up the name; read the RTC, reset cause and /flash",
                    "restore the board's scripts and reset it"},
                   {"the ROM prints rst:0x1 (POWERON_RESET)", "boot.py and main.py run",
                    "the name is gone and the RTC is back at its power-on value",
                    "machine.reset_cause() is PWRON_RESET (0), as the firmware reports a RESET pin"},
                   {"a REPL reachable on the serial port", "RESET wired"},
                   "about 3 s"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    board.plant_state();
    BootRecord r = boot.hard_reset();
    require_normal_boot_prompt(s, r, "a RESET pulse");
    measure_boot(s, r, "boot", true);
    judge_hard_reset(s, board, r, "a RESET pulse", 1, "POWERON_RESET", ResetCause::pwron);
  }
};

class HardResetMachine : public BootCheck {
 public:
  HardResetMachine()
      : BootCheck({"hard-reset-machine",
                   "machine.reset(): full boot like a power cycle, with the watchdog reset cause",
                   {"reach the REPL; install evidence scripts", "define a name and set the RTC",
                    "type machine.reset() and wait for the prompt",
                    "look up the name; read the RTC, reset cause and /flash",
                    "restore the board's scripts and reset it"},
                   {"the ROM prints rst:0x7 (TG0WDT_SYS_RESET)", "boot.py and main.py run",
                    "the name is gone and the RTC is back at its power-on value",
                    "machine.reset_cause() is WDT_RESET (2): firmware 1.20 resets through the watchdog "
                    "(not HARD_RESET, 1)"},
                   {"a REPL reachable on the serial port"},
                   "about 3 s"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    board.plant_state();
    BootRecord r = boot.by_command("import machine; machine.reset()");
    require_prompt(s, r, "machine.reset()");
    measure_boot(s, r, "boot", true);
    judge_hard_reset(s, board, r, "machine.reset()", 7, "TG0WDT_SYS_RESET", ResetCause::wdt);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_soft_reset_ctrl_d() { return std::make_unique<SoftResetCtrlD>(); }
std::unique_ptr<Scenario> make_soft_reset_sys_exit() { return std::make_unique<SoftResetSysExit>(); }
std::unique_ptr<Scenario> make_hard_reset_pin() { return std::make_unique<HardResetPin>(); }
std::unique_ptr<Scenario> make_hard_reset_machine() { return std::make_unique<HardResetMachine>(); }

}  // namespace bootrig::scenarios
