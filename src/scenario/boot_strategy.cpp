// The boot strategies: timed pin sequences whose achieved timing is recorded, and LED-guided safe boot.
#include "bootrig/scenario/boot_strategy.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

bool BootRecord::printed_nearly(const std::string& text, std::size_t edits) const {
  // Sellers' approximate matching: the least edit distance of `text` to any stretch of the transcript.
  std::vector<std::size_t> col(text.size() + 1), prev(text.size() + 1);
  for (std::size_t i = 0; i <= text.size(); ++i) prev[i] = i;
  if (prev.back() <= edits) return true;
  for (char c : transcript) {
    col[0] = 0;  // a match may start anywhere
    for (std::size_t i = 1; i <= text.size(); ++i)
      col[i] = std::min({prev[i - 1] + (text[i - 1] == c ? 0 : 1), prev[i] + 1, col[i - 1] + 1});
    if (col.back() <= edits) return true;
    std::swap(col, prev);
  }
  return false;
}

const char* to_string(SafeBootWindow w) {
  switch (w) {
    case SafeBootWindow::window1:
      return "window 1 (slow blink)";
    case SafeBootWindow::window2:
      return "window 2 (fast blink)";
    case SafeBootWindow::factory:
      return "the final phase (fastest blink)";
  }
  return "?";
}

namespace {

// The latest LED edge at or after `since`.
std::optional<LineEvent> last_led_edge(const LedDecoder& led, TimePoint since) {
  auto edges = led.edges_since(since);
  if (edges.empty()) return std::nullopt;
  return edges.back();
}

// The bootloader reads P12 at the start of each iteration of its blink loop, then toggles the LED. A release
// in a dark half of the blink makes the check that saw it visible: that check would have lit the LED, so
// an LED that stays dark shows it. After a lit half the check turns the LED off whether it saw the release
// or not. So P12 goes in a dark half, a tolerance after its falling edge and well before the next check,
// when the window still has a check after that. Returns the falling edge that began the dark half, or
// nullopt (the release then goes at once and the decision is not read).
std::optional<TimePoint> await_dark_half(Session& s, const LedDecoder& led, TimePoint since, Duration toggle,
                                         Duration tolerance, TimePoint window_end) {
  for (int tries = 0;; ++tries) {
    auto e = last_led_edge(led, since);
    if (!e) return std::nullopt;
    // Dark, and the next check a tolerance or more away even after this thread is done: release now.
    if (e->edge == Edge::falling && now() + tolerance < e->time + toggle - tolerance) return e->time;
    if (tries == 2) return std::nullopt;  // the edge that should have come did not: the photodiode missed it
    // After a rising edge the dark half begins one toggle later; after a falling edge too close to the
    // next check, the dark half after that check.
    const TimePoint fall = e->time + (e->edge == Edge::rising ? toggle : 2 * toggle);
    const TimePoint release_at = fall + tolerance;
    if (release_at + toggle / 2 > window_end) return std::nullopt;
    s.waiting("the LED's dark half");
    wait_until(Deadline::at(release_at));
  }
}

constexpr const char* kDecisionAtNextCheck =
    "the LED stayed dark at the bootloader's first check after the release";

// Reads the bootloader's decision off the LED after a release in the dark half that began at `dark_from`:
// dark through the next check (dark_from + toggle) means that check saw the release; lit again there means
// it did not, and the decision came with the LED's next fall at the earliest.
void read_decision(BootRecord& r, const LedDecoder& led, TimePoint dark_from, Duration toggle,
                   Duration tolerance) {
  const TimePoint release = *r.p12_released;
  const TimePoint check = dark_from + toggle;
  // P12 went later than planned (this thread woke late on a loaded host): the check may have read it held,
  // and an LED lit again there would blame the board for bootrig's lateness. Nothing is read then.
  if (release + tolerance >= check) {
    r.decision_note = "not read: bootrig released P12 only " +
                      std::to_string(static_cast<long long>(to_ms(check - release))) +
                      " ms before the bootloader's next check was due (less than the LED tolerance)";
    return;
  }
  auto edges = led.edges_since(release);
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const LineEvent& e = edges[i];
    if (e.edge != Edge::rising) continue;
    if (e.time < check - tolerance) {
      r.decision_note = "not read: the LED lit " +
                        std::to_string(static_cast<long long>(to_ms(e.time - release))) +
                        " ms after the release, before the bootloader's next check was due";
      return;
    }
    if (e.time <= check + tolerance) {
      TimePoint decided = check + toggle;
      for (std::size_t j = i + 1; j < edges.size(); ++j)
        if (edges[j].edge == Edge::falling) {
          decided = edges[j].time;
          break;
        }
      r.release_to_decision = decided - release;
      r.decision_note =
          "the bootloader lit the LED again at its first check after the release: it saw the "
          "release only at a later check";
      return;
    }
    break;  // a later rising edge is the app's heartbeat
  }
  r.release_to_decision = check - release;
  r.decision_note = kDecisionAtNextCheck;
}

}  // namespace

