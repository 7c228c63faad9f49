// The scenarios' shared restore path and judging helpers.
#include "scenario/scenarios/common.hpp"

#include <spdlog/spdlog.h>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/prepare.hpp"

namespace bootrig::scenarios {

void BootCheck::run(Session& s) {
  // Before the Board exists: if flashing fails, restore() has no scripts of ours to put back.
  prepare_firmware(s, info_.arrangement);
  board_ = std::make_unique<Board>(s);
  BootStrategy boot(s);
  check(s, *board_, boot);
}

void BootCheck::restore(Session& s) {
  BootStrategy boot(s);
  boot.release_pins();
  if (!board_) return;  // run() never touched the board
  Board& board = *board_;
  // Reach a REPL whatever the scenario left behind: a prompt, else a hard reset, else a safe boot (which
  // skips a main.py that hangs or detaches the REPL).
  auto have_prompt = [&] { return bool(s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout))); };
  if (!have_prompt()) {
    BootRecord r = boot.hard_reset();
    if (!r.prompt && !have_prompt()) {
      r = boot.safe_boot(SafeBootWindow::window1);
      if (!r.prompt && !have_prompt()) throw RigError("could not reach the REPL to restore the board's scripts");
    }
  }
  board.restore_scripts();
  boot.hard_reset();
  board_.reset();
}

void require_prompt(Session& s, const BootRecord& r, const std::string& after) {
  if (!r.prompt) s.fail("the REPL did not answer after " + after + ": " + r.failure);
}

void require_scripts_ran(Session& s, const BootRecord& r, const BoardFacts& f, const std::string& when) {
  ScriptsSeen seen = scripts_seen(r.transcript);
  if (!seen.boot || !f.has(kBootEvidenceFile))
    s.fail("expected boot.py to run " + when + ", but " +
           (seen.boot ? "its file was not written" : "its marker line never appeared on the UART"));
  if (!seen.main || !f.has(kMainEvidenceFile))
    s.fail("expected main.py to run " + when + ", but " +
           (seen.main ? "its file was not written" : "its marker line never appeared on the UART"));
  if (!seen.in_order) s.fail("expected boot.py to run before main.py " + when + ", but main.py's marker came first");
}

void require_scripts_skipped(Session& s, const BootRecord& r, const BoardFacts& f, const std::string& when) {
  ScriptsSeen seen = scripts_seen(r.transcript);
  if (seen.boot || f.has(kBootEvidenceFile))
    s.fail("expected boot.py to be skipped " + when + ", but it ran" +
           (seen.boot ? " (its marker line is in the boot output)" : " (it wrote its file)"));
  if (seen.main || f.has(kMainEvidenceFile))
    s.fail("expected main.py to be skipped " + when + ", but it ran" +
           (seen.main ? " (its marker line is in the boot output)" : " (it wrote its file)"));
}

void measure_window(Session& s, const BootRecord& r, const std::string& name, milliseconds toggle) {
  if (!r.window_observed || !r.window_seen) return;
  const LedMeasurement& m = *r.window_seen;
  double nominal = 2.0 * static_cast<double>(toggle.count());
  double tol = s.timing().led_tolerance_percent / 100.0;
  // periods counts whole on+off cycles, which can be seen before two rising edges were (a pattern confirmed
  // early): a period is measured only from rising edge to rising edge, else period_mean is zero, not a value.
  if (m.period_mean > Duration::zero())
    s.measure({name + ".period_ms", to_ms(m.period_mean), "ms", nominal * (1 - tol), nominal * (1 + tol)});
  s.measure({name + ".half_periods_seen", static_cast<double>(m.half_periods), "count", std::nullopt, std::nullopt});
  if (r.p12_released)
    s.measure({name + ".p12_released_after_ms", to_ms(*r.p12_released - m.start), "ms", 0.0, std::nullopt});
}

void measure_boot(Session& s, const BootRecord& r, const std::string& name) {
  // Recorded without limits: an out-of-limits measurement fails the check, and the only bound at hand is
  // bootrig's own wait (boot_timeout, counted from the P12 release in a safe boot), not the device's: a safe
  // boot held to the factory phase takes longer from the reset than a rig's boot_timeout may allow.
  if (r.prompt_at)
    s.measure({name + ".reset_to_prompt_ms", to_ms(*r.prompt_at - r.reset_released), "ms", std::nullopt,
               std::nullopt});
}

void check_heartbeat(Session& s) {
  LedDecoder* led = s.led();
  if (!led) {
    s.unchecked("heartbeat LED", "no photodiode on this rig");
    return;
  }
  auto step = s.step("watch the heartbeat LED");
  s.waiting("the heartbeat (80 ms on every 4 s)");
  const TimingProfile& t = s.timing();
  auto seen = led->wait_for_pattern(LedPattern::heartbeat,
                                    Deadline::after((t.heartbeat_on + t.heartbeat_off) * 3 + t.boot_timeout / 4));
  if (!seen) s.fail("expected the heartbeat LED pattern after boot: " + seen.error().describe());
  const LedMeasurement& m = seen->current;
  double tol = t.led_tolerance_percent / 100.0;
  auto on = static_cast<double>(t.heartbeat_on.count());
  s.measure({"heartbeat.on_ms", to_ms(m.on_mean), "ms", on * (1 - tol), on * (1 + tol)});
  if (m.period_mean > Duration::zero()) {
    auto period = static_cast<double>((t.heartbeat_on + t.heartbeat_off).count());
    s.measure({"heartbeat.period_ms", to_ms(m.period_mean), "ms", period * (1 - tol), period * (1 + tol)});
  }
  s.checked("heartbeat LED", "seen, its times measured");
  step.ok();
}

void require_rom_cause(Session& s, const BootRecord& r, int cause, const std::string& cause_name) {
  if (!r.rom) s.fail("expected the ROM's reset line (rst:0x" + std::to_string(cause) + " (" + cause_name + ")), but none came");
  if (r.rom->cause != cause)
    s.fail("expected the ROM to report rst:0x" + std::to_string(cause) + " (" + cause_name + "), saw rst:0x" +
           std::to_string(r.rom->cause) + " (" + r.rom->cause_name + ")");
}

}  // namespace bootrig::scenarios
