// Live and plain progress output.
#include "bootrig/scenario/progress.hpp"
#include "bootrig/core/escape.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <mutex>
#include <thread>

#include "bootrig/core/time.hpp"
#include "bootrig/report/writers.hpp"

namespace bootrig {

namespace {

std::string wall_clock() {
  auto t = std::chrono::system_clock::now();
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::localtime_r(&s, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

class PlainProgress : public Progress {
 public:
  explicit PlainProgress(std::FILE* out) : out_(out) {}
  void run_started(const std::string& rig, bool simulated, std::size_t n, const std::string& folder) override {
    line("rig: " + rig + (simulated ? "  ** SIMULATED MODULE, not hardware **" : ""));
    line("running " + std::to_string(n) + " scenario(s); evidence in " + folder);
  }
  void scenario_started(const std::string& name, int attempt, int attempts) override {
    name_ = name;
    line(name + ": start" + (attempts > 1 ? " (attempt " + std::to_string(attempt) + "/" + std::to_string(attempts) + ")" : ""));
  }
  void step(const std::string& text) override { line(name_ + ": " + text); }
  void waiting(const std::string& what) override {
    if (!what.empty()) line(name_ + ": waiting for " + what);
  }
  void note(const std::string& text) override { line(name_ + ": note: " + text); }
  void attempt_finished(const std::string& name, const Attempt& a) override {
    line(name + ": attempt " + to_string(a.outcome) + (a.message.empty() ? "" : ": " + a.message));
  }
  void scenario_finished(const ScenarioResult& r) override { line(summary_line(r)); }
  void run_finished(const RunSummary& run, const std::string& folder) override {
    line(run.totals().describe() + (run.simulated ? " (SIMULATED module)" : "") +
         (run.exit_code ? "; exit code " + std::to_string(*run.exit_code) : "") + "; evidence in " + folder);
    if (std::string end = run_end_line(run); !end.empty()) line(end);
  }

 protected:
  virtual void line(const std::string& s) {
    // Notes and messages carry the board's words and rig-file text: never raw onto the terminal.
    std::fprintf(out_, "[%s] %s\n", wall_clock().c_str(), terminal_safe(s, false).c_str());
    std::fflush(out_);
  }
  std::FILE* out_;
  std::string name_;
};

// Plain lines for what stays (verdicts), plus one status line redrawn a few times a second while a
// scenario runs: name, elapsed time, step, and what is awaited.
class LiveProgress : public PlainProgress {
 public:
  explicit LiveProgress(std::FILE* out) : PlainProgress(out), ticker_([this] { tick(); }) {}
  ~LiveProgress() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    ticker_.join();
    clear();
  }
  void scenario_started(const std::string& name, int attempt, int attempts) override {
    std::lock_guard lock(mu_);
    name_ = name;
    attempt_ = attempts > 1 ? " (" + std::to_string(attempt) + "/" + std::to_string(attempts) + ")" : "";
    started_ = now();
    step_.clear();
    waiting_.clear();
    active_ = true;
    draw_locked();
  }
  void step(const std::string& text) override {
    std::lock_guard lock(mu_);
    step_ = text;
    waiting_.clear();
    draw_locked();
  }
  void waiting(const std::string& what) override {
    std::lock_guard lock(mu_);
    waiting_ = what;
    draw_locked();
  }
  void note(const std::string& text) override {
    std::lock_guard lock(mu_);
    line(name_ + ": note: " + text);
    draw_locked();
  }
  void scenario_finished(const ScenarioResult& r) override {
    std::lock_guard lock(mu_);
    active_ = false;
    line(summary_line(r));
  }
  void attempt_finished(const std::string& name, const Attempt& a) override {
    std::lock_guard lock(mu_);
    if (a.outcome != Outcome::pass) line(name + ": attempt " + to_string(a.outcome) + ": " + a.message);
  }

 private:
  void line(const std::string& s) override {
    clear();
    PlainProgress::line(s);
    drawn_ = false;
  }
  void clear() {
    if (drawn_) std::fputs("\r\x1b[K", out_);
    drawn_ = false;
  }
  void draw_locked() {
    if (!active_) return;
    char head[64];
    std::snprintf(head, sizeof head, "%.1f s", to_ms(now() - started_) / 1000.0);
    std::string s = name_ + attempt_ + " " + head + "  " + step_;
    if (!waiting_.empty()) s += "  (waiting for " + waiting_ + ")";
    s = terminal_safe(s, false);
    if (s.size() > 150) s.resize(150);
    std::fputs("\r\x1b[K", out_);
    std::fputs(s.c_str(), out_);
    std::fflush(out_);
    drawn_ = true;
  }
  void tick() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, milliseconds(200));
      if (!stop_) draw_locked();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool active_ = false;
  bool drawn_ = false;
  std::string attempt_, step_, waiting_;
  TimePoint started_{};
  std::thread ticker_;
};

// Each line handed to a sink (the log file's logger, which stamps it itself).
class LineProgress : public PlainProgress {
 public:
  explicit LineProgress(std::function<void(const std::string&)> sink)
      : PlainProgress(nullptr), sink_(std::move(sink)) {}

