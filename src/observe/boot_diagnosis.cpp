// Names a failed boot from its boot-log events and LED spans: pure, so that a recorded run judges the same.
#include "bootrig/observe/boot_diagnosis.hpp"

#include <cstdio>

namespace bootrig {

namespace {

// ROM reset causes a RESET pin or power-up gives; every other one the chip made itself (software reset,
// watchdogs, brown-out).
bool external_reset(int cause) { return cause == 0x1; }

// Two decimals under a second: a panic loop's period is often a fraction of one.
std::string seconds_of(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, d < seconds(1) ? "%.2f s" : "%.1f s", to_ms(d) / 1000.0);
  return buf;
}

}  // namespace

const char* to_string(BootFailure f) {
  switch (f) {
    case BootFailure::none:
      return "none";
    case BootFailure::panic_loop:
      return "panic-loop";
    case BootFailure::panic:
      return "panic";
    case BootFailure::reboot_loop:
      return "reboot-loop";
    case BootFailure::hang_after_banner:
      return "hang-after-banner";
    case BootFailure::hang_before_banner:
      return "hang-before-banner";
    case BootFailure::silent_uart:
      return "silent-uart";
    case BootFailure::silent_after_rom:
      return "silent-after-rom";
    case BootFailure::silent:
      return "silent";
  }
  return "?";
}

LedSummary summarize_led(const std::vector<LedMeasurement>& history, const LedMeasurement& current,
                         TimePoint from, TimePoint until) {
  LedSummary s;
  s.watched = true;
  auto take = [&](const LedMeasurement& m) {
    if (m.start > until || (m.end && *m.end < from)) return;
    if (m.pattern == LedPattern::unknown) return;
    // A heartbeat of this boot started after the reset, or still shows at the end of the watch. One from
    // before the reset ends in the reset's dark LED, though the decoder can only end it a period later.
    if (m.pattern == LedPattern::heartbeat) {
      if (m.start < from && m.end && *m.end < until) return;
      s.heartbeat = true;
    }
    std::string name = to_string(m.pattern);
    if (s.patterns.size() >= name.size() &&
        s.patterns.compare(s.patterns.size() - name.size(), name.size(), name) == 0)
      return;  // the same pattern again after an unknown gap
    s.patterns += (s.patterns.empty() ? "" : ", ") + name;
  };
  for (const auto& m : history) take(m);
  take(current);
  return s;
}

BootDiagnosis diagnose_boot(const std::vector<BootEvent>& events, std::uint64_t bytes_seen, TimePoint from,
                            TimePoint until, const LedSummary& led) {
  BootDiagnosis d;
  d.from = from;
  d.watched = until - from;
  d.led = led;
  std::optional<TimePoint> first_reset, last_reset;
  std::uint64_t entry_end = 0;
  for (const auto& e : events) {
    switch (e.kind) {
      case BootEventKind::rom_reset:
        ++d.resets;
        if (e.rom && !external_reset(e.rom->cause)) ++d.self_resets;
        if (!first_reset) first_reset = e.first_byte;
        last_reset = e.first_byte;
        // A new boot: what came before it is another boot's.
        d.rom_entry = false;
        d.banner.reset();
        d.prompt = false;
        break;
      case BootEventKind::rom_entry:
        d.rom_entry = true;
        entry_end = e.end_offset;
        break;
      case BootEventKind::panic:
        if (d.panics++ == 0) {
          d.panic_reason = e.panic ? e.panic->reason : "";
          d.panic_line = e.text;
          d.first_panic = e.first_byte;
        }
        break;
      case BootEventKind::backtrace:
        if (d.backtrace_line.empty()) d.backtrace_line = e.text;
        break;
      case BootEventKind::banner:
        d.banner = e.banner;
        break;
      case BootEventKind::prompt:
        d.prompt = true;
        break;
      default:
        break;
    }
  }
  if (d.resets >= 2 && first_reset && last_reset) d.period = (*last_reset - *first_reset) / (d.resets - 1);
  if (d.rom_entry) d.bytes_after_rom = bytes_seen > entry_end ? bytes_seen - entry_end : 0;

  // A blank line or two after the ROM's last line is the ROM's own; anything more is the firmware speaking.
  constexpr std::uint64_t kRomTrailer = 4;
  if (d.panics > 0) {
    d.failure = d.self_resets > 0 ? BootFailure::panic_loop : BootFailure::panic;
  } else if (d.self_resets >= 2 && !d.prompt) {
    d.failure = BootFailure::reboot_loop;
  } else if (d.prompt) {
    d.failure = BootFailure::none;
  } else if (d.banner) {
    d.failure = BootFailure::hang_after_banner;
  } else if (d.rom_entry && d.bytes_after_rom <= kRomTrailer) {
    d.failure = !led.watched    ? BootFailure::silent_after_rom
                : led.heartbeat ? BootFailure::silent_uart
                                : BootFailure::hang_before_banner;
  } else if (d.resets > 0) {
    d.failure = BootFailure::hang_before_banner;
  } else {
    d.failure = BootFailure::silent;
  }
  return d;
}

