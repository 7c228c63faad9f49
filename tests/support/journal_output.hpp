// A GPIO output test double that records every change into a journal shared with other lines, to check order.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bootrig/hw/gpio.hpp"

namespace bootrig::testing {

struct Journal {
  std::mutex mutex;
  std::vector<std::string> entries;  // "name=active" / "name=inactive" / "name destroyed"
  void add(std::string s) {
    std::lock_guard lock(mutex);
    entries.push_back(std::move(s));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return entries;
  }
};

class JournalOutput : public DigitalOutput {
 public:
  JournalOutput(std::string name, std::shared_ptr<Journal> journal, Level initial = Level::inactive)
      : name_(std::move(name)), journal_(std::move(journal)), level_(initial) {}
  ~JournalOutput() override { journal_->add(name_ + " destroyed"); }
  void set(Level level) override {
    if (fail_) throw std::runtime_error(name_ + " broke");
    level_ = level;
    journal_->add(name_ + "=" + to_string(level));
  }
  Level get() const override { return level_; }
  std::string describe() const override { return "fake " + name_; }
  void fail_from_now_on() { fail_ = true; }

 private:
  std::string name_;
  std::shared_ptr<Journal> journal_;
  Level level_;
  bool fail_ = false;
};

}  // namespace bootrig::testing
