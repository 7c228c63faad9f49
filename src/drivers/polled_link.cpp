// Deadline-bound, interruptible reads and writes on a serial port's fd, with reconnect after a hangup.
#include "drivers/polled_link.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig::detail {

void throw_open_error(const std::string& path, int err, const char* what) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      throw RigError("serial port " + path + " does not exist; 'bootrig ports' lists the ports present");
    case EACCES:
    case EPERM:
      throw RigError(
          "permission denied opening serial port " + path +
          "; add your user to the dialout group (sudo usermod -aG dialout $USER, then log in again)");
    case EBUSY:
      throw RigError("serial port " + path +
                     " is busy: another program (a terminal, ModemManager, another bootrig) has it open");
    case ENXIO:
    case ENODEV:
      throw RigError("serial port " + path + " has no device behind it (adapter unplugged?); " +
                     "'bootrig ports' lists the ports present");
    case ENOTTY:
      throw RigError(path + " is not a serial port; 'bootrig ports' lists the ports present");
    default:
      throw RigError(std::string("cannot ") + what + " serial port " + path + ": " + std::strerror(err));
  }
}

bool is_hangup_errno(int err) { return err == EIO || err == ENXIO || err == ENODEV || err == EPIPE; }

bool is_transient_open_errno(int err) {
  return err == ENOENT || err == ENXIO || err == ENODEV || err == EIO || err == EACCES || err == EBUSY ||
         err == EAGAIN;
}

std::string describe_path(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  if (ec || real.string().rfind("/dev/pts/", 0) != 0) return path;
  return "pty " + real.string() + (real.string() == path ? "" : " via " + path);
}

namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr auto kFirstBackoff = milliseconds(20);
constexpr auto kMaxBackoff = milliseconds(500);

// ppoll on the port and the interrupt eventfd; returns the port's revents (0 on timeout).
short poll_port(int fd, short events, Deadline deadline) {
  for (;;) {
    interrupt::throw_if_requested();
    std::array<pollfd, 2> p{{{fd, events, 0}, {interrupt::fd(), POLLIN, 0}}};
    timespec ts = deadline.remaining_timespec();
    int r = ::ppoll(p.data(), p.size(), deadline.is_never() ? nullptr : &ts, nullptr);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw RigError(std::string("cannot wait for serial port: ppoll: ") + std::strerror(errno));
    }
    if (p[1].revents != 0) throw Interrupted(interrupt::signal_number());
    if (r == 0) {
      // The kernel rounds timeouts up, but never return before the deadline the caller gave.
      if (deadline.expired()) return 0;
      continue;
    }
    return p[0].revents;
  }
}

}  // namespace

void PolledLink::open_initial() {
  open_port(true);
  description_ = describe_path(path_);
}

