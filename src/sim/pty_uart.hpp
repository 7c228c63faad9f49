// The simulated module's UART0 as a pseudo-terminal: bytes paced at the baud rate both ways (8N1, 10 bits a
// byte), a stable symlink to the current pty, and the port-vanishes fault.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "bootrig/core/time.hpp"
#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig::sim {

class PtyUart {
 public:
  using Receiver = std::function<void(std::string_view bytes, TimePoint when)>;

  // `link`: where the symlink to the pty is kept (its folder must exist). `receiver` gets the bytes the rig
  // sent, at line rate, on the UART's own thread.
  PtyUart(unsigned baud, std::filesystem::path link, Receiver receiver);
  // A real tty instead of a pty (the gpio-sim wires: a UART the rig reaches through the kernel's serial
  // driver), opened raw 8N1 at `baud`; no link is kept.
  struct Tty {
    std::string path;
  };
  PtyUart(unsigned baud, Tty tty, Receiver receiver);
  ~PtyUart();
  PtyUart(const PtyUart&) = delete;
  PtyUart& operator=(const PtyUart&) = delete;

  // Throws RigError when no pty can be made or the link cannot be placed.
  void start();
  void stop();

  void send(std::string_view bytes);  // never blocks; paced out by the UART thread
  std::size_t pending() const;
  void discard();
  // The port goes away now (link removed, pty closed: the rig sees a hangup) and a new one appears behind
  // the same link after `gone`.
  void vanish(Duration gone);

  // The line now runs at this rate, both ways; bytes already queued go out at the new rate.
  void set_baud(unsigned baud);

  std::string link_path() const { return link_.string(); }
  std::string device() const;

 private:
  void run();
  void open_port_locked();
  void close_port_locked();
  void wake();

  Duration byte_time_;  // under m_ once running
  const std::filesystem::path link_;
  const std::string tty_;  // non-empty: this tty instead of a pty
  unsigned tty_baud_ = 0;  // under m_
  Receiver receiver_;

  mutable std::mutex m_;
  Pty pty_;
  std::string device_;
  int wake_fd_ = -1;
  bool stop_ = false;
  bool running_ = false;
  // TX: bytes queued, and when the first of them started on the line.
  std::string tx_;
  TimePoint tx_start_{};
  TimePoint tx_line_free_{};
  // RX: bytes taken from the pty and not yet "arrived", and when the first of them started on the line.
  std::string rx_;
  TimePoint rx_start_{};
  TimePoint rx_line_free_{};
  // Vanished until this time (the pty is closed meanwhile).
  bool gone_ = false;
  TimePoint back_at_{};
  bool vanish_requested_ = false;
  Duration gone_for_{};
  std::thread thread_;
};

}  // namespace bootrig::sim