void BootStrategy::release_pins() {
  s_.safeboot().set(Level::inactive);
  if (auto* b = s_.bootloader()) b->set(Level::inactive);
}

void BootStrategy::pulse_reset(BootRecord& r) {
  auto step = s_.step("RESET pulse (" + std::to_string(s_.timing().reset_pulse.count()) + " ms)");
  // Stale output from before the reset would be mistaken for this boot's.
  s_.serial().discard_input();
  s_.reset().set(Level::active);
  TimePoint asserted = s_.reset().last_change()->effective;
  s_.reset().set_at(Level::inactive, asserted + s_.timing().reset_pulse);
  r.reset_released = s_.reset().last_change()->effective;
  s_.forget_board_state();
  step.ok();
}

BootRecord BootStrategy::reset_only() {
  BootRecord r;
  pulse_reset(r);
  return r;
}

BootRecord BootStrategy::hard_reset() {
  BootRecord r;
  std::size_t from = s_.boot_log().size();
  const bool helper = s_.channel().installed();
  pulse_reset(r);
  finish(r, from);
  // A banner proves nothing here: the Ctrl-B that reaches a prompt prints one.
  if (helper && r.prompt && !r.rom && !r.soft_reboot) require_reset_happened();
  return r;
}

void BootStrategy::require_reset_happened() {
  // No ROM reset line, yet a prompt: the port re-enumerated through the reset and lost the boot's lines,
  // or the pulse never reached the module and the REPL was there all along. bootrig's REPL helper, which no
  // reset leaves in the interpreter, tells which. Without this a cut RESET wire made normal-boot FAIL
  // ("boot.py and main.py ... neither ran") for a board that was never reset (the fault matrix's wire cases).
  auto a = s_.repl().exec_raw("print('_bx' in globals())", Deadline::after(s_.timing().prompt_timeout * 2));
  // Unverified code on a line that may be noisy: only an exact "True" counts, anything else changes nothing.
  if (a && !a->exception && a->output == "True\n")
    throw RigWiringError(
        "a RESET pulse did not reset the board: no ROM reset line came, and the interpreter kept bootrig's REPL "
        "helper; is RESET wired to EN, and lines.reset's polarity right? (`bootrig doctor` checks it)");
}

void BootStrategy::plant_sentinel() {
  auto a = s_.channel().run(std::string(kSentinel) + " = 1", milliseconds(0),
                            Deadline::after(s_.timing().prompt_timeout * 10));
  if (!a || a->raised())
    throw RigError("could not mark the interpreter before the reset: " +
                   (a ? *a->exc_type + ": " + a->exc_message : a.error().what));
}

