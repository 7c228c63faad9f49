// Tests for the libserialport driver: listing, clear errors for ports it cannot open, and (in the kernel
// tier) everything a rig does with a real 16550 UART.
#include "bootrig/drivers/serialport.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig {
namespace {

std::string rig_error_of(const std::string& path) {
  try {
    open_serialport(path, {});
  } catch (const RigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SerialPort, ListingDoesNotThrowAndGivesUsablePaths) {
  std::vector<PortInfo> ports;
  ASSERT_NO_THROW(ports = list_serial_ports());
  std::set<std::string> seen;
  for (const auto& p : ports) {
    EXPECT_EQ(p.path.rfind("/dev/", 0), 0u) << p.path;
    EXPECT_TRUE(p.transport == "usb" || p.transport == "native" || p.transport == "bluetooth") << p.transport;
    // USB details only where the transport is USB.
    if (p.transport != "usb") {
      EXPECT_FALSE(p.usb_vid.has_value()) << p.path;
      EXPECT_TRUE(p.usb_serial.empty()) << p.path;
    }
    EXPECT_TRUE(seen.insert(p.path).second) << "listed twice: " << p.path;
  }
}

TEST(SerialPort, MissingPortIsAClearRigError) {
  EXPECT_EQ(rig_error_of("/dev/bootrig-no-such-port"),
            "serial port /dev/bootrig-no-such-port does not exist; 'bootrig ports' lists the ports present");
}

TEST(SerialPort, PseudoTerminalIsRefusedWithAClearRigError) {
  Pty pty = open_pty();
  EXPECT_EQ(
      rig_error_of(pty.slave_path),
      "serial port " + pty.slave_path +
          " is a pseudo-terminal, which libserialport cannot open; ptys go through bootrig's termios driver");
}

TEST(SerialPort, NonSerialDeviceIsAClearRigError) {
  std::string msg = rig_error_of("/dev/null");
  EXPECT_EQ(msg.rfind("/dev/null is not a serial port the system knows (", 0), 0u) << msg;
  EXPECT_NE(msg.find("'bootrig ports' lists the ports present"), std::string::npos) << msg;
}

TEST(SerialPort, ZeroBaudIsRefusedBeforeOpening) {
  SerialSettings s;
  s.baud = 0;
  EXPECT_THROW(open_serialport("/dev/bootrig-no-such-port", s), RigError);
}

// On a rig with an adapter: BOOTRIG_TEST_SERIAL_PORT=/dev/ttyUSB0 (nothing needs to be attached to it).
TEST(SerialPort, OpensARealPortWhenOneIsNamed) {
  const char* path = std::getenv("BOOTRIG_TEST_SERIAL_PORT");
  if (path == nullptr || *path == '\0')
    GTEST_SKIP() << "no real serial port to open: set BOOTRIG_TEST_SERIAL_PORT=/dev/ttyUSB0 to run this test";
  auto link = open_serialport(path, {});
  EXPECT_EQ(link->baud(), 115200u);
  link->set_baud(9600);
  EXPECT_EQ(link->baud(), 9600u);
  EXPECT_NO_THROW(link->discard_input());
  EXPECT_NO_THROW(link->drain(Deadline::after(seconds(5))));
  EXPECT_FALSE(link->describe().empty());
}

// ---- Against a real 16550 UART (the kernel tier: tests/kernel/run-tier.sh) ----
// BOOTRIG_TEST_SERIAL_PORT is the UART under test, BOOTRIG_TEST_SERIAL_PEER a UART joined to it (what one
// sends the other receives), BOOTRIG_TEST_SERIAL_BY_ID a by-id style link to the port, and
// BOOTRIG_TEST_SERIAL_REBIND=1 allows unbinding its driver through sysfs. The peer is kept open for the
// whole test: the 8250 driver drops what arrives at a UART nobody has open.
class SerialPortUart : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* port = std::getenv("BOOTRIG_TEST_SERIAL_PORT");
    const char* peer = std::getenv("BOOTRIG_TEST_SERIAL_PEER");
    if (!port || !*port || !peer || !*peer)
      GTEST_SKIP()
          << "no UART pair: set BOOTRIG_TEST_SERIAL_PORT and BOOTRIG_TEST_SERIAL_PEER (the kernel tier does)";
    port_ = port;
    peer_ = open_termios(peer, {});
    peer_->discard_input();
  }

  // The descriptor this process holds on the port, found through /proc as any observer would.
  int fd_of_port() const {
    const auto real = std::filesystem::canonical(port_);
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(e.path(), ec);
      if (!ec && target == real) return std::stoi(e.path().filename().string());
    }
    return -1;
  }
  termios attrs() const {
    termios t{};
    const int fd = fd_of_port();
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::tcgetattr(fd, &t), 0);
    return t;
  }
  // Everything the peer receives until `want` bytes arrived or the deadline passed.
  std::string peer_reads(std::size_t want, Duration within = seconds(10)) {
    std::string got;
    const Deadline d = Deadline::after(within);
    while (got.size() < want)
      if (auto c = peer_->read(d))
        got += c->bytes;
      else
        break;
    return got;
  }
  static std::string reads(SerialLink& link, std::size_t want, Duration within = seconds(10)) {
    std::string got;
    const Deadline d = Deadline::after(within);
    while (got.size() < want)
      if (auto c = link.read(d))
        got += c->bytes;
      else
        break;
    return got;
  }

  std::string port_;
  std::unique_ptr<SerialLink> peer_;
};

