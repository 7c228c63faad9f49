// The scenarios' shared restore path and judging helpers.
#include "scenario/scenarios/common.hpp"

#include <spdlog/spdlog.h>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/prepare.hpp"
#include "bootrig/scenario/recovery.hpp"

namespace bootrig::scenarios {

void BootCheck::run(Session& s) {
  // Before the Board exists: if flashing fails, restore() has no scripts of ours to put back.
  prepare_firmware(s, info_.arrangement);
  board_ = std::make_unique<Board>(s);
  BootStrategy boot(s);
  start_known(s, *board_, boot);
  check(s, *board_, boot);
  const ChannelStats& line = s.channel().stats();
  if (line.failed > 0)
    s.note("the serial line garbled or lost " + line.describe() + "; bootrig repeated them");
}

// Each check starts from a state it knows and says so: the REPL reached, no safe-boot flag left over from an
// earlier boot (it would make this check's normal boots safe ones), no evidence left from an earlier check.
void BootCheck::start_known(Session& s, Board& board, BootStrategy& boot) {
  auto step = s.step("start from a known state");
  board.need_prompt("before the check");
  // P12's wire, by the board's own reading of it: a stuck or inverted one makes every reset a safe boot, so
  // no check can trust its resets; a cut one only fails the checks that hold P12, which would otherwise blame
  // the firmware for a board that never saw the request (in the fault matrix a cut wire made them FAIL).
  if (auto f = boot.p12_wiring_fault(); f && (holds_p12_ || f->every_reset_safe_boots)) {
    const std::string what = f->what + "; " + f->hint + " (`bootrig doctor` checks it)";
    // A P12 that reads high released spoils every check's resets; a cut one only the checks that hold it.
    if (f->every_reset_safe_boots) throw RigWiringError(what);
    throw RigError(what);
  }
  bool flag = board.clear_safeboot_flag();
  board.clear_evidence();
  s.note(std::string("starting state: REPL reached, ") +
         (flag ? "a safe-boot flag left set was cleared" : "no safe-boot flag set") +
         ", old evidence removed");
  step.ok();
}

void BootCheck::restore(Session& s) {
  BootStrategy boot(s);
  boot.release_pins();
  if (!board_) return;  // run() never touched the board
  Board& board = *board_;
  // Reach a REPL whatever the scenario left behind: the recovery ladder (a prompt, a hard reset, a safe boot
  // that skips a main.py that hangs or detaches the REPL, a cable flash).
  if (!s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout))) {
    RecoveryReport r = recover_board(s, "no REPL prompt to restore the board's scripts");
    if (!r.recovered) throw BoardLost(r);
  }
  board.restore_scripts();
  boot.hard_reset();
  board_.reset();
}

void require_prompt(Session& s, const BootRecord& r, const std::string& after) {
  if (!r.prompt) s.fail("the REPL did not answer after " + after + ": " + r.failure);
}

void require_normal_boot_prompt(Session& /*s*/, const BootRecord& r, const std::string& after) {
  if (r.prompt) return;
  throw CheckFailed("the board's normal boot never reached the REPL after " + after +
                        ", although its boot.py and main.py were bootrig's own (they return at once): the "
                        "firmware hangs in its boot (" +
                        r.failure + "); the later checks would only repeat this, so the run stops here",
                    true);
}

void require_scripts_ran(Session& s, const BoardFacts& f, const std::string& when) {
  ScriptsSeen seen = scripts_seen(f.evidence);
  if (!seen.boot || !seen.main)
    s.fail("expected boot.py and main.py to run " + when + ", but " +
           (!seen.boot && !seen.main ? std::string("neither ran")
                                     : std::string(seen.boot ? "main.py" : "boot.py") + " did not") +
           " (evidence log on the board: \"" + f.evidence + "\")");
  if (!seen.in_order)
    s.fail("expected boot.py to run before main.py " + when + ", but main.py ran first (evidence log \"" +
           f.evidence + "\")");
}

void require_scripts_skipped(Session& s, const BoardFacts& f, const std::string& when) {
  ScriptsSeen seen = scripts_seen(f.evidence);
  if (seen.boot || seen.main)
    s.fail("expected boot.py and main.py to be skipped " + when + ", but " +
           (seen.boot && seen.main ? std::string("both ran")
                                   : std::string(seen.boot ? "boot.py" : "main.py") + " ran") +
           " (evidence log on the board: \"" + f.evidence + "\")");
}

void require_window_seen(Session& s, const BootRecord& r, const std::string& window) {
  const std::string expectation = "LED shows " + window;
  if (!s.led()) {
    // Listed as unchecked in every report; the boot strategy noted when P12 was released instead.
    s.unchecked(expectation, "no photodiode on this rig");
    return;
  }
  if (!r.window_observed)
    s.failed(expectation, "expected the LED to show " + window + " while P12 was held, but it never did: " +
                              r.window_failure + " (P12 was released anyway so that the board could boot)");
  if (r.window_late)
    s.failed(expectation,
             "expected the LED to show " + window +
                 " within the window, but its pattern was "
                 "complete only " +
                 std::to_string(static_cast<long long>(to_ms(*r.window_late))) +
                 " ms after the window should have ended (a blink missing or too slow), so P12 was "
                 "released late");
  s.checked(expectation, "seen before P12 was released");
}