std::optional<bool> BootStrategy::sentinel_alive() {
  if (!s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout))) return std::nullopt;
  auto a = s_.channel().run("_r = str(" + std::string(kSentinel) + ")", milliseconds(0),
                            Deadline::after(s_.timing().prompt_timeout * 10));
  if (!a) return std::nullopt;
  if (a->raised()) return *a->exc_type == "NameError" ? std::optional<bool>(false) : std::nullopt;
  return true;
}

BootRecord BootStrategy::soft_reset() {
  BootRecord r;
  std::size_t from = s_.boot_log().size();
  auto step = s_.step("soft reset (Ctrl-D)");
  // The UART's "soft reboot" line is one way to see the reset; a name planted in the interpreter (gone after
  // any reset) is another that a garbled line cannot forge or hide.
  plant_sentinel();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    s_.waiting("soft reboot and the prompt");
    // Ctrl-D soft-resets only at an empty line of the friendly REPL (the raw REPL's Ctrl-D skips main.py).
    auto left = s_.repl().leave_raw(Deadline::after(s_.timing().prompt_timeout));
    if (!left && !s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout))) {
      r.failure = left.error().describe();
      return r;
    }
    r.reset_released = now();
    s_.channel().forget();  // a soft reset clears the interpreter, bootrig's helper with it
    auto sr = s_.repl().soft_reset(Deadline::after(s_.timing().boot_timeout));
    if (sr) {
      r.prompt = true;
      r.prompt_at = sr->prompt;
      r.transcript = sr->transcript;
      r.soft_reboot = true;
      step.ok();
      break;
    }
    r.failure = sr.error().describe();
    r.transcript = sr.error().last_seen;
    std::optional<bool> alive = sentinel_alive();
    if (alive == false) {
      // Reset after all: the line garbled the "soft reboot" text, not the board's behaviour.
      r.prompt = true;
      r.prompt_at = now();
      r.soft_reboot = true;
      r.failure.clear();
      s_.note(
          "the soft reboot's text did not arrive intact, but the interpreter was cleared: the soft reset "
          "happened");
      step.ok();
      break;
    }
    if (!alive) break;  // the board does not answer: the scenario judges the missing prompt
    // Nothing was reset: Ctrl-D may have been lost on the line. Twice more before calling it the board's.
    r.failure = "Ctrl-D at an empty prompt (" + std::to_string(attempt) +
                " time(s)): no soft reboot, the interpreter kept its names";
    r.prompt = true;
  }
  collect_events(r, from);
  return r;
}

BootRecord BootStrategy::by_command(const std::string& code) {
  BootRecord r;
  std::size_t from = s_.boot_log().size();
  auto step = s_.step("type " + code);
  plant_sentinel();
  s_.waiting("the prompt after " + code);
  auto left = s_.repl().leave_raw(Deadline::after(s_.timing().prompt_timeout));
  if (!left && !s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout))) {
    r.failure = left.error().describe();
    return r;
  }
  r.reset_released = now();
  s_.channel().forget();  // whatever the command does (a reset, a soft reset), the helper may be gone
  // The line runs only once its echo came back intact (ReplClient::exec_friendly).
  auto ex = s_.repl().exec_friendly(code, Deadline::after(s_.timing().boot_timeout));
  if (ex) {
    r.prompt = true;
    r.prompt_at = ex->done;
    r.transcript = ex->output + ex->error_text;
    step.ok();
  } else {
    // bootrig's own line never got through the line intact, so it never ran: nothing was asked of the board,
    // and nothing about it can be judged. The line's fault, not the board's.
    if (ex.error().fault == ReplFault::not_sent)
      throw RigError("the serial line garbled bootrig's command '" + code +
                     "' every time it was typed, so it "
                     "never ran (" +
                     ex.error().describe() + "): a noisy line, not the board");
    r.failure = ex.error().describe();
    r.transcript = ex.error().last_seen;
    // The prompt after the command may have been garbled: a live REPL now means the board came back.
    if (ex.error().fault != ReplFault::protocol &&
        s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout))) {
      r.prompt = true;
      r.prompt_at = now();
      s_.note("the REPL's answer to " + code + " did not arrive intact (" + r.failure +
              "); the REPL answers again: what the command did is judged from the board");
      r.failure.clear();
      step.ok();
    }
  }
  collect_events(r, from);
  return r;
}

