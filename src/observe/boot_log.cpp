// Line-by-line recognition of ROM, bootloader, firmware and REPL messages in the serial stream.
#include "bootrig/observe/boot_log.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

#include "bootrig/core/interrupt.hpp"
#include "bootrig/observe/timeline.hpp"

namespace bootrig {

const char* to_string(BootEventKind k) {
  switch (k) {
    case BootEventKind::rom_reset:
      return "rom_reset";
    case BootEventKind::download_wait:
      return "download_wait";
    case BootEventKind::banner:
      return "banner";
    case BootEventKind::help_hint:
      return "help_hint";
    case BootEventKind::prompt:
      return "prompt";
    case BootEventKind::raw_repl:
      return "raw_repl";
    case BootEventKind::traceback:
      return "traceback";
    case BootEventKind::soft_reboot:
      return "soft_reboot";
    case BootEventKind::rollback:
      return "rollback";
    case BootEventKind::ota:
      return "ota";
    case BootEventKind::rom_entry:
      return "rom_entry";
    case BootEventKind::panic:
      return "panic";
    case BootEventKind::backtrace:
      return "backtrace";
    case BootEventKind::rebooting:
      return "rebooting";
  }
  return "?";
}

const char* to_string(OtaMessage m) {
  switch (m) {
    case OtaMessage::full_image:
      return "full_image";
    case OtaMessage::differential_image:
      return "differential_image";
    case OtaMessage::differential_disabled:
      return "differential_disabled";
  }
  return "?";
}

nlohmann::json to_json(const BootEvent& e) {
  nlohmann::json j = {{"event", to_string(e.kind)},
                      {"first_byte", to_ns(e.first_byte)},
                      {"offset", e.offset},
                      {"end_offset", e.end_offset},
                      {"text", e.text}};
  if (e.rom) {
    j["cause"] = e.rom->cause;
    j["cause_name"] = e.rom->cause_name;
    j["boot_mode"] = e.rom->boot_mode;
    j["boot_mode_name"] = e.rom->boot_mode_name;
  }
  if (e.banner) {
    j["pycom"] = e.banner->pycom;
    j["version"] = e.banner->version;
    j["git_tag"] = e.banner->git_tag;
    j["build_date"] = e.banner->build_date;
    j["board"] = e.banner->board;
    j["mcu"] = e.banner->mcu;
  }
  if (e.exception) {
    j["type"] = e.exception->type;
    j["message"] = e.exception->message;
    nlohmann::json frames = nlohmann::json::array();
    for (const auto& f : e.exception->traceback) {
      frames.push_back({{"file", f.file}, {"line", f.line}, {"function", f.function}});
    }
    j["frames"] = std::move(frames);
  }
  if (e.kind == BootEventKind::soft_reboot) j["prefix"] = e.soft_reboot_prefix;
  if (e.ota) j["ota"] = to_string(*e.ota);
  if (e.panic) {
    j["core"] = e.panic->core;
    j["reason"] = e.panic->reason;
  }
  return j;
}

namespace {

// A line longer than this is not one of the messages recognised here (binary noise, a huge print):
// only its start is kept, so memory stays bounded whatever arrives.
constexpr std::size_t kMaxBootLine = 1024;
constexpr std::string_view kBootLogPrompt = ">>> ";

// Control bytes before the text (a \x04 from the raw REPL, a NUL from a reset glitch) and the line end
// after it are not part of the message.
std::string_view clean(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) < 0x20) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::size_t leading_controls(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && static_cast<unsigned char>(s[n]) < 0x20) ++n;
  return n;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Hand-written matchers rather than std::regex: these run on every received line, and g++ 12 warns
// falsely inside <regex> under the sanitizers.
bool take_prefix(std::string_view& s, std::string_view p) {
  if (!starts_with(s, p)) return false;
  s.remove_prefix(p.size());
  return true;
}

// Up to 8 hex digits (a 32-bit register's worth, unsigned so that "ffffffff" cannot overflow); a value
// beyond int is no reset cause or boot mode the ROM prints, so the line is not a ROM line.
std::optional<int> take_hex(std::string_view& s) {
  std::uint32_t v = 0;
  std::size_t n = 0;
  while (n < s.size() && n < 8 && std::isxdigit(static_cast<unsigned char>(s[n]))) {
    char c = s[n];
    v = v * 16 + static_cast<std::uint32_t>(
                     std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
    ++n;
  }
  if (n == 0 || v > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) return std::nullopt;
  s.remove_prefix(n);
  return static_cast<int>(v);
}

// rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)
std::optional<RomReset> parse_rom_line(std::string_view s) {
  RomReset r;
  if (!take_prefix(s, "rst:0x")) return std::nullopt;
  auto cause = take_hex(s);
  if (!cause || !take_prefix(s, " (")) return std::nullopt;
  auto close = s.find(')');
  if (close == std::string_view::npos) return std::nullopt;
  r.cause = *cause;
  r.cause_name = std::string(s.substr(0, close));
  s.remove_prefix(close + 1);
  if (!take_prefix(s, ",boot:0x")) return std::nullopt;
  auto mode = take_hex(s);
  // The boot mode's name may hold parentheses itself: DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2).
  if (!mode || !take_prefix(s, " (") || s.empty() || s.back() != ')') return std::nullopt;
  r.boot_mode = *mode;
  r.boot_mode_name = std::string(s.substr(0, s.size() - 1));
  return r;
}

bool is_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  }
  return true;
}