std::string BootDiagnosis::describe() const {
  std::string counts =
      std::to_string(resets) + " ROM reset line" + (resets == 1 ? "" : "s") + " in " + seconds_of(watched);
  std::string every = period ? ", reboots every " + seconds_of(*period) : "";
  std::string led_text = !led.watched ? ""
                         : led.heartbeat
                             ? "; the heartbeat LED runs"
                             : "; the heartbeat never starts (LED: " +
                                   (led.patterns.empty() ? std::string("no pattern") : led.patterns) + ")";
  switch (failure) {
    case BootFailure::none:
      return "boots to its REPL" + std::string(banner ? " (" + banner->version + ")" : "");
    case BootFailure::panic_loop:
      return "panics at boot: " + panic_reason + every + " (" + std::to_string(panics) + " panics, " +
             counts + ")" + led_text;
    case BootFailure::panic:
      return "panics at boot: " + panic_reason + ", then stops (" + counts + ")" + led_text;
    case BootFailure::reboot_loop:
      return "reboots by itself without a panic message" + every + " (" + counts + ")" + led_text;
    case BootFailure::hang_after_banner:
      return "hangs after its banner (" + banner->version + "): no prompt within " + seconds_of(watched) +
             led_text;
    case BootFailure::hang_before_banner:
      return "hangs in its start-up before the banner: " +
             std::string(rom_entry && bytes_after_rom <= 4 ? "nothing on the UART after the ROM's lines"
                                                           : "no banner") +
             " within " + seconds_of(watched) + led_text;
    case BootFailure::silent_uart:
      return "keeps its UART silent after the ROM's lines (" + seconds_of(watched) +
             ") while the firmware runs: the heartbeat LED shows";
    case BootFailure::silent_after_rom:
      return "stays silent after the ROM's lines for " + seconds_of(watched) +
             " (a hang before the banner or a dead UART; no photodiode to tell them apart)";
    case BootFailure::silent:
      return "sends nothing on the UART, not even the ROM's lines, within " + seconds_of(watched);
  }
  return "?";
}

nlohmann::json BootDiagnosis::to_json() const {
  nlohmann::json j = {{"failure", to_string(failure)},
                      {"description", describe()},
                      {"watched_ms", to_ms(watched)},
                      {"resets", resets},
                      {"self_resets", self_resets},
                      {"panics", panics},
                      {"prompt", prompt},
                      {"rom_entry", rom_entry},
                      {"bytes_after_rom", bytes_after_rom}};
  j["period_ms"] = period ? nlohmann::json(to_ms(*period)) : nlohmann::json(nullptr);
  if (panics > 0) {
    j["panic_reason"] = panic_reason;
    j["panic_line"] = panic_line;
    j["backtrace"] = backtrace_line;
    if (first_panic) j["first_panic_after_reset_ms"] = to_ms(*first_panic - from);
  }
  j["banner"] = banner ? nlohmann::json(banner->version) : nlohmann::json(nullptr);
  if (led.watched) j["led"] = {{"heartbeat", led.heartbeat}, {"patterns", led.patterns}};
  return j;
}

}  // namespace bootrig
