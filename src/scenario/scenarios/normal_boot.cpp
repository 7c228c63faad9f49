// normal-boot: after a RESET pulse boot.py runs, then main.py, then the REPL answers, and the heartbeat shows.
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

class NormalBoot : public BootCheck {
 public:
  NormalBoot()
      : BootCheck({"normal-boot",
                   "after a RESET pulse boot.py runs, then main.py, then the REPL answers; the heartbeat shows",
                   {"reach the REPL; replace boot.py and main.py with evidence scripts",
                    "pulse RESET and wait for the prompt",
                    "read the version, reset cause and /flash from the board",
                    "watch the LED for the heartbeat",
                    "restore the board's scripts and reset it"},
                   {"the ROM reports a power-on reset (rst:0x1 POWERON_RESET)",
                    "boot.py runs, then main.py (each appends to an evidence log read back through the checked "
                    "channel; their marker lines on the UART are for people)",
                    "machine.reset_cause() is PWRON_RESET (0)",
                    "the heartbeat LED pattern (80 ms on / 3920 ms off) is seen (rigs with a photodiode)"},
                   {"a REPL reachable on the serial port"},
                   "about 10 s (most of it waiting for the heartbeat)"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    BootRecord r = boot.hard_reset();
    require_normal_boot_prompt(s, r, "a RESET pulse");
    measure_boot(s, r, "boot", true);
    require_rom_cause(s, r, 1, "POWERON_RESET");
    BoardFacts f = board.facts();
    require_scripts_ran(s, f, "on a normal boot");
    if (f.reset_cause != static_cast<int>(ResetCause::pwron))
      s.fail("expected machine.reset_cause() to be PWRON_RESET (0) after a RESET pulse, saw " +
             std::to_string(f.reset_cause) + " (" + reset_cause_name(f.reset_cause) + ")");
    check_heartbeat(s);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_normal_boot() { return std::make_unique<NormalBoot>(); }

}  // namespace bootrig::scenarios
