// Tests for ota-broken-recover and ota-rollback-invalid on the simulated module: every kind of broken build
// is named from the evidence and undone through window 2; a window 2 that keeps the image fails the check; an
// image that fails verification is rolled back by the bootloader; and a nightly normal-boot names the
// breakage of the build it was given.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "bootrig/firmware/image_builder.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::outcome_text;
using testing::run_one;

class OtaBroken : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path image(const std::string& version, SimBreakage breaks = SimBreakage::none) {
    ImageSpec spec;
    spec.version = version;
    spec.breaks = breaks;
    auto bytes = build_esp32_image(spec);
    auto p = dir_ / (version + "-" + to_string(breaks) + ".bin");
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  // previous: a good 1.20.2.r5; current: tonight's 1.20.2.r7, broken as asked.
  RigConfig rig_with(SimBreakage breaks) {
    RigConfig rig = testing::half_speed_sim_rig();
    rig.firmware["previous"] = FirmwareImage{"previous", image("1.20.2.r5")};
    rig.firmware["current"] = FirmwareImage{"current", image("1.20.2.r7", breaks)};
    return rig;
  }
  static bool noted(const ScenarioResult& r, const std::string& text) {
    for (const auto& n : r.attempts.back().notes)
      if (n.find(text) != std::string::npos) return true;
    return false;
  }
  static const Measurement* measurement(const ScenarioResult& r, const std::string& name) {
    for (const auto& m : r.attempts.back().measurements)
      if (m.name == name) return &m;
    return nullptr;
  }

  std::filesystem::path dir_ = testing::fresh_run_dir("ota-broken");
};

