// Pacing bytes through a pty at the simulated baud rate, in short slices while bytes are in flight and with
// no wake-ups at all while the line is idle.
#include "sim/pty_uart.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "sim/gpio_sim_wires.hpp"

namespace bootrig::sim {

namespace {
// A real UART delivers bytes one by one, but a wake-up per byte would cost the host more than the whole
// simulation: while bytes stream, deliveries are at least a slice apart. The slice is a few byte times, so
// the extra latency stays a small share of the line time at any baud (flow control such as raw-paste's
// 128-byte windows answers within it), but never so short that the pacer spins: 100 us at 921600,
// 0.7 ms at 115200. A byte after an idle line is handed over as soon as its own line time is up.
constexpr std::int64_t kSliceBytes = 8;
constexpr Duration kMinSlice = microseconds(100);
Duration slice_for(Duration byte_time) { return std::max(kMinSlice, byte_time * kSliceBytes); }
// Bytes taken from the rig and not yet over the line, at most: the pty's own buffer holds the rest and
// pushes back on the writer as a real UART's line rate would.
constexpr std::size_t kRxAhead = 256;
constexpr Duration kRetryOpen = milliseconds(100);
}  // namespace

PtyUart::PtyUart(unsigned baud, std::filesystem::path link, Receiver receiver)
    : byte_time_(std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / std::max(1u, baud)))),
      link_(std::move(link)),
      receiver_(std::move(receiver)) {}

PtyUart::PtyUart(unsigned baud, Tty tty, Receiver receiver)
    : byte_time_(std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / std::max(1u, baud)))),
      tty_(std::move(tty.path)),
      tty_baud_(baud),
      receiver_(std::move(receiver)) {}

PtyUart::~PtyUart() { stop(); }

