// Naming how a boot failed from what the board showed: panics and reboot loops (count and period) from the
// boot log, a banner without a prompt, a UART silent after the ROM's lines, and a heartbeat that never
// starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootrig/core/time.hpp"
#include "bootrig/observe/boot_log.hpp"
#include "bootrig/observe/led_decoder.hpp"

namespace bootrig {

enum class BootFailure : std::uint8_t {
  none,         // the REPL's prompt came
  panic_loop,   // the firmware panics (ESP-IDF's Guru Meditation) and the ROM restarts it, over and over
  panic,        // one panic and then nothing more within the watch
  reboot_loop,  // software resets without a panic message, over and over
  hang_after_banner,   // the banner came, the prompt never did
  hang_before_banner,  // the firmware started (UART or LED show it) and stopped before its banner
  silent_uart,         // nothing after the ROM's lines, while the LED shows the firmware running
  silent_after_rom,    // nothing after the ROM's lines, and no photodiode to say whether the firmware runs
  silent,              // not even the ROM's lines: nothing to judge the firmware by
};
const char* to_string(BootFailure f);  // "panic-loop"

// What the LED did while a boot was watched (rigs with a photodiode).
struct LedSummary {
  bool watched = false;
  bool heartbeat = false;  // a heartbeat span started within the watch
  std::string patterns;    // the patterns seen, in order: "dark", "dark, heartbeat"
};
// The spans of `history` (and `current`) that overlap [from, until].
LedSummary summarize_led(const std::vector<LedMeasurement>& history, const LedMeasurement& current,
                         TimePoint from, TimePoint until);

struct BootDiagnosis {
  BootFailure failure = BootFailure::silent;
  TimePoint from{};                // when the watch began (the reset)
  Duration watched{};              // how long the boot was watched
  int resets = 0;                  // ROM reset lines seen
  int self_resets = 0;             // of those, resets the chip made itself (not POWERON_RESET)
  std::optional<Duration> period;  // mean time between consecutive ROM reset lines
  int panics = 0;
  std::string panic_reason;                // the first panic's: "LoadProhibited"
  std::string panic_line, backtrace_line;  // the first panic's lines as printed
  std::optional<TimePoint> first_panic;
  std::optional<Banner> banner;  // the last banner seen
  bool prompt = false;
  bool rom_entry = false;             // the ROM handed over to the bootloader ("entry 0x...")
  std::uint64_t bytes_after_rom = 0;  // bytes after the last ROM "entry" line
  LedSummary led;

  bool failed() const { return failure != BootFailure::none; }
  // One line that names the breakage, a predicate for "the firmware ...": "panics at boot: LoadProhibited,
  // reboots every 0.5 s (9 panics, 10 ROM reset lines in 6.0 s)".
  std::string describe() const;
  nlohmann::json to_json() const;
};

// Judges a boot from its boot-log events (those since the reset), the reader's byte count now
// (BootLogRecorder::bytes_seen) and, on LED rigs, the LED summary over the same watch [from, until].
BootDiagnosis diagnose_boot(const std::vector<BootEvent>& events, std::uint64_t bytes_seen, TimePoint from,
                            TimePoint until, const LedSummary& led);

}  // namespace bootrig