std::optional<WiringFault> BootStrategy::p12_wiring_fault() {
  // The module's own reading of P12 while bootrig holds it and after it lets go. A cut or inverted wire makes
  // a board that never safe-boots, which the safe-boot checks would otherwise judge the firmware's fault (the
  // fault matrix's cut P12 wire made four of them FAIL). P12 is an ordinary input once the app runs
  // (GPIO21, read by the bootloader only at boot), and the pull-down makes a cut wire read low.
  auto step = s_.step("prove that P12 reaches the module (the board reads it)");
  auto read = [&](Level level) -> std::optional<int> {
    s_.safeboot().set(level);
    auto a = s_.channel().run("from machine import Pin\n_r = Pin('P12', mode=Pin.IN, pull=Pin.PULL_DOWN)()",
                              milliseconds(0), Deadline::after(s_.timing().prompt_timeout * 3));
    if (!a || a->raised() || (a->value != "0" && a->value != "1")) return std::nullopt;
    return a->value == "1" ? 1 : 0;
  };
  const auto held = read(Level::active);
  const auto released = read(Level::inactive);
  // The board could not be asked (a line the channel gave up on): the safe boot itself judges, as before.
  if (!held || !released) return std::nullopt;
  if (*held == 1 && *released == 0) {
    p12_proven_ = true;
    s_.note("P12 reaches the module: the board reads it high while bootrig holds it, low once released");
    step.ok();
    return std::nullopt;
  }
  if (*held == 0 && *released == 0)
    return WiringFault{"P12 does not reach the module: the board reads it low (its pull-down) while bootrig "
                       "holds it",
                       "check the wire to P12 (G28 on the expansion board) and the GPIO in [lines.safeboot]"};
  if (*held == 1)
    return WiringFault{"P12 is stuck high: the board reads it high after bootrig released it, so every reset "
                       "safe-boots",
                       "look for a short to 3V3 or something else driving P12 (G28)", true};
  return WiringFault{"P12's polarity is inverted: the board reads it low while bootrig holds it and high "
                     "once released",
                     "swap lines.safeboot.active (P12 asserts high; an inverting transistor in between needs "
                     "\"low\")",
                     true};
}

