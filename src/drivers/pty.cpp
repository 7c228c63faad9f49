// Pseudo-terminal pairs for the simulated module's UART: raw from the start, master never hung up.
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig {

Pty::Pty(Pty&& other) noexcept
    : master_fd(std::exchange(other.master_fd, -1)),
      hold_fd(std::exchange(other.hold_fd, -1)),
      slave_path(std::move(other.slave_path)) {}

Pty& Pty::operator=(Pty&& other) noexcept {
  if (this != &other) {
    close();
    master_fd = std::exchange(other.master_fd, -1);
    hold_fd = std::exchange(other.hold_fd, -1);
    slave_path = std::move(other.slave_path);
  }
  return *this;
}

Pty::~Pty() { close(); }

void Pty::close() {
  // The held slave first, so the master's last moment is not an EIO; then the master, which hangs up
  // every other opener of the slave.
  if (hold_fd >= 0) ::close(hold_fd);
  if (master_fd >= 0) ::close(master_fd);
  hold_fd = -1;
  master_fd = -1;
}

namespace {
[[noreturn]] void fail(const std::string& what, int err) {
  throw RigError("cannot create a pseudo-terminal for the simulated module (" + what + ": " +
                 std::strerror(err) + "); is /dev/pts mounted?");
}
}  // namespace

Pty open_pty() {
  Pty pty;
  pty.master_fd = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty.master_fd < 0) fail("posix_openpt", errno);
  if (::grantpt(pty.master_fd) != 0) fail("grantpt", errno);
  if (::unlockpt(pty.master_fd) != 0) fail("unlockpt", errno);
  char name[128];
  if (int e = ::ptsname_r(pty.master_fd, name, sizeof name); e != 0) fail("ptsname_r", e);
  pty.slave_path = name;

  // Held open for the pair's whole life: with no slave open the master reads EIO and polls POLLHUP,
  // which the simulator would have to tell apart from a real failure.
  pty.hold_fd = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (pty.hold_fd < 0) fail("open " + pty.slave_path, errno);

  // termios belongs to the slave tty, not to an fd, so setting it here makes the line raw for the rig's
  // open too and for bytes the simulator writes before the rig opens it.
  termios t{};
  if (::tcgetattr(pty.hold_fd, &t) != 0) fail("tcgetattr " + pty.slave_path, errno);
  ::cfmakeraw(&t);
  // cfmakeraw leaves ONLCR set (inert without OPOST); cleared so no later OPOST brings CR/LF mapping back.
  t.c_oflag &= ~static_cast<tcflag_t>(ONLCR | OCRNL | ONOCR | ONLRET);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~static_cast<tcflag_t>(HUPCL);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (::tcsetattr(pty.hold_fd, TCSANOW, &t) != 0) fail("tcsetattr " + pty.slave_path, errno);

  int flags = ::fcntl(pty.master_fd, F_GETFL);
  if (flags < 0 || ::fcntl(pty.master_fd, F_SETFL, flags | O_NONBLOCK) != 0) fail("fcntl O_NONBLOCK", errno);
  return pty;
}

}  // namespace bootrig
