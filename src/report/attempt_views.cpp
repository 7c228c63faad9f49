// serial.txt and signals.vcd: an attempt's events.jsonl as a terminal and a waveform viewer show it.
#include "bootrig/report/attempt_views.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <regex>

#include "bootrig/core/errors.hpp"
#include "bootrig/report/writers.hpp"

namespace bootrig {

std::string visible_serial_text(const std::string& bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size();) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    std::size_t n = utf8_char_length(bytes, i);
    bool ok = n > 0 && !(n == 1 && (c < 0x20 || c == 0x7f));
    // C1 controls (U+0080..U+009F) move terminals as C0 ones do.
    if (ok && n == 2 && c == 0xc2 && static_cast<unsigned char>(bytes[i + 1]) < 0xa0) ok = false;
    if (ok) {
      out.append(bytes, i, n);
      i += n;
      continue;
    }
    char buf[8];
    if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    ++i;
  }
  return out;
}

std::string to_serial_text(const std::vector<SerialLine>& lines, std::int64_t origin_ns) {
  std::string s =
      "# What crossed the serial port in this attempt, a line per line: seconds since the attempt began, rx "
      "(the board printed it) or tx (bootrig sent it), the text with control bytes as \\xNN. serial.log has "
      "the "
      "raw chunks.\n";
  char head[48];
  for (const auto& l : lines) {
    double secs = static_cast<double>(l.start_ns - origin_ns) / 1e9;
    std::snprintf(head, sizeof head, "%9.3f %s  ", secs, to_string(l.dir));
    s += head + visible_serial_text(l.bytes) + (l.ended ? "" : " [no line end]") + "\n";
  }
  return s;
}

namespace {

// A value change for the VCD: time in microseconds, the signal's identifier, its new value as VCD spells it.
struct VcdChange {
  std::int64_t us;
  char id;
  std::string value;
};

constexpr char kVcdP12 = '!', kVcdReset = '"', kVcdP2 = '$', kVcdLed = '%', kVcdRxBusy = '&',
               kVcdTxBusy = '\'', kVcdRxLine = '(', kVcdTxLine = ')';

// GTKWave's string values end at whitespace: spaces become "_" so a line stays one value.
std::string vcd_string_value(const std::string& bytes) {
  std::string v = visible_serial_text(bytes);
  std::replace(v.begin(), v.end(), ' ', '_');
  return v.empty() ? "(empty)" : v;
}

// Busy intervals of one direction, merged where bytes followed each other without a gap.
void vcd_add_busy(std::vector<std::pair<std::int64_t, std::int64_t>>& busy, std::int64_t from,
                  std::int64_t to) {
  if (!busy.empty() && from <= busy.back().second) {
    busy.back().second = std::max(busy.back().second, to);
    return;
  }
  busy.emplace_back(from, to);
}

}  // namespace

