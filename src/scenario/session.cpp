// Wiring one attempt's observers: recording decorators, the serial pump, the LED watcher.
#include "bootrig/scenario/session.hpp"

#include "bootrig/core/escape.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/scenario/scenario.hpp"

namespace bootrig {

namespace {
// Enough for a whole boot's output: wait_for_serial looks back this far.
constexpr std::size_t kTailBytes = 64 * 1024;
}  // namespace

Session::Session(Target& target, const std::filesystem::path& dir, Progress& progress, Attempt& attempt)
    : target_(target), progress_(progress), attempt_(attempt), timeline_(dir), boot_log_(&timeline_) {
  timeline_.note("rig " + target.describe());
  safeboot_ = std::make_unique<RecordingOutput>(target.safeboot(), timeline_, "safeboot");
  reset_ = std::make_unique<RecordingOutput>(target.reset(), timeline_, "reset");
  if (target.bootloader())
    bootloader_ = std::make_unique<RecordingOutput>(*target.bootloader(), timeline_, "bootloader");
  recording_link_ = std::make_unique<RecordingSerialLink>(target.serial(), timeline_, &boot_log_);
  pump_ = std::make_unique<SerialPump>(*recording_link_, [this](const SerialChunk& c) {
    std::lock_guard lock(tail_mu_);
    serial_tail_ += c.bytes;
    if (serial_tail_.size() > kTailBytes) {
      std::size_t drop = serial_tail_.size() - kTailBytes / 2;
      serial_tail_.erase(0, drop);
      tail_start_ += drop;
    }
    tail_cv_.notify_all();
  });
  repl_ = std::make_unique<ReplClient>(*pump_);
  channel_ = std::make_unique<CheckedChannel>(*repl_);
  if (DigitalInput* led = target.led()) {
    led_decoder_ = std::make_unique<LedDecoder>(timing());
    led_watcher_ = std::make_unique<LedWatcher>(*led, *led_decoder_, &timeline_);
  }
}

Session::~Session() {
  // Observers stop before the wires they watch are handed back to the next attempt.
  led_watcher_.reset();
  pump_.reset();
}

Session::Step::Step(Session& s, std::string name) : s_(s), name_(std::move(name)) {
  s_.rethrow_step_end_failure();
  s_.timeline_.step_start(name_);
  s_.progress_.step(name_);
  // A new step means any earlier exception was handled: it is no longer where the attempt is.
  s_.unwound_from_.clear();
  s_.open_steps_.push_back(name_);
  s_.waiting_for_.clear();
}

Session::Step::~Step() {
  const bool unwinding = std::uncaught_exceptions() > 0;
  // The innermost step closes first: that is where an interruption found the attempt.
  if (unwinding && s_.unwound_from_.empty()) s_.unwound_from_ = s_.activity();
  if (!s_.open_steps_.empty()) s_.open_steps_.pop_back();
  s_.waiting_for_.clear();
  try {
    s_.timeline_.step_end(name_, unwinding ? "failed" : outcome_);
  } catch (...) {
    // While unwinding, the exception on its way out already ends the attempt; otherwise keep it for later.
    if (!unwinding && !s_.step_end_failure_) s_.step_end_failure_ = std::current_exception();
  }
  s_.progress_.waiting("");
}

void Session::rethrow_step_end_failure() {
  if (!step_end_failure_) return;
  std::exception_ptr e = std::exchange(step_end_failure_, nullptr);
  std::rethrow_exception(e);
}

void Session::waiting(const std::string& what) {
  unwound_from_.clear();
  waiting_for_ = what;
  progress_.waiting(what);
}

std::string Session::activity() const {
  if (!unwound_from_.empty()) return unwound_from_;
  if (open_steps_.empty()) return {};
  return "'" + open_steps_.back() + "'" + (waiting_for_.empty() ? "" : ", waiting for " + waiting_for_);
}

void Session::forget_board_state() {
  repl_->forget_state();
  channel_->forget();
}

void Session::note_line_trouble(const std::string& what, int retries) {
  timeline_.note("line trouble: " + what + " took " + std::to_string(retries) + " repeated round trips (" +
                 channel_->stats().describe() + ")");
}

void Session::note(const std::string& text) {
  attempt_.notes.push_back(text);
  // Not timeline_.note(), which also logs it: the progress output (and its copy in the log file) says it.
  timeline_.record(EventKind::note, now(), {{"text", text}});
  progress_.note(text);
}

void Session::measure(Measurement m) {
  nlohmann::json j = {{"measurement", m.name}, {"value", m.value}, {"unit", m.unit}};
  if (m.low) j["low"] = *m.low;
  if (m.high) j["high"] = *m.high;
  j["within_limits"] = m.within_limits();
  timeline_.record(EventKind::note, now(), j);
  attempt_.measurements.push_back(std::move(m));
}

namespace {
void add_expectation(Attempt& a, Timeline& t, Expectation e) {
  t.record(EventKind::note, now(),
           {{"expectation", e.what}, {"status", to_string(e.status)}, {"detail", e.detail}});
  a.expectations.push_back(std::move(e));
}
}  // namespace

void Session::checked(const std::string& expectation, const std::string& detail) {
  add_expectation(attempt_, timeline_, {expectation, ExpectationStatus::passed, detail});
}

void Session::unchecked(const std::string& expectation, const std::string& reason) {
  add_expectation(attempt_, timeline_, {expectation, ExpectationStatus::unchecked, reason});
  progress_.note(expectation + " not checked: " + reason);
}

void Session::failed(const std::string& expectation, const std::string& what) {
  add_expectation(attempt_, timeline_, {expectation, ExpectationStatus::failed, what});
  fail(what);
}

void Session::fail(const std::string& what) { throw CheckFailed(what); }
void Session::skip(const std::string& why) { throw Skipped(why); }

std::uint64_t Session::serial_mark() const {
  std::lock_guard lock(tail_mu_);
  return tail_start_ + serial_tail_.size();
}

bool Session::wait_for_serial(const std::string& text, std::uint64_t mark, Deadline deadline) {
  std::unique_lock lock(tail_mu_);
  for (;;) {
    std::size_t from = mark > tail_start_ ? static_cast<std::size_t>(mark - tail_start_) : 0;
    if (from <= serial_tail_.size() && serial_tail_.find(text, from) != std::string::npos) return true;
    interrupt::throw_if_requested();
    if (deadline.expired()) return false;
    // Slices so that Ctrl-C is noticed even when no byte arrives.
    auto until = std::min(deadline.is_never() ? TimePoint::max() : deadline.when(), now() + milliseconds(50));
    tail_cv_.wait_until(lock, until);
  }
}

std::string Session::evidence() const {
  std::string tail;
  {
    std::lock_guard lock(tail_mu_);
    tail = serial_tail_.substr(serial_tail_.size() > 1500 ? serial_tail_.size() - 1500 : 0);
  }
  // The last few lines are what a person wants to see first.
  std::size_t cut = tail.size();
  for (int lines = 0; cut > 0 && lines < 12; --cut)
    if (tail[cut - 1] == '\n') ++lines;
  std::string e = "last serial lines:\n" + tail.substr(cut) + "\n";
  if (led_decoder_) {
    auto m = led_decoder_->current();
    e += "LED pattern now: " + std::string(to_string(m.pattern));
    if (m.periods > 0) e += " (period " + std::to_string(static_cast<int>(to_ms(m.period_mean))) + " ms)";
  } else {
    e += "LED: not watched (no photodiode on this rig)";
  }
  return e;
}

}  // namespace bootrig