TEST_F(SerialPortUart, OpensRaw8N1WithoutFlowControlHangupOnCloseOrInheritance) {
  auto link = open_serialport(port_, {});
  const termios t = attrs();
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(t.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0u);
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF), 0u);
  EXPECT_EQ(t.c_lflag & (ICANON | ECHO | ISIG), 0u);  // raw: bytes pass unchanged
  EXPECT_EQ(t.c_cflag & HUPCL, 0u) << "closing must not drop DTR (on many adapters DTR resets the module)";
  EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B115200));
  EXPECT_NE(::fcntl(fd_of_port(), F_GETFD) & FD_CLOEXEC, 0)
      << "a child process (a flasher) must not inherit the port";
}

TEST_F(SerialPortUart, BaudChangesReachTheUart) {
  auto link = open_serialport(port_, {});
  for (auto [baud, code] :
       {std::pair{9600u, B9600}, std::pair{57600u, B57600}, std::pair{115200u, B115200}}) {
    link->set_baud(baud);
    EXPECT_EQ(link->baud(), baud);
    const termios t = attrs();
    EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(code)) << baud;
  }
}

// qemu's 16550 runs on the usual 1.8432 MHz clock: 115200 is its top rate, and the kernel keeps the old rate
// when asked for more. A link that believed it ran at 921600 would garble every byte of a cable flash.
TEST_F(SerialPortUart, ARateTheUartCannotMakeIsRefusedNotIgnored) {
  auto link = open_serialport(port_, {});
  try {
    link->set_baud(921600);
    ADD_FAILURE() << "921600 baud accepted on a 16550 with a 1.8432 MHz clock";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "serial port " + port_ +
                  " cannot run at 921600 baud (it stays at 115200); pick a rate the adapter "
                  "supports, such as 115200");
  }
  EXPECT_EQ(link->baud(), 115200u);
  const termios t = attrs();
  EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B115200));
  SerialSettings fast;
  fast.baud = 921600;
  link.reset();
  EXPECT_THROW(open_serialport(port_, fast), RigError);
}

TEST_F(SerialPortUart, FlowControlSettingsReachTheUart) {
  SerialSettings s;
  s.flow = FlowControl::rtscts;
  {
    auto link = open_serialport(port_, s);
    EXPECT_NE(attrs().c_cflag & CRTSCTS, 0u);
  }
  s.flow = FlowControl::xonxoff;
  auto link = open_serialport(port_, s);
  const termios t = attrs();
  EXPECT_EQ(t.c_cflag & CRTSCTS, 0u);
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF), static_cast<tcflag_t>(IXON | IXOFF));
}

TEST_F(SerialPortUart, DtrAndRtsTakeTheLevelsTheRigFileNames) {
  int lines = 0;
  for (bool on : {false, true}) {
    SerialSettings s;
    s.dtr = on;
    s.rts = on;
    auto link = open_serialport(port_, s);
    ASSERT_EQ(::ioctl(fd_of_port(), TIOCMGET, &lines), 0);
    EXPECT_EQ((lines & TIOCM_DTR) != 0, on);
    EXPECT_EQ((lines & TIOCM_RTS) != 0, on);
  }
  // Unnamed, they stay as the kernel left them on open (raised): bootrig never pulses them on its own.
  auto link = open_serialport(port_, {});
  ASSERT_EQ(::ioctl(fd_of_port(), TIOCMGET, &lines), 0);
  EXPECT_NE(lines & TIOCM_DTR, 0);
  EXPECT_NE(lines & TIOCM_RTS, 0);
}

TEST_F(SerialPortUart, ReadReturnsWhatArrivesAndNothingAtTheDeadline) {
  auto link = open_serialport(port_, {});
  link->discard_input();
  const Deadline d = Deadline::after(milliseconds(200));
  EXPECT_FALSE(link->read(d).has_value());
  EXPECT_GE(now(), d.when());
  const TimePoint before = now();
  peer_->write("hello from the module\r\n", Deadline::after(seconds(5)));
  EXPECT_EQ(reads(*link, 23), "hello from the module\r\n");
  EXPECT_GE(now(), before);
}

TEST_F(SerialPortUart, WriteAndDrainDeliverEveryByte) {
  auto link = open_serialport(port_, {});
  std::string block;
  for (int i = 0; i < 4096; ++i) block += static_cast<char>('0' + i % 64);
  link->write(block, Deadline::after(seconds(10)));
  link->drain(Deadline::after(seconds(10)));
  EXPECT_EQ(peer_reads(block.size()), block);
}

