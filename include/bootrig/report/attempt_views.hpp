// What one attempt's timeline looks like to a person: serial.txt (the serial lines as a terminal shows them)
// and signals.vcd (pins, LED and serial activity for PulseView and GTKWave), both made from events.jsonl.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootrig/observe/timeline.hpp"
#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

// What the views need to know of the rig an attempt ran on.
struct RigView {
  unsigned baud = 115200;  // how long a serial chunk kept the line busy (a baud change noted later counts)
  bool led = true;         // a photodiode watches the LED: without one the LED lane is unknown, not dark
  bool p2 = false;         // P2 (download mode) is wired: without it the P2 lane is unknown
  TimingProfile timing;    // where the bootloader's windows are, for the report's shading
};

// A serial line made readable: control bytes and invalid UTF-8 as \xNN (\t as \t), the rest as it is.
std::string visible_serial_text(const std::string& bytes);

// serial.txt: a header, then "  12.345 rx  text" per line, time in seconds since `origin_ns` (the attempt's
// first event); a line that had no line end says "[no line end]".
std::string to_serial_text(const std::vector<SerialLine>& lines, std::int64_t origin_ns);

// signals.vcd: P12, RESET, P2 (asserted = 1), the LED as the photodiode saw it (lit = 1), serial activity per
// direction (1 while bytes are on the wire, from their count and the baud rate), and each serial line's text
// as a GTKWave string signal. Times are CLOCK_MONOTONIC microseconds, the clock of events.jsonl's "t"; the
// dump starts at the earliest event (LED edges read late can precede the attempt's first) and ends 1 us after
// the last.
std::string to_vcd(const std::vector<nlohmann::json>& events, const RigView& rig);

// Reads `attempt_dir`/events.jsonl and writes serial.txt and signals.vcd beside it (each atomically). A
// folder without events.jsonl (the attempt never started its timeline) gets nothing.
void write_attempt_views(const std::filesystem::path& attempt_dir, const RigView& rig);

}  // namespace bootrig
