// Cable flashing against the in-process simulated module: download mode through P2 and RESET, the ROM
// protocol over the module's pty, the version check after the reset, and every failure's message and state.
#include "bootrig/flash/cable_flash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig {
namespace {

using test::SimRig;

std::vector<std::uint8_t> image(const std::string& version, ImageCorruption c = ImageCorruption::none,
                                std::size_t payload = 16 * 1024) {
  ImageSpec spec;
  spec.version = version;
  spec.board = PycomBoard::fipy;
  spec.payload_size = payload;
  return build_esp32_image(spec, c);
}

CableWires wires(SimRig& rig, bool with_p2 = true) {
  return CableWires{rig.reset(), with_p2 ? &rig.bootloader() : nullptr, rig.uart(), rig.timing().reset_pulse};
}

CableFlashOptions quick() {
  CableFlashOptions o;
  o.rom.command = seconds(5);
  o.rom.sync_pause = milliseconds(10);
  o.boot_timeout = seconds(15);
  o.probe_timeout = seconds(3);
  return o;
}

TEST(CableFlash, FlashesANewVersionIntoTheFactorySlotAndItRuns) {
  SimRig rig(test::ota_active());  // ota_0 runs 1.20.2.r6
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  auto img = image("1.20.3.r1");
  std::vector<std::size_t> seen;
  CableFlashOptions o = quick();
  o.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, img.size());
    seen.push_back(done);
  };
  auto r = cable_flash(wires(rig), repl, img, "new.bin", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what << "\n" << rig.transcript();
  const CableFlashReport& rep = r.value();
  ASSERT_TRUE(rep.before);
  EXPECT_EQ(rep.before->version, "1.20.2.r6");
  EXPECT_EQ(rep.version, "1.20.3.r1");
  EXPECT_EQ(rep.board, "FiPy");
  EXPECT_EQ(rep.offset, 0x10000u);
  EXPECT_EQ(rep.bytes, img.size());
  EXPECT_EQ(rep.after.version, "1.20.3.r1");
  EXPECT_NE(rep.after.bootmgr.find("Factory"), std::string::npos) << "boot_info reset to the factory slot";
  EXPECT_LE(rep.start, rep.writes_done);
  EXPECT_LE(rep.writes_done, rep.end);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(seen.back(), img.size());
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  EXPECT_EQ(rig.module().line(LineRole::bootloader), Level::inactive) << "P2 released";
}

TEST(CableFlash, ChangesTheBaudForTheWriteAndComesBack) {
  SimRig rig(SimConfig{}, test::fast_timing(), 115200);
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CableFlashOptions o = quick();
  o.baud = 921600;
  auto r = cable_flash(wires(rig), repl, image("1.20.4.r2", ImageCorruption::none, 64 * 1024), "fast.bin", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  EXPECT_EQ(r.value().baud, 921600u);
  EXPECT_EQ(r.value().after.version, "1.20.4.r2");
  EXPECT_EQ(rig.uart().baud(), 115200u) << "the rig's link is back at the rig's rate";
  ::testing::Test::RecordProperty("cable_flash_64k_at_921600_ms",
                                  static_cast<int>(to_ms(r.value().write_time())));
}

TEST(CableFlash, TheSameImageTwiceWorks) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  auto img = image("1.20.3.r1");
  auto a = cable_flash(wires(rig), repl, img, "a.bin", quick());
  ASSERT_TRUE(a) << a.error().what;
  auto b = cable_flash(wires(rig), repl, img, "a.bin", quick());
  ASSERT_TRUE(b) << b.error().what;
  ASSERT_TRUE(b.value().before);
  EXPECT_EQ(b.value().before->version, "1.20.3.r1");
  EXPECT_EQ(b.value().after.version, "1.20.3.r1");
}

TEST(CableFlash, NoBootloaderLineIsARigErrorNamingTheKey) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  int boots = rig.module().status().hard_boots;
  try {
    (void)cable_flash(wires(rig, false), repl, image("1.20.3.r1"), "a.bin", quick());
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("[lines.bootloader]"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rig.module().status().hard_boots, boots) << "nothing was touched";
}

TEST(CableFlash, ABadImageIsARigErrorAndNothingIsWritten) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  int boots = rig.module().status().hard_boots;
  try {
    (void)cable_flash(wires(rig), repl, image("1.20.3.r1", ImageCorruption::bad_sha256), "bad.bin", quick());
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rig.module().status().hard_boots, boots);
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
}

