// The safe-state guard: ordered release of output lines on every exit path.
#include "bootrig/hw/safe_state.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bootrig/core/interrupt.hpp"

namespace bootrig {

// A handle that forwards to the owned line under the SafeState's lock, and refuses changes once released.
class SafeState::Guarded : public DigitalOutput {
 public:
  Guarded(SafeState& owner, std::string role, std::unique_ptr<DigitalOutput> line, int priority)
      : owner_(owner), role_(std::move(role)), line_(std::move(line)), priority_(priority) {}

  void set(Level level) override {
    std::lock_guard lock(owner_.mutex_);
    if (owner_.released_) {
      // Only inactive is harmless after the release; anything else means a step outlived the run.
      if (level == Level::inactive) return;
      throw Interrupted(interrupt::signal_number());
    }
    line_->set(level);
    // The watcher asked for the release while this call held the lock (a line operation that hung for a
    // while): the lines go inactive now, before anything else can assert them.
    if (owner_.release_pending_) owner_.release_locked();
  }
  Level get() const override {
    std::lock_guard lock(owner_.mutex_);
    return line_->get();
  }
  std::string describe() const override { return role_ + " " + line_->describe(); }

  // Called with the owner's mutex held.
  void release_locked() noexcept {
    try {
      line_->set(Level::inactive);
    } catch (const std::exception& e) {
      spdlog::error("could not release {} ({}): {}", role_, line_->describe(), e.what());
    }
  }
  int priority() const { return priority_; }

 private:
  SafeState& owner_;
  std::string role_;
  std::unique_ptr<DigitalOutput> line_;
  int priority_;
};

SafeState::SafeState() : hook_([this] { release_from_watcher(kStuckLineOperation); }) {}

SafeState::~SafeState() {
  release_all();
  // The hook member is destroyed after this body, and it may still call release_all() from the watcher
  // thread until then; that is harmless because release_all() is idempotent and the lines are still owned.
}

DigitalOutput& SafeState::adopt(std::string role, std::unique_ptr<DigitalOutput> line, int priority) {
  std::lock_guard lock(mutex_);
  auto g = std::make_unique<Guarded>(*this, std::move(role), std::move(line), priority);
  Guarded& ref = *g;
  auto pos = std::upper_bound(lines_.begin(), lines_.end(), priority,
                              [](int p, const std::unique_ptr<Guarded>& x) { return p < x->priority(); });
  lines_.insert(pos, std::move(g));
  if (released_) ref.release_locked();
  return ref;
}

void SafeState::release_all() noexcept {
  std::lock_guard lock(mutex_);
  release_locked();
}

void SafeState::release_locked() noexcept {
  release_pending_ = false;
  if (released_) return;
  released_ = true;
  for (auto& g : lines_) g->release_locked();
}

bool SafeState::release_from_watcher(Duration wait) noexcept {
  release_pending_ = true;
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!lock.try_lock_for(wait)) {
    spdlog::error(
        "a GPIO line operation is stuck: P12 and RESET are released the moment it returns, or by the "
        "kernel when bootrig exits");
    return false;
  }
  release_locked();
  return true;
}

bool SafeState::released() const {
  std::lock_guard lock(mutex_);
  return released_;
}

}  // namespace bootrig
