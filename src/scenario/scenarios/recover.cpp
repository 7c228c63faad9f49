// recover-stuck-main: a main.py that hangs with Ctrl-C disabled, and one that takes the REPL off the UART,
// make the board unreachable; a safe boot reaches it, the script is removed, and a normal boot is healthy.
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

struct StuckScript {
  const char* label;
  const char* code;  // appended to the evidence main.py: runs with Ctrl-C disabled, after kStuckMarker
};

// Printed once the stuck main.py has disabled Ctrl-C, just before it detaches or loops. bootrig tries for the
// prompt only after this line: a Ctrl-C sent on the main.py marker could land before the script disabled it
// (its boot counter writes to flash in between) and interrupt it, making the board look reachable when the
// script would not have let it be (a false FAIL seen under load).
constexpr const char* kStuckMarker = "BOOTRIG:main.py stuck";

// Every stuck main.py carries a dead man's switch: it counts its boots in kStuckCount and, from the third on,
// removes itself and returns. A board that keeps running it where it must not (scripts in a safe boot) is
// stranded for two boots at most: the recovery ladder's RESET then reaches a prompt and a known state.
constexpr const char* kStuckCount = "/flash/bootrig_stuck_boots.txt";
std::string stuck_main(const char* loop) {
  std::string body;
  for (std::string_view rest = loop; !rest.empty();) {
    auto eol = rest.find('\n');
    body += "    " + std::string(rest.substr(0, eol)) + "\n";
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
  }
  return std::string("import os\nimport micropython\ntry:\n    _bn = int(open('") + kStuckCount +
         "').read())\nexcept Exception:\n    _bn = 0\nwith open('" + kStuckCount +
         "', 'w') as _bf:\n    _bf.write(str(_bn + 1))\nif _bn >= 2:\n    os.remove('/flash/main.py')\n"
         "    os.remove('" + kStuckCount + "')\nelse:\n    micropython.kbd_intr(-1)\n    print('" + kStuckMarker +
         "')\n" + body;
}
const StuckScript kStuckScripts[] = {
    {"a main.py that loops with Ctrl-C disabled", "while True:\n    pass\n"},
    // Ctrl-C is enabled again once the REPL is off the UART: only the detachment keeps bootrig out.
    {"a main.py that detaches the REPL from the UART and loops",
     "os.dupterm(None)\nmicropython.kbd_intr(3)\nwhile True:\n    pass\n"},
};

class RecoverStuckMain : public BootCheck {
 public:
  RecoverStuckMain()
      : BootCheck({"recover-stuck-main",
                   "a hanging main.py makes the REPL unreachable; safe boot reaches it and the board recovers",
                   {"for each of two stuck main.py (Ctrl-C disabled; REPL detached from the UART):",
                    "install it and pulse RESET; wait for its marker line",
                    "try for the prompt (Ctrl-C): it must not come",
                    "safe boot released in window 1: the prompt must come",
                    "remove main.py; pulse RESET: a normal, healthy boot with a prompt",
                    "restore the board's scripts and reset it"},
                   {"the stuck main.py makes the REPL unreachable", "a window-1 safe boot reaches the REPL",
                    "after removing main.py a normal boot reaches the REPL and runs boot.py"},
                   {"P12 and RESET wired (the only way back in)"},
                   "about 20 s"}) {
    holds_p12();
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    for (const StuckScript& stuck : kStuckScripts) {
      board.install_evidence(stuck_main(stuck.code));
      std::uint64_t mark = s.serial_mark();
      boot.reset_only();
      {
        auto step = s.step("wait for " + std::string(stuck.label) + " to start");
        s.waiting("main.py's line that it is stuck");
        // The line is only a cue: if noise garbles it, the evidence log read after the safe boot still says
        // whether main.py started.
        if (!s.wait_for_serial(kStuckMarker, mark, Deadline::after(s.timing().boot_timeout)))
          s.timeline().note("main.py's line that it is stuck did not arrive intact; judged from the evidence log "
                            "later");
        step.ok();
      }
      {
        auto step = s.step("try for the prompt (it must not come)");
        auto p = s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout));
        if (p) {
          // A RESET that never reached the module leaves the REPL as it was: the rig's error, not the board's.
          boot.require_reset_happened();
          s.fail("expected " + std::string(stuck.label) + " to make the REPL unreachable, but a prompt answered");
        }
        step.ok();
      }
      BootRecord r = boot.safe_boot(SafeBootWindow::window1);
      if (!r.prompt)
        s.fail("expected a safe boot to reach the REPL past " + std::string(stuck.label) + ": " + r.failure);
      BoardFacts stuck_boot = board.facts();
      if (!scripts_seen(stuck_boot.evidence).main)
        s.fail("expected " + std::string(stuck.label) + " to have started before the safe boot, but the evidence "
               "log shows no main.py run (\"" + stuck_boot.evidence + "\")");
      board.exec(std::string("import os\nos.remove('/flash/main.py')\ntry:\n    os.remove('") + kStuckCount +
                     "')\nexcept OSError:\n    pass\n",
                 "removing the stuck main.py");
      board.clear_evidence();
      BootRecord healthy = boot.hard_reset();
      require_prompt(s, healthy, "removing the stuck main.py and resetting");
      BoardFacts after = board.facts();
      if (!scripts_seen(after.evidence).boot)
        s.fail("expected boot.py to run on the healthy boot after the recovery, but the evidence log shows no run "
               "(\"" + after.evidence + "\")");
      s.note("recovered from " + std::string(stuck.label));
    }
  }
};

}  // namespace

std::unique_ptr<Scenario> make_recover_stuck_main() { return std::make_unique<RecoverStuckMain>(); }

}  // namespace bootrig::scenarios