TEST_F(SerialPortUart, DiscardDropsWhatArrivedBeforeIt) {
  auto link = open_serialport(port_, {});
  peer_->write("stale", Deadline::after(seconds(5)));
  peer_->drain(Deadline::after(seconds(5)));
  int queued = 0;
  for (const Deadline d = Deadline::after(seconds(10)); queued < 5 && !d.expired();
       wait_until(Deadline::after(milliseconds(10))))
    ASSERT_EQ(::ioctl(fd_of_port(), FIONREAD, &queued), 0);
  ASSERT_EQ(queued, 5) << "the bytes never reached the port's input queue";
  link->discard_input();
  EXPECT_FALSE(link->read(Deadline::after(milliseconds(200))).has_value());
  peer_->write("fresh", Deadline::after(seconds(5)));
  EXPECT_EQ(reads(*link, 5), "fresh");
}

TEST_F(SerialPortUart, ASecondOpenerIsRefusedUntilThePortIsClosed) {
  auto link = open_serialport(port_, {});
  // Another bootrig (or a tool with pyserial's exclusive lock), even as root:
  EXPECT_EQ(rig_error_of(port_),
            "serial port " + port_ +
                " is busy: another program (a terminal, ModemManager, another bootrig) has it open");
  // Any opener without CAP_SYS_ADMIN (a terminal program run by a user), through the kernel's TIOCEXCL. The
  // child gives up only that capability, so file permissions do not get in the way.
  auto open_without_sys_admin = [&] {
    const pid_t child = ::fork();
    if (child == 0) {
      __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
      __user_cap_data_struct caps[2] = {};
      if (::syscall(SYS_capget, &header, caps) != 0) ::_exit(3);
      caps[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
      if (::syscall(SYS_capset, &header, caps) != 0) ::_exit(3);
      const int fd = ::open(port_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
      ::_exit(fd >= 0 ? 0 : (errno == EBUSY ? 1 : 2));
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(open_without_sys_admin(), 1) << "0: opened, 1: EBUSY, 2: other error, 3: capget/capset failed";
  link.reset();  // lent to a flasher: the port is free for it
  EXPECT_EQ(open_without_sys_admin(), 0);
  EXPECT_NO_THROW(open_serialport(port_, {}));
}

TEST_F(SerialPortUart, OpensThroughAByIdLink) {
  const char* by_id = std::getenv("BOOTRIG_TEST_SERIAL_BY_ID");
  if (!by_id || !*by_id) GTEST_SKIP() << "set BOOTRIG_TEST_SERIAL_BY_ID to a link to the port";
  auto link = open_serialport(by_id, {});
  EXPECT_NE(link->describe().find(by_id), std::string::npos) << link->describe();
  link->write("via by-id", Deadline::after(seconds(5)));
  EXPECT_EQ(peer_reads(9), "via by-id");
}

// The port's device goes away and comes back (USB unplug; here the driver is unbound and bound again).
TEST_F(SerialPortUart, ReopensWhenTheDeviceComesBack) {
  const char* rebind = std::getenv("BOOTRIG_TEST_SERIAL_REBIND");
  if (!rebind || std::string(rebind) != "1")
    GTEST_SKIP() << "set BOOTRIG_TEST_SERIAL_REBIND=1 to let this test unbind the port's driver";
  const char* by_id = std::getenv("BOOTRIG_TEST_SERIAL_BY_ID");
  const std::string path = by_id && *by_id ? by_id : port_;
  const std::string tty = std::filesystem::canonical(port_).filename().string();
  const auto device = std::filesystem::canonical("/sys/class/tty/" + tty + "/device");
  const auto driver = std::filesystem::canonical(device / "driver");
  auto sysfs_write = [](const std::filesystem::path& f, const std::string& v) {
    std::ofstream o(f);
    o << v;
    o.flush();
    return static_cast<bool>(o);
  };
  auto link = open_serialport(path, {});
  ASSERT_TRUE(sysfs_write(driver / "unbind", device.filename().string())) << driver;
  // A USB adapter's node disappears; the 8250 core keeps a placeholder for the slot that opens but fails
  // every transfer. Either way no UART answers there now.
  const int gone = ::open(("/dev/" + tty).c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (gone >= 0) {
    EXPECT_LT(::write(gone, "x", 1), 0)
        << "/dev/" << tty << " still takes bytes after its driver was unbound";
    EXPECT_EQ(errno, EIO);
    ::close(gone);
  }
  EXPECT_FALSE(link->read(Deadline::after(milliseconds(300))).has_value());  // gone: silence, not an error
  ASSERT_TRUE(sysfs_write(driver / "bind", device.filename().string())) << driver;
  link->write("back again", Deadline::after(seconds(10)));  // reopens the port on the way
  EXPECT_EQ(peer_reads(10), "back again");
  peer_->write("and both ways", Deadline::after(seconds(5)));
  EXPECT_EQ(reads(*link, 13), "and both ways");
}

}  // namespace
}  // namespace bootrig