// Pycom:    Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32
// Upstream: MicroPython v1.22.0 on 2023-12-27; Generic ESP32 module with ESP32
std::optional<Banner> parse_banner(std::string_view s) {
  Banner b;
  b.pycom = take_prefix(s, "Pycom ");
  if (!take_prefix(s, "MicroPython ")) return std::nullopt;
  auto sp = s.find(' ');
  if (sp == 0 || sp == std::string_view::npos) return std::nullopt;
  b.version = std::string(s.substr(0, sp));
  s.remove_prefix(sp);
  if (take_prefix(s, " [")) {
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    b.git_tag = std::string(s.substr(0, close));
    s.remove_prefix(close + 1);
  }
  if (!take_prefix(s, " on ") || s.size() < 10 || !is_date(s.substr(0, 10))) return std::nullopt;
  b.build_date = std::string(s.substr(0, 10));
  s.remove_prefix(10);
  if (!take_prefix(s, "; ") || s.empty()) return std::nullopt;
  auto with = s.rfind(" with ");
  if (with != std::string_view::npos && with > 0 && s.find(' ', with + 6) == std::string_view::npos &&
      with + 6 < s.size()) {
    b.board = std::string(s.substr(0, with));
    b.mcu = std::string(s.substr(with + 6));
  } else {
    b.board = std::string(s);
  }
  return b;
}

// "PYB: soft reboot", "MPY: soft reboot" or a bare "soft reboot"; the prefix, when the line is one.
std::optional<std::string> parse_soft_reboot(std::string_view s) {
  constexpr std::string_view kTail = "soft reboot";
  if (s == kTail) return std::string();
  if (s.size() <= kTail.size() + 2 || s.substr(s.size() - kTail.size()) != kTail) return std::nullopt;
  auto head = s.substr(0, s.size() - kTail.size());
  if (head.size() < 3 || head.substr(head.size() - 2) != ": ") return std::nullopt;
  head.remove_suffix(2);
  for (char c : head) {
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  return std::string(head);
}

// Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.
// (ESP-IDF 3.x pads the core number to two places; later versions print one space.)
std::optional<Panic> parse_panic(std::string_view s) {
  if (!take_prefix(s, "Guru Meditation Error: Core ")) return std::nullopt;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  Panic p;
  std::size_t n = 0;
  while (n < s.size() && n < 2 && std::isdigit(static_cast<unsigned char>(s[n]))) {
    p.core = p.core * 10 + (s[n] - '0');
    ++n;
  }
  if (n == 0) return std::nullopt;
  s.remove_prefix(n);
  if (!take_prefix(s, " panic'ed (")) return std::nullopt;
  auto close = s.rfind(')');
  if (close == std::string_view::npos || close == 0) return std::nullopt;
  p.reason = std::string(s.substr(0, close));
  return p;
}

}  // namespace

