// The libserialport driver: listing the ports the OS knows, and serial links on real UARTs.
#include "bootrig/drivers/serialport.hpp"

#include <fcntl.h>
#include <libserialport.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "drivers/polled_link.hpp"

namespace bootrig {

namespace {

struct PortDeleter {
  void operator()(sp_port* p) const { sp_free_port(p); }
};
using PortPtr = std::unique_ptr<sp_port, PortDeleter>;

struct PortListDeleter {
  void operator()(sp_port** l) const { sp_free_port_list(l); }
};
using PortListPtr = std::unique_ptr<sp_port*, PortListDeleter>;

struct ConfigDeleter {
  void operator()(sp_port_config* c) const { sp_free_config(c); }
};
using ConfigPtr = std::unique_ptr<sp_port_config, ConfigDeleter>;

std::string str_or_empty(const char* s) { return s ? s : ""; }

// libserialport's message for its last failure, freed as it asks.
std::string last_error() {
  char* m = sp_last_error_message();
  std::string s = str_or_empty(m);
  sp_free_error_message(m);
  return s;
}

// After an SP_ERR_FAIL the OS error is in sp_last_error_code(); other codes are libserialport's own.
int errno_of(sp_return r) { return r == SP_ERR_FAIL ? sp_last_error_code() : EINVAL; }

const char* transport_name(sp_transport t) {
  switch (t) {
    case SP_TRANSPORT_USB:
      return "usb";
    case SP_TRANSPORT_BLUETOOTH:
      return "bluetooth";
    case SP_TRANSPORT_NATIVE:
      return "native";
  }
  return "native";
}

bool is_pty(const std::filesystem::path& real) {
  return real.string().rfind("/dev/pts/", 0) == 0 || real == "/dev/ptmx";
}

class SerialPortLink final : public detail::PolledLink {
 public:
  SerialPortLink(std::string path, const SerialSettings& s) : PolledLink(std::move(path), s) {}
  ~SerialPortLink() override { close_port(); }
  SerialPortLink(const SerialPortLink&) = delete;
  SerialPortLink& operator=(const SerialPortLink&) = delete;

 protected:
  bool open_port(bool first) override {
    close_port();
    // libserialport finds a port's details in sysfs by the device's own name, so links such as
    // /dev/serial/by-id/... are resolved here, afresh on every reopen.
    std::error_code ec;
    auto real = std::filesystem::canonical(path(), ec);
    if (ec) {
      if (!first) return false;
      detail::throw_open_error(path(), ENOENT);
    }
    if (is_pty(real))
      throw RigError(
          "serial port " + path() +
          " is a pseudo-terminal, which libserialport cannot open; ptys go through bootrig's termios "
          "driver");
    sp_port* raw = nullptr;
    if (sp_get_port_by_name(real.c_str(), &raw) != SP_OK) {
      if (!first) return false;
      throw RigError(path() + " is not a serial port the system knows (" + last_error() +
                     "); 'bootrig ports' lists the ports present");
    }
    PortPtr port(raw);
    if (sp_return r = sp_open(port.get(), SP_MODE_READ_WRITE); r != SP_OK) {
      int err = errno_of(r);
      if (!first && detail::is_transient_open_errno(err)) return false;
      detail::throw_open_error(path(), err);
    }
    port_ = std::move(port);
    if (sp_get_port_handle(port_.get(), &fd_) != SP_OK) fd_ = -1;
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
    if (port_) sp_close(port_.get());
    port_.reset();
    fd_ = -1;
  }

  int fd() const override { return fd_; }

  ssize_t read_some(char* buf, std::size_t n) override {
    sp_return r = sp_nonblocking_read(port_.get(), buf, n);
    if (r >= 0) return r;
    errno = errno_of(r);
    return -1;
  }

  ssize_t write_some(const char* buf, std::size_t n) override {
    sp_return r = sp_nonblocking_write(port_.get(), buf, n);
    if (r >= 0) return r;
    errno = errno_of(r);
    return -1;
  }

  int output_queued() override {
    sp_return r = sp_output_waiting(port_.get());
    if (r >= 0) return r;
    errno = errno_of(r);
    return -1;
  }

  int flush_input() override {
    if (sp_flush(port_.get(), SP_BUF_INPUT) == SP_OK) return 0;
    return errno != 0 ? errno : EIO;  // libserialport leaves the OS error in errno (sp_last_error_code)
  }

  void apply_baud(unsigned baud) override {
    if (sp_set_baudrate(port_.get(), static_cast<int>(baud)) != SP_OK)
      throw RigError("serial port " + describe() + " refuses " + std::to_string(baud) + " baud (" +
                     last_error() + "); pick a standard rate such as 115200");
    check_baud(baud);
  }

 private:
  void check(sp_return r, const std::string& what) {
    if (r != SP_OK)
      throw RigError("serial port " + describe() + " refuses " + what + " (" + last_error() +
                     "); check the serial settings in the rig file");
  }