BootRecord BootStrategy::safe_boot(SafeBootWindow window) {
  const TimingProfile& t = s_.timing();
  BootRecord r;
  std::size_t from = s_.boot_log().size();
  if (!p12_proven_ && s_.channel().installed())
    if (auto f = p12_wiring_fault())
      throw RigError(f->what + "; " + f->hint + " (`bootrig doctor` checks it)");
  const bool helper = s_.channel().installed();
  {
    auto step = s_.step("assert P12 (safe-boot request)");
    s_.safeboot().set(Level::active);
    step.ok();
  }
  pulse_reset(r);

  // Nominal start of each phase from the reset release: ROM boot, the 100 ms re-check, then the windows.
  const TimePoint w1_start = r.reset_released + t.rom_boot + t.safeboot_recheck;
  const TimePoint w2_start = w1_start + t.window1_length();
  const TimePoint final_start = w2_start + t.window2_length();
  LedPattern wanted = window == SafeBootWindow::window1   ? LedPattern::safeboot_window1
                      : window == SafeBootWindow::window2 ? LedPattern::safeboot_window2
                                                          : LedPattern::safeboot_final;
  TimePoint nominal_start = window == SafeBootWindow::window1   ? w1_start
                            : window == SafeBootWindow::window2 ? w2_start
                                                                : final_start;
  Duration nominal_length = window == SafeBootWindow::window1   ? Duration(t.window1_length())
                            : window == SafeBootWindow::window2 ? Duration(t.window2_length())
                                                                : Duration(t.final_duration);
  const Duration toggle =
      window == SafeBootWindow::window1 ? Duration(t.window1_toggle) : Duration(t.window2_toggle);
  const Duration tolerance = std::chrono::duration_cast<Duration>(toggle * (t.led_tolerance_percent / 100.0));
  std::optional<TimePoint> dark_from;  // the dark half P12 was released in (windows 1 and 2, LED rigs)
  {
    auto step = s_.step(std::string("release P12 in ") + to_string(window));
    if (LedDecoder* led = s_.led()) {
      s_.waiting(to_string(window));
      // The pattern must be proven before the window ends; a board that never shows it is judged later.
      Deadline d = Deadline::at(nominal_start + nominal_length + t.boot_timeout / 4);
      auto seen = led->wait_for_pattern(wanted, d);
      if (seen) {
        r.window_seen = seen->current;
        r.window_observed = true;
        // Judged by the edge that proved the pattern, not by when this thread woke (a loaded machine), with
        // the rig's LED tolerance on the window's length.
        const TimePoint window_end =
            nominal_start + nominal_length +
            std::chrono::duration_cast<Duration>(nominal_length * (t.led_tolerance_percent / 100.0));
        if (seen->current.detected > window_end) {
          r.window_late = seen->current.detected - (nominal_start + nominal_length);
          s_.timeline().note("the LED proved " + std::string(to_string(wanted)) + " only " +
                             std::to_string(static_cast<long long>(to_ms(*r.window_late))) +
                             " ms after the window should have ended; P12 released then");
        } else if (window != SafeBootWindow::factory) {
          dark_from = await_dark_half(s_, *led, seen->current.start, toggle, tolerance,
                                      nominal_start + nominal_length);
        }
      } else {
        // The board must still boot, so P12 goes; the scenario judges the missing window.
        r.window_failure = seen.error().describe();
        s_.timeline().note("the LED never showed " + std::string(to_string(wanted)) + ": " +
                           r.window_failure + "; P12 released anyway");
      }
    } else {
      // No photodiode: the middle of the window, where a release is safest from both edges.
      wait_until(Deadline::at(nominal_start + nominal_length / 2));
      s_.note(std::string("P12 released at the nominal middle of ") + to_string(window) +
              ": no photodiode to show the window");
    }
    s_.safeboot().set(Level::inactive);
    r.p12_released = s_.safeboot().last_change()->effective;
    if (r.window_observed && *r.p12_released > nominal_start + nominal_length)
      r.released_past_window = *r.p12_released - (nominal_start + nominal_length);
    step.ok();
  }
  finish(r, from);
  // A window never seen and no ROM line: a RESET that did not reach the module looks like a firmware that
  // ignores P12 (the fault matrix's cut RESET wire made safeboot-window1 FAIL).
  if (helper && r.prompt && !r.rom && !r.soft_reboot) require_reset_happened();
  if (LedDecoder* led = s_.led(); led && r.window_observed && window != SafeBootWindow::factory) {
    if (dark_from)
      read_decision(r, *led, *dark_from, toggle, tolerance);
    else
      r.decision_note =
          "not read: P12 could not be released in a dark half of the blink with a check left "
          "in the window";
    const std::string text =
        "release to decision: " +
        (r.release_to_decision
             ? std::to_string(static_cast<long long>(to_ms(*r.release_to_decision))) + " ms, "
             : std::string()) +
        r.decision_note;
    // The usual reading goes on the timeline only; one that is not (a late check, none read) is the
    // attempt's.
    if (r.release_to_decision && r.decision_note == kDecisionAtNextCheck)
      s_.timeline().note(text);
    else
      s_.note(text);
  }
  return r;
}

