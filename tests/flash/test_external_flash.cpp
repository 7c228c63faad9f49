// Tests for cable flashing through an external flasher on the simulated module: what the tool is given,
// its failures as values naming what it said last, the module released from download mode afterwards, and
// the rig errors that stop it before anything happens.
#include "bootrig/flash/external_flash.hpp"

#include <gtest/gtest.h>

#include "bootrig/core/errors.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

RigConfig rig_with_tool(std::vector<std::string> command, bool download_mode = true) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.source = "rig.toml";
  ExternalFlasher f;
  f.command = std::move(command);
  f.timeout = milliseconds(20000);
  f.download_mode = download_mode;
  rig.flasher = f;
  return rig;
}

struct Flash {
  std::unique_ptr<Target> target;
  std::unique_ptr<ReplClient> repl;
  std::vector<std::string> lines;
  Result<ExternalFlashReport, OtaFailure> run(const std::string& image = "/tmp/fw.bin") {
    return external_flash(*target, {target->reset(), target->bootloader()}, *repl, image, "1.20.2.r6",
                          [&](std::string_view l) { lines.emplace_back(l); });
  }
  explicit Flash(const RigConfig& rig) : target(Target::open(rig)), repl(std::make_unique<ReplClient>(target->serial())) {
    testing::wait_until_booted(*target);
  }
};

TEST(ExternalFlash, TheToolGetsThePortImageAndBaudAndTheModuleIsResetAfter) {
  // The tool reports what it was given and whether the module was in download mode (P2 latched low) then.
  Flash f(rig_with_tool({"sh", "-c", "echo port=$1 image=$2 baud=$3; test -e \"$1\" && echo port-exists", "tool",
                         "{port}", "{image}", "{baud}"}));
  auto r = f.run();
  // The tool flashed nothing, so the module still runs 1.20.2.r6 from ota_0: the version check passes and
  // the board is back in its app.
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  ASSERT_GE(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0], "port=" + f.target->serial_path() + " image=/tmp/fw.bin baud=921600");
  EXPECT_EQ(f.lines[1], "port-exists");
  EXPECT_EQ(r->argv[0], "sh");
  EXPECT_TRUE(r->run.ok());
  EXPECT_EQ(r->after.version, "1.20.2.r6");
  SimStatus st = f.target->sim()->status();
  EXPECT_FALSE(st.p2_low) << "P2 released after the tool";
  EXPECT_TRUE(st.phase == SimPhase::repl || st.phase == SimPhase::raw_repl) << to_string(st.phase);
}

TEST(ExternalFlash, WhileTheToolRunsTheModuleWaitsInDownloadMode) {
  Flash f(rig_with_tool({"sh", "-c", "echo writing", "tool", "{image}"}));
  std::vector<SimStatus> seen;
  auto r = external_flash(*f.target, {f.target->reset(), f.target->bootloader()}, *f.repl, "/tmp/fw.bin", "1.20.2.r6",
                          [&](std::string_view) { seen.push_back(f.target->sim()->status()); });
  ASSERT_TRUE(r) << r.error().what;
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].phase, SimPhase::download) << to_string(seen[0].phase);
  EXPECT_TRUE(seen[0].p2_low);
  EXPECT_FALSE(f.target->sim()->status().p2_low);
}

TEST(ExternalFlash, WithoutDownloadModeBootrigLeavesP2Alone) {
  Flash f(rig_with_tool({"sh", "-c", "echo writing", "tool", "{image}"}, false));
  std::vector<SimStatus> seen;
  auto r = external_flash(*f.target, {f.target->reset(), f.target->bootloader()}, *f.repl, "/tmp/fw.bin", "1.20.2.r6",
                          [&](std::string_view) { seen.push_back(f.target->sim()->status()); });
  ASSERT_TRUE(r) << r.error().what;
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].p2_low);
  EXPECT_NE(seen[0].phase, SimPhase::download);
}

TEST(ExternalFlash, AFailingToolIsAFailureNamingWhatItSaidLast) {
  Flash f(rig_with_tool({"sh", "-c", "echo Connecting....; echo 'A fatal error occurred: Failed to connect to ESP32'; exit 2",
                         "tool", "{image}"}));
  auto r = f.run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, "flasher");
  EXPECT_NE(r.error().what.find("'sh' exited with status 2; it said: A fatal error occurred: Failed to connect to ESP32"),
            std::string::npos)
      << r.error().what;
  EXPECT_NE(r.error().what.find("the factory slot may be half written"), std::string::npos);
  EXPECT_FALSE(f.target->sim()->status().p2_low);
  // The module is reset into its app, not left in download mode.
  EXPECT_TRUE(f.repl->get_prompt(Deadline::after(seconds(20))));
}

TEST(ExternalFlash, AToolThatHangsIsEndedAtTheDeadline) {
  RigConfig rig = rig_with_tool({"sh", "-c", "echo started; sleep 60", "tool", "{image}"});
  rig.flasher->timeout = milliseconds(500);
  Flash f(rig);
  auto r = f.run();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what.find("did not finish within 0.5 s; it said: started"), std::string::npos) << r.error().what;
}

TEST(ExternalFlash, AMissingToolIsARigErrorNamingIt) {
  Flash f(rig_with_tool({"no-such-flasher-tool", "{image}"}));
  try {
    f.run();
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run 'no-such-flasher-tool': not found on PATH"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(f.target->sim()->status().p2_low) << "P2 released on the error path too";
  EXPECT_FALSE(f.target->serial_path().empty());
  EXPECT_TRUE(f.repl->get_prompt(Deadline::after(seconds(20)))) << "the port was taken back";
}

TEST(ExternalFlash, DownloadModeWithoutAP2LineIsARigError) {
  Flash f(rig_with_tool({"true", "{image}"}));
  try {
    external_flash(*f.target, {f.target->reset(), nullptr}, *f.repl, "/tmp/fw.bin", "1.20.2.r6", nullptr);
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("download_mode = true needs [lines.bootloader] (P2)"), std::string::npos)
        << e.what();
  }
}

TEST(ExternalFlash, TheVersionIsCheckedAfterTheTool) {
  Flash f(rig_with_tool({"true", "{image}"}, false));
  auto r = external_flash(*f.target, {f.target->reset(), f.target->bootloader()}, *f.repl, "/tmp/fw.bin", "1.20.2.r9",
                          nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, "confirm") << r.error().what;
  EXPECT_NE(r.error().what.find("the module runs 1.20.2.r6, not 1.20.2.r9"), std::string::npos) << r.error().what;
}

}  // namespace
}  // namespace bootrig
