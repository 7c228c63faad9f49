// Everything one scenario attempt works with: the rig's wires recorded on this attempt's timeline, the
// REPL client, the live LED decoder, the boot-log reader, progress, and the attempt's verdict material.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/flash/ensure.hpp"
#include "bootrig/observe/boot_log.hpp"
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/observe/recording.hpp"
#include "bootrig/observe/serial_pump.hpp"
#include "bootrig/observe/timeline.hpp"
#include "bootrig/repl/checked_channel.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "bootrig/report/result.hpp"
#include "bootrig/scenario/progress.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

class Session {
 public:
  // Opens the attempt's timeline in `dir` and starts reading the serial port and the LED at once, so
  // nothing the board does from now on is missed.
  Session(Target& target, const std::filesystem::path& dir, Progress& progress, Attempt& attempt);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Target& target() { return target_; }
  const TimingProfile& timing() const { return target_.rig().timing; }
  Timeline& timeline() { return timeline_; }
  Progress& progress() { return progress_; }
  Attempt& attempt() { return attempt_; }

  RecordingOutput& safeboot() { return *safeboot_; }
  RecordingOutput& reset() { return *reset_; }
  RecordingOutput* bootloader() { return bootloader_.get(); }
  SerialLink& serial() { return *pump_; }
  ReplClient& repl() { return *repl_; }
  // Everything bootrig asks the board goes through this: code checked before it runs, answers checked.
  CheckedChannel& channel() { return *channel_; }
  // After anything that reset the board behind the REPL client's back: its mode and the channel's helper
  // are gone.
  void forget_board_state();
  // A command of bootrig's needed `retries` repeated round trips: noted on the timeline, counted for the
  // attempt's line report.
  void note_line_trouble(const std::string& what, int retries);
  BootLogRecorder& boot_log() { return boot_log_; }
  // nullptr when the rig has no photodiode.
  LedDecoder* led() { return led_decoder_.get(); }

  // A named step: on the timeline (start and end) and in the progress output.
  class Step {
   public:
    Step(Session& s, std::string name);
    ~Step();
    void ok() { outcome_ = "ok"; }

   private:
    Session& s_;
    std::string name_;
    std::string outcome_ = "failed";
  };
  Step step(std::string name) { return Step(*this, std::move(name)); }
  void waiting(const std::string& what);
  // A step's end that could not be recorded (a full disk) cannot throw from its destructor: it is kept and
  // thrown here, by the next step's start and by the runner once the scenario returns.
  void rethrow_step_end_failure();

  // What the attempt is doing, for the record of an interrupted or stopped run: the innermost open step and
  // what it waits for ("'release P12 in window 2 (fast blink)', waiting for window 2 (fast blink)"). While an
  // exception unwinds, the step it left (the steps have closed by the time the runner catches it). Empty
  // before the first step.
  std::string activity() const;
  // What an interruption leaves on the board beyond the lines (an OTA transfer cut short): said with the
  // board's state in the run's record. Empty: nothing more than activity() says.
  void left_board(std::string what) { left_board_ = std::move(what); }
  const std::string& left_board() const { return left_board_; }

  // What the firmware step found and left on the board (prepare_firmware); nullopt before it ran.
  const std::optional<BoardFirmware>& firmware() const { return firmware_; }
  void set_firmware(BoardFirmware f) {
    attempt_.board.merge({f.running.board, f.running.version, f.build, ""});
    firmware_ = std::move(f);
  }

  void note(const std::string& text);
  // A measured value against its limits. A scenario that returns (PASS) with any measurement outside its
  // limits is judged FAIL by the runner, naming the measurement, its value and its limits.
  void measure(Measurement m);

  // What the scenario claims, and what became of it (Attempt::expectations, shown in every report).
  // `expectation` is short ("LED window 1 (slow blink)", "SD card untouched").
  // Checked and held:
  void checked(const std::string& expectation, const std::string& detail = "");
  // Could not be checked on this rig: listed as "[<expectation> not checked: <reason>]" next to the verdict,
  // so that a PASS never claims it. `reason` says why ("no photodiode on this rig").
  void unchecked(const std::string& expectation, const std::string& reason);
  // Checked and broken: recorded, then the attempt ends as fail(what) does.
  [[noreturn]] void failed(const std::string& expectation, const std::string& what);

  // Ends the attempt: the board broke a rule. `what` says what was expected and what was seen.
  [[noreturn]] void fail(const std::string& what);
  // Ends the attempt: a precondition is unmet.
  [[noreturn]] void skip(const std::string& why);

  // The last serial bytes received (escaped) and the LED pattern now: what a FAIL shows.
  std::string evidence() const;

  // Counts every byte received since the session began; a mark to search from.
  std::uint64_t serial_mark() const;
  // Waits until `text` has arrived on the UART after `mark` (whoever read it); false at the deadline.
  bool wait_for_serial(const std::string& text, std::uint64_t mark, Deadline deadline);

 private:
  Target& target_;
  Progress& progress_;
  Attempt& attempt_;
  Timeline timeline_;
  BootLogRecorder boot_log_;
  std::unique_ptr<RecordingSerialLink> recording_link_;
  std::unique_ptr<SerialPump> pump_;
  std::unique_ptr<ReplClient> repl_;
  std::unique_ptr<CheckedChannel> channel_;
  std::unique_ptr<RecordingOutput> safeboot_, reset_, bootloader_;
  std::unique_ptr<LedDecoder> led_decoder_;
  std::unique_ptr<LedWatcher> led_watcher_;
  std::optional<BoardFirmware> firmware_;
  std::vector<std::string> open_steps_;  // innermost last
  std::string waiting_for_;
  std::string unwound_from_;  // activity() when the first step closed by an exception did
  std::exception_ptr step_end_failure_;
  std::string left_board_;
  mutable std::mutex tail_mu_;
  std::condition_variable tail_cv_;
  std::string serial_tail_;       // the last bytes received, for evidence and wait_for_serial
  std::uint64_t tail_start_ = 0;  // stream offset of serial_tail_[0]
};

}  // namespace bootrig
