// Drives the board into a boot mode through its wires and observes the boot: RESET pulses, safe boot with
// P12 released in the window the LED shows, and waiting for the REPL after any reset.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bootrig/observe/boot_diagnosis.hpp"
#include "bootrig/observe/boot_log.hpp"
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig {

enum class SafeBootWindow { window1, window2, factory };
const char* to_string(SafeBootWindow w);

// What one boot looked like, from reset to prompt.
struct BootRecord {
  TimePoint reset_released{};    // RESET let go (or the reset command sent)
  std::optional<RomReset> rom;   // the ROM's reset line, when one came
  std::optional<Banner> banner;  // the firmware's banner
  bool soft_reboot = false;      // "PYB/MPY: soft reboot" came
  bool prompt = false;           // the REPL answered
  std::optional<TimePoint> prompt_at;
  std::string transcript;                  // everything received from the reset to the prompt
  std::string failure;                     // why there was no prompt
  std::vector<BootEvent> events;           // boot-log events of this boot
  std::optional<BootDiagnosis> diagnosis;  // no prompt: what the boot did instead (panics, hangs, silence)

  // Safe boot only.
  std::optional<LedMeasurement> window_seen;  // the pattern P12 was released in (LED rigs)
  bool window_observed = false;               // false: released at the nominal time, LED not used
  std::string window_failure;                 // LED rigs: why the LED never proved the window
  // LED rigs: the window was proven only this long after it should have ended (a blink missing or slow), so
  // P12 was released late, maybe in the next window.
  std::optional<Duration> window_late;
  std::optional<TimePoint> p12_released;
  // LED rigs: P12 was released this long after the window's nominal end (by the rig's [timing]), because the
  // LED proved the window late or the dark half waited for came after it. Within the LED tolerance the board
  // may still have been in the window: the scenario blames the LED only when the board shows it was not.
  std::optional<Duration> released_past_window;
  // LED rigs, windows 1 and 2: P12's release to the bootloader's check that saw it, read off the LED (P12 is
  // released in a dark half of the blink for that: see BootStrategy::safe_boot), and how it was read or why
  // it could not be.
  std::optional<Duration> release_to_decision;
  std::string decision_note;

  bool printed(const std::string& text) const { return transcript.find(text) != std::string::npos; }
  // Whether some stretch of the transcript is `text` with at most `edits` bytes garbled, lost or added: a
  // message a noisy line spoiled is still the board's message (nothing else it prints comes that close).
  bool printed_nearly(const std::string& text, std::size_t edits) const;
  // Where `text` first appears in the transcript, or npos.
  std::size_t position(const std::string& text) const { return transcript.find(text); }
};

// Puts a diagnosis in the attempt's evidence: notes "<what>: <the breakage>" with the first panic's lines,
// and its counts as measurements without limits ("<key>.rom_resets", "<key>.panics",
// "<key>.reboot_period_ms").
void note_diagnosis(Session& s, const std::string& what, const std::string& key, const BootDiagnosis& d);

// A wire that does not carry bootrig's level to the module: what the board showed, and what to check.
struct WiringFault {
  std::string what;
  std::string hint;
  bool every_reset_safe_boots = false;  // P12 high while released (stuck, inverted)
};

class BootStrategy {
 public:
  explicit BootStrategy(Session& s) : s_(s) {}

  // A RESET pulse (timing.reset_pulse), then the boot up to the REPL prompt.
  BootRecord hard_reset();
  // A pulse that left no ROM reset line, yet a prompt: throws RigError when bootrig's REPL helper is still in
  // the interpreter, i.e. the pulse never reset the board (a cut or inverted RESET wire).
  void require_reset_happened();
  // With the REPL up: what is wrong with the P12 wire by the board's own reading of it while bootrig holds it
  // and after it lets go (cut, inverted, stuck); nullopt when it carries bootrig's level or the board could
  // not be asked. The first safe boot of a check asks, and a fault is the rig's error, not the firmware's.
  std::optional<WiringFault> p12_wiring_fault();
  // P12 held through a RESET pulse and released once the LED shows `window` (or at its nominal time on a
  // rig without a photodiode, noted in the attempt), then the boot up to the prompt.
  BootRecord safe_boot(SafeBootWindow window);
  // Ctrl-D at an empty friendly prompt: "soft reboot", the scripts again, the prompt.
  BootRecord soft_reset();
  // Types `code` at the friendly prompt (machine.reset(), sys.exit()) and follows whatever it causes up to
  // the next prompt: a reset and a boot, or nothing at all (the prompt comes straight back).
  BootRecord by_command(const std::string& code);

  // A RESET pulse and nothing more: for boots that are expected never to reach a prompt.
  BootRecord reset_only();
  // Makes sure P12 (and P2) are inactive: called after every safe boot and by restore paths.
  void release_pins();

  // Names what the boot that began at `reset_at` did (boot-log events from `boot_log_from`, the LED over the
  // same time), without waiting.
  BootDiagnosis diagnose(std::size_t boot_log_from, TimePoint reset_at);
  // Watches that boot until its prompt comes or watch_time() has passed since `reset_at`, then diagnoses it.
  BootDiagnosis watch_boot(std::size_t boot_log_from, TimePoint reset_at);
  // Long enough for a started heartbeat to be recognised and for one from before the reset to have ended (two
  // of its periods after the firmware's start), and for a reboot loop to repeat: the device's own times, from
  // the rig's timing profile.
  Duration watch_time() const;

 private:
  bool p12_proven_ = false;
  // A name in the interpreter that any reset clears: planted before an action through the checked channel,
  // looked up after it when the UART's own account of the reset did not arrive intact.
  static constexpr const char* kSentinel = "_bootrig_sentinel";
  void plant_sentinel();
  // false: gone (the board was reset); true: still there; nullopt: the board could not be asked.
  std::optional<bool> sentinel_alive();
  void pulse_reset(BootRecord& r);
  void finish(BootRecord& r, std::size_t boot_log_from);
  void collect_events(BootRecord& r, std::size_t boot_log_from);

  Session& s_;
};

}  // namespace bootrig
