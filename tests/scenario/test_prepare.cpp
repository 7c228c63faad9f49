// Tests for the firmware step before a check, on the simulated module: the rig's images are put on the board
// when missing, a second check flashes nothing, window 2 and the factory boot then report the images' versions,
// and an image for another board is refused before anything is written.
#include "bootrig/scenario/prepare.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "bootrig/firmware/image_builder.hpp"
#include "support/esptool.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::outcome_text;

class Prepare : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // payload: another size makes another build of the same version.
  std::filesystem::path image(const std::string& version, PycomBoard board = PycomBoard::fipy,
                              std::size_t payload = 16 * 1024) {
    ImageSpec spec;
    spec.version = version;
    spec.board = board;
    spec.payload_size = payload;
    auto bytes = build_esp32_image(spec);
    auto p = dir_ / (std::string(to_string(board)) + "-" + version + "-" + std::to_string(payload) + ".bin");
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  RigConfig rig_with(const std::filesystem::path& previous, const std::filesystem::path& current) {
    RigConfig rig = testing::half_speed_sim_rig();
    rig.firmware["previous"] = FirmwareImage{"previous", previous};
    rig.firmware["current"] = FirmwareImage{"current", current};
    return rig;
  }
  RunSummary run(const RigConfig& rig, const std::vector<std::string>& names) {
    RunOptions options;
    options.allow_destructive = true;  // factory-reset, named here, formats /flash
    auto target = Target::open(rig);
    RunFolder folder(dir_ / "run");
    auto progress = make_silent_progress();
    std::vector<Scenario*> scs;
    for (const auto& n : names) scs.push_back(find_scenario(n));
    return run_scenarios(*target, scs, options, folder, *progress);
  }
  static bool noted(const ScenarioResult& r, const std::string& text) {
    for (const auto& n : r.attempts.back().notes)
      if (n.find(text) != std::string::npos) return true;
    return false;
  }

  std::filesystem::path dir_ = testing::fresh_run_dir("prepare");
};

TEST_F(Prepare, PutsTheImagesOnOnceAndTheSecondCheckFlashesNothing) {
  // The simulated board starts with 1.20.2.r4 in factory and 1.20.2.r6 running from ota_0, but without
  // bootrig's record nothing says what window 2 would boot: the first check must arrange it.
  RunSummary s = run(rig_with(image("1.20.2.r3"), image("1.20.2.r5")),
                     {"safeboot-window2", "safeboot-window2", "safeboot-factory"});
  ASSERT_EQ(s.scenarios.size(), 3u);
  const ScenarioResult& first = s.scenarios[0];
  ASSERT_EQ(first.outcome, Outcome::pass) << outcome_text(first);
  ASSERT_TRUE(first.attempts.back().firmware);
  const FirmwarePrep& prep = *first.attempts.back().firmware;
  EXPECT_NE(prep.found.find("ota_0 runs FiPy 1.20.2.r6; the previous image is unknown"), std::string::npos)
      << prep.found;
  ASSERT_EQ(prep.flashed.size(), 2u) << prep.describe_flashed();
  EXPECT_EQ(prep.flashed[0].image, "previous");
  EXPECT_EQ(prep.flashed[0].version, "1.20.2.r3");
  EXPECT_EQ(prep.flashed[0].method, "cable") << "the simulated rig wires P2";
  EXPECT_EQ(prep.flashed[1].image, "current");
  EXPECT_EQ(prep.flashed[1].version, "1.20.2.r5");
  EXPECT_EQ(prep.flashed[1].method, "OTA");
  EXPECT_TRUE(noted(first, "window 2 booted the previous image 1.20.2.r3 (was 1.20.2.r5)")) << outcome_text(first);

  const ScenarioResult& second = s.scenarios[1];
  ASSERT_EQ(second.outcome, Outcome::pass) << outcome_text(second);
  ASSERT_TRUE(second.attempts.back().firmware);
  EXPECT_TRUE(second.attempts.back().firmware->flashed.empty()) << second.attempts.back().firmware->describe_flashed();
  EXPECT_TRUE(noted(second, "nothing flashed")) << outcome_text(second);
  EXPECT_TRUE(noted(second, "window 2 booted the previous image 1.20.2.r3")) << outcome_text(second);

  const ScenarioResult& factory = s.scenarios[2];
  ASSERT_EQ(factory.outcome, Outcome::pass) << outcome_text(factory);
  EXPECT_TRUE(factory.attempts.back().firmware->flashed.empty());
  EXPECT_TRUE(noted(factory, "the factory boot ran the factory slot's image 1.20.2.r3")) << outcome_text(factory);
}

