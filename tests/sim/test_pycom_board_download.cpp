// The simulated module's download mode: the ESP32 ROM serial loader over the module's flash, driven by
// RomFlasher through the module's pty, with the cable-flash semantics (factory slot, boot_info reset).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/firmware/rom_flasher.hpp"
#include "bootrig/firmware/rom_protocol.hpp"
#include "bootrig/firmware/slip.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

constexpr std::uint32_t kOtadata = 0x1BE000;

RomTimeouts quick() {
  RomTimeouts t;
  t.command = seconds(5);
  t.sync = milliseconds(100);
  t.sync_pause = milliseconds(10);
  return t;
}

std::vector<std::uint8_t> image(const std::string& version, std::size_t pad_to = 0) {
  ImageSpec spec;
  spec.version = version;
  spec.board = PycomBoard::fipy;
  if (pad_to) spec.payload_size = pad_to;
  return build_esp32_image(spec);
}

// P2 held low through a reset; returns the ROM's banner.
std::string enter_download(SimRig& rig) {
  rig.skip_unread();
  rig.bootloader().set(Level::active);
  rig.press_reset();
  auto got = rig.read_until("waiting for download\r\n");
  EXPECT_TRUE(got) << rig.transcript();
  return got.value_or("");
}

bool wait_phase(SimRig& rig, SimPhase p, Duration timeout = seconds(10)) {
  Deadline d = Deadline::after(timeout);
  while (!d.expired()) {
    if (rig.module().status().phase == p) return true;
    wait_for(milliseconds(2));
  }
  return false;
}

TEST(SimDownload, P2LowAtResetPrintsTheRomBannerAndSyncs) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  std::string banner = enter_download(rig);
  EXPECT_NE(banner.find("rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
                        "waiting for download\r\n"),
            std::string::npos)
      << banner;
  EXPECT_EQ(rig.module().status().phase, SimPhase::download);
  rig.bootloader().set(Level::inactive);  // the strapping pin was latched at reset
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.sync()) << f.sync().error().message;
  auto chip = f.detect_chip();
  ASSERT_TRUE(chip) << chip.error().message;
  EXPECT_EQ(chip.value(), RomChip::esp32);
  EXPECT_TRUE(f.spi_attach());
  EXPECT_EQ(rig.module().status().phase, SimPhase::download);
}

TEST(SimDownload, CableFlashWritesFactoryResetsBootInfoAndBootsTheNewImage) {
  SimRig rig(ota_active());  // ota_0 (1.20.2.r6) runs, factory holds 1.20.2.r4
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(rig.module().status().running_slot, "ota_0");
  enter_download(rig);
  rig.bootloader().set(Level::inactive);
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.connect()) << "connect";
  auto img = image("1.20.3.r1");
  auto w = f.write_flash(0x10000, img);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w.value().bytes, img.size());
  std::vector<std::uint8_t> erased(0x1000, 0xFF);
  auto e = f.write_flash(kOtadata, erased);
  ASSERT_TRUE(e) << e.error().message;
  rig.skip_unread();
  ASSERT_TRUE(f.flash_end(LoaderExit::reboot));
  auto boot = rig.read_until("rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)");
  EXPECT_TRUE(boot) << rig.transcript();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_NE(rig.transcript().find("Pycom MicroPython 1.20.3.r1"), std::string::npos) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.3.r1");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  EXPECT_NE(run(rig, "import os\nprint(os.uname()[2])\n").find("1.20.3.r1"), std::string::npos);
  // boot_info was rewritten by the bootloader: factory active, previous factory, Ready.
  std::string bm = run(rig, "import pycom\nprint(pycom.bootmgr())\n");
  EXPECT_NE(bm.find("Factory"), std::string::npos) << bm;
  EXPECT_NE(bm.find("Status: Ready"), std::string::npos) << bm;

  // A window-2 safe boot (previous image) boots the same image: a cable flash is no OTA image.
  rig.safeboot().set(Level::active);
  rig.skip_unread();
  rig.press_reset();
  ASSERT_TRUE(wait_phase(rig, SimPhase::safeboot_window2)) << rig.transcript();
  rig.safeboot().set(Level::inactive);
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.3.r1");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  // ota_0 still holds the image it had: the cable flash touched only the factory slot and otadata.
  EXPECT_NE(rig.module().status().running_version, "1.20.2.r6");
}

