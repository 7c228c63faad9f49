// Recognising what a booting module prints on its UART: reset causes, banner, prompt, tracebacks, OTA.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootrig/core/time.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/repl/py_exception.hpp"

namespace bootrig {

class Timeline;

enum class BootEventKind : std::uint8_t {
  rom_reset,      // ESP32 ROM: "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"
  download_wait,  // ROM download mode: "waiting for download"
  banner,         // "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32"
  help_hint,      // 'Type "help()" for more information.'
  prompt,         // a friendly-REPL ">>> " at the start of a line
  raw_repl,       // "raw REPL; CTRL-B to exit"
  traceback,      // a complete traceback, header to exception line
  soft_reboot,    // "PYB: soft reboot" (Pycom, old upstream) or "MPY: soft reboot" (upstream)
  rollback,       // bootloader: "Cannot load Firmware img in the active partition! .. Defaulting back ..."
  ota,            // pycom.ota_finish(): "Full Update Image detected. Restart the device ..." and kin
  rom_entry,      // ROM: "entry 0x4009f6c4", the jump into the second-stage bootloader (its last line)
  panic,      // ESP-IDF: "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled."
  backtrace,  // ESP-IDF's panic handler: "Backtrace: 0x400d3c5e:0x3ffbb2a0 ..."
  rebooting,  // ESP-IDF's panic handler: "Rebooting..." (a software reset through the ROM follows)
};
const char* to_string(BootEventKind k);

struct RomReset {
  int cause = 0;               // 0x1
  std::string cause_name;      // "POWERON_RESET"
  int boot_mode = 0;           // 0x13
  std::string boot_mode_name;  // "SPI_FAST_FLASH_BOOT"
};

// "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled."
struct Panic {
  int core = 0;
  std::string reason;  // "LoadProhibited", "IllegalInstruction", "Interrupt wdt timeout on CPU0", ...
};

struct Banner {
  bool pycom = false;      // "Pycom MicroPython ..." rather than upstream "MicroPython ..."
  std::string version;     // "1.20.2.r4", "v1.22.0"
  std::string git_tag;     // "v1.11-a5aa0b8" (Pycom's bracket); empty upstream
  std::string build_date;  // "2021-01-12"
  std::string board;       // "FiPy", "Generic ESP32 module"
  std::string mcu;         // "ESP32"; empty when the banner names none
};

enum class OtaMessage : std::uint8_t {
  full_image,             // Full Update Image detected. Restart the device to load the new firmware.
  differential_image,     // Differential Update Image detected. Restart the device to apply the patch.
  differential_disabled,  // Differential Update Image detected. This feature is disabled in the build...
};
const char* to_string(OtaMessage m);

struct BootEvent {
  BootEventKind kind = BootEventKind::prompt;
  TimePoint time;                // arrival of the chunk that completed it
  TimePoint first_byte;          // arrival of the chunk that held its first byte
  std::uint64_t offset = 0;      // stream offset of its first byte (bytes since the reader started)
  std::uint64_t end_offset = 0;  // stream offset just past its last byte
  std::string text;  // the line(s) recognised, control bytes and line ends removed ("\n" between lines)

  std::optional<RomReset> rom;           // rom_reset
  std::optional<Banner> banner;          // banner
  std::optional<PyException> exception;  // traceback
  std::string soft_reboot_prefix;        // soft_reboot: "PYB", "MPY" or empty
  std::optional<OtaMessage> ota;         // ota
  std::optional<Panic> panic;            // panic
};

// The event as timeline fields: {"event": "banner", "version": ..., ...} (no "t": the caller adds it).
nlohmann::json to_json(const BootEvent& e);

// Incremental recogniser. Bytes arrive in chunks of any size: lines split across chunks, partial
// lines (the prompt has no line end) and control bytes (\x04 from the raw REPL counts as a line break)
// are handled. Pure: no clock, no I/O, so it can replay a serial.log.
class BootLogReader {
 public:
  std::vector<BootEvent> feed(const SerialChunk& chunk) { return feed(chunk.bytes, chunk.time); }
  std::vector<BootEvent> feed(std::string_view bytes, TimePoint arrival);
  std::uint64_t bytes_seen() const { return offset_; }

 private:
  void complete_line(TimePoint t, std::vector<BootEvent>& out);
  void check_partial(TimePoint t, std::vector<BootEvent>& out);
  BootEvent make(BootEventKind k, std::string text, TimePoint first, std::uint64_t begin, TimePoint t,
                 std::uint64_t end) const;

  std::string line_;
  TimePoint line_first_{};
  std::uint64_t line_offset_ = 0;
  bool line_prompt_reported_ = false;
  std::uint64_t offset_ = 0;

  bool in_traceback_ = false;
  std::string traceback_text_;
  TimePoint traceback_first_{};
  std::uint64_t traceback_offset_ = 0;
};

// A BootLogReader shared between the thread reading the serial link and whoever wants to know what the
// module printed: keeps every event, records each on the timeline (when given one), and lets another
// thread wait for an event with a deadline. Feed it from RecordingSerialLink.
class BootLogRecorder {
 public:
  explicit BootLogRecorder(Timeline* timeline = nullptr) : timeline_(timeline) {}

  void feed(const SerialChunk& chunk);
  std::vector<BootEvent> events() const;
  // Events from index `first` on (for "what happened since I reset the board").
  std::vector<BootEvent> events_since(std::size_t first) const;
  std::size_t size() const;
  // Bytes fed so far: the same count as BootEvent::offset (a mark for "did anything come after that line").
  std::uint64_t bytes_seen() const;
  // The first event at index >= `first` that satisfies `match`, waiting until the deadline for it to be
  // fed by another thread; nullopt when the deadline passes. Throws Interrupted on Ctrl-C.
  std::optional<BootEvent> wait_for(const std::function<bool(const BootEvent&)>& match, std::size_t first,
                                    Deadline deadline) const;

 private:
  Timeline* timeline_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  BootLogReader reader_;
  std::vector<BootEvent> events_;
};

}  // namespace bootrig
