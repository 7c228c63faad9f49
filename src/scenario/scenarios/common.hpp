// Shared pieces of the boot-mode scenarios: a base class with the common restore path and judging helpers.
#pragma once

#include <string>

#include "bootrig/scenario/board.hpp"
#include "bootrig/scenario/boot_strategy.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig::scenarios {

class BootCheck : public Scenario {
 public:
  explicit BootCheck(ScenarioInfo info, Arrangement arrangement = {"current", ""}) : info_(std::move(info)) {
    info_.arrangement = std::move(arrangement);
  }
  const ScenarioInfo& info() const override { return info_; }
  void run(Session& s) override;
  // Pins released; a REPL reached (hard reset, then safe boot if the board is stuck); the board's own
  // boot.py and main.py put back; a normal hard reset so the board runs its latest image again.
  void restore(Session& s) override;

 protected:
  virtual void check(Session& s, Board& board, BootStrategy& boot) = 0;
  // `what` it destroys beyond what restore() puts back ("erases /flash"): it runs only with consent.
  void mark_destructive(std::string what) { info_.destructive = std::move(what); }
  void needs_images(std::vector<std::string> names) { info_.needs_images = std::move(names); }
  // The check holds P12 through a reset: a P12 wire that does not reach the module is its rig's error.
  void holds_p12() { holds_p12_ = true; }

 private:
  void start_known(Session& s, Board& board, BootStrategy& boot);

  ScenarioInfo info_;
  bool holds_p12_ = false;
  std::unique_ptr<Board> board_;
};

// Fails unless the boot reached the REPL.
void require_prompt(Session& s, const BootRecord& r, const std::string& after);
// The same for a normal boot with bootrig's evidence scripts installed (they return at once): a board that
// does not reach the REPL then hangs in its own firmware, which every later check would only repeat, so
// the run stops after this one FAIL.
void require_normal_boot_prompt(Session& s, const BootRecord& r, const std::string& after);
// Fails unless both scripts ran once each, boot.py first: the evidence log read through the checked channel
// (the marker lines on the UART are for people; noise could forge or hide them).
void require_scripts_ran(Session& s, const BoardFacts& f, const std::string& when);
// Fails if either script ran.
void require_scripts_skipped(Session& s, const BoardFacts& f, const std::string& when);
// With a photodiode, fails unless the LED showed the window P12 was released in; without one, says the LED
// was not checked.
void require_window_seen(Session& s, const BootRecord& r, const std::string& window);
// Records the LED pattern P12 was released in: its period against the nominal one, and for window 2 the time
// from the reset to it (limits: [timing.limits] or the profile's nominal times).
void measure_window(Session& s, const BootRecord& r, const std::string& name, milliseconds toggle);
// Records how long the boot took from the reset to the prompt; a `plain` boot (no P12) against the rig
// file's boot_to_prompt_ms limits.
void measure_boot(Session& s, const BootRecord& r, const std::string& name, bool plain = false);
// Waits for the heartbeat (LED rigs) and records its on and off times against the profile.
void check_heartbeat(Session& s);
// Fails unless the ROM printed a reset line with this cause.
void require_rom_cause(Session& s, const BootRecord& r, int cause, const std::string& cause_name);

}  // namespace bootrig::scenarios

namespace bootrig::scenarios {
// One factory per scenario; catalogue.cpp lists them in order.
std::unique_ptr<Scenario> make_normal_boot();
std::unique_ptr<Scenario> make_safeboot_window1();
std::unique_ptr<Scenario> make_safeboot_window2();
std::unique_ptr<Scenario> make_safeboot_factory();
std::unique_ptr<Scenario> make_safeboot_not_persistent();
std::unique_ptr<Scenario> make_soft_reset_ctrl_d();
std::unique_ptr<Scenario> make_soft_reset_sys_exit();
std::unique_ptr<Scenario> make_hard_reset_pin();
std::unique_ptr<Scenario> make_hard_reset_machine();
std::unique_ptr<Scenario> make_factory_reset();
std::unique_ptr<Scenario> make_recover_stuck_main();
std::unique_ptr<Scenario> make_ota_broken_recover();
std::unique_ptr<Scenario> make_ota_rollback_invalid();
}  // namespace bootrig::scenarios
