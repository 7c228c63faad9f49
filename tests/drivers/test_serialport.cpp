// Tests for the libserialport driver: listing, and clear errors for ports it cannot open.
#include "bootrig/drivers/serialport.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
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

}  // namespace
}  // namespace bootrig
