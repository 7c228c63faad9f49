// Line-by-line recognition of ROM, bootloader, firmware and REPL messages in the serial stream.
#include "bootrig/observe/boot_log.hpp"

#include <regex>

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
  return j;
}

namespace {

// A line longer than this is not one of the messages recognised here (binary noise, a huge print):
// only its start is kept, so memory stays bounded whatever arrives.
constexpr std::size_t kMaxLine = 1024;
constexpr std::string_view kPrompt = ">>> ";

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

const std::regex& rom_regex() {
  static const std::regex r(R"(^rst:0x([0-9a-fA-F]+) \(([^)]*)\),boot:0x([0-9a-fA-F]+) \((.*)\)$)");
  return r;
}
const std::regex& banner_regex() {
  // Pycom:    Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32
  // Upstream: MicroPython v1.22.0 on 2023-12-27; Generic ESP32 module with ESP32
  static const std::regex r(
      R"(^(Pycom )?MicroPython (\S+)(?: \[([^\]]*)\])? on (\d{4}-\d{2}-\d{2}); (.+?)(?: with (\S+))?$)");
  return r;
}
const std::regex& soft_reboot_regex() {
  static const std::regex r(R"(^(?:([A-Z]+): )?soft reboot$)");
  return r;
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
    if (line_.size() < kMaxLine) line_ += c;
    ++offset_;
  }
  check_partial(arrival, out);
  return out;
}

void BootLogReader::check_partial(TimePoint t, std::vector<BootEvent>& out) {
  if (line_prompt_reported_ || in_traceback_) return;
  std::size_t skip = leading_controls(line_);
  if (std::string_view(line_).substr(skip, kPrompt.size()) == kPrompt) {
    line_prompt_reported_ = true;
    out.push_back(make(BootEventKind::prompt, std::string(kPrompt), line_first_, line_offset_ + skip, t,
                       line_offset_ + skip + kPrompt.size()));
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
      out.push_back(make(BootEventKind::prompt, std::string(kPrompt), first, at, t, at + kPrompt.size()));
    }
    return;  // what follows a prompt is an echo of what was typed, not a message
  }

  std::string s(text);
  std::smatch m;
  if (starts_with(text, "rst:") && std::regex_match(s, m, rom_regex())) {
    BootEvent e = make(BootEventKind::rom_reset, s, first, begin, t, end);
    e.rom = RomReset{static_cast<int>(std::stoul(m[1].str(), nullptr, 16)), m[2].str(),
                     static_cast<int>(std::stoul(m[3].str(), nullptr, 16)), m[4].str()};
    out.push_back(std::move(e));
  } else if (text == "waiting for download") {
    out.push_back(make(BootEventKind::download_wait, s, first, begin, t, end));
  } else if ((starts_with(text, "MicroPython ") || starts_with(text, "Pycom MicroPython ")) &&
             std::regex_match(s, m, banner_regex())) {
    BootEvent e = make(BootEventKind::banner, s, first, begin, t, end);
    e.banner = Banner{m[1].matched, m[2].str(), m[3].str(), m[4].str(), m[5].str(), m[6].str()};
    out.push_back(std::move(e));
  } else if (starts_with(text, "Type \"help()\" for more information")) {
    out.push_back(make(BootEventKind::help_hint, s, first, begin, t, end));
  } else if (text == "raw REPL; CTRL-B to exit") {
    out.push_back(make(BootEventKind::raw_repl, s, first, begin, t, end));
  } else if (text.find("soft reboot") != std::string_view::npos &&
             std::regex_match(s, m, soft_reboot_regex())) {
    BootEvent e = make(BootEventKind::soft_reboot, s, first, begin, t, end);
    e.soft_reboot_prefix = m[1].str();
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
