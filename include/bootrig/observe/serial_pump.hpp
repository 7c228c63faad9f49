// Reads a serial link continuously on its own thread, so every byte is stamped when it arrives and recorded
// even while nobody is reading (the rig watching the LED during a reset), and hands the chunks on in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "bootrig/hw/serial.hpp"

namespace bootrig {

// A SerialLink over another one. A thread reads the inner link from construction on and queues the chunks
// with their arrival times; read() hands them out unchanged. Each chunk also goes to `on_chunk` (the
// timeline, the boot-log reader) on the reading thread, as it arrives. Writes go straight through.
// A failure of the inner link (port gone for good, interruption) is raised by the next read().
class SerialPump : public SerialLink {
 public:
  using ChunkSink = std::function<void(const SerialChunk&)>;
  SerialPump(SerialLink& inner, ChunkSink on_chunk);
  ~SerialPump() override;
  SerialPump(const SerialPump&) = delete;
  SerialPump& operator=(const SerialPump&) = delete;

  void write(std::string_view bytes, Deadline deadline) override { inner_.write(bytes, deadline); }
  std::optional<SerialChunk> read(Deadline deadline) override;
  void drain(Deadline deadline) override { inner_.drain(deadline); }
  // Drops what is queued and what the kernel holds.
  void discard_input() override;
  void set_baud(unsigned baud) override { inner_.set_baud(baud); }
  unsigned baud() const override { return inner_.baud(); }
  std::string describe() const override { return inner_.describe(); }

  void stop();

 private:
  void loop();

  SerialLink& inner_;
  ChunkSink on_chunk_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SerialChunk> queue_;
  std::exception_ptr failure_;
  bool stop_ = false;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace bootrig