  void configure() {
    if (fd_ < 0) throw RigError("serial port " + describe() + ": libserialport gave no file descriptor");
    // libserialport 0.1.1 opens without O_CLOEXEC; a child process must not inherit the port.
    ::fcntl(fd_, F_SETFD, ::fcntl(fd_, F_GETFD) | FD_CLOEXEC);
    // Nor does it claim the port. Two programs reading one UART each get half the bytes, so bootrig takes
    // the lock pyserial's exclusive mode takes (flock), which refuses a second bootrig or such a tool even
    // as root, and sets TIOCEXCL, which the kernel uses to refuse any other opener without CAP_SYS_ADMIN.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) detail::throw_open_error(path(), EBUSY);
    if (::ioctl(fd_, TIOCEXCL) != 0)
      throw RigError("cannot claim serial port " + describe() +
                     " for exclusive use: " + std::strerror(errno));

    sp_port_config* raw = nullptr;
    if (sp_new_config(&raw) != SP_OK) throw std::bad_alloc();
    ConfigPtr config(raw);
    // Fields left unset (-1) are not changed by sp_set_config: DTR and RTS stay as they are unless the
    // rig file asks for a level.
    check(sp_set_config_baudrate(config.get(), static_cast<int>(settings().baud)), "the baud rate");
    check(sp_set_config_bits(config.get(), 8), "8 data bits");
    check(sp_set_config_parity(config.get(), SP_PARITY_NONE), "no parity");
    check(sp_set_config_stopbits(config.get(), 1), "1 stop bit");
    check(sp_set_config_xon_xoff(
              config.get(), settings().flow == FlowControl::xonxoff ? SP_XONXOFF_INOUT : SP_XONXOFF_DISABLED),
          "the XON/XOFF setting");
    const bool rtscts = settings().flow == FlowControl::rtscts;
    check(sp_set_config_cts(config.get(), rtscts ? SP_CTS_FLOW_CONTROL : SP_CTS_IGNORE), "the CTS setting");
    check(sp_set_config_dsr(config.get(), SP_DSR_IGNORE), "the DSR setting");
    // The Linux kernel itself raises DTR and RTS when a tty is opened; bootrig never pulses them on its
    // own, it only sets the levels the rig file names (on many adapters they reach EN and GPIO0).
    if (rtscts) {
      check(sp_set_config_rts(config.get(), SP_RTS_FLOW_CONTROL), "RTS/CTS flow control");
    } else if (settings().rts) {
      check(sp_set_config_rts(config.get(), *settings().rts ? SP_RTS_ON : SP_RTS_OFF), "the RTS level");
    }
    if (settings().dtr)
      check(sp_set_config_dtr(config.get(), *settings().dtr ? SP_DTR_ON : SP_DTR_OFF), "the DTR level");
    check(sp_set_config(port_.get(), config.get()), "the settings");

    // Two things libserialport 0.1.1 leaves wrong on Linux, both seen on a 16550 in the kernel tier: sp_open
    // sets HUPCL, which drops DTR (and so may reset the module) when the port is closed, and asking for
    // RTS/CTS flow control leaves CRTSCTS clear. Both bits are set here directly.
    termios t{};
    if (::tcgetattr(fd_, &t) != 0)
      throw RigError("cannot read the settings of serial port " + describe() + ": " + std::strerror(errno));
    t.c_cflag &= ~static_cast<tcflag_t>(HUPCL | CRTSCTS);
    if (rtscts) t.c_cflag |= CRTSCTS;
    if (::tcsetattr(fd_, TCSANOW, &t) != 0)
      throw RigError("cannot apply the settings of serial port " + describe() + ": " + std::strerror(errno));
    check_baud(settings().baud);
  }

  // A UART whose clock cannot make a rate keeps the one it had and the kernel says so in termios (a 16550 on
  // its usual 1.8432 MHz clock stops at 115200); libserialport reports success regardless, so read it back.
  void check_baud(unsigned wanted) {
    sp_port_config* raw = nullptr;
    if (sp_new_config(&raw) != SP_OK) throw std::bad_alloc();
    ConfigPtr config(raw);
    int actual = -1;
    if (sp_get_config(port_.get(), config.get()) != SP_OK ||
        sp_get_config_baudrate(config.get(), &actual) != SP_OK)
      throw RigError("cannot read back the baud rate of serial port " + describe() + ": " + last_error());
    if (actual != static_cast<int>(wanted))
      throw RigError("serial port " + describe() + " cannot run at " + std::to_string(wanted) +
                     " baud (it stays at " + std::to_string(actual) +
                     "); pick a rate the adapter supports, such as 115200");
  }

  PortPtr port_;
  int fd_ = -1;
};

}  // namespace

std::vector<PortInfo> list_serial_ports() {
  sp_port** raw = nullptr;
  if (sp_list_ports(&raw) != SP_OK) throw RigError("cannot list serial ports: " + last_error());
  PortListPtr list(raw);
  std::vector<PortInfo> ports;
  for (sp_port** p = list.get(); *p != nullptr; ++p) {
    PortInfo info;
    info.path = str_or_empty(sp_get_port_name(*p));
    info.description = str_or_empty(sp_get_port_description(*p));
    sp_transport t = sp_get_port_transport(*p);
    info.transport = transport_name(t);
    if (t == SP_TRANSPORT_USB) {
      int vid = 0;
      int pid = 0;
      if (sp_get_port_usb_vid_pid(*p, &vid, &pid) == SP_OK) {
        info.usb_vid = static_cast<std::uint16_t>(vid);
        info.usb_pid = static_cast<std::uint16_t>(pid);
      }
      info.usb_serial = str_or_empty(sp_get_port_usb_serial(*p));
      info.usb_manufacturer = str_or_empty(sp_get_port_usb_manufacturer(*p));
      info.usb_product = str_or_empty(sp_get_port_usb_product(*p));
    }
    ports.push_back(std::move(info));
  }
  return ports;
}

std::unique_ptr<SerialLink> open_serialport(const std::string& path, const SerialSettings& settings,
                                 milliseconds reappear) {
  if (settings.baud == 0) throw RigError("serial port " + path + ": baud rate 0 is not a speed");
  auto link = std::make_unique<SerialPortLink>(path, settings);
  link->set_reappear(reappear);
  link->open_initial();
  return link;
}

}  // namespace bootrig