BootEvent BootLogReader::make(BootEventKind k, std::string text, TimePoint first, std::uint64_t begin,
                              TimePoint t, std::uint64_t end) const {
  BootEvent e;
  e.kind = k;
  e.time = t;
  e.first_byte = first;
  e.offset = begin;
  e.end_offset = end;
  e.text = std::move(text);
  return e;
}

std::vector<BootEvent> BootLogReader::feed(std::string_view bytes, TimePoint arrival) {
  std::vector<BootEvent> out;
  for (char c : bytes) {
    if (c == '\n' || c == '\x04') {
      ++offset_;
      complete_line(arrival, out);
      line_offset_ = offset_;
      line_first_ = arrival;
      continue;
    }
    if (line_.empty() && line_offset_ == offset_) line_first_ = arrival;
    if (line_.size() < kMaxBootLine) line_ += c;
    ++offset_;
  }
  check_partial(arrival, out);
  return out;
}

void BootLogReader::check_partial(TimePoint t, std::vector<BootEvent>& out) {
  if (line_prompt_reported_ || in_traceback_) return;
  std::size_t skip = leading_controls(line_);
  if (std::string_view(line_).substr(skip, kBootLogPrompt.size()) == kBootLogPrompt) {
    line_prompt_reported_ = true;
    out.push_back(make(BootEventKind::prompt, std::string(kBootLogPrompt), line_first_, line_offset_ + skip, t,
                       line_offset_ + skip + kBootLogPrompt.size()));
  }
}

