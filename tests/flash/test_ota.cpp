// The OTA client against the simulated module in both REPL profiles: a full update, validation errors that
// leave the board untouched, and a corrupt image the board refuses.
#include "bootrig/flash/ota.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

using test::SimRig;

SimConfig profile(const std::string& p) {
  SimConfig c;
  c.profile = p;
  return c;
}

std::vector<std::uint8_t> image(const std::string& version, PycomBoard board = PycomBoard::fipy,
                                ImageCorruption c = ImageCorruption::none) {
  ImageSpec s;
  s.version = version;
  s.board = board;
  return build_esp32_image(s, c);
}

class OtaClient : public ::testing::TestWithParam<std::string> {};

TEST_P(OtaClient, UpdatesResetsAndConfirmsTheNewVersion) {
  SimRig rig(profile(GetParam()));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(10))));
  std::vector<std::size_t> progress;
  OtaOptions o;
  o.hard_reset = [&] { rig.press_reset(); };
  o.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_LE(done, total);
    progress.push_back(done);
  };
  auto img = image("1.20.3.r1");
  auto r = ota_update(repl, img, "new.bin", o);
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  EXPECT_EQ(r.value().before.version, "1.20.2.r4");
  EXPECT_EQ(r.value().before.ota_slot, 0x1C0000u);
  EXPECT_EQ(r.value().after.version, "1.20.3.r1");
  EXPECT_EQ(r.value().after.ota_slot, 0x10000u);
  EXPECT_EQ(r.value().bytes, img.size());
  EXPECT_EQ(r.value().blocks, (img.size() + 4095) / 4096);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(progress.back(), img.size());
  EXPECT_EQ(rig.module().status().running_slot, "ota_0");
}

TEST_P(OtaClient, ValidationErrorsComeBeforeAnyWrite) {
  SimRig rig(profile(GetParam()));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(10))));
  int resets = 0;
  OtaOptions o;
  o.hard_reset = [&] { ++resets; };
  auto expect_refused = [&](const std::vector<std::uint8_t>& img, const std::string& says) {
    try {
      (void)ota_update(repl, img, "x.bin", o);
      ADD_FAILURE() << "no RigError for " << says;
    } catch (const RigError& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos) << e.what();
    }
  };
  expect_refused(image("1.20.3.r1", PycomBoard::lopy4), "built for LoPy4 but the board runs FiPy");
  expect_refused(image("1.20.3.r1", PycomBoard::fipy, ImageCorruption::bad_checksum), "checksum");
  expect_refused(image("1.20.3.r1", PycomBoard::fipy, ImageCorruption::oversize), "x.bin");
  EXPECT_EQ(resets, 0);
  // The board is untouched: same image, the other slot still what it was, Status ready.
  auto now_running = read_running_firmware(repl, Deadline::after(seconds(10)));
  ASSERT_TRUE(now_running);
  EXPECT_EQ(now_running.value().version, "1.20.2.r4");
  EXPECT_NE(now_running.value().bootmgr.find("Status: Ready"), std::string::npos)
      << now_running.value().bootmgr;
}

INSTANTIATE_TEST_SUITE_P(Profiles, OtaClient, ::testing::Values("pycom", "upstream"));

}  // namespace
}  // namespace bootrig