// "panic_at_boot": a gtest name for a kind of breakage.
std::string breakage_test_name(SimBreakage b) {
  std::string n = to_string(b);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

struct BrokenKind {
  SimBreakage breaks;
  const char* named;  // what the evidence note must say of the updated image's first boot
};
const BrokenKind kBrokenKinds[] = {
    {SimBreakage::panic_at_boot, "updated image: panics at boot: LoadProhibited, reboots every"},
    {SimBreakage::reboot_loop, "updated image: reboots by itself without a panic message, reboots every"},
    {SimBreakage::hang_before_repl,
     "updated image: hangs in its start-up before the banner: nothing on the UART"},
    {SimBreakage::hang_after_banner, "updated image: hangs after its banner (1.20.2.r7)"},
    {SimBreakage::no_uart, "updated image: keeps its UART silent after the ROM's lines"},
};

class OtaBrokenKind : public OtaBroken, public ::testing::WithParamInterface<BrokenKind> {};

TEST_P(OtaBrokenKind, IsNamedAndWindow2BringsThePreviousImageBack) {
  const BrokenKind& k = GetParam();
  ScenarioResult r = run_one("ota-broken-recover", rig_with(k.breaks));
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_TRUE(noted(r, k.named)) << outcome_text(r);
  EXPECT_TRUE(noted(r, "recovered through window 2: 1.20.2.r5")) << outcome_text(r);
  EXPECT_TRUE(noted(r, "reinstated previous")) << outcome_text(r);
  if (k.breaks == SimBreakage::panic_at_boot) {
    EXPECT_TRUE(noted(r, "first panic: Guru Meditation Error: Core  0 panic'ed (LoadProhibited)"))
        << outcome_text(r);
    EXPECT_TRUE(noted(r, "its Backtrace: 0x400d3c5e:0x3ffbb2a0")) << outcome_text(r);
    const Measurement* resets = measurement(r, "update.rom_resets");
    ASSERT_NE(resets, nullptr);
    EXPECT_GE(resets->value, 3.0);  // the watch lasts over a heartbeat period and a half: many restarts
    EXPECT_NE(measurement(r, "update.reboot_period_ms"), nullptr);
  }
}
INSTANTIATE_TEST_SUITE_P(EveryKind, OtaBrokenKind, ::testing::ValuesIn(kBrokenKinds),
                         [](const auto& kind) { return breakage_test_name(kind.param.breaks); });

// One test per kind, so that ctest runs them side by side: each waits out a boot that never comes.
class OtaBrokenKept : public OtaBroken, public ::testing::WithParamInterface<SimBreakage> {};

TEST_P(OtaBrokenKept, FailsWhenWindow2KeepsTheBrokenImage) {
  RigConfig rig = rig_with(GetParam());
  // The REPL that never answers after window 2 is waited for this long (the firmware's safe boot released in
  // window 2 takes about 2.5 s at these timings).
  rig.timing.boot_timeout = milliseconds(5000);
  ScenarioResult r = run_one("ota-broken-recover", rig, [](SimFaults& f) { f.window2_keeps_image = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("the REPL did not answer after a safe boot released in window 2"),
            std::string::npos)
      << outcome_text(r);
  // The broken build is the evidence, not the verdict: it is named in the notes either way.
  EXPECT_TRUE(noted(r, "updated image: ")) << outcome_text(r);
}
INSTANTIATE_TEST_SUITE_P(Kinds, OtaBrokenKept,
                         ::testing::Values(SimBreakage::panic_at_boot, SimBreakage::no_uart),
                         [](const auto& kind) { return breakage_test_name(kind.param); });

TEST_F(OtaBroken, AGoodBuildIsReportedAsBootingAndWindow2IsCheckedAllTheSame) {
  ScenarioResult r = run_one("ota-broken-recover", rig_with(SimBreakage::none));
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_TRUE(noted(r, "updated image: boots to its REPL")) << outcome_text(r);
  // With a build that boots, window 2 that keeps the image shows as the wrong version.
  ScenarioResult kept = run_one("ota-broken-recover", rig_with(SimBreakage::none),
                                [](SimFaults& f) { f.window2_keeps_image = true; });
  ASSERT_EQ(kept.outcome, Outcome::fail) << outcome_text(kept);
  EXPECT_NE(kept.attempts.back().message.find("expected window 2 to boot the previous image 1.20.2.r5"),
            std::string::npos)
      << outcome_text(kept);
}

TEST_F(OtaBroken, SkipsWithoutTheImagesItNeeds) {
  RigConfig rig = testing::half_speed_sim_rig();
  ScenarioResult r = run_one("ota-broken-recover", rig);
  ASSERT_EQ(r.outcome, Outcome::skip) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("names no [firmware] current"), std::string::npos)
      << outcome_text(r);
}

TEST_F(OtaBroken, TheBootloaderRollsBackAnImageThatFailsVerification) {
  ScenarioResult r = run_one("ota-rollback-invalid");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_TRUE(noted(r, "boot_info after the rollback: pycom.bootmgr() = ('ota_0'")) << outcome_text(r);
  // Written through bootrig's own OTA transfer (checked binary frames), not five times as many bytes as
  // bytes literals.
  EXPECT_TRUE(noted(r, "the update written by binary transfer")) << outcome_text(r);
  bool message = false;
  for (const auto& e : r.attempts.back().expectations)
    message =
        message || (e.what == "the bootloader's rollback message" && e.status == ExpectationStatus::passed);
  EXPECT_TRUE(message) << outcome_text(r);
}

// The update's progress is said at each tenth, as a flash's is: a line per acknowledged frame (19 on a clean
// line, over a thousand at 1 % noise, where frames shrink) flooded the console and the log.
TEST_F(OtaBroken, TheUpdatesProgressIsSaidAtEachTenthNotEachFrame) {
  std::vector<std::string> lines;
  auto shown = make_line_progress([&](const std::string& l) { lines.push_back(l); });
  ScenarioResult r = run_one("ota-rollback-invalid", testing::half_speed_sim_rig(), nullptr, shown.get());
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  auto said = std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.find("pycom.ota_write(): ") != std::string::npos; });
  EXPECT_GE(said, 2);   // it is said at all, more than once
  EXPECT_LE(said, 11);  // 0 % to 100 %
  EXPECT_NE(std::find_if(lines.begin(), lines.end(),
                         [](const std::string& l) { return l.find("pycom.ota_write(): ") != std::string::npos &&
                                                             l.find("KiB (100 %)") != std::string::npos; }),
            lines.end());
}

