// The termios driver: serial links on pseudo-terminals (the simulator's UART), which libserialport refuses.
#pragma once

#include <memory>
#include <string>

#include "bootrig/hw/serial.hpp"

namespace bootrig {

// Opens a tty or pty with termios: raw 8N1 at the given baud, non-blocking, no controlling terminal.
std::unique_ptr<SerialLink> open_termios(const std::string& path, const SerialSettings& settings);

// A fresh pseudo-terminal pair: the master fd (owned by the caller) and the slave's path.
struct Pty {
  int master_fd = -1;
  std::string slave_path;
};
Pty open_pty();

}  // namespace bootrig