bool PolledLink::ensure_open(Deadline deadline) {
  if (fd() >= 0) return true;
  if (!can_reopen())
    throw RigError("serial port " + describe() +
                   " went away and a pty never comes back; reach a pty that may be re-created through a link "
                   "that is re-pointed to it");
  auto backoff = kFirstBackoff;
  for (;;) {
    interrupt::throw_if_requested();
    if (open_port(false)) {
      description_ = describe_path(path_);
      spdlog::info("serial port {} is back", describe());
      vanished_ = false;
      return true;
    }
    if (deadline.expired()) return false;
    wait_until(deadline.min(Deadline::after(backoff)));
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void PolledLink::lost(const char* how) {
  if (!vanished_ && can_reopen())
    spdlog::warn("serial port {} went away ({}); trying to reopen it", describe(), how);
  if (!vanished_) lost_at_ = now();
  vanished_ = true;
  // Closed at once: a hung-up fd polls ready forever, and the path must be reopened to reach a new device.
  close_port();
}

std::optional<SerialChunk> PolledLink::read(Deadline deadline) {
  char buf[kReadChunk];
  for (;;) {
    interrupt::throw_if_requested();
    if (!ensure_open(deadline)) return std::nullopt;
    const milliseconds every = settings_.poll_interval;
    // A polling reader only looks (a zero timeout) and sleeps until its next look.
    short rev = poll_port(fd(), POLLIN, every.count() > 0 ? Deadline::at(now()) : deadline);
    if (rev == 0 && every.count() > 0 && !deadline.expired()) {
      wait_until(deadline.min(Deadline::after(every)));
      continue;
    }
    if (rev == 0) return std::nullopt;
    // Data first: what arrived before a hangup is still readable and must not be lost.
    if ((rev & POLLIN) != 0 || (rev & (POLLHUP | POLLERR)) != 0) {
      ssize_t n = read_some(buf, sizeof buf);
      TimePoint t = now();
      if (n > 0) return SerialChunk{t, std::string(buf, static_cast<std::size_t>(n))};
      if (n == 0) {
        lost("end of file");
        continue;
      }
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
        if ((rev & (POLLHUP | POLLERR)) != 0) lost("hangup");
        continue;
      }
      if (is_hangup_errno(err)) {
        lost(std::strerror(err));
        continue;
      }
      throw RigError("cannot read from serial port " + describe() + ": " + std::strerror(err));
    }
    if ((rev & POLLNVAL) != 0) {
      lost("invalid descriptor");
      continue;
    }
  }
}

void PolledLink::write(std::string_view bytes, Deadline deadline) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    interrupt::throw_if_requested();
    // A port re-enumerating after a reset gets the rig's gap, whatever the writer's deadline.
    Deadline grace = deadline;
    if (fd() < 0 && vanished_ && !deadline.is_never() && deadline.when() < lost_at_ + reappear_)
      grace = Deadline::at(lost_at_ + reappear_);
    if (!ensure_open(grace))
      throw RigError("serial port " + describe() + " went away and did not come back in time (" +
                     std::to_string(done) + " of " + std::to_string(bytes.size()) +
                     " bytes sent); check the cable and adapter");
    ssize_t n = write_some(bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    int err = n < 0 ? errno : EAGAIN;
    if (err == EINTR) continue;
    if (is_hangup_errno(err)) {
      lost(std::strerror(err));
      continue;
    }
    if (err != EAGAIN && err != EWOULDBLOCK)
      throw RigError("cannot write to serial port " + describe() + ": " + std::strerror(err));
    short rev = poll_port(fd(), POLLOUT, deadline);
    if (rev == 0)
      throw RigError("serial port " + describe() + " took only " + std::to_string(done) + " of " +
                     std::to_string(bytes.size()) + " bytes before the deadline; is flow control (" +
                     to_string(settings_.flow) + ") holding it?");
    if ((rev & (POLLHUP | POLLERR | POLLNVAL)) != 0 && (rev & POLLOUT) == 0) lost("hangup");
  }
}

void PolledLink::drain(Deadline deadline) {
  for (;;) {
    interrupt::throw_if_requested();
    // A vanished port took its output queue with it: nothing is left to wait for.
    if (fd() < 0) return;
    int queued = output_queued();
    if (queued < 0) {
      int err = errno;
      if (is_hangup_errno(err)) {
        lost(std::strerror(err));
        return;
      }
      throw RigError("cannot query the output queue of serial port " + describe() + ": " +
                     std::strerror(err));
    }
    if (queued == 0) return;
    if (deadline.expired())
      throw RigError("serial port " + describe() + " still had " + std::to_string(queued) +
                     " bytes to send at the deadline; is flow control (" + to_string(settings_.flow) +
                     ") holding it?");
    // The kernel has no "queue empty" event to poll for, so wait about as long as the queue takes to
    // leave at this baud (10 bits a byte), within sensible bounds.
    auto expected =
        microseconds(static_cast<long long>(queued) * 10'000'000LL / std::max(settings_.baud, 1u));
    auto step = std::clamp<Duration>(expected, milliseconds(1), milliseconds(50));
    wait_until(deadline.min(Deadline::after(step)));
  }
}

void PolledLink::discard_input() {
  if (fd() < 0) return;
  if (int err = flush_input(); err != 0) {
    // A port that went away (EIO on a re-enumerating adapter or a re-created pty) has no input to discard:
    // the next read or write waits for it to come back.
    if (is_hangup_errno(err)) {
      lost(std::strerror(err));
      return;
    }
    throw RigError("cannot discard input of serial port " + describe() + ": " + std::strerror(err));
  }
}

void PolledLink::set_baud(unsigned baud) {
  if (baud == 0) throw RigError("serial port " + describe() + ": baud rate 0 is not a speed");
  if (fd() >= 0) apply_baud(baud);
  settings_.baud = baud;
}

}  // namespace bootrig::detail