 private:
  void line(const std::string& s) override { sink_(s); }
  std::function<void(const std::string&)> sink_;
};

class TeeProgress : public Progress {
 public:
  TeeProgress(std::unique_ptr<Progress> a, std::unique_ptr<Progress> b)
      : a_(std::move(a)), b_(std::move(b)) {}
  void run_started(const std::string& rig, bool simulated, std::size_t n,
                   const std::string& folder) override {
    a_->run_started(rig, simulated, n, folder);
    b_->run_started(rig, simulated, n, folder);
  }
  void scenario_started(const std::string& name, int attempt, int attempts) override {
    a_->scenario_started(name, attempt, attempts);
    b_->scenario_started(name, attempt, attempts);
  }
  void step(const std::string& text) override {
    a_->step(text);
    b_->step(text);
  }
  void waiting(const std::string& what) override {
    a_->waiting(what);
    b_->waiting(what);
  }
  void note(const std::string& text) override {
    a_->note(text);
    b_->note(text);
  }
  void attempt_finished(const std::string& name, const Attempt& a) override {
    a_->attempt_finished(name, a);
    b_->attempt_finished(name, a);
  }
  void scenario_finished(const ScenarioResult& r) override {
    a_->scenario_finished(r);
    b_->scenario_finished(r);
  }
  void run_finished(const RunSummary& run, const std::string& folder) override {
    a_->run_finished(run, folder);
    b_->run_finished(run, folder);
  }

 private:
  std::unique_ptr<Progress> a_, b_;
};

class SilentProgress : public Progress {
 public:
  void run_started(const std::string&, bool, std::size_t, const std::string&) override {}
  void scenario_started(const std::string&, int, int) override {}
  void step(const std::string&) override {}
  void waiting(const std::string&) override {}
  void note(const std::string&) override {}
  void attempt_finished(const std::string&, const Attempt&) override {}
  void scenario_finished(const ScenarioResult&) override {}
  void run_finished(const RunSummary&, const std::string&) override {}
};

}  // namespace

std::unique_ptr<Progress> make_progress(std::FILE* out, bool live) {
  if (live) return std::make_unique<LiveProgress>(out);
  return std::make_unique<PlainProgress>(out);
}

std::unique_ptr<Progress> make_silent_progress() { return std::make_unique<SilentProgress>(); }

std::unique_ptr<Progress> make_line_progress(std::function<void(const std::string&)> sink) {
  return std::make_unique<LineProgress>(std::move(sink));
}

std::unique_ptr<Progress> make_tee_progress(std::unique_ptr<Progress> first,
                                            std::unique_ptr<Progress> second) {
  return std::make_unique<TeeProgress>(std::move(first), std::move(second));
}

bool wants_live_progress(std::FILE* out) {
  if (!::isatty(::fileno(out))) return false;
  if (const char* nc = std::getenv("NO_COLOR"); nc && *nc) return false;
  if (const char* term = std::getenv("TERM"); term && std::string(term) == "dumb") return false;
  return true;
}

}  // namespace bootrig
