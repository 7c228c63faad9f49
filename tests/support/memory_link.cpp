// In-memory serial link pair for protocol tests; no threads needed when a responder is attached.
#include "support/memory_link.hpp"

#include <algorithm>

#include "bootrig/core/errors.hpp"

namespace bootrig::testing {

namespace {
// Two UARTs understand each other while their rates differ by less than about 3 % (8N1: the receiver samples
// the tenth bit half a bit time late at 5 %, and each end has its own error).
bool rates_match(unsigned a, unsigned b) {
  const double lo = std::min(a, b), hi = std::max(a, b);
  return lo > 0 && (hi - lo) / lo < 0.03;
}
}  // namespace

struct MemoryLinkPair::Shared {
  struct Chunk {
    std::string bytes;
    unsigned baud;  // the sender's rate: a receiver at another rate sees garbage
  };
  mutable std::mutex m;
  std::condition_variable cv;
  std::deque<Chunk> to_host;
  std::deque<Chunk> to_device;
  unsigned host_baud;
  unsigned device_baud;
  Responder responder;
  std::size_t max_chunk = 0;
  std::function<void(std::string&)> filter;
  std::size_t host_written = 0;
  std::size_t garbled = 0;
};

class MemoryLinkPair::End : public SerialLink {
 public:
  End(std::shared_ptr<Shared> s, bool is_host) : s_(std::move(s)), host_(is_host) {}

  void write(std::string_view bytes, Deadline) override {
    std::unique_lock lock(s_->m);
    if (!host_) {
      s_->to_host.push_back({std::string(bytes), s_->device_baud});
      s_->cv.notify_all();
      return;
    }
    s_->host_written += bytes.size();
    const std::size_t step = s_->max_chunk == 0 ? std::max<std::size_t>(bytes.size(), 1) : s_->max_chunk;
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      std::string piece(bytes.substr(i, step));
      if (s_->filter) s_->filter(piece);
      if (!rates_match(s_->host_baud, s_->device_baud)) garble(piece);
      if (s_->responder) {
        // Run the device without holding the lock: a responder may call back into the pair (set_baud).
        auto responder = s_->responder;
        lock.unlock();
        Reply r = responder(piece);
        lock.lock();
        if (!r.bytes.empty()) s_->to_host.push_back({std::move(r.bytes), s_->device_baud});
        if (r.baud_after) s_->device_baud = *r.baud_after;
      } else {
        s_->to_device.push_back({std::move(piece), s_->host_baud});
      }
    }
    s_->cv.notify_all();
  }

  std::optional<SerialChunk> read(Deadline deadline) override {
    std::unique_lock lock(s_->m);
    auto& q = host_ ? s_->to_host : s_->to_device;
    auto ready = [&] { return !q.empty(); };
    if (deadline.is_never()) {
      s_->cv.wait(lock, ready);
    } else if (!s_->cv.wait_until(lock, deadline.when(), ready)) {
      return std::nullopt;
    }
    const unsigned my_baud = host_ ? s_->host_baud : s_->device_baud;
    auto& front = q.front();
    std::size_t n = s_->max_chunk == 0 ? front.bytes.size() : std::min(s_->max_chunk, front.bytes.size());
    SerialChunk c{now(), front.bytes.substr(0, n)};
    if (!rates_match(front.baud, my_baud)) garble(c.bytes);
    front.bytes.erase(0, n);
    if (front.bytes.empty()) q.pop_front();
    return c;
  }

  void drain(Deadline) override {}
  void discard_input() override {
    std::lock_guard lock(s_->m);
    (host_ ? s_->to_host : s_->to_device).clear();
  }
  void set_baud(unsigned baud) override {
    std::lock_guard lock(s_->m);
    (host_ ? s_->host_baud : s_->device_baud) = baud;
  }
  unsigned baud() const override {
    std::lock_guard lock(s_->m);
    return host_ ? s_->host_baud : s_->device_baud;
  }
  std::string describe() const override {
    return host_ ? "memory link (host end)" : "memory link (device end)";
  }

 private:
  // Bytes sent at one rate and sampled at another come out as unrelated bytes; inverting them keeps tests
  // deterministic while guaranteeing no valid frame survives.
  void garble(std::string& bytes) {
    for (auto& c : bytes) c = static_cast<char>(~static_cast<unsigned char>(c));
    s_->garbled += bytes.size();
  }
  std::shared_ptr<Shared> s_;
  bool host_;
};

MemoryLinkPair::MemoryLinkPair(unsigned baud) : shared_(std::make_shared<Shared>()) {
  shared_->host_baud = baud;
  shared_->device_baud = baud;
  host_ = std::make_unique<End>(shared_, true);
  device_ = std::make_unique<End>(shared_, false);
}
MemoryLinkPair::~MemoryLinkPair() = default;

SerialLink& MemoryLinkPair::host() { return *host_; }
SerialLink& MemoryLinkPair::device() { return *device_; }

void MemoryLinkPair::set_responder(Responder r) {
  std::lock_guard lock(shared_->m);
  shared_->responder = std::move(r);
}
void MemoryLinkPair::set_max_chunk(std::size_t n) {
  std::lock_guard lock(shared_->m);
  shared_->max_chunk = n;
}
void MemoryLinkPair::set_host_to_device_filter(std::function<void(std::string&)> f) {
  std::lock_guard lock(shared_->m);
  shared_->filter = std::move(f);
}
std::size_t MemoryLinkPair::host_bytes_written() const {
  std::lock_guard lock(shared_->m);
  return shared_->host_written;
}
std::size_t MemoryLinkPair::garbled_bytes() const {
  std::lock_guard lock(shared_->m);
  return shared_->garbled;
}

}  // namespace bootrig::testing