namespace {
// Nominal +- the rig's LED tolerance: how far an LED time may stray and still be the firmware's.
LimitPair around_nominal(const TimingProfile& t, double nominal) {
  double tol = t.led_tolerance_percent / 100.0;
  return {nominal * (1 - tol), nominal * (1 + tol)};
}

void measure_limited(Session& s, const std::string& name, double value, const std::string& unit,
                     const LimitPair& limits) {
  s.measure({name, value, unit, limits.low, limits.high});
}

}  // namespace

void measure_window(Session& s, const BootRecord& r, const std::string& name, milliseconds toggle) {
  if (!r.window_observed || !r.window_seen) return;
  const LedMeasurement& m = *r.window_seen;
  const TimingProfile& t = s.timing();
  double nominal = 2.0 * static_cast<double>(toggle.count());
  // periods counts whole on+off cycles, which can be seen before two rising edges were (a pattern confirmed
  // early): a period is measured only from rising edge to rising edge, else period_mean is zero, not a value.
  if (m.period_mean > Duration::zero())
    measure_limited(s, name + ".period_ms", to_ms(m.period_mean), "ms",
                    t.limits_for(name + "_period_ms", around_nominal(t, nominal)));
  s.measure({name + ".half_periods_seen", static_cast<double>(m.half_periods), "count", std::nullopt,
             std::nullopt});
  if (r.p12_released)
    s.measure({name + ".p12_released_after_ms", to_ms(*r.p12_released - m.start), "ms", 0.0, std::nullopt});
  // The bootloader reads P12 once an iteration: it must act on a release by its next check, one toggle
  // later at most (with the LED tolerance, as the toggle itself is measured).
  if (r.release_to_decision)
    measure_limited(s, name + ".release_to_decision_ms", to_ms(*r.release_to_decision), "ms",
                    t.limits_for("release_to_decision_ms", {0.0, static_cast<double>(toggle.count()) *
                                                                     (1 + t.led_tolerance_percent / 100.0)}));
  // Window 2 begins where window 1's iterations end (ROM boot, the 100 ms re-check, window 1 on the
  // bootloader's own clock). What is measured is the first blink of window 2 the photodiode showed: a missed
  // edge puts it a period later, so it has limits only when the rig file sets them ([timing.limits]
  // reset_to_window_switch_ms); by default it is recorded, never judged (a photodiode missing blinks made it
  // a false FAIL).
  if (name == "window2")
    measure_limited(s, "window2.reset_to_switch_ms", to_ms(m.start - r.reset_released), "ms",
                    t.limits_for("reset_to_window_switch_ms"));
}

void measure_boot(Session& s, const BootRecord& r, const std::string& name, bool plain) {
  // A plain boot's time has limits only when the rig file sets them ([timing.limits] boot_to_prompt_ms): the
  // user's scripts are part of it, and bootrig's own wait (boot_timeout) is no limit of the device's. A safe
  // boot's includes however long P12 was held, so it is recorded without limits.
  if (r.prompt_at)
    measure_limited(s, name + ".reset_to_prompt_ms", to_ms(*r.prompt_at - r.reset_released), "ms",
                    plain ? s.timing().limits_for("boot_to_prompt_ms") : LimitPair{});
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
  auto seen = led->wait_for_pattern(
      LedPattern::heartbeat, Deadline::after((t.heartbeat_on + t.heartbeat_off) * 3 + t.boot_timeout / 4));
  if (!seen) s.fail("expected the heartbeat LED pattern after boot: " + seen.error().describe());
  const LedMeasurement& m = seen->current;
  auto on = static_cast<double>(t.heartbeat_on.count());
  measure_limited(s, "heartbeat.on_ms", to_ms(m.on_mean), "ms",
                  t.limits_for("heartbeat_on_ms", around_nominal(t, on)));
  if (m.period_mean > Duration::zero()) {
    auto period = static_cast<double>((t.heartbeat_on + t.heartbeat_off).count());
    measure_limited(s, "heartbeat.period_ms", to_ms(m.period_mean), "ms",
                    t.limits_for("heartbeat_period_ms", around_nominal(t, period)));
  }
  s.checked("heartbeat LED", "seen, its times measured");
  step.ok();
}

void require_rom_cause(Session& s, const BootRecord& r, int cause, const std::string& cause_name) {
  if (!r.rom) {
    // The ROM's line is the one thing read from the raw UART: a port that re-enumerated during the reset, or
    // a garbled line, loses it. That is no evidence against the board; machine.reset_cause(), read intact
    // through the checked channel, still judges the reset.
    s.unchecked("ROM reset line rst:0x" + std::to_string(cause) + " (" + cause_name + ")",
                "it did not arrive intact (the port may have re-enumerated at the reset, or the line garbled "
                "it); machine.reset_cause() judges the reset");
    return;
  }
  if (r.rom->cause != cause)
    s.fail("expected the ROM to report rst:0x" + std::to_string(cause) + " (" + cause_name + "), saw rst:0x" +
           std::to_string(r.rom->cause) + " (" + r.rom->cause_name + ")");
}

}  // namespace bootrig::scenarios