TEST(SimDownload, BaudChangeToSpeedsUpTheLineAndResetsAtTheNextReset) {
  SimRig rig(SimConfig{}, fast_timing(), 115200);
  ASSERT_TRUE(rig.wait_banner());
  enter_download(rig);
  rig.bootloader().set(Level::inactive);
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.connect());
  auto img = image("1.20.5.r0", 64 * 1024);
  TimePoint t0 = now();
  ASSERT_TRUE(f.write_flash(0x10000, img));
  Duration slow = now() - t0;
  ASSERT_TRUE(f.change_baudrate(921600)) << "CHANGE_BAUDRATE";
  auto chip = f.detect_chip();
  ASSERT_TRUE(chip) << chip.error().message;
  t0 = now();
  auto w = f.write_flash(0x10000, img);
  ASSERT_TRUE(w) << w.error().message;
  Duration fast = now() - t0;
  ::testing::Test::RecordProperty("write_64k_115200_ms", static_cast<int>(to_ms(slow)));
  ::testing::Test::RecordProperty("write_64k_921600_ms", static_cast<int>(to_ms(fast)));
  EXPECT_LT(fast, slow) << "the simulated UART paces at the new rate";
  // A reset puts the UART back at the firmware's rate: the host follows and the REPL answers.
  rig.uart().set_baud(115200);
  rig.skip_unread();
  rig.press_reset();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.5.r0");
}

TEST(SimDownload, ErrorRepliesCarryTheRomStatus) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  enter_download(rig);
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.connect());
  ASSERT_TRUE(f.flash_begin(0x400, 0x10000));
  rig.skip_unread();
  // A FLASH_DATA whose checksum field is wrong: status 1, error 0x07.
  std::vector<std::uint8_t> block(0x400, 0xAB);
  RomRequest req;
  req.op = static_cast<std::uint8_t>(RomCommand::flash_data);
  req.data = flash_data_data(block, 0);
  req.checksum = rom_checksum(block) ^ 0x01;
  Bytes packet = encode_request(req);
  rig.send(slip_encode(to_string_bytes(packet)));
  auto got = rig.read_until(std::string(1, '\xC0'), seconds(5));  // the frame's opening byte
  ASSERT_TRUE(got);
  auto rest = rig.read_until(std::string(1, '\xC0'), seconds(5));  // its closing byte
  ASSERT_TRUE(rest);
  SlipDecoder dec;
  auto frames = dec.feed(*got + *rest);
  ASSERT_EQ(frames.size(), 1u);
  auto resp = decode_response(to_bytes(frames[0]));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->op, static_cast<std::uint8_t>(RomCommand::flash_data));
  ASSERT_GE(resp->data.size(), 4u);
  EXPECT_EQ(resp->data[resp->data.size() - 4], 1) << "status: failed";
  EXPECT_EQ(resp->data[resp->data.size() - 3], 0x07) << "invalid CRC";
  // An unknown command: status 1, error 0x05.
  auto reg = f.read_reg(0x40001000);
  EXPECT_TRUE(reg) << "the session goes on after an error reply";
}

