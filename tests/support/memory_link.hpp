// Test support: two SerialLink ends joined in memory, optionally with a synchronous responder on the device
// side, chunk splitting, in-flight byte faults, and garbling when the two ends' baud rates differ.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bootrig/hw/serial.hpp"

namespace bootrig::testing {

class MemoryLinkPair {
 public:
  // What a responder sends back for the bytes it was given, and an optional baud rate the device end switches
  // to after those bytes went out (a ROM acknowledges CHANGE_BAUDRATE at the old rate).
  struct Reply {
    std::string bytes;
    std::optional<unsigned> baud_after;
  };
  using Responder = std::function<Reply(std::string_view)>;

  explicit MemoryLinkPair(unsigned baud = 115200);
  ~MemoryLinkPair();
  MemoryLinkPair(const MemoryLinkPair&) = delete;
  MemoryLinkPair& operator=(const MemoryLinkPair&) = delete;

  SerialLink& host();
  SerialLink& device();

  // Runs inside host().write() with the written bytes (in pieces of max_chunk); its reply is queued for the
  // host to read. Without a responder, host bytes queue for device().read().
  void set_responder(Responder r);
  // Reads return at most n bytes, and the responder gets writes in pieces of at most n bytes (0: no limit).
  void set_max_chunk(std::size_t n);
  // Sees (and may change) every piece of host-to-device bytes before delivery: fault injection.
  void set_host_to_device_filter(std::function<void(std::string&)> f);

  std::size_t host_bytes_written() const;
  std::size_t garbled_bytes() const;

  class End;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<End> host_;
  std::unique_ptr<End> device_;
};

}  // namespace bootrig::testing