void BootLogReader::complete_line(TimePoint t, std::vector<BootEvent>& out) {
  std::string raw = std::move(line_);
  line_.clear();
  bool prompt_reported = line_prompt_reported_;
  line_prompt_reported_ = false;
  std::string_view text = clean(raw);
  TimePoint first = line_first_;
  std::uint64_t begin = line_offset_;
  std::uint64_t end = offset_;

  if (in_traceback_) {
    if (text.empty()) return;
    if (is_traceback_header(text)) {
      traceback_text_ = std::string(text) + "\n";
      traceback_first_ = first;
      traceback_offset_ = begin;
      return;
    }
    traceback_text_ += std::string(text) + "\n";
    if (text.front() == ' ') return;  // a frame line
    // The first line that is not indented ends the traceback: it names the exception.
    in_traceback_ = false;
    BootEvent e =
        make(BootEventKind::traceback, traceback_text_, traceback_first_, traceback_offset_, t, end);
    e.exception = parse_exception(traceback_text_);
    if (!e.text.empty() && e.text.back() == '\n') e.text.pop_back();
    out.push_back(std::move(e));
    traceback_text_.clear();
    return;
  }
  if (text.empty()) return;

  if (is_traceback_header(text)) {
    in_traceback_ = true;
    traceback_text_ = std::string(text) + "\n";
    traceback_first_ = first;
    traceback_offset_ = begin;
    return;
  }
  if (starts_with(text, ">>>")) {
    if (!prompt_reported) {
      std::uint64_t at = begin + leading_controls(raw);
      out.push_back(make(BootEventKind::prompt, std::string(kBootLogPrompt), first, at, t, at + kBootLogPrompt.size()));
    }
    return;  // what follows a prompt is an echo of what was typed, not a message
  }

  std::string s(text);
  if (auto rom = starts_with(text, "rst:") ? parse_rom_line(text) : std::nullopt) {
    BootEvent e = make(BootEventKind::rom_reset, s, first, begin, t, end);
    e.rom = std::move(rom);
    out.push_back(std::move(e));
  } else if (starts_with(text, "entry 0x")) {
    out.push_back(make(BootEventKind::rom_entry, s, first, begin, t, end));
  } else if (auto panic = starts_with(text, "Guru Meditation Error") ? parse_panic(text) : std::nullopt) {
    BootEvent e = make(BootEventKind::panic, s, first, begin, t, end);
    e.panic = std::move(panic);
    out.push_back(std::move(e));
  } else if (starts_with(text, "Backtrace: 0x") || starts_with(text, "Backtrace:0x")) {
    out.push_back(make(BootEventKind::backtrace, s, first, begin, t, end));
  } else if (text == "Rebooting...") {
    out.push_back(make(BootEventKind::rebooting, s, first, begin, t, end));
  } else if (text == "waiting for download") {
    out.push_back(make(BootEventKind::download_wait, s, first, begin, t, end));
  } else if (auto banner = parse_banner(text)) {
    BootEvent e = make(BootEventKind::banner, s, first, begin, t, end);
    e.banner = std::move(banner);
    out.push_back(std::move(e));
  } else if (starts_with(text, "Type \"help()\" for more information")) {
    out.push_back(make(BootEventKind::help_hint, s, first, begin, t, end));
  } else if (text == "raw REPL; CTRL-B to exit") {
    out.push_back(make(BootEventKind::raw_repl, s, first, begin, t, end));
  } else if (auto prefix = parse_soft_reboot(text)) {
    BootEvent e = make(BootEventKind::soft_reboot, s, first, begin, t, end);
    e.soft_reboot_prefix = std::move(*prefix);
    out.push_back(std::move(e));
  } else if (starts_with(text, "Cannot load Firmware img in the active partition")) {
    out.push_back(make(BootEventKind::rollback, s, first, begin, t, end));
  } else if (starts_with(text, "Full Update Image detected.")) {
    BootEvent e = make(BootEventKind::ota, s, first, begin, t, end);
    e.ota = OtaMessage::full_image;
    out.push_back(std::move(e));
  } else if (starts_with(text, "Differential Update Image detected.")) {
    BootEvent e = make(BootEventKind::ota, s, first, begin, t, end);
    e.ota = text.find("disabled") != std::string_view::npos ? OtaMessage::differential_disabled
                                                            : OtaMessage::differential_image;
    out.push_back(std::move(e));
  }
}

void BootLogRecorder::feed(const SerialChunk& chunk) {
  std::vector<BootEvent> fresh;
  {
    std::lock_guard lock(mu_);
    fresh = reader_.feed(chunk);
    if (fresh.empty()) return;
    events_.insert(events_.end(), fresh.begin(), fresh.end());
  }
  cv_.notify_all();
  if (timeline_) {
    for (const auto& e : fresh) timeline_->record(EventKind::boot, e.time, to_json(e));
  }
}

std::vector<BootEvent> BootLogRecorder::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<BootEvent> BootLogRecorder::events_since(std::size_t first) const {
  std::lock_guard lock(mu_);
  if (first >= events_.size()) return {};
  return {events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end()};
}

std::uint64_t BootLogRecorder::bytes_seen() const {
  std::lock_guard lock(mu_);
  return reader_.bytes_seen();
}

std::size_t BootLogRecorder::size() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

std::optional<BootEvent> BootLogRecorder::wait_for(const std::function<bool(const BootEvent&)>& match,
                                                   std::size_t first, Deadline deadline) const {
  std::unique_lock lock(mu_);
  std::size_t next = first;
  for (;;) {
    for (; next < events_.size(); ++next) {
      if (match(events_[next])) return events_[next];
    }
    interrupt::throw_if_requested();
    if (deadline.expired()) return std::nullopt;
    // Condition variables cannot poll the interrupt fd: wake at least this often to notice Ctrl-C.
    auto slice = Deadline::after(milliseconds(50)).min(deadline);
    cv_.wait_until(lock, slice.when());
  }
}

}  // namespace bootrig