TEST(SimDownload, BrownOutMidWriteLeavesAHalfWrittenSlotThatACableFlashRecovers) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  SimFaults faults = rig.module().faults();
  faults.brownout_after_bytes = 16 * 1024;
  rig.module().set_faults(faults);
  enter_download(rig);
  RomTimeouts t = quick();
  t.command = milliseconds(500);
  RomFlasher f(rig.uart(), t);
  ASSERT_TRUE(f.connect());
  int boots = rig.module().status().hard_boots;
  auto img = image("1.20.6.r0", 64 * 1024);
  auto w = f.write_flash(0x10000, img);
  ASSERT_FALSE(w) << "the chip browned out mid-write";
  EXPECT_EQ(w.error().kind, RomFailure::no_reply) << w.error().message;
  // P2 still held: the brown-out reset enters download mode again (its "rst:0xf (RTCWDT_BROWN_OUT_RESET)"
  // banner went to the flasher, which was waiting for its reply).
  EXPECT_EQ(rig.module().status().hard_boots, boots + 1);
  EXPECT_EQ(rig.module().status().phase, SimPhase::download);
  EXPECT_EQ(rig.module().faults().brownout_after_bytes, 0u) << "fires once";

  // Without P2 the half-written factory slot is refused: nothing runs.
  rig.bootloader().set(Level::inactive);
  rig.press_reset();
  ASSERT_TRUE(wait_phase(rig, SimPhase::halted)) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "");

  // A complete cable flash recovers it.
  enter_download(rig);
  RomFlasher g(rig.uart(), quick());
  ASSERT_TRUE(g.connect());
  ASSERT_TRUE(g.write_flash(0x10000, img));
  rig.bootloader().set(Level::inactive);
  ASSERT_TRUE(g.flash_end(LoaderExit::reboot));
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.6.r0");
}

TEST(SimDownload, FlashEndsWordDecidesHowTheChipLeavesTheLoader) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  // 1: run the user code: the ROM boots from flash without a reset (no new reset line).
  enter_download(rig);
  rig.bootloader().set(Level::inactive);
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.connect());
  const int boots = rig.module().status().hard_boots;
  rig.skip_unread();
  ASSERT_TRUE(f.flash_end(LoaderExit::run_user_code));
  auto boot = rig.read_until(kBannerEnd);
  ASSERT_TRUE(boot) << rig.transcript();
  // (The bootloader's first lines may arrive in the same read as FLASH_END's reply, which the flasher takes:
  // the boot count, not the text, says no reset happened.)
  EXPECT_EQ(boot->find("rst:0x"), std::string::npos) << *boot;
  EXPECT_EQ(rig.module().status().hard_boots, boots);
  // 0: reboot with P2 still held: the ROM samples the strapping pins again and waits for a host again.
  enter_download(rig);
  RomFlasher g(rig.uart(), quick());
  ASSERT_TRUE(g.connect());
  rig.skip_unread();
  ASSERT_TRUE(g.flash_end(LoaderExit::reboot));
  EXPECT_TRUE(rig.read_until("rst:0xc (SW_CPU_RESET),boot:0x3 (DOWNLOAD_BOOT")) << rig.transcript();
  rig.bootloader().set(Level::inactive);
  EXPECT_TRUE(wait_phase(rig, SimPhase::download));
}

TEST(SimDownload, TheEfuseMacIsWhatMachineUniqueIdReports) {
  SimConfig c;
  c.mac = "24:0a:c4:01:02:03";
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_NE(run(rig, "import machine\nprint(machine.unique_id())\n").find("b'$\\n\\xc4\\x01\\x02\\x03'"),
            std::string::npos)
      << rig.transcript();
  enter_download(rig);
  rig.bootloader().set(Level::inactive);
  RomFlasher f(rig.uart(), quick());
  ASSERT_TRUE(f.sync());
  auto w1 = f.read_reg(0x3FF5A004), w2 = f.read_reg(0x3FF5A008);
  ASSERT_TRUE(w1 && w2);
  EXPECT_EQ(w1.value(), 0xC4010203u);
  EXPECT_EQ(w2.value() & 0xFFFF, 0x240Au);
  // Without sim.mac two simulated modules still differ.
  SimRig a, b;
  ASSERT_TRUE(a.wait_banner() && b.wait_banner());
  EXPECT_NE(run(a, "import machine\nprint(machine.unique_id())\n"),
            run(b, "import machine\nprint(machine.unique_id())\n"));
}

TEST(SimDownload, WithoutAHandlerDownloadModeAnswersNothing) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.module().set_download_handler(nullptr);
  enter_download(rig);
  RomTimeouts t = quick();
  t.sync = milliseconds(30);
  RomFlasher f(rig.uart(), t);
  auto s = f.sync(2);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, RomFailure::no_reply);
}

}  // namespace
}  // namespace bootrig::test