TEST(CableFlash, BrownOutMidWriteIsAFailureValueAndASecondFlashRecovers) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  SimFaults f = rig.module().faults();
  f.brownout_after_bytes = 16 * 1024;
  rig.module().set_faults(f);
  CableFlashOptions o = quick();
  o.rom.command = milliseconds(800);
  auto img = image("1.20.5.r0", ImageCorruption::none, 64 * 1024);
  auto r = cable_flash(wires(rig), repl, img, "new.bin", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, "write");
  EXPECT_NE(r.error().what.find("half written"), std::string::npos) << r.error().what;
  EXPECT_EQ(rig.module().line(LineRole::bootloader), Level::inactive) << "P2 released";
  EXPECT_EQ(rig.uart().baud(), test::kFastBaud) << "the link is back at the rig's rate";

  auto again = cable_flash(wires(rig), repl, img, "new.bin", quick());
  ASSERT_TRUE(again) << again.error().step << ": " << again.error().what;
  EXPECT_FALSE(again.value().before) << "nothing ran before: the factory slot was half written";
  EXPECT_EQ(again.value().after.version, "1.20.5.r0");
}

// A byte lost in a block leaves the ROM waiting for the rest of the frame, and the next frame is lost with it:
// two tries without a reply from a ROM that is there. They used to count as a ROM that had stopped.
TEST(CableFlash, ALineThatDropsBytesCostsRetriesNotTheFlash) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  SimFaults f = rig.module().faults();
  f.drop_rate = 0.0005;  // one byte in 2000, both ways: about 2 in 5 blocks of 1 KiB lose one
  rig.module().set_faults(f);
  CableFlashOptions o = quick();
  o.rom.command = seconds(1);
  auto img = image("1.20.5.r0", ImageCorruption::none, 48 * 1024);
  auto r = cable_flash(wires(rig), repl, img, "new.bin", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  EXPECT_EQ(r.value().after.version, "1.20.5.r0");
}

TEST(CableFlash, DownloadModeNeverAnsweringIsAFailureValue) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.module().set_download_handler(nullptr);
  ReplClient repl(rig.uart());
  CableFlashOptions o = quick();
  o.rom.sync = milliseconds(50);
  o.sync_attempts = 3;
  auto r = cable_flash(wires(rig), repl, image("1.20.3.r1"), "a.bin", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, "download mode");
  EXPECT_NE(r.error().what.find("nothing was written"), std::string::npos) << r.error().what;
  EXPECT_EQ(rig.module().line(LineRole::bootloader), Level::inactive) << "P2 released";
  // The module was reset out of download mode and runs what it ran before.
  repl.forget_state();
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(15)))) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
}

TEST(CableFlash, AfterAnInterruptedOtaTheModuleBootsThePreviousImageAndACableFlashRecovers) {
  SimRig rig;  // factory runs 1.20.2.r4
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  SimFaults f = rig.module().faults();
  f.brownout_after_bytes = 8 * 1024;
  rig.module().set_faults(f);
  auto img = image("1.20.7.r1");
  OtaOptions oo;
  oo.step_timeout = seconds(5);
  oo.hard_reset = [&] { rig.press_reset(); };
  auto ota = ota_update(repl, img, "new.bin", oo);
  ASSERT_FALSE(ota) << "the brown-out cut the OTA write";
  // The module still boots: the image it ran before.
  repl.forget_state();
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(15))));
  auto running = read_running_firmware(repl, Deadline::after(seconds(10)));
  ASSERT_TRUE(running) << running.error().what;
  EXPECT_EQ(running.value().version, "1.20.2.r4");

  auto r = cable_flash(wires(rig), repl, img, "new.bin", quick());
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  EXPECT_EQ(r.value().after.version, "1.20.7.r1");
  EXPECT_EQ(rig.module().status().running_version, "1.20.7.r1");
}

TEST(CableFlash, ReadsAFlashRegionsMd5ThroughDownloadModeAndTheAppRunsAfter) {
  SimRig rig;  // factory runs 1.20.2.r4
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  auto img = image("1.20.8.r2");
  ASSERT_TRUE(cable_flash(wires(rig), repl, img, "a.bin", quick()));
  const int boots = rig.module().status().hard_boots;
  auto digest = read_flash_md5(wires(rig), 0x10000, static_cast<std::uint32_t>(img.size()), quick());
  ASSERT_TRUE(digest) << digest.error().step << ": " << digest.error().what;
  EXPECT_EQ(digest.value(), md5(img));
  EXPECT_EQ(rig.module().line(LineRole::bootloader), Level::inactive) << "P2 released";
  repl.forget_state();
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(15)))) << rig.transcript();
  EXPECT_EQ(rig.module().status().hard_boots, boots + 2) << "into download mode, then out into the app";
  EXPECT_EQ(rig.module().status().running_version, "1.20.8.r2");
  // Past the end of the flash: a failure value, and the module is reset out of download mode all the same.
  auto bad = read_flash_md5(wires(rig), 0x3FF000, 0x2000, quick());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().step, "flash MD5");
  EXPECT_NE(bad.error().what.find("0x0a"), std::string::npos) << bad.error().what;
  repl.forget_state();
  EXPECT_TRUE(repl.get_prompt(Deadline::after(seconds(15)))) << rig.transcript();
}

