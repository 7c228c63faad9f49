// Timeline-recording decorators for outputs and serial links, and the LED watcher thread.
#include "bootrig/observe/recording.hpp"

#include <spdlog/spdlog.h>

#include "bootrig/core/escape.hpp"

namespace bootrig {

RecordingOutput::RecordingOutput(DigitalOutput& inner, Timeline& timeline, std::string line)
    : inner_(inner), timeline_(timeline), line_(std::move(line)) {}

RecordingOutput::RecordingOutput(std::unique_ptr<DigitalOutput> inner, Timeline& timeline, std::string line)
    : owned_(std::move(inner)), inner_(*owned_), timeline_(timeline), line_(std::move(line)) {}

void RecordingOutput::set(Level level) { set_requested(level, now()); }

void RecordingOutput::set_at(Level level, TimePoint when) {
  wait_until(Deadline::at(when));
  set_requested(level, when);
}

void RecordingOutput::set_requested(Level level, TimePoint requested) {
  inner_.set(level);
  TimePoint effective = now();
  {
    std::lock_guard lock(mu_);
    last_ = Change{level, requested, effective};
  }
  timeline_.output_change(line_, level, requested, effective);
}

std::optional<RecordingOutput::Change> RecordingOutput::last_change() const {
  std::lock_guard lock(mu_);
  return last_;
}

RecordingSerialLink::RecordingSerialLink(SerialLink& inner, Timeline& timeline, BootLogRecorder* boot_log)
    : inner_(inner), timeline_(timeline), boot_log_(boot_log), port_(inner.describe()) {}

RecordingSerialLink::RecordingSerialLink(std::unique_ptr<SerialLink> inner, Timeline& timeline,
                                         BootLogRecorder* boot_log)
    : owned_(std::move(inner)),
      inner_(*owned_),
      timeline_(timeline),
      boot_log_(boot_log),
      port_(inner_.describe()) {}

void RecordingSerialLink::write(std::string_view bytes, Deadline deadline) {
  // Stamped when handed to the driver: that is when bootrig sent it, whatever the port's buffering.
  TimePoint t = now();
  inner_.write(bytes, deadline);
  timeline_.serial(SerialDirection::tx, port_, t, bytes);
}

std::optional<SerialChunk> RecordingSerialLink::read(Deadline deadline) {
  auto chunk = inner_.read(deadline);
  if (chunk && !chunk->bytes.empty()) {
    timeline_.serial(SerialDirection::rx, port_, chunk->time, chunk->bytes);
    if (boot_log_) boot_log_->feed(*chunk);
  }
  return chunk;
}

void RecordingSerialLink::discard_input() {
  inner_.discard_input();
  timeline_.note("serial input discarded on " + port_);
}

void RecordingSerialLink::set_baud(unsigned baud) {
  inner_.set_baud(baud);
  timeline_.note("serial " + port_ + " now at " + std::to_string(baud) + " baud");
}

namespace {
void log_chunk(const char* dir, const std::string& port, TimePoint t, std::string_view bytes) {
  if (!spdlog::should_log(spdlog::level::trace)) return;
  auto ns = to_ns(t);
  spdlog::trace("[{}.{:06}] {} {} \"{}\"", ns / 1'000'000'000, ns % 1'000'000'000 / 1000, dir, port,
                escape_bytes(bytes));
}
}  // namespace

void LoggingOutput::set(Level level) {
  inner_.set(level);
  if (!spdlog::should_log(spdlog::level::debug)) return;
  auto ns = to_ns(now());
  spdlog::debug("[{}.{:06}] line {} -> {}", ns / 1'000'000'000, ns % 1'000'000'000 / 1000, line_,
                is_active(level) ? "active" : "inactive");
}

void LoggingSerialLink::write(std::string_view bytes, Deadline deadline) {
  log_chunk("tx", port_, now(), bytes);
  inner_.write(bytes, deadline);
}

std::optional<SerialChunk> LoggingSerialLink::read(Deadline deadline) {
  auto chunk = inner_.read(deadline);
  if (chunk && !chunk->bytes.empty()) log_chunk("rx", port_, chunk->time, chunk->bytes);
  return chunk;
}

void LoggingSerialLink::set_baud(unsigned baud) {
  inner_.set_baud(baud);
  spdlog::debug("serial {} now at {} baud", port_, baud);
}

LedWatcher::LedWatcher(DigitalInput& input, LedDecoder& decoder, Timeline* timeline, std::string line,
                       milliseconds slice)
    : input_(input), decoder_(decoder), timeline_(timeline), line_(std::move(line)), slice_(slice) {
  if (timeline_) {
    decoder_.set_listener([tl = timeline_, name = line_](const LedMeasurement& span, bool started) {
      auto j = to_json(span);
      j["line"] = name;
      j["phase"] = started ? "start" : "end";
      tl->record(EventKind::led_pattern, started ? span.detected : span.end.value_or(span.start),
                 std::move(j));
    });
  }
  // The level now is where decoding starts; edges before it were never seen.
  TimePoint origin = now();
  Level level = input_.get();
  decoder_.start(origin, level);
  // Edges alone do not say what the LED did before the first one, nor during an attempt without any.
  if (timeline_)
    timeline_->record(
        EventKind::note, origin,
        {{"line", line_},
         {"led_level", is_active(level) ? 1 : 0},
         {"text", std::string("LED ") + (is_active(level) ? "lit" : "dark") + " when watching began"}});
  thread_ = std::thread([this] { loop(); });
}

LedWatcher::~LedWatcher() {
  stop();
  if (timeline_) decoder_.set_listener(nullptr);
}

void LedWatcher::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> LedWatcher::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void LedWatcher::loop() {
  try {
    while (!stop_.load()) {
      // Wake for the decoder's next decision as well, so timeouts and dark are reported promptly.
      Deadline until = Deadline::after(slice_);
      if (auto next = decoder_.next_decision()) {
        until = until.min(Deadline::at(*next + decoder_.settings().edge_latency));
      }
      auto ev = input_.wait_event(until);
      if (ev) {
        edges_.fetch_add(1);
        if (timeline_) timeline_->led_edge(line_, *ev);
        decoder_.feed(*ev);
      } else {
        decoder_.advance(now() - decoder_.settings().edge_latency);
      }
    }
  } catch (const std::exception& e) {
    // Interrupted or a failed input: the waiters must hear of it now, not at their deadlines.
    std::string why = "LED input " + input_.describe() + " failed: " + e.what();
    {
      std::lock_guard lock(mu_);
      failure_ = why;
    }
    decoder_.fail(why);
    try {
      if (timeline_) timeline_->note(why);
    } catch (const std::exception&) {
      // The timeline's own file failing (a full disk) is often why the loop ended: the waiters have it.
    }
  }
  running_.store(false);
}

}  // namespace bootrig
