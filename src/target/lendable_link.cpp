// Lending the serial port to an external program and taking it back.
#include "bootrig/target/lendable_link.hpp"

#include <algorithm>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig {

LendableLink::LendableLink(std::string path, unsigned baud, Opener open)
    : path_(std::move(path)), open_(std::move(open)), baud_(baud) {
  inner_ = open_(baud_);
  description_ = inner_->describe();
}

std::shared_ptr<SerialLink> LendableLink::current() const {
  std::lock_guard lock(mu_);
  return inner_;
}

std::shared_ptr<SerialLink> LendableLink::require(const char* what) const {
  auto l = current();
  if (!l) throw RigError(path_ + ": cannot " + what + ": the port is lent to an external tool");
  return l;
}

void LendableLink::lend(Duration wait) {
  std::shared_ptr<SerialLink> held;
  {
    std::lock_guard lock(mu_);
    held = std::move(inner_);
  }
  if (!held) return;
  // A reader still inside read() holds its own reference; the port closes when the last one goes.
  Deadline d = Deadline::after(wait);
  while (held.use_count() > 1) {
    if (d.expired()) {
      std::lock_guard lock(mu_);
      inner_ = std::move(held);
      throw RigError(path_ + ": cannot lend the port to the external tool: a reader keeps it busy");
    }
    wait_for(milliseconds(5));
  }
  held.reset();
}

void LendableLink::take_back() {
  std::lock_guard lock(mu_);
  if (inner_) return;
  inner_ = open_(baud_);
  back_.notify_all();
}

bool LendableLink::lent() const { return !current(); }

void LendableLink::write(std::string_view bytes, Deadline deadline) { require("write")->write(bytes, deadline); }

std::optional<SerialChunk> LendableLink::read(Deadline deadline) {
  std::shared_ptr<SerialLink> l;
  {
    std::unique_lock lock(mu_);
    // Silence while lent, as a line nobody drives; back_ wakes readers the moment the port returns. Short
    // slices so that Ctrl-C is noticed.
    while (!inner_) {
      if (deadline.expired()) return std::nullopt;
      interrupt::throw_if_requested();
      back_.wait_for(lock, std::min<Duration>(deadline.remaining(), milliseconds(50)));
    }
    l = inner_;
  }
  return l->read(deadline);
}

void LendableLink::drain(Deadline deadline) {
  if (auto l = current()) l->drain(deadline);
}

void LendableLink::discard_input() {
  if (auto l = current()) l->discard_input();
}

void LendableLink::set_baud(unsigned baud) {
  std::lock_guard lock(mu_);
  if (inner_) inner_->set_baud(baud);
  baud_ = baud;
}

unsigned LendableLink::baud() const {
  std::lock_guard lock(mu_);
  return baud_;
}

std::string LendableLink::describe() const { return description_; }

}  // namespace bootrig
