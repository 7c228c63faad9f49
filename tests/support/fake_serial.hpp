// A scripted SerialLink for unit tests: expected writes, canned replies, chunk splitting, noise.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "bootrig/core/escape.hpp"
#include "bootrig/hw/serial.hpp"

namespace bootrig::testing {

// The script is a list of steps run in order: expect(bytes) waits for exactly those bytes to be written
// (across any number of write calls), reply(bytes) makes bytes readable once the script gets there.
// A write that differs from the expected bytes is a test failure and stops the script; writes after
// the script's end are kept in extra_writes(). Reads hand out at most max_chunk bytes (or random
// sizes), so every reader meets split chunks.
class FakeSerial : public SerialLink {
 public:
  explicit FakeSerial(unsigned baud = 115200) : baud_(baud) {}

  FakeSerial& expect(std::string bytes) {
    std::lock_guard lock(mu_);
    steps_.push_back({Step::expect, std::move(bytes), {}});
    run_locked();
    return *this;
  }
  FakeSerial& reply(std::string bytes) { return reply_after(Duration::zero(), std::move(bytes)); }
  // Readable `delay` after the script reaches this step.
  FakeSerial& reply_after(Duration delay, std::string bytes) {
    std::lock_guard lock(mu_);
    steps_.push_back({Step::reply, std::move(bytes), delay});
    run_locked();
    return *this;
  }
  FakeSerial& max_chunk(std::size_t n) {
    std::lock_guard lock(mu_);
    max_chunk_ = std::max<std::size_t>(n, 1);
    return *this;
  }
  // Chunks of random size 1..max, reproducible from the seed.
  FakeSerial& random_chunks(unsigned seed, std::size_t max) {
    std::lock_guard lock(mu_);
    rng_.seed(seed);
    random_max_ = std::max<std::size_t>(max, 1);
    return *this;
  }

  // Whether every step ran (all expected writes came, all replies were queued).
  bool script_done() const {
    std::lock_guard lock(mu_);
    return cursor_ == steps_.size() && mismatch_.empty();
  }
  std::string mismatch() const {
    std::lock_guard lock(mu_);
    return mismatch_;
  }
  std::string written() const {
    std::lock_guard lock(mu_);
    return written_;
  }
  std::string extra_writes() const {
    std::lock_guard lock(mu_);
    return extra_;
  }
  std::size_t unread() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& q : queue_) n += q.bytes.size();
    return n;
  }
  std::vector<std::string> writes() const {
    std::lock_guard lock(mu_);
    return write_calls_;
  }

  void write(std::string_view bytes, Deadline) override {
    std::lock_guard lock(mu_);
    written_ += bytes;
    write_calls_.emplace_back(bytes);
    if (!mismatch_.empty()) return;
    pending_ += bytes;
    run_locked();
    cv_.notify_all();
  }

  std::optional<SerialChunk> read(Deadline deadline) override {
    std::unique_lock lock(mu_);
    for (;;) {
      TimePoint t = now();
      if (!queue_.empty() && queue_.front().due <= t) {
        auto& q = queue_.front();
        std::size_t n =
            random_max_ ? std::uniform_int_distribution<std::size_t>(1, random_max_)(rng_) : max_chunk_;
        n = std::min(n, q.bytes.size());
        SerialChunk c{t, q.bytes.substr(0, n)};
        q.bytes.erase(0, n);
        if (q.bytes.empty()) queue_.pop_front();
        return c;
      }
      if (deadline.expired(t)) return std::nullopt;
      TimePoint wake = deadline.is_never() ? t + seconds(1) : deadline.when();
      if (!queue_.empty()) wake = std::min(wake, queue_.front().due);
      cv_.wait_until(lock, wake);
    }
  }

  void drain(Deadline) override {}
  void discard_input() override {
    std::lock_guard lock(mu_);
    queue_.clear();
  }
  void set_baud(unsigned baud) override { baud_ = baud; }
  unsigned baud() const override { return baud_; }
  std::string describe() const override { return "fake serial"; }

 private:
  struct Step {
    enum Kind { expect, reply } kind;
    std::string bytes;
    Duration delay;
  };
  struct Queued {
    TimePoint due;
    std::string bytes;
  };

  void run_locked() {
    while (cursor_ < steps_.size() && mismatch_.empty()) {
      Step& s = steps_[cursor_];
      if (s.kind == Step::reply) {
        TimePoint due = now() + s.delay;
        // Replies stay in order even when an earlier one is delayed.
        if (!queue_.empty()) due = std::max(due, queue_.back().due);
        queue_.push_back({due, s.bytes});
        ++cursor_;
        cv_.notify_all();
        continue;
      }
      std::size_t n = std::min(pending_.size(), s.bytes.size());
      if (pending_.compare(0, n, s.bytes, 0, n) != 0) {
        mismatch_ = "step " + std::to_string(cursor_) + ": expected write \"" + escape_bytes(s.bytes) +
                    "\", got \"" + escape_bytes(pending_) + "\"";
        ADD_FAILURE() << mismatch_;
        return;
      }
      if (n < s.bytes.size()) return;  // the rest has not been written yet
      pending_.erase(0, n);
      ++cursor_;
    }
    if (cursor_ == steps_.size() && !pending_.empty()) {
      extra_ += pending_;
      pending_.clear();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Step> steps_;
  std::size_t cursor_ = 0;
  std::string pending_;
  std::string written_;
  std::vector<std::string> write_calls_;
  std::string extra_;
  std::string mismatch_;
  std::deque<Queued> queue_;
  std::size_t max_chunk_ = 4096;
  std::size_t random_max_ = 0;
  std::mt19937 rng_{1};
  unsigned baud_;
};

// Bytes that look like line noise: no newline, no '>' (which could forge a prompt).
inline std::string noise(std::size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    auto c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    if (c == '\n' || c == '>' || c == '\x04') continue;
    s += c;
  }
  return s;
}

}  // namespace bootrig::testing
