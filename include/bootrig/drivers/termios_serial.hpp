// The termios driver: serial links on pseudo-terminals (the simulator's UART), which libserialport refuses.
#pragma once

#include <memory>
#include <string>

#include "bootrig/hw/serial.hpp"

namespace bootrig {

// Opens a tty or pty with termios: raw 8N1 at the given baud, non-blocking, no controlling terminal.
// Throws RigError naming the path when it is missing, not a tty, busy or not permitted. The link rides
// out the port vanishing and coming back at the same path (USB unplug, the simulator's fault).
// `reappear`: how long the port may stay away once it went away (a USB adapter re-enumerating at a reset)
// before a write gives up on it, however short the writer's own deadline ([serial] reappear_ms).
std::unique_ptr<SerialLink> open_termios(const std::string& path, const SerialSettings& settings,
                                 milliseconds reappear = milliseconds(0));
// Whether `path` (after links) is a pseudo-terminal's slave, /dev/pts/N: libserialport cannot open those.
bool is_pty_path(const std::string& path);

// A fresh pseudo-terminal pair, owned: the master (non-blocking) for the side that plays the device, and
// one open slave fd that keeps the master from seeing EIO/hangup while no reader has the slave open. The
// slave is raw (no echo, no line editing, no CR/LF translation) from the start, so bytes written to the
// master before the rig opens the slave arrive unchanged. Move-only; closes both fds when destroyed.
struct Pty {
  int master_fd = -1;
  int hold_fd = -1;
  std::string slave_path;  // /dev/pts/N

  Pty() = default;
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;
  Pty(Pty&& other) noexcept;
  Pty& operator=(Pty&& other) noexcept;
  ~Pty();

  bool is_open() const { return master_fd >= 0; }
  // Closes both ends: whoever has the slave open sees a hangup, and the slave path disappears.
  void close();
};
// Throws RigError when the system has no pseudo-terminals left (or /dev/ptmx is unusable).
Pty open_pty();

}  // namespace bootrig
