// Decorators that put every output change, serial chunk and LED edge on the run's timeline.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bootrig/hw/gpio.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/observe/boot_log.hpp"
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/observe/timeline.hpp"

namespace bootrig {

// A DigitalOutput that records each change with the time it was requested and the time it took effect
// (when the driver call returned: the kernel has set the line by then).
class RecordingOutput : public DigitalOutput {
 public:
  // `line` names the output on the timeline ("safeboot", "reset"). The inner output must outlive this.
  RecordingOutput(DigitalOutput& inner, Timeline& timeline, std::string line);
  RecordingOutput(std::unique_ptr<DigitalOutput> inner, Timeline& timeline, std::string line);

  void set(Level level) override;
  // Waits until `when` (interruptibly), then sets: the timeline shows how late the change really was.
  void set_at(Level level, TimePoint when);
  Level get() const override { return inner_.get(); }
  std::string describe() const override { return inner_.describe(); }

  struct Change {
    Level level;
    TimePoint requested;
    TimePoint effective;
  };
  std::optional<Change> last_change() const;

 private:
  void set_requested(Level level, TimePoint requested);

  std::unique_ptr<DigitalOutput> owned_;
  DigitalOutput& inner_;
  Timeline& timeline_;
  std::string line_;
  mutable std::mutex mu_;
  std::optional<Change> last_;
};

// A SerialLink that records every chunk written and read (serial.log and events.jsonl) and feeds what
// arrives to a BootLogRecorder, so boot events land on the timeline whoever reads the link.
class RecordingSerialLink : public SerialLink {
 public:
  RecordingSerialLink(SerialLink& inner, Timeline& timeline, BootLogRecorder* boot_log = nullptr);
  RecordingSerialLink(std::unique_ptr<SerialLink> inner, Timeline& timeline,
                      BootLogRecorder* boot_log = nullptr);

  void write(std::string_view bytes, Deadline deadline) override;
  std::optional<SerialChunk> read(Deadline deadline) override;
  void drain(Deadline deadline) override { inner_.drain(deadline); }
  void discard_input() override;
  void set_baud(unsigned baud) override;
  unsigned baud() const override { return inner_.baud(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  std::unique_ptr<SerialLink> owned_;
  SerialLink& inner_;
  Timeline& timeline_;
  BootLogRecorder* boot_log_;
  std::string port_;
};

// A DigitalOutput that logs each change at debug level, as a run's timeline does ("line reset -> active"),
// for commands that keep no timeline (bootrig flash). The inner output must outlive it.
class LoggingOutput : public DigitalOutput {
 public:
  LoggingOutput(DigitalOutput& inner, std::string line) : inner_(inner), line_(std::move(line)) {}
  void set(Level level) override;
  Level get() const override { return inner_.get(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  DigitalOutput& inner_;
  std::string line_;
};

// A SerialLink that copies every chunk to the log at trace level (bootrig -vv shows the REPL exchanges,
// --log-file keeps them), for commands that keep no timeline (bootrig flash). The inner link must outlive it.
class LoggingSerialLink : public SerialLink {
 public:
  explicit LoggingSerialLink(SerialLink& inner) : inner_(inner), port_(inner.describe()) {}
  void write(std::string_view bytes, Deadline deadline) override;
  std::optional<SerialChunk> read(Deadline deadline) override;
  void drain(Deadline deadline) override { inner_.drain(deadline); }
  void discard_input() override { inner_.discard_input(); }
  void set_baud(unsigned baud) override;
  unsigned baud() const override { return inner_.baud(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  SerialLink& inner_;
  std::string port_;
};

// Owns a thread that reads a DigitalInput's edges and hands each to the timeline and to a live
// LedDecoder; between edges it lets the decoder's clock advance so dark and timeouts are seen. The
// thread waits in slices of `slice` so stop() (and the destructor) return promptly.
class LedWatcher {
 public:
  LedWatcher(DigitalInput& input, LedDecoder& decoder, Timeline* timeline, std::string line = "led",
             milliseconds slice = milliseconds(20));
  ~LedWatcher();
  LedWatcher(const LedWatcher&) = delete;
  LedWatcher& operator=(const LedWatcher&) = delete;

  void stop();
  bool running() const { return running_.load(); }
  // Why the thread ended on its own (the input failed, Ctrl-C); nullopt while fine or after stop().
  std::optional<std::string> failure() const;
  std::uint64_t edges_seen() const { return edges_.load(); }

 private:
  void loop();

  DigitalInput& input_;
  LedDecoder& decoder_;
  Timeline* timeline_;
  std::string line_;
  milliseconds slice_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{true};
  std::atomic<std::uint64_t> edges_{0};
  mutable std::mutex mu_;
  std::optional<std::string> failure_;
  std::thread thread_;
};

}  // namespace bootrig
