// Tests for choosing the rig file's serial port among those the OS lists.
#include "bootrig/hw/serial.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bootrig/core/errors.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;

PortInfo usb(const std::string& path, std::uint16_t vid, std::uint16_t pid, const std::string& serial) {
  PortInfo p;
  p.path = path;
  p.transport = "usb";
  p.usb_vid = vid;
  p.usb_pid = pid;
  p.usb_serial = serial;
  return p;
}

PortInfo native(const std::string& path) {
  PortInfo p;
  p.path = path;
  p.transport = "native";
  return p;
}

// Two CP2102 adapters (same VID:PID, different serials), one FTDI, and the Pi's own UART.
const std::vector<PortInfo> kPorts = {
    native("/dev/ttyAMA0"),
    usb("/dev/ttyUSB0", 0x10c4, 0xea60, "0001"),
    usb("/dev/ttyUSB1", 0x10c4, 0xea60, "0002"),
    usb("/dev/ttyUSB2", 0x0403, 0x6001, "A50285BI"),
};

std::string error_of(const PortSelector& sel) {
  try {
    return "(chose " + select_port(kPorts, sel) + ")";
  } catch (const RigError& e) {
    return e.what();
  }
}

TEST(SelectPort, ByPathResolvesALinkToItsTarget) {
  std::string tmpl = (fs::temp_directory_path() / "bootrig-select-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const fs::path target = dir / "ttyUSB7";
  std::ofstream(target).put('\n');
  // Like /dev/serial/by-id/usb-Silicon_Labs_CP2102_0001-if00-port0 -> ../../ttyUSB7
  fs::create_directory(dir / "by-id");
  const fs::path link = dir / "by-id" / "usb-Silicon_Labs_CP2102_0001-if00-port0";
  fs::create_symlink("../ttyUSB7", link);
  PortSelector sel;
  sel.path = link.string();
  EXPECT_EQ(select_port(kPorts, sel), fs::canonical(target).string());
  fs::remove_all(dir);
}

TEST(SelectPort, ByPathOfAPlainPortGivesThatPath) {
  PortSelector sel;
  sel.path = "/dev/null";  // exists everywhere; select_port does not require it to be listed
  EXPECT_EQ(select_port(kPorts, sel), "/dev/null");
}

TEST(SelectPort, MissingPathSaysSoAndPointsToBootrigPorts) {
  PortSelector sel;
  sel.path = "/dev/serial/by-id/usb-nothing-here";
  EXPECT_EQ(error_of(sel),
            "serial port /dev/serial/by-id/usb-nothing-here does not exist; 'bootrig ports' lists the ports "
            "present");
}

TEST(SelectPort, ByUsbSerial) {
  PortSelector sel;
  sel.usb_serial = "0002";
  EXPECT_EQ(select_port(kPorts, sel), "/dev/ttyUSB1");
}

// Chosen by serial number, the adapter is named by its udev by-id link, which follows it to another ttyUSBn
// when it re-enumerates; without a link, by its device.
TEST(SelectPort, ByUsbSerialNamesTheAdaptersByIdLinkThatFollowsItAcrossRenumbering) {
  const fs::path dir = fs::temp_directory_path() / ("bootrig-test-byid-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "dev" / "serial" / "by-id");
  std::ofstream(dir / "dev" / "ttyUSB0") << "";
  std::ofstream(dir / "dev" / "ttyUSB3") << "";
  const fs::path link = dir / "dev" / "serial" / "by-id" / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0";
  fs::create_symlink(dir / "dev" / "ttyUSB0", link);
  std::ofstream(dir / "dev" / "serial" / "by-id" / "not-a-link") << "";
  std::vector<PortInfo> ports(2);
  ports[0].path = (dir / "dev" / "ttyUSB0").string();
  ports[0].usb_serial = "A50285BI";
  ports[1].path = (dir / "dev" / "ttyUSB3").string();
  ports[1].usb_serial = "B0000001";
  PortSelector sel;
  sel.usb_serial = "A50285BI";
  EXPECT_EQ(select_port(ports, sel, dir / "dev" / "serial" / "by-id"), link.string());
  sel.usb_serial = "B0000001";
  EXPECT_EQ(select_port(ports, sel, dir / "dev" / "serial" / "by-id"), ports[1].path);
  EXPECT_EQ(select_port(ports, sel, dir / "no-such-folder"), ports[1].path);
  fs::remove_all(dir);
}

TEST(SelectPort, ByVidPidWhenOnlyOneAdapterHasIt) {
  PortSelector sel;
  sel.usb_vid = 0x0403;
  sel.usb_pid = 0x6001;
  EXPECT_EQ(select_port(kPorts, sel), "/dev/ttyUSB2");
}

TEST(SelectPort, ByVidPidAndSerial) {
  PortSelector sel;
  sel.usb_vid = 0x10c4;
  sel.usb_pid = 0xea60;
  sel.usb_serial = "0001";
  EXPECT_EQ(select_port(kPorts, sel), "/dev/ttyUSB0");
}

TEST(SelectPort, NoneMatchingNamesTheSelector) {
  PortSelector sel;
  sel.usb_serial = "XYZ";
  EXPECT_EQ(error_of(sel),
            "no serial port matches USB serial number 'XYZ'; 'bootrig ports' lists the ports present");
  PortSelector vidpid;
  vidpid.usb_vid = 0x1a86;
  vidpid.usb_pid = 0x7523;
  EXPECT_EQ(error_of(vidpid),
            "no serial port matches USB 1a86:7523; 'bootrig ports' lists the ports present");
  PortSelector both;
  both.usb_vid = 0x10c4;
  both.usb_pid = 0xea60;
  both.usb_serial = "A50285BI";  // a real serial, but of the FTDI adapter
  EXPECT_EQ(error_of(both),
            "no serial port matches USB serial number 'A50285BI' and USB 10c4:ea60; 'bootrig ports' lists "
            "the ports "
            "present");
}

TEST(SelectPort, SeveralMatchingNamesTwoAndAsksForTheSerial) {
  PortSelector sel;
  sel.usb_vid = 0x10c4;
  sel.usb_pid = 0xea60;
  EXPECT_EQ(
      error_of(sel),
      "2 serial ports match USB 10c4:ea60 (/dev/ttyUSB0, /dev/ttyUSB1); add usb_serial to tell them apart");
  PortSelector vid_only;
  vid_only.usb_vid = 0x10c4;
  EXPECT_EQ(
      error_of(vid_only),
      "2 serial ports match USB 10c4:* (/dev/ttyUSB0, /dev/ttyUSB1); add usb_serial to tell them apart");
}

TEST(SelectPort, NoPortsListed) {
  PortSelector sel;
  sel.usb_serial = "0001";
  try {
    select_port({}, sel);
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "no serial port matches USB serial number '0001'; 'bootrig ports' lists the ports present");
  }
}

TEST(PortSelector, DescribeSaysWhatTheRigFileNamed) {
  PortSelector path;
  path.path = "/dev/ttyUSB0";
  EXPECT_EQ(path.describe(), "port /dev/ttyUSB0");
  PortSelector vid;
  vid.usb_vid = 0x0403;
  vid.usb_pid = 0x6001;
  EXPECT_EQ(vid.describe(), "USB 0403:6001");
  EXPECT_EQ(PortSelector{}.describe(), "no port");
}

TEST(FlowControl, Names) {
  EXPECT_STREQ(to_string(FlowControl::none), "none");
  EXPECT_STREQ(to_string(FlowControl::rtscts), "rtscts");
  EXPECT_STREQ(to_string(FlowControl::xonxoff), "xonxoff");
}

}  // namespace
}  // namespace bootrig