// A reset while the update is written (here a brown-out in the middle of it; at 0.1 % line noise a control
// byte did it in the fault matrix) takes the update begun with ota_start() with it: the scenario begins the
// update again instead of ending in an ERROR of its own command ("name 'pycom' is not defined").
TEST_F(OtaBroken, AResetWhileTheUpdateIsWrittenBeginsItAgain) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.sim.faults.brownout_after_bytes = 30000;  // the image that fails verification is 76 KiB
  ScenarioResult r = run_one("ota-rollback-invalid", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  EXPECT_EQ(r.attempts.size(), 1u) << outcome_text(r);
  EXPECT_TRUE(noted(r, "the board was reset while the update was being written")) << outcome_text(r);
}

// A port that re-enumerates through the reset loses the bootloader's rollback message with the rest of the
// boot's first lines: that is no evidence against the board (the fault matrix made it a false FAIL). The
// message is listed as unchecked, and the image that runs and boot_info judge the rollback.
TEST_F(OtaBroken, ARollbackMessageLostWithAReenumeratingPortIsUncheckedNotAFail) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.sim.faults.port_vanishes = true;
  ScenarioResult r = run_one("ota-rollback-invalid", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  bool unchecked = false;
  for (const auto& e : r.attempts.back().expectations)
    unchecked = unchecked ||
                (e.what == "the bootloader's rollback message" && e.status == ExpectationStatus::unchecked);
  EXPECT_TRUE(unchecked) << outcome_text(r);
}

static const Expectation* expectation(const ScenarioResult& r, const std::string& what) {
  for (const auto& e : r.attempts.back().expectations)
    if (e.what == what) return &e;
  return nullptr;
}

// A bootloader that rolls back without its message, on a clean line: the message the scenario claims is
// missing, and that is the board's doing.
TEST_F(OtaBroken, ARollbackWithoutItsMessageFailsOnACleanLine) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.sim.faults.rollback_silent = true;
  ScenarioResult r = run_one("ota-rollback-invalid", rig);
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  const Expectation* e = expectation(r, "the bootloader's rollback message");
  ASSERT_NE(e, nullptr) << outcome_text(r);
  EXPECT_EQ(e->status, ExpectationStatus::failed) << outcome_text(r);
}

// The same board on a line that garbles one byte in five hundred (some of bootrig's checked exchanges,
// several KiB, arrive garbled for certain): the message's absence may be the line's, so it is unchecked, and the
// image that runs and boot_info, read intact, judge the rollback.
TEST_F(OtaBroken, ARollbackMessageMissingOnANoisyLineIsUncheckedNotAFail) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.sim.faults.rollback_silent = true;
  rig.sim.faults.garbage_rate = 0.002;
  ScenarioResult r = run_one("ota-rollback-invalid", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  const Expectation* e = expectation(r, "the bootloader's rollback message");
  ASSERT_NE(e, nullptr) << outcome_text(r);
  EXPECT_EQ(e->status, ExpectationStatus::unchecked) << outcome_text(r);
  EXPECT_NE(e->detail.find("on a line that garbled"), std::string::npos) << outcome_text(r);
}

TEST_F(OtaBroken, ANightlyNormalBootNamesTheBreakageOfTonightsBuild) {
  RigConfig rig = rig_with(SimBreakage::panic_at_boot);
  rig.timing.boot_timeout = milliseconds(3000);  // the broken boot is watched this long before it is judged
  ScenarioResult r = run_one("normal-boot", rig);
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  const std::string& m = r.attempts.back().message;
  EXPECT_NE(m.find("current (FiPy 1.20.2.r7"), std::string::npos) << m;
  EXPECT_NE(m.find("does not boot: it panics at boot: LoadProhibited, reboots every"), std::string::npos)
      << m;
  EXPECT_TRUE(r.attempts.back().stops_run);
}

}  // namespace
}  // namespace bootrig
