// In-memory GPIO lines for unit tests: an output that remembers what was set, an input fed by the test.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootrig/hw/gpio.hpp"

namespace bootrig::testing {

class FakeOutput : public DigitalOutput {
 public:
  void set(Level level) override {
    std::lock_guard lock(mu_);
    level_ = level;
    history_.push_back(level);
  }
  Level get() const override {
    std::lock_guard lock(mu_);
    return level_;
  }
  std::string describe() const override { return "fake output"; }
  std::vector<Level> history() const {
    std::lock_guard lock(mu_);
    return history_;
  }

 private:
  mutable std::mutex mu_;
  Level level_ = Level::inactive;
  std::vector<Level> history_;
};

// Edges pushed by the test come out of wait_event() in order; the level follows them.
class FakeInput : public DigitalInput {
 public:
  explicit FakeInput(Level initial = Level::inactive) : level_(initial) {}

  void push(Edge e, TimePoint t) {
    std::lock_guard lock(mu_);
    queue_.push_back({e, t});
    cv_.notify_all();
  }
  // The next wait_event() throws this (a vanished GPIO chip, say).
  void break_with(std::string why) {
    std::lock_guard lock(mu_);
    broken_ = std::move(why);
    cv_.notify_all();
  }
  int waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

  Level get() override {
    std::lock_guard lock(mu_);
    return level_;
  }
  std::optional<LineEvent> wait_event(Deadline deadline) override {
    std::unique_lock lock(mu_);
    ++waits_;
    for (;;) {
      if (!broken_.empty()) throw std::runtime_error(broken_);
      if (!queue_.empty()) {
        LineEvent e = queue_.front();
        queue_.pop_front();
        level_ = level_of(e.edge == Edge::rising);
        return e;
      }
      if (deadline.expired()) return std::nullopt;
      cv_.wait_until(lock, deadline.is_never() ? now() + seconds(1) : deadline.when());
    }
  }
  std::string describe() const override { return "fake input"; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LineEvent> queue_;
  Level level_;
  std::string broken_;
  int waits_ = 0;
};

}  // namespace bootrig::testing