std::string to_vcd(const std::vector<nlohmann::json>& events, const RigView& rig) {
  // From the earliest event: LED edges the watcher read late (they happened between attempts) come before
  // the attempt's first event.
  std::int64_t first_us = 0, last_us = 0;
  if (!events.empty()) {
    first_us = events.front().value("t", std::int64_t{0}) / 1000;
    last_us = first_us;
  }
  for (const auto& e : events) {
    first_us = std::min(first_us, e.value("t", std::int64_t{0}) / 1000);
    last_us = std::max(last_us, e.value("t", std::int64_t{0}) / 1000);
  }
  std::vector<VcdChange> changes;
  std::vector<std::pair<std::int64_t, std::int64_t>> busy[2];
  std::optional<bool> led_at_start, led_note;
  double baud = rig.baud;
  static const std::regex baud_note(R"(now at ([0-9]+) baud)");
  for (const auto& e : events) {
    const std::string kind = e.value("kind", std::string());
    const std::int64_t us = e.value("t", std::int64_t{0}) / 1000;
    if (kind == "output") {
      const std::string line = e.value("line", std::string());
      char id = line == "safeboot"     ? kVcdP12
                : line == "reset"      ? kVcdReset
                : line == "bootloader" ? kVcdP2
                                       : 0;
      if (id) changes.push_back({us, id, e.value("level", 0) ? "1" : "0"});
    } else if (kind == "led_edge") {
      bool lit = e.value("edge", std::string()) == "rising";
      if (!led_at_start) led_at_start = !lit;
      changes.push_back({us, kVcdLed, lit ? "1" : "0"});
    } else if (kind == "note" && e.contains("led_level")) {
      // What the watcher found: the LED's level when there is no edge to tell it (an edge comes first in
      // the file only when it was read before the note was written).
      if (!led_at_start) led_note = e.value("led_level", 0) != 0;
    } else if (kind == "note") {
      std::smatch m;
      const std::string text = e.value("text", std::string());
      if (std::regex_search(text, m, baud_note)) baud = std::stod(m[1].str());
    } else if (kind == "serial") {
      const bool rx = e.value("dir", std::string()) != "tx";
      // 10 bits a byte (start, 8 data, stop): received bytes were on the wire before the read returned
      // them, sent ones after the write handed them over.
      auto on_wire = static_cast<std::int64_t>(e.value("n", 0) * 10 * 1e6 / std::max(baud, 1.0));
      std::int64_t from = rx ? std::max(first_us, us - on_wire) : us;
      std::int64_t to = std::max(rx ? us : us + on_wire, from + 1);
      vcd_add_busy(busy[rx ? 0 : 1], from, to);
      last_us = std::max(last_us, to);
    }
  }
  for (int d = 0; d < 2; ++d)
    for (const auto& [from, to] : busy[d]) {
      changes.push_back({from, d == 0 ? kVcdRxBusy : kVcdTxBusy, "1"});
      changes.push_back({to, d == 0 ? kVcdRxBusy : kVcdTxBusy, "0"});
    }
  for (const auto& l : serial_lines(events))
    changes.push_back({l.start_ns / 1000, l.dir == SerialDirection::rx ? kVcdRxLine : kVcdTxLine,
                       "s" + vcd_string_value(l.bytes)});
  std::stable_sort(changes.begin(), changes.end(),
                   [](const VcdChange& a, const VcdChange& b) { return a.us < b.us; });

  std::string v =
      "$version bootrig " BOOTRIG_VERSION
      " $end\n"
      "$comment times are CLOCK_MONOTONIC microseconds, the clock of events.jsonl; the lines are 1 while "
      "asserted, led is 1 while lit (as the photodiode saw it), rx_busy/tx_busy are 1 while bytes are on the "
      "wire $end\n"
      "$timescale 1 us $end\n"
      "$scope module bootrig $end\n"
      "$var wire 1 ! p12 $end\n"
      "$var wire 1 \" reset $end\n"
      "$var wire 1 $ p2 $end\n"
      "$var wire 1 % led $end\n"
      "$var wire 1 & rx_busy $end\n"
      "$var wire 1 ' tx_busy $end\n"
      "$var string 1 ( rx_line $end\n"
      "$var string 1 ) tx_line $end\n"
      "$upscope $end\n"
      "$enddefinitions $end\n";
  v += "#" + std::to_string(first_us) + "\n$dumpvars\n0!\n0\"\n";
  v += rig.p2 ? "0$\n" : "x$\n";
  if (!led_at_start) led_at_start = led_note;
  v += !rig.led || !led_at_start ? "x%\n" : *led_at_start ? "1%\n" : "0%\n";
  v += "0&\n0'\n$end\n";
  std::int64_t at = first_us;
  for (const auto& c : changes) {
    std::int64_t us = std::max(c.us, first_us);
    if (us != at) v += "#" + std::to_string(us) + "\n";
    at = us;
    v += c.value + (c.value.front() == 's' ? " " : "") + c.id + "\n";
  }
  // A change at the very end is only shown by readers when time goes on past it.
  v += "#" + std::to_string(std::max(last_us, at) + 1) + "\n";
  return v;
}

void write_attempt_views(const std::filesystem::path& attempt_dir, const RigView& rig) {
  std::error_code ec;
  if (!std::filesystem::exists(attempt_dir / "events.jsonl", ec)) return;
  auto events = read_events(attempt_dir / "events.jsonl");
  std::int64_t origin = events.empty() ? 0 : events.front().value("t", std::int64_t{0});
  write_file_atomically(attempt_dir / "serial.txt", to_serial_text(serial_lines(events), origin));
  write_file_atomically(attempt_dir / "signals.vcd", to_vcd(events, rig));
}

}  // namespace bootrig
