// One timeline per run: every action and observation as a JSON Lines event on the monotonic clock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootrig/core/time.hpp"
#include "bootrig/hw/gpio.hpp"

namespace bootrig {

// What an event is about. The JSON "kind" field is to_string() of it.
enum class EventKind : std::uint8_t {
  output,       // bootrig changed an output line: "line", "level", "requested" (ns), t = when it took effect
  led_edge,     // the photodiode saw an edge: "line", "edge"; t = kernel timestamp
  serial,       // bytes crossed the serial link: "dir" rx|tx, "port", "n", "data" (escape_bytes)
  step_start,   // a scenario step began: "step"
  step_end,     // a scenario step ended: "step", "outcome", optional "detail"
  boot,         // the boot-log reader recognised something: "event" plus its fields
  led_pattern,  // the LED decoder saw a pattern start or end: "pattern", measurements
  note,         // anything else worth having on the timeline: "text"
};
const char* to_string(EventKind k);

enum class SerialDirection : std::uint8_t { rx, tx };
const char* to_string(SerialDirection d);

namespace detail {
// A file opened O_APPEND, closed on destruction; each append is whole-or-error.
class AppendFile {
 public:
  explicit AppendFile(const std::filesystem::path& path);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(const std::string& data);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};
}  // namespace detail

// Appends events to <dir>/events.jsonl and serial chunks to <dir>/serial.log, both as they happen.
// Each event is one write(2) of one complete line on an O_APPEND descriptor: no user-space buffer, so a
// crash or SIGKILL loses at most the event being written (no fsync: surviving a power cut is not the
// goal). Thread-safe; "seq" numbers events in file order, "t" is monotonic nanoseconds (to_ns).
//
// serial.log has one line per chunk: `<seconds>.<nanoseconds> rx|tx <port> "<escaped bytes>"`.
class Timeline {
 public:
  // Creates `dir` if needed and opens both files for appending. Throws RigError naming the file when
  // it cannot.
  explicit Timeline(const std::filesystem::path& dir);
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path events_path() const { return dir_ / "events.jsonl"; }
  std::filesystem::path serial_log_path() const { return dir_ / "serial.log"; }

  // The general form: {"t":..., "seq":..., "kind":..., ...fields}. `fields` must be an object (or null).
  void record(EventKind kind, TimePoint t, nlohmann::json fields = nlohmann::json::object());

  void output_change(std::string_view line, Level level, TimePoint requested, TimePoint effective);
  void led_edge(std::string_view line, const LineEvent& e);
  // Also appends the chunk to serial.log.
  void serial(SerialDirection dir, std::string_view port, TimePoint t, std::string_view bytes);
  void step_start(std::string_view step, TimePoint t = now());
  void step_end(std::string_view step, std::string_view outcome, TimePoint t = now(),
                nlohmann::json detail = nullptr);
  void note(std::string_view text, TimePoint t = now());

  std::uint64_t events_written() const;

 private:
  std::filesystem::path dir_;
  detail::AppendFile events_;
  detail::AppendFile serial_log_;
  mutable std::mutex mu_;
  std::uint64_t seq_ = 0;
};

// Reads an events.jsonl back, in file order. A last line cut short by a crash is skipped; any other
// malformed line throws RigError naming the file and line.
std::vector<nlohmann::json> read_events(const std::filesystem::path& events_file);

// One line of serial traffic as a terminal shows it, reassembled from the chunks of a timeline's serial
// events. A line ends at "\r\n", "\n" or "\r" (a terminal's Enter is "\r"); the line end is not kept.
struct SerialLine {
  SerialDirection dir = SerialDirection::rx;
  std::int64_t start_ns = 0;  // the chunk that brought its first byte (monotonic, as events' "t")
  std::int64_t end_ns = 0;    // the chunk that ended it
  std::string bytes;          // raw, without the line end
  // false: no line end came; the line was cut by traffic the other way (a prompt, then what bootrig typed),
  // by its length, or by the end of the record.
  bool ended = true;
};
// The serial events' lines in time order. Traffic one way cuts the other way's unfinished line, so a prompt
// and what was typed at it stay in the order they happened.
std::vector<SerialLine> serial_lines(const std::vector<nlohmann::json>& events);

}  // namespace bootrig
