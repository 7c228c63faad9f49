// The serial pump: a reading thread, a queue of timestamped chunks, failures handed to the reader.
#include "bootrig/observe/serial_pump.hpp"

#include "bootrig/core/interrupt.hpp"

namespace bootrig {

namespace {
// How long the reading thread blocks in one read before it looks at its stop flag. It wakes at once for
// data; this only bounds how long stop() takes.
constexpr milliseconds kStopSlice{50};
}  // namespace

SerialPump::SerialPump(SerialLink& inner, ChunkSink on_chunk)
    : inner_(inner), on_chunk_(std::move(on_chunk)), thread_([this] { loop(); }) {}

SerialPump::~SerialPump() { stop(); }

void SerialPump::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void SerialPump::loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    try {
      auto chunk = inner_.read(Deadline::after(kStopSlice));
      if (!chunk || chunk->bytes.empty()) continue;
      if (on_chunk_) on_chunk_(*chunk);
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(*chunk));
      cv_.notify_all();
    } catch (...) {
      std::lock_guard lock(mu_);
      failure_ = std::current_exception();
      break;
    }
  }
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_all();
}

std::optional<SerialChunk> SerialPump::read(Deadline deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!queue_.empty()) {
      SerialChunk c = std::move(queue_.front());
      queue_.pop_front();
      return c;
    }
    if (failure_) std::rethrow_exception(failure_);
    interrupt::throw_if_requested();
    if (deadline.expired() || done_) return std::nullopt;
    // The pump thread notices Ctrl-C within one slice and hands the Interrupted over; the slice here
    // covers a reader whose pump was already stopped.
    auto until = deadline.is_never() ? now() + kStopSlice : std::min(deadline.when(), now() + kStopSlice);
    cv_.wait_until(lock, until);
  }
}

void SerialPump::discard_input() {
  inner_.discard_input();
  std::lock_guard lock(mu_);
  queue_.clear();
}

}  // namespace bootrig
