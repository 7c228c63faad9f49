// Tests for `bootrig check` and the CLI's common behaviour: exit codes, one-line errors, the simulator notice.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "bootrig/drivers/gpiod.hpp"
#include "drivers/gpiod_common.hpp"
#include "support/gpio_sim.hpp"
#include "support/run_bootrig.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;

std::string rig_path(const char* name) { return std::string(BOOTRIG_SOURCE_DIR) + "/rigs/" + name; }

TEST(CmdCheck, BuiltInSimulatorIsAnnouncedLoudly) {
  // An empty HOME and a folder without bootrig.toml: nothing to find, so the built-in simulator is used.
  auto r = run_bootrig("check", "cd /tmp && env -u BOOTRIG_RIG HOME=/nonexistent");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using the built-in SIMULATED module, not hardware"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("kind:     sim - the SIMULATED module"), std::string::npos) << r.out;
}

TEST(CmdCheck, SimRigFileIsAnnouncedAsSimulated) {
  auto r = run_bootrig("check " + rig_path("sim.toml"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("is a SIMULATED module, not hardware"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("factory 1.20.2.r4, ota_0 1.20.2.r6, active ota_0"), std::string::npos) << r.out;
}

TEST(CmdCheck, OfflinePrintsTheWiring) {
  auto r = run_bootrig("check --offline " + rig_path("pi4-expansion31.toml"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("safeboot    P12 safe-boot request (output)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 'GPIO27', active low, open-drain"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("power       module power switch (output)             not wired"), std::string::npos);
  EXPECT_NE(r.out.find("USB 04d8:ef98 at 115200 baud 8N1, flow none, DTR untouched, RTS untouched"),
            std::string::npos);
}

TEST(CmdCheck, HardwareMissingHereIsARigError) {
  if (!gpiod_detail::gpiochip_paths().empty()) GTEST_SKIP() << "this machine has GPIO chips";
  auto r = run_bootrig("check " + rig_path("pi4-expansion31.toml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("-> NOT FOUND: GPIO line 'GPIO17' not found on any chip"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("part(s) of the rig were not found on this machine"), std::string::npos) << r.err;
}

// The kernel tier's gpio-sim chip and UART: a Pi's rig file resolves there line by line.
class CheckGpioSim : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    std::string text = testing::pi_rig_on_gpio_sim(*backend_, why_not);
    if (text.empty()) GTEST_SKIP() << why_not;
    rig_ = std::filesystem::temp_directory_path() / "bootrig-check-gpio-sim.toml";
    std::ofstream(rig_) << text;
  }
  void TearDown() override {
    std::error_code ec;
    if (!rig_.empty()) std::filesystem::remove(rig_, ec);
  }
  std::unique_ptr<GpioBackend> backend_ = make_gpiod_backend();
  std::filesystem::path rig_;
};

TEST_F(CheckGpioSim, ResolvesEveryLineByNameAndThePort) {
  auto r = run_bootrig("check " + rig_.string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto p12 = testing::named_sim_line(*backend_, "GPIO17");
  ASSERT_TRUE(p12.has_value());
  for (const char* name : {"GPIO17", "GPIO27", "GPIO22", "GPIO23"})
    EXPECT_NE(r.out.find(std::string("-> ") + name + " (" + p12->chip.path + " offset " + (name + 4) + ")"),
              std::string::npos)
        << name << "\n"
        << r.out;
  EXPECT_NE(r.out.find(std::string("-> ") + std::getenv("BOOTRIG_TEST_SERIAL_PORT")), std::string::npos)
      << r.out;
}

TEST_F(CheckGpioSim, ABusyLineIsReportedWithItsHolder) {
  auto reset = testing::named_sim_line(*backend_, "GPIO27");
  ASSERT_TRUE(reset.has_value());
  LineSettings s;
  s.consumer = "check-test-holder";
  auto held = backend_->request_output(reset->line, s);
  auto r = run_bootrig("check " + rig_.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("BUSY: 'check-test-holder' holds it; stop that user or choose another line"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("1 part(s) of the rig were not found"), std::string::npos) << r.err;
}

TEST(CmdCheck, InvalidRigFileIsOneLineAndExitTwo) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-check-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "bad.toml";
  std::ofstream(file) << "[rig]\nkind = \"hardware\"\n[lines.safeboot]\nname = \"GPIO17\"\n[lines.reset]\n"
                         "name = \"GPIO17\"\n[serial]\nport = \"/dev/ttyUSB0\"\n";
  auto r = run_bootrig("check " + file.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  std::string want = "bootrig: " + file.string() +
                     ":5: lines.reset: uses the same GPIO line as lines.safeboot (line 'GPIO17'); each role needs "
                     "its own line\n";
  EXPECT_EQ(r.err, want);
  std::filesystem::remove_all(dir);
}

TEST(CmdCheck, ShowsTheExternalFlasherAndWhetherItIsInstalled) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-check-flasher-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto found = dir / "found.toml";
  std::ofstream(found) << "[rig]\nkind = \"sim\"\n[flasher]\ncommand = [\"sh\", \"flash.sh\", \"{image}\"]\n"
                          "timeout_ms = 60000\n";
  auto r = run_bootrig("check " + found.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("flasher:  sh flash.sh {image} (timeout 60000 ms; bootrig enters download mode through its "
                 "lines)  -> /"),
      std::string::npos)
      << r.out;
  auto missing = dir / "missing.toml";
  std::ofstream(missing)
      << "[rig]\nkind = \"sim\"\n[flasher]\ncommand = [\"bootrig-no-such-flasher\", \"{image}\"]\n"
         "download_mode = false\n";
  r = run_bootrig("check " + missing.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(
                "flasher:  bootrig-no-such-flasher {image} (timeout 300000 ms; the tool enters download mode "
                "itself)  -> NOT FOUND: 'bootrig-no-such-flasher' is not on PATH or not executable"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(run_bootrig("check --offline " + missing.string()).exit_code, 0);
  std::filesystem::remove_all(dir);
}

TEST(CmdCheck, ExplicitMissingRigNeverFallsBackToTheSimulator) {
  auto r = run_bootrig("check", "BOOTRIG_RIG=/nonexistent/rig.toml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      "bootrig: /nonexistent/rig.toml (the rig file, from $BOOTRIG_RIG): no such file; check the path\n");
}

// What ships must pass what it teaches: every rig file in rigs/, images included.
TEST(CmdCheck, EveryShippedRigFilePassesOffline) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(BOOTRIG_SOURCE_DIR) + "/rigs")) {
    if (e.path().extension() != ".toml") continue;
    auto r = run_bootrig("-q check --offline " + e.path().string());
    EXPECT_EQ(r.exit_code, 0) << e.path() << ": " << r.out << r.err;
    EXPECT_EQ(r.out.find("PROBLEM"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("firmware: current = "), std::string::npos) << r.out;
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(Cli, UsageErrorsExitTwo) {
  auto r = run_bootrig("no-such-command");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(run_bootrig("").exit_code, 2);
}

TEST(Cli, VersionNamesTheLibgpiodApi) {
  auto r = run_bootrig("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("bootrig "), std::string::npos);
  EXPECT_NE(r.out.find("libgpiod v" + std::to_string(BOOTRIG_GPIOD_API) + " API"), std::string::npos) << r.out;
}

TEST(Cli, LogFileKeepsEverythingEvenWhenQuiet) {
  auto log = std::filesystem::temp_directory_path() / ("bootrig-log-" + std::to_string(::getpid()) + ".log");
  auto r = run_bootrig("-q --log-file " + log.string() + " check --offline " + rig_path("pi4-expansion31.toml"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "") << "-q shows only warnings and errors";
  std::ifstream in(log);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(content.find("info: rig "), std::string::npos) << content;
  std::filesystem::remove(log);
}

TEST(Cli, QuietNeverHidesThatTheRigIsSimulated) {
  auto r = run_bootrig("-q check " + rig_path("sim.toml"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("SIMULATED"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bootrig
