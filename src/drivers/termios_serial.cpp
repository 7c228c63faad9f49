// Serial links through termios on ttys and pseudo-terminals (libserialport 0.1.1 refuses ptys).
#include "bootrig/drivers/termios_serial.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "drivers/polled_link.hpp"
#include "drivers/termios2_speed.hpp"

namespace bootrig {

namespace {

speed_t standard_speed(unsigned baud) {
  switch (baud) {
    case 50:
      return B50;
    case 75:
      return B75;
    case 110:
      return B110;
    case 134:
      return B134;
    case 150:
      return B150;
    case 200:
      return B200;
    case 300:
      return B300;
    case 600:
      return B600;
    case 1200:
      return B1200;
    case 1800:
      return B1800;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 1500000:
      return B1500000;
    case 2000000:
      return B2000000;
    case 2500000:
      return B2500000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
    default:
      return B0;
  }
}


class TermiosLink final : public detail::PolledLink {
 public:
  TermiosLink(std::string path, const SerialSettings& s) : PolledLink(std::move(path), s) {}
  ~TermiosLink() override { close_port(); }
  TermiosLink(const TermiosLink&) = delete;
  TermiosLink& operator=(const TermiosLink&) = delete;

 protected:
  bool open_port(bool first) override {
    close_port();
    // open() follows links afresh each time, so a re-pointed /dev/serial/by-id/ or simulator link is
    // honoured on reopen.
    int f = ::open(path().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
      int err = errno;
      if (!first && detail::is_transient_open_errno(err)) return false;
      detail::throw_open_error(path(), err);
    }
    fd_ = f;
    pty_ = is_pty_path(path());
    std::error_code ec;
    if (first) reopenable_ = !(pty_ && !std::filesystem::is_symlink(path(), ec));
    try {
      configure();
    } catch (const RigError&) {
      close_port();
      if (!first) return false;
      throw;
    }
    return true;
  }

  void close_port() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd() const override { return fd_; }
  bool can_reopen() const override { return reopenable_; }
  ssize_t read_some(char* buf, std::size_t n) override { return ::read(fd_, buf, n); }
  ssize_t write_some(const char* buf, std::size_t n) override { return ::write(fd_, buf, n); }

  int output_queued() override {
    int queued = 0;
    if (::ioctl(fd_, TIOCOUTQ, &queued) != 0) {
      // A pty hands bytes straight to the other side and may not support the query.
      if (pty_ && (errno == ENOTTY || errno == EINVAL)) return 0;
      return -1;
    }
    return queued;
  }

  int flush_input() override { return ::tcflush(fd_, TCIFLUSH) != 0 ? errno : 0; }

  void apply_baud(unsigned baud) override {
    termios t{};
    if (::tcgetattr(fd_, &t) != 0) fail("tcgetattr");
    set_speed(t, baud);
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    int err = errno;
    if (err == ENOTTY) detail::throw_open_error(path(), err);
    throw RigError("cannot configure serial port " + describe() + " (" + what + "): " + std::strerror(err));
  }

  void set_speed(termios& t, unsigned baud) {
    speed_t sp = standard_speed(baud);
    if (sp != B0) {
      ::cfsetspeed(&t, sp);
      if (::tcsetattr(fd_, TCSANOW, &t) != 0) fail("tcsetattr");
      return;
    }
    if (::tcsetattr(fd_, TCSANOW, &t) != 0) fail("tcsetattr");
    if (detail::set_custom_baud(fd_, baud) != 0) {
      throw RigError("serial port " + describe() + " refuses " + std::to_string(baud) + " baud (" +
                     std::strerror(errno) + "); pick a standard rate such as 115200");
    }
  }

  void configure() {
    termios t{};
    if (::tcgetattr(fd_, &t) != 0) fail("tcgetattr");
    // Raw 8N1: bytes pass unchanged both ways (no echo, line editing, signals or CR/LF translation).
    ::cfmakeraw(&t);
    t.c_oflag &= ~static_cast<tcflag_t>(ONLCR | OCRNL | ONOCR | ONLRET);
    t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | CSTOPB | CRTSCTS);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    // Closing must not drop DTR: on many adapters DTR/RTS reach EN/GPIO0, and a drop resets the module.
    t.c_cflag &= ~static_cast<tcflag_t>(HUPCL);
    t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    if (settings().flow == FlowControl::rtscts) t.c_cflag |= CRTSCTS;
    if (settings().flow == FlowControl::xonxoff) t.c_iflag |= IXON | IXOFF;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    set_speed(t, settings().baud);
    // The kernel itself raises DTR/RTS when a tty is opened; bootrig only touches them when the rig file
    // asks for a level, and never pulses them on its own.
    if (settings().dtr) set_modem_line(TIOCM_DTR, "DTR", *settings().dtr);
    if (settings().rts) set_modem_line(TIOCM_RTS, "RTS", *settings().rts);
  }

  void set_modem_line(int bit, const char* name, bool on) {
    if (::ioctl(fd_, on ? TIOCMBIS : TIOCMBIC, &bit) == 0) return;
    int err = errno;
    // Pseudo-terminals have no modem lines; the simulator does not need them.
    if (pty_ && (err == ENOTTY || err == EINVAL)) return;
    throw RigError("cannot set " + std::string(name) + " on serial port " + describe() + ": " +
                   std::strerror(err) + "; remove " + (bit == TIOCM_DTR ? "dtr" : "rts") +
                   " from the rig file if the adapter has no such line");
  }

  int fd_ = -1;
  bool pty_ = false;
  bool reopenable_ = true;
};

}  // namespace

bool is_pty_path(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  return !ec && real.string().rfind("/dev/pts/", 0) == 0;
}

std::unique_ptr<SerialLink> open_termios(const std::string& path, const SerialSettings& settings,
                                 milliseconds reappear) {
  if (settings.baud == 0) throw RigError("serial port " + path + ": baud rate 0 is not a speed");
  auto link = std::make_unique<TermiosLink>(path, settings);
  link->set_reappear(reappear);
  link->open_initial();
  return link;
}

}  // namespace bootrig
