// The run's timeline files: events.jsonl and serial.log, appended one write(2) per event.
#include "bootrig/observe/timeline.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "bootrig/core/bounded_file.hpp"
#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"

namespace bootrig {

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::output:
      return "output";
    case EventKind::led_edge:
      return "led_edge";
    case EventKind::serial:
      return "serial";
    case EventKind::step_start:
      return "step_start";
    case EventKind::step_end:
      return "step_end";
    case EventKind::boot:
      return "boot";
    case EventKind::led_pattern:
      return "led_pattern";
    case EventKind::note:
      return "note";
  }
  return "?";
}

const char* to_string(SerialDirection d) { return d == SerialDirection::rx ? "rx" : "tx"; }

namespace detail {

AppendFile::AppendFile(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw RigError("cannot open " + path.string() + " for appending: " + std::strerror(errno) +
                   "; check the run folder is writable");
  }
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

// Writes everything; a failed write (full disk) is reported rather than silently truncating the record
// that reports are built from.
void AppendFile::append(const std::string& data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RigError("cannot append to " + path_.string() + ": " + std::strerror(errno) +
                     "; check free space in the run folder");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace detail

namespace {
std::filesystem::path made_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw RigError("cannot create run folder " + dir.string() + ": " + ec.message());
  return dir;
}
}  // namespace

Timeline::Timeline(const std::filesystem::path& dir)
    : dir_(made_dir(dir)), events_(dir_ / "events.jsonl"), serial_log_(dir_ / "serial.log") {}

namespace {

// Which events record() copies to the log (bootrig -v shows them, --log-file keeps them): not step starts,
// nor notes made through record() (a session's notes: its progress output shows them already); note() logs
// its own.
bool logged_by_record(EventKind kind, const nlohmann::json& f) {
  if (kind == EventKind::step_start) return false;
  return kind != EventKind::note || f.contains("measurement") || f.contains("expectation");
}

// The log's copy of an event: pin changes, boot events, LED patterns, step ends, notes at debug; every serial
// chunk and LED edge at trace (-vv), with the event's monotonic time.
void log_event(EventKind kind, TimePoint t, const nlohmann::json& f) {
  const bool detail = kind == EventKind::serial || kind == EventKind::led_edge;
  auto level = detail ? spdlog::level::trace : spdlog::level::debug;
  if (!spdlog::should_log(level)) return;
  auto ns = to_ns(t);
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "[%" PRId64 ".%06" PRId64 "] ", ns / 1'000'000'000,
                (ns % 1'000'000'000) / 1000);
  std::string text;
  switch (kind) {
    case EventKind::output:
      text =
          "line " + f.value("line", std::string()) + " -> " + (f.value("level", 0) ? "active" : "inactive");
      break;
    case EventKind::serial:
      text = f.value("dir", std::string()) + " " + f.value("port", std::string()) + " \"" +
             f.value("data", std::string()) + "\"";
      break;
    case EventKind::step_end:
      text = "step '" + f.value("step", std::string()) + "' " + f.value("outcome", std::string());
      break;
    case EventKind::note:
      if (f.contains("text")) {
        text = "note: " + f.value("text", std::string());
        break;
      }
      [[fallthrough]];
    default:
      text = std::string(to_string(kind)) + " " +
             f.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  spdlog::log(level, "{}{}", stamp, text);
}

}  // namespace

void Timeline::record(EventKind kind, TimePoint t, nlohmann::json fields) {
  if (logged_by_record(kind, fields)) log_event(kind, t, fields);
  // "t", "seq" and "kind" lead every line so the file reads well with grep and less; the fields follow
  // in the caller's object. Built outside the lock; only numbering and the write are serialised, which
  // keeps "seq" equal to the file order.
  std::string rest = "}\n";
  if (fields.is_object() && !fields.empty()) {
    rest = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    rest.front() = ',';
    rest += '\n';
  }
  std::string head = "{\"t\":" + std::to_string(to_ns(t)) + ",\"seq\":";
  std::string kind_part = std::string(",\"kind\":\"") + to_string(kind) + "\"";
  std::lock_guard lock(mu_);
  events_.append(head + std::to_string(seq_) + kind_part + rest);
  ++seq_;
}

void Timeline::output_change(std::string_view line, Level level, TimePoint requested, TimePoint effective) {
  record(EventKind::output, effective,
         {{"line", line}, {"level", is_active(level) ? 1 : 0}, {"requested", to_ns(requested)}});
}

void Timeline::led_edge(std::string_view line, const LineEvent& e) {
  record(EventKind::led_edge, e.time, {{"line", line}, {"edge", to_string(e.edge)}});
}

void Timeline::serial(SerialDirection dir, std::string_view port, TimePoint t, std::string_view bytes) {
  std::string escaped = escape_bytes(bytes);
  {
    auto ns = to_ns(t);
    char stamp[48];
    std::snprintf(stamp, sizeof stamp, "%" PRId64 ".%09" PRId64 " ", ns / 1'000'000'000, ns % 1'000'000'000);
    std::string line = stamp;
    line += to_string(dir);
    line += ' ';
    line += port;
    line += " \"";
    line += escaped;
    line += "\"\n";
    std::lock_guard lock(mu_);
    serial_log_.append(line);
  }
  record(EventKind::serial, t,
         {{"dir", to_string(dir)}, {"port", port}, {"n", bytes.size()}, {"data", std::move(escaped)}});
}

void Timeline::step_start(std::string_view step, TimePoint t) {
  record(EventKind::step_start, t, {{"step", step}});
}

void Timeline::step_end(std::string_view step, std::string_view outcome, TimePoint t, nlohmann::json detail) {
  nlohmann::json f = {{"step", step}, {"outcome", outcome}};
  if (!detail.is_null()) f["detail"] = std::move(detail);
  record(EventKind::step_end, t, std::move(f));
}

void Timeline::note(std::string_view text, TimePoint t) {
  nlohmann::json f = {{"text", text}};
  log_event(EventKind::note, t, f);
  record(EventKind::note, t, std::move(f));
}

std::uint64_t Timeline::events_written() const {
  std::lock_guard lock(mu_);
  return seq_;
}

// The most read_events reads: ten times the largest attempt's event log the fault matrix wrote (6 MB, a
// scenario retried on a noisy line, every garbled byte an event).
const FileBound kEventLogBound{64ull * 1024 * 1024,
                               "ten times the largest event log of one scenario attempt (6 MB)"};

std::vector<nlohmann::json> read_events(const std::filesystem::path& events_file) {
  // Checked and bounded like every other file bootrig reads: a run folder handed over from elsewhere (or a
  // link to /dev/zero in its place) must not take the machine's memory.
  const std::string text = read_bounded_text(events_file, kEventLogBound, FileOrigin{"a run's event log"});
  std::vector<nlohmann::json> events;
  std::size_t begin = 0;
  int number = 0;
  while (begin < text.size()) {
    ++number;
    std::size_t end = text.find('\n', begin);
    const bool last_and_cut = end == std::string::npos;  // no newline: the writer died mid-line
    std::string_view line(text.data() + begin, (last_and_cut ? text.size() : end) - begin);
    begin = last_and_cut ? text.size() : end + 1;
    if (line.empty()) continue;
    try {
      events.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::parse_error&) {
      if (last_and_cut) break;
      throw RigError(events_file.string() + ":" + std::to_string(number) + ": not a JSON event");
    }
  }
  return events;
}

namespace {

// Longer than any line a board prints: a stream without line ends (binary, a flood) is cut here.
constexpr std::size_t kLongestSerialLine = 4096;

struct PendingSerialLine {
  std::string bytes;
  std::int64_t start_ns = 0;
  bool open = false;      // bytes have arrived since the last line end
  bool after_cr = false;  // the last byte was "\r": a "\n" right after it ends nothing more
};

void close_serial_line(PendingSerialLine& p, SerialDirection dir, std::int64_t t, bool ended,
                       std::vector<SerialLine>& out) {
  out.push_back({dir, p.start_ns, t, std::move(p.bytes), ended});
  p.bytes.clear();
  p.open = false;
}

}  // namespace

std::vector<SerialLine> serial_lines(const std::vector<nlohmann::json>& events) {
  std::vector<SerialLine> out;
  PendingSerialLine pending[2];
  for (const auto& e : events) {
    if (e.value("kind", std::string()) != "serial") continue;
    const SerialDirection dir =
        e.value("dir", std::string()) == "tx" ? SerialDirection::tx : SerialDirection::rx;
    const std::int64_t t = e.value("t", std::int64_t{0});
    const std::string bytes = unescape_bytes(e.value("data", std::string()));
    if (bytes.empty()) continue;
    PendingSerialLine& other = pending[dir == SerialDirection::rx ? 1 : 0];
    const SerialDirection other_dir = dir == SerialDirection::rx ? SerialDirection::tx : SerialDirection::rx;
    if (other.open) close_serial_line(other, other_dir, t, false, out);
    other.after_cr = false;
    PendingSerialLine& p = pending[static_cast<int>(dir)];
    for (char c : bytes) {
      const bool crlf_tail = c == '\n' && p.after_cr;
      p.after_cr = c == '\r';
      if (crlf_tail) continue;
      if (c == '\r' || c == '\n') {
        if (!p.open) p.start_ns = t;
        close_serial_line(p, dir, t, true, out);
        continue;
      }
      if (!p.open) {
        p.open = true;
        p.start_ns = t;
      }
      p.bytes += c;
      if (p.bytes.size() >= kLongestSerialLine) close_serial_line(p, dir, t, false, out);
    }
  }
  // Whatever is left was still arriving when the record ends (a prompt waiting for input).
  std::int64_t last = events.empty() ? 0 : events.back().value("t", std::int64_t{0});
  for (int d = 0; d < 2; ++d)
    if (pending[d].open) close_serial_line(pending[d], static_cast<SerialDirection>(d), last, false, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const SerialLine& a, const SerialLine& b) { return a.start_ns < b.start_ns; });
  return out;
}

}  // namespace bootrig
