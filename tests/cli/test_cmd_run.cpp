// Tests for `bootrig run`, `list` and `describe` through the built binary, as users and CI call them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bootrig/core/time.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CmdRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("cli");
    std::filesystem::create_directories(dir);
    rig = dir / "rig.toml";
    std::ofstream(rig) << testing::half_speed_sim_rig_toml();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir, rig;
};

TEST_F(CmdRun, RunsAScenarioAndLeavesItsEvidence) {
  auto out = dir / "run";
  auto junit = dir / "junit-copy.xml";
  auto r = run_bootrig("--rig " + rig.string() + " run safeboot-window2 --out " + out.string() + " --junit " +
                       junit.string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SIMULATED MODULE, not hardware"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS   safeboot-window2"), std::string::npos) << r.out;
  // Not a terminal: plain timestamped lines, no cursor movement.
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos);
  EXPECT_NE(r.out.find("waiting for window 2 (fast blink)"), std::string::npos) << r.out;
  EXPECT_NE(slurp(out / "summary.txt").find("PASS   safeboot-window2"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(out / "01-safeboot-window2/attempt-1/events.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(out / "01-safeboot-window2/attempt-1/serial.log"));
  EXPECT_EQ(slurp(junit), slurp(out / "junit.xml"));
}

TEST_F(CmdRun, AFailedCheckExitsOne) {
  std::ofstream(rig, std::ios::app) << "sys_exit_quirk = true\n";
  auto r = run_bootrig("--rig " + rig.string() + " run soft-reset-sys-exit --out " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL   soft-reset-sys-exit"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir / "run/junit.xml").find("firmware 1.20&apos;s known behaviour"), std::string::npos);
}

TEST_F(CmdRun, ACorruptImageIsAnErrorBeforeTheBoardIsTouched) {
  auto r = run_bootrig("image make --version 1.20.2.r6 --board FiPy --corrupt bad-sha256 -o " + (dir / "bad.bin").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(rig, std::ios::app) << "[firmware]\ncurrent = \"bad.bin\"\n";
  r = run_bootrig("--rig " + rig.string() + " run normal-boot --out " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("\nbootrig: " + rig.string() + ": [firmware] current = " + (dir / "bad.bin").string() +
                       ": not a valid ESP32 application image ("),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was written to the board"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << "no run began";
}

TEST_F(CmdRun, BadNamesAndMissingNamesAreUsageErrors) {
  auto r = run_bootrig("--rig " + rig.string() + " run no-such-scenario");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "bootrig: no scenario named 'no-such-scenario'; 'bootrig list' shows the names\n");
  r = run_bootrig("--rig " + rig.string() + " run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("name the scenarios to run"), std::string::npos) << r.err;
  r = run_bootrig("--rig " + rig.string() + " run --all normal-boot");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CmdRun, SigtermEndsTheRunWithExitThreeAndKeepsTheResults) {
  auto out = dir / "run";
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::close(pipefd[0]);
    ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "-q", "--rig", rig.c_str(), "run", "--no-progress", "safeboot-factory",
            "--out", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipefd[1]);
  // -q hides progress; wait until the run's timeline shows P12 asserted instead.
  Deadline d = Deadline::after(seconds(60));
  auto events = out / "01-safeboot-factory/attempt-1/events.jsonl";
  // The P12 changes on the timeline, oldest first: 1 active, 0 inactive.
  auto p12_levels = [&] {
    std::vector<int> levels;
    std::istringstream in(slurp(events));
    for (std::string line; std::getline(in, line);) {
      auto e = nlohmann::json::parse(line, nullptr, false);
      if (!e.is_discarded() && e["kind"] == "output" && e["line"] == "safeboot") levels.push_back(e["level"].get<int>());
    }
    return levels;
  };
  while (!d.expired() && p12_levels().empty()) wait_for(milliseconds(20));
  ASSERT_FALSE(d.expired()) << slurp(events);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pipefd[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  auto j = nlohmann::json::parse(slurp(out / "results.json"));
  EXPECT_EQ(j["interrupted"], true);
  // P12 was asserted, and its last change on the timeline is the release.
  auto levels = p12_levels();
  ASSERT_GE(levels.size(), 2u);
  EXPECT_EQ(levels.front(), 1);
  EXPECT_EQ(levels.back(), 0);
}

// SIGKILL: nothing in bootrig runs, the kernel frees the line requests. The run folder left behind must still
// be readable and say that it is incomplete, and the next run must start from there and pass. (Here the
// simulated module lives in the killed process, so the next run meets a fresh one; what a real board is left
// doing is the kernel's choice, docs/reliability.md.)
TEST_F(CmdRun, SigkillLeavesAReadableFolderThatSaysItIsIncompleteAndTheNextRunPasses) {
  auto out = dir / "killed";
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "-q", "--rig", rig.c_str(), "run", "--no-progress",
            "safeboot-factory", "--out", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Killed while P12 is held, mid-scenario, with the timeline being written.
  auto events = out / "01-safeboot-factory/attempt-1/events.jsonl";
  Deadline d = Deadline::after(seconds(60));
  while (!d.expired() && slurp(events).find("\"line\":\"safeboot\"") == std::string::npos)
    wait_for(milliseconds(20));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_FALSE(d.expired()) << slurp(events);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto j =
      nlohmann::json::parse(slurp(out / "results.json"));  // never truncated: written whole, then renamed
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["interrupted"], false);
  EXPECT_TRUE(j["scenarios"].empty()) << "the scenario never finished";
  EXPECT_FALSE(std::filesystem::exists(out / "results.json.tmp"));
  // Every whole line of the timeline is an event (a line cut by the kill is the only one that may not parse).
  std::istringstream in(slurp(events));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 2u);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    EXPECT_FALSE(nlohmann::json::parse(lines[i], nullptr, false).is_discarded()) << lines[i];

  auto r = run_bootrig("-q --rig " + rig.string() + " run safeboot-factory --out " + (dir / "next").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir / "next/results.json"))["complete"], true);
}

TEST(CmdList, ListsEveryScenarioWithItsPurpose) {
  auto r = run_bootrig("list");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"normal-boot", "safeboot-window1", "safeboot-window2", "safeboot-factory",
                           "safeboot-not-persistent", "soft-reset-ctrl-d", "soft-reset-sys-exit", "hard-reset-pin",
                           "hard-reset-machine", "factory-reset", "recover-stuck-main"})
    EXPECT_NE(r.out.find(std::string(name) + " "), std::string::npos) << name;
}

TEST(CmdDescribe, ShowsStepsExpectationsPreconditionsAndDuration) {
  auto r = run_bootrig("describe safeboot-window2");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Steps:\n  1. "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Expectations:"), std::string::npos);
  EXPECT_NE(r.out.find("Preconditions:"), std::string::npos);
  EXPECT_NE(r.out.find("Typical duration: about 8 s"), std::string::npos);
  EXPECT_EQ(run_bootrig("describe nope").exit_code, 2);
}

}  // namespace
}  // namespace bootrig