void PtyUart::start() {
  std::lock_guard lk(m_);
  if (running_) return;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw RigError(std::string("simulated UART: eventfd: ") + std::strerror(errno));
  open_port_locked();
  stop_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void PtyUart::stop() {
  {
    std::lock_guard lk(m_);
    if (!running_) return;
    stop_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(m_);
  close_port_locked();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  running_ = false;
}

void PtyUart::open_port_locked() {
  if (!tty_.empty()) {
    pty_ = open_raw_tty(tty_, tty_baud_);
    device_ = tty_;
    return;
  }
  Pty p = open_pty();
  std::error_code ec;
  auto tmp = link_;
  tmp += ".new";
  std::filesystem::remove(tmp, ec);
  std::filesystem::create_symlink(p.slave_path, tmp, ec);
  if (!ec) std::filesystem::rename(tmp, link_, ec);
  if (ec) throw RigError("simulated UART: cannot place the link " + link_.string() + ": " + ec.message());
  device_ = p.slave_path;
  pty_ = std::move(p);
}

void PtyUart::close_port_locked() {
  // The link goes first: a rig reopening through it must never reach a pty number handed out again.
  std::error_code ec;
  if (std::filesystem::is_symlink(link_, ec)) std::filesystem::remove(link_, ec);
  pty_.close();
  device_.clear();
  rx_.clear();
}

void PtyUart::wake() {
  std::uint64_t one = 1;
  if (wake_fd_ < 0) return;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void PtyUart::send(std::string_view bytes) {
  if (bytes.empty()) return;
  {
    std::lock_guard lk(m_);
    if (tx_.empty()) tx_start_ = std::max(now(), tx_line_free_);
    tx_.append(bytes.data(), bytes.size());
  }
  wake();
}

std::size_t PtyUart::pending() const {
  std::lock_guard lk(m_);
  return tx_.size();
}

void PtyUart::discard() {
  std::lock_guard lk(m_);
  tx_.clear();
}

void PtyUart::vanish(Duration gone) {
  {
    std::lock_guard lk(m_);
    if (!running_) return;
    // Done by the UART thread, the only one that touches the pty's fds while it runs.
    vanish_requested_ = true;
    gone_for_ = gone;
  }
  wake();
}

void PtyUart::set_baud(unsigned baud) {
  {
    std::lock_guard lk(m_);
    byte_time_ = std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / std::max(1u, baud)));
    tty_baud_ = baud;
    if (!tty_.empty() && pty_.is_open()) set_raw_tty_baud(pty_.master_fd, baud);
  }
  wake();
}

std::string PtyUart::device() const {
  std::lock_guard lk(m_);
  return device_;
}

void PtyUart::run() {
  std::string deliver;
  // When bytes were last handed over each way: the next delivery is at least a slice later.
  TimePoint tx_last{}, rx_last{};
  for (;;) {
    Deadline next = Deadline::never();
    int master = -1;
    TimePoint delivered_at{};
    {
      std::lock_guard lk(m_);
      if (stop_) return;
      TimePoint n = now();
      const Duration slice = slice_for(byte_time_);
      if (vanish_requested_) {
        vanish_requested_ = false;
        close_port_locked();
        gone_ = true;
        back_at_ = n + gone_for_;
      }
      if (gone_ && n >= back_at_) {
        try {
          open_port_locked();
          gone_ = false;
        } catch (const RigError&) {
          back_at_ = n + kRetryOpen;
        }
      }
      if (!tx_.empty()) {
        if (!pty_.is_open()) {
          tx_.clear();  // nobody on the other end of the wire
        } else {
          auto done = static_cast<std::size_t>(std::max<std::int64_t>(0, (n - tx_start_) / byte_time_));
          std::size_t k = std::min(done, tx_.size());
          if (k > 0) {
            // A full pty (nobody reading) loses the bytes, as a wire nobody listens to does.
            [[maybe_unused]] ssize_t w = ::write(pty_.master_fd, tx_.data(), k);
            tx_.erase(0, k);
            tx_start_ += byte_time_ * static_cast<std::int64_t>(k);
            tx_line_free_ = tx_start_;
            tx_last = n;
          }
          if (!tx_.empty()) next = next.min(Deadline::at(std::max(tx_start_ + byte_time_, tx_last + slice)));
        }
      }
      if (!rx_.empty()) {
        auto done = static_cast<std::size_t>(std::max<std::int64_t>(0, (n - rx_start_) / byte_time_));
        std::size_t k = std::min(done, rx_.size());
        if (k > 0) {
          deliver.assign(rx_, 0, k);
          rx_.erase(0, k);
          rx_start_ += byte_time_ * static_cast<std::int64_t>(k);
          rx_line_free_ = rx_start_;
          delivered_at = n;
          rx_last = n;
        }
        if (!rx_.empty()) next = next.min(Deadline::at(std::max(rx_start_ + byte_time_, rx_last + slice)));
      }
      if (gone_) next = next.min(Deadline::at(back_at_));
      // Bytes the rig writes while earlier ones are still on the line queue up behind them, so the line
      // stays busy; beyond kRxAhead the pty's buffer pushes back.
      if (pty_.is_open() && rx_.size() < kRxAhead) master = pty_.master_fd;
    }
    if (!deliver.empty()) {
      receiver_(deliver, delivered_at);
      deliver.clear();
      continue;
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {master, POLLIN, 0}};
    timespec ts = next.remaining_timespec();
    int r = ::ppoll(fds, master >= 0 ? 2 : 1, next.is_never() ? nullptr : &ts, nullptr);
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) {
      std::uint64_t v;
      [[maybe_unused]] auto got = ::read(wake_fd_, &v, sizeof v);
    }
    if (master >= 0 && fds[1].revents) {
      std::lock_guard lk(m_);
      if (!pty_.is_open() || pty_.master_fd != master) continue;
      char buf[kRxAhead];
      ssize_t got = ::read(master, buf, kRxAhead - std::min(rx_.size(), kRxAhead - 1));
      if (got > 0) {
        if (rx_.empty()) rx_start_ = std::max(now(), rx_line_free_);
        rx_.append(buf, static_cast<std::size_t>(got));
      } else if (got < 0 && errno != EAGAIN && errno != EINTR) {
        // Cannot happen while the pty holds its slave open; if it does, start over with a new pty
        // rather than spin on an fd that polls ready forever.
        close_port_locked();
        gone_ = true;
        back_at_ = now() + kRetryOpen;
      }
    }
  }
}

}  // namespace bootrig::sim
