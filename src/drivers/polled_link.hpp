// Shared by the termios and libserialport drivers: deadline-bound, interruptible I/O on a port's file
// descriptor, and riding out a port that vanishes and comes back (USB unplug, the simulator's fault).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "bootrig/hw/serial.hpp"

namespace bootrig::detail {

// The one-line RigError for a failed open, by errno: missing, not permitted, busy, gone.
[[noreturn]] void throw_open_error(const std::string& path, int err, const char* what = "open");
// errno values that mean the device behind the fd is gone rather than that the call was wrong.
bool is_hangup_errno(int err);
// errno values after which reopening later may succeed: not there yet, udev not done with permissions.
bool is_transient_open_errno(int err);
// "pty /dev/pts/5" for pseudo-terminals (with the link it was reached through), else the path.
std::string describe_path(const std::string& path);

class PolledLink : public SerialLink {
 public:
  void write(std::string_view bytes, Deadline deadline) override;
  std::optional<SerialChunk> read(Deadline deadline) override;
  void drain(Deadline deadline) override;
  void discard_input() override;
  void set_baud(unsigned baud) override;
  unsigned baud() const override { return settings_.baud; }
  std::string describe() const override { return description_; }

  // The first open: every failure is a RigError naming the port.
  void open_initial();
  // How long a port that went away may stay away before a write gives up on it.
  void set_reappear(milliseconds r) { reappear_ = r; }

 protected:
  PolledLink(std::string path, const SerialSettings& settings)
      : path_(std::move(path)), settings_(settings), description_(path_) {}

  // Opens and configures the port with settings(). On the first open every failure is a RigError; on a
  // reopen, returns false while the port is not back yet (missing, not yet permitted, busy).
  virtual bool open_port(bool first) = 0;
  virtual void close_port() = 0;
  virtual int fd() const = 0;
  // These return -1 and set errno like read(2)/write(2).
  virtual ssize_t read_some(char* buf, std::size_t n) = 0;
  virtual ssize_t write_some(const char* buf, std::size_t n) = 0;
  virtual int output_queued() = 0;  // bytes not yet sent, or -1 with errno
  virtual int flush_input() = 0;  // 0, or the errno it failed with
  virtual void apply_baud(unsigned baud) = 0;
  // False when a vanished port cannot be the same device again (a pty named by its /dev/pts/N path:
  // the number is soon handed to some other program's pty).
  virtual bool can_reopen() const { return true; }

  const std::string& path() const { return path_; }
  const SerialSettings& settings() const { return settings_; }

 private:
  // True once the port is open, reopening it (with back-off) until the deadline if it had vanished.
  bool ensure_open(Deadline deadline);
  // The port went away: say so once, close it, and let the next call reopen it.
  void lost(const char* how);

  std::string path_;
  SerialSettings settings_;
  // Kept from the last open, so that messages about a vanished pty still name it.
  std::string description_;
  bool vanished_ = false;
  TimePoint lost_at_{};  // when the port went away: a write waits for it until lost_at_ + reappear_
  milliseconds reappear_{0};
};

}  // namespace bootrig::detail