void BootStrategy::finish(BootRecord& r, std::size_t boot_log_from) {
  auto step = s_.step("wait for the boot to reach the REPL");
  s_.waiting("the >>> prompt");
  auto p = s_.repl().await_prompt(Deadline::after(s_.timing().boot_timeout));
  if (p) {
    r.prompt = true;
    r.prompt_at = p->at;
    r.transcript = p->transcript;
  } else {
    r.failure = p.error().describe();
    r.transcript = p.error().last_seen;
    // A prompt garbled on the line looks like none: once the boot has had all its time, a live REPL that
    // answers Ctrl-C proves the board got there.
    if (auto q = s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout))) {
      r.prompt = true;
      r.prompt_at = q->at;
      r.transcript += q->transcript;
      s_.note("the boot's prompt did not arrive intact, but the REPL answered Ctrl-C afterwards");
      r.failure.clear();
    }
  }
  collect_events(r, boot_log_from);
  if (!r.prompt) {
    r.diagnosis = diagnose(boot_log_from, r.reset_released);
    r.failure += " (the firmware " + r.diagnosis->describe() + ")";
    s_.timeline().record(EventKind::note, now(),
                         {{"text", "boot diagnosis"}, {"diagnosis", r.diagnosis->to_json()}});
  }
  if (r.prompt) step.ok();
}

BootDiagnosis BootStrategy::diagnose(std::size_t boot_log_from, TimePoint reset_at) {
  TimePoint until = now();
  LedSummary led;
  if (LedDecoder* d = s_.led()) led = summarize_led(d->history(), d->current(), reset_at, until);
  return diagnose_boot(s_.boot_log().events_since(boot_log_from), s_.boot_log().bytes_seen(), reset_at, until,
                       led);
}

Duration BootStrategy::watch_time() const {
  const TimingProfile& t = s_.timing();
  return t.rom_boot + t.app_start + (t.heartbeat_on + t.heartbeat_off) * 2;
}

BootDiagnosis BootStrategy::watch_boot(std::size_t boot_log_from, TimePoint reset_at) {
  auto step = s_.step("watch the boot");
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", to_ms(watch_time()) / 1000.0);
  s_.waiting(std::string("the prompt, or for ") + secs + " what the boot does instead");
  s_.boot_log().wait_for([](const BootEvent& e) { return e.kind == BootEventKind::prompt; }, boot_log_from,
                         Deadline::at(reset_at + watch_time()));
  BootDiagnosis d = diagnose(boot_log_from, reset_at);
  s_.timeline().record(EventKind::note, now(), {{"text", "boot diagnosis"}, {"diagnosis", d.to_json()}});
  step.ok();
  return d;
}

void note_diagnosis(Session& s, const std::string& what, const std::string& key, const BootDiagnosis& d) {
  s.note(what + ": " + d.describe());
  if (!d.panic_line.empty()) s.note(what + ", first panic: " + d.panic_line);
  if (!d.backtrace_line.empty()) s.note(what + ", its " + d.backtrace_line);
  s.measure({key + ".rom_resets", static_cast<double>(d.resets), "count", std::nullopt, std::nullopt});
  s.measure({key + ".panics", static_cast<double>(d.panics), "count", std::nullopt, std::nullopt});
  if (d.period) s.measure({key + ".reboot_period_ms", to_ms(*d.period), "ms", std::nullopt, std::nullopt});
}

void BootStrategy::collect_events(BootRecord& r, std::size_t boot_log_from) {
  r.events = s_.boot_log().events_since(boot_log_from);
  for (const auto& e : r.events) {
    if (e.kind == BootEventKind::rom_reset && e.rom) r.rom = e.rom;
    if (e.kind == BootEventKind::banner && e.banner) r.banner = e.banner;
    if (e.kind == BootEventKind::soft_reboot) r.soft_reboot = true;
  }
}

}  // namespace bootrig