TEST_F(Prepare, TheRigsExternalFlasherPutsThePreviousImageOn) {
  BOOTRIG_REQUIRE_ESPTOOL();
  // Espressif's esptool (Debian's, without its ESP32 stub: --no-stub) on the lent port, as the docs' [flasher]
  // example runs it; it writes only what it is given, so the rig gives it an erased otadata sector too.
  auto blank = dir_ / "otadata-blank.bin";
  std::ofstream(blank, std::ios::binary) << std::string(0x1000, '\xFF');
  RigConfig rig = rig_with(image("1.20.2.r3"), image("1.20.2.r5"));
  ExternalFlasher f;
  f.command = {testing::esptool_path(), "--chip", "esp32", "--port", "{port}", "--baud", "{baud}", "--before",
               "no_reset", "--after", "no_reset", "--no-stub", "write_flash", "{offset}", "{image}", "0x1BE000",
               blank.string()};
  f.timeout = milliseconds(120000);
  rig.flasher = f;
  RunSummary s = run(rig, {"safeboot-window2"});
  const ScenarioResult& r = s.scenarios.at(0);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  const FirmwarePrep& prep = *r.attempts.back().firmware;
  ASSERT_EQ(prep.flashed.size(), 2u) << prep.describe_flashed();
  EXPECT_EQ(prep.flashed[0].method, "cable");
  EXPECT_TRUE(noted(r, "window 2 booted the previous image 1.20.2.r3")) << outcome_text(r);
  // The tool's own words are on the attempt's timeline.
  std::ifstream events(dir_ / "run" / "01-safeboot-window2" / "attempt-1" / "events.jsonl");
  std::string all((std::istreambuf_iterator<char>(events)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("flasher: Chip is ESP32-D0WDQ6"), std::string::npos);
  EXPECT_NE(all.find("flasher: Hash of data verified."), std::string::npos);
}

TEST_F(Prepare, ACheckThatNeedsOnlyTheCurrentImageLeavesThePreviousAlone) {
  // The simulated module runs a 1.20.2.r6 of its own making, not the rig's build (another size): the same
  // version is not the same firmware, so the first check puts the rig's current on by OTA (never the
  // previous), and the second finds its digest in bootrig's record and flashes nothing.
  RunSummary s = run(rig_with(image("1.20.2.r3"), image("1.20.2.r6", PycomBoard::fipy, 20 * 1024)),
                     {"normal-boot", "hard-reset-pin"});
  const ScenarioResult& r = s.scenarios.at(0);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  ASSERT_TRUE(r.attempts.back().firmware);
  const FirmwarePrep& first = *r.attempts.back().firmware;
  ASSERT_EQ(first.flashed.size(), 1u) << first.describe_flashed();
  EXPECT_EQ(first.flashed[0].image, "current");
  EXPECT_EQ(first.flashed[0].method, "OTA");
  EXPECT_TRUE(noted(r, "the ROM's MD5 of the ota_0 slot over")) << outcome_text(r);
  EXPECT_TRUE(noted(r, "the board runs another build of 1.20.2.r6")) << outcome_text(r);
  const ScenarioResult& second = s.scenarios.at(1);
  ASSERT_EQ(second.outcome, Outcome::pass) << outcome_text(second);
  EXPECT_TRUE(second.attempts.back().firmware->flashed.empty()) << second.attempts.back().firmware->describe_flashed();
}

TEST_F(Prepare, TheSlotsAreProvedOnceARunAndAgainWhenTheRecordIsGone) {
  // P2 is wired: the ROM's MD5 of the slots decides, once; os.fsformat() (factory-reset) deletes bootrig's
  // record, and the next check proves the slots again instead of flashing or trusting the version.
  RunSummary s = run(rig_with(image("1.20.2.r3"), image("1.20.2.r5")),
                     {"normal-boot", "hard-reset-pin", "factory-reset", "normal-boot"});
  ASSERT_EQ(s.scenarios.size(), 4u);
  for (const auto& r : s.scenarios) ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_TRUE(noted(s.scenarios[0], "the ROM's MD5 of the slots: factory holds none of the rig's images"))
      << outcome_text(s.scenarios[0]);
  EXPECT_EQ(s.scenarios[0].attempts.back().firmware->flashed.size(), 1u);
  EXPECT_FALSE(noted(s.scenarios[1], "the ROM's MD5 of the slots")) << "one visit to download mode a run";
  EXPECT_TRUE(s.scenarios[1].attempts.back().firmware->flashed.empty());
  const ScenarioResult& last = s.scenarios[3];
  EXPECT_TRUE(noted(last, "bootrig's record was missing: written from the slots' MD5")) << outcome_text(last);
  // The OTA of the first check went to the factory slot (ota_0 ran): that is what runs now.
  EXPECT_TRUE(noted(last, "the ROM's MD5 of the running factory slot matches current 1.20.2.r5")) << outcome_text(last);
  EXPECT_TRUE(last.attempts.back().firmware->flashed.empty()) << last.attempts.back().firmware->describe_flashed();
}

TEST_F(Prepare, AnImageForAnotherBoardIsAnErrorBeforeAnythingIsWritten) {
  RunSummary s = run(rig_with(image("1.20.2.r3", PycomBoard::lopy4), image("1.20.2.r5", PycomBoard::lopy4)),
                     {"safeboot-window2"});
  const ScenarioResult& r = s.scenarios.at(0);
  ASSERT_EQ(r.outcome, Outcome::error) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find(
                "the board is a FiPy but [firmware] current is built for LoPy4; nothing was written"),
            std::string::npos)
      << outcome_text(r);
}

TEST_F(Prepare, WithoutImagesTheCheckRunsOnWhatTheBoardHolds) {
  RunSummary s = run(testing::half_speed_sim_rig(), {"safeboot-window2"});
  const ScenarioResult& r = s.scenarios.at(0);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_TRUE(noted(r, "the rig names no image for current, previous")) << outcome_text(r);
  EXPECT_TRUE(r.attempts.back().firmware->flashed.empty());
}

}  // namespace
}  // namespace bootrig