TEST(CableFlash, ABundleIsWrittenAsItsScriptSaysWithOtadataErased) {
  SimRig rig(test::ota_active());
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  auto app = image("1.20.9.r0");
  const LoadedFirmware bundle =
      load_firmware_bytes(make_pycom_bundle(app, PycomBoard::fipy, "1.20.9.r0"), "FiPy-1.20.9.r0.tar.gz");
  CableFlashOptions o = quick();
  o.bundle = &bundle;
  auto r = cable_flash(wires(rig), repl, bundle.bytes, "FiPy-1.20.9.r0.tar.gz", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  EXPECT_EQ(r.value().written,
            (std::vector<std::string>{"bootloader.bin at 0x1000", "partitions.bin at 0x8000",
                                      "fipy.bin at 0x10000", "otadata erased at 0x1be000"}));
  EXPECT_EQ(r.value().flash_size, 4u << 20);
  EXPECT_EQ(r.value().after.version, "1.20.9.r0");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  for (const auto& w : bundle_writes(bundle, 4u << 20)) {
    auto d = read_flash_md5(wires(rig), w.offset, static_cast<std::uint32_t>(w.bytes.size()), quick());
    ASSERT_TRUE(d) << w.name;
    EXPECT_EQ(d.value(), md5(w.bytes)) << w.name;
  }
}

TEST(CableFlash, ABundleWhosePartitionTableDoesNotFitTheFlashIsRefusedBeforeAnythingIsWritten) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  auto app = image("1.20.9.r0");
  // The 8 MB layout (ota_0 at 0x210000) in a bundle, on the simulated module's 4 MB flash.
  auto entries = read_tar(gunzip(make_pycom_bundle(app, PycomBoard::fipy, "1.20.9.r0"), "b"), "b");
  for (auto& e : entries)
    if (e.name == "partitions.bin") e.data = pycom_partition_table(8u << 20);
  const LoadedFirmware bundle = load_firmware_bytes(gzip(write_tar(entries)), "FiPy-8MB.tar.gz");
  CableFlashOptions o = quick();
  o.bundle = &bundle;
  const auto factory_before = read_flash_md5(wires(rig), 0x10000, 0x1000, quick());
  ASSERT_TRUE(factory_before);
  try {
    (void)cable_flash(wires(rig), repl, bundle.bytes, "FiPy-8MB.tar.gz", o);
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "FiPy-8MB.tar.gz: partitions.bin does not fit this module's flash (ota_0 at "
                  "0x210000 is the 8 MB layout; a 4 MB module has ota_0 at 0x1c0000"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rig.module().line(LineRole::bootloader), Level::inactive);
  auto factory_after = read_flash_md5(wires(rig), 0x10000, 0x1000, quick());
  ASSERT_TRUE(factory_after);
  EXPECT_EQ(factory_after.value(), factory_before.value());
  repl.forget_state();
  EXPECT_TRUE(repl.get_prompt(Deadline::after(seconds(15)))) << "the module runs what it ran before";
}

TEST(CableFlash, AnAppThatIsNotPycomsIsRefusedUnlessAllowed) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  ImageSpec spec;
  spec.style = ImageStyle::idf;
  spec.project = "blink";
  spec.version = "2.0";
  auto img = build_esp32_image(spec);
  const int boots = rig.module().status().hard_boots;
  try {
    (void)cable_flash(wires(rig), repl, img, "blink.bin", quick());
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("blink.bin: is blink 2.0 (not a Pycom MicroPython build)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rig.module().status().hard_boots, boots) << "nothing was touched";
  // A bootloader is never an app.
  EXPECT_THROW((void)cable_flash(wires(rig), repl, build_bootloader_image(), "bootloader.bin", quick()),
               RigError);
  CableFlashOptions o = quick();
  o.allow_foreign = true;
  auto r = cable_flash(wires(rig), repl, img, "blink.bin", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  auto d = read_flash_md5(wires(rig), 0x10000, static_cast<std::uint32_t>(img.size()), quick());
  ASSERT_TRUE(d);
  EXPECT_EQ(d.value(), md5(img));
}

}  // namespace
}  // namespace bootrig
