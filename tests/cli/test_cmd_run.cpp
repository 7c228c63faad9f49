// Tests for `bootrig run`, `list` and `describe` through the built binary, as users and CI call them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "bootrig/core/time.hpp"
#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"
#include "support/run_folder_check.hpp"
#include "support/scenario_rig.hpp"
#include "support/sim_process.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& text) {
  std::string t = text.substr(0, text.find_last_not_of('\n') + 1);
  return t.substr(t.rfind('\n') + 1);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The safe-boot pin's changes on a timeline, oldest first: 1 asserted, 0 released.
std::vector<int> p12_levels(const std::filesystem::path& events) {
  std::vector<int> levels;
  std::istringstream in(slurp(events));
  for (std::string line; std::getline(in, line);) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_discarded() && e["kind"] == "output" && e["line"] == "safeboot")
      levels.push_back(e["level"].get<int>());
  }
  return levels;
}

// bootrig in a child process, its output into files (a pipe nobody reads could block it), so that a test can
// signal it mid-run.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& out_file) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(BOOTRIG_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(BOOTRIG_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // The exit code, or 128 + the signal that ended it.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

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
  auto c = testing::check_run_folder(out);
  EXPECT_EQ(c.exit_code, 0) << c.out;
}

TEST_F(CmdRun, AFailedCheckExitsOne) {
  std::ofstream(rig, std::ios::app) << "sys_exit_quirk = true\n";
  auto r = run_bootrig("--rig " + rig.string() + " run soft-reset-sys-exit --out " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL   soft-reset-sys-exit"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir / "run/junit.xml").find("firmware 1.20&apos;s known behaviour"), std::string::npos);
}

TEST_F(CmdRun, ACorruptImageIsAnErrorBeforeTheBoardIsTouched) {
  auto r = run_bootrig("image make --version 1.20.2.r6 --board FiPy --corrupt bad-sha256 -o " +
                       (dir / "bad.bin").string());
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
  Child bootrig(
      {"-q", "--rig", rig.string(), "run", "--no-progress", "safeboot-factory", "--out", out.string()},
      dir / "output.txt");
  // -q hides progress; wait until the run's timeline shows P12 asserted instead.
  Deadline d = Deadline::after(seconds(60));
  auto events = out / "01-safeboot-factory/attempt-1/events.jsonl";
  auto held = [&] {
    auto levels = p12_levels(events);
    return !levels.empty() && levels.back() == 1;
  };
  while (!d.expired() && !held()) wait_for(milliseconds(20));
  ASSERT_FALSE(d.expired()) << slurp(events);
  bootrig.signal(SIGTERM);
  EXPECT_EQ(bootrig.wait(), 3) << slurp(dir / "output.txt");
  auto j = nlohmann::json::parse(slurp(out / "results.json"));
  EXPECT_EQ(j["interrupted"], true);
  // -q still says it: the interruption is a warning.
  EXPECT_EQ(last_line(slurp(dir / "output.txt"))
                .rfind("bootrig: INTERRUPTED: interrupted by Terminated during safeboot-factory", 0),
            0u)
      << slurp(dir / "output.txt");
  // P12 was asserted, and its last change on the timeline is the release.
  auto levels = p12_levels(events);
  ASSERT_GE(levels.size(), 2u);
  EXPECT_NE(std::find(levels.begin(), levels.end(), 1), levels.end());
  EXPECT_EQ(levels.back(), 0);
  // The interrupted attempt has its diagram, serial.txt and signals.vcd; every file reads back.
  auto c = testing::check_run_folder(out);
  EXPECT_EQ(c.exit_code, 0) << c.out;
}

// Ctrl-C or SIGTERM wherever it comes: exit 3, every scenario asked for in every report (those that did not
// run as NOT RUN), and summary.txt ending with the INTERRUPTED line.
class CmdRunInterrupted : public CmdRun {
 protected:
  const std::vector<std::string> names{"safeboot-window1", "safeboot-factory", "normal-boot"};

  // Starts the run, waits for `ready` (given the run folder), sends `sig`, and checks what every run must
  // leave.
  nlohmann::json interrupt_when(const std::function<bool(const std::filesystem::path&)>& ready, int sig) {
    out = dir / "run";
    std::vector<std::string> args{"--rig", rig.string(), "run"};
    args.insert(args.end(), names.begin(), names.end());
    for (const char* a : {"--no-progress", "--out"}) args.emplace_back(a);
    args.push_back(out.string());
    Child bootrig(args, dir / "output.txt");
    Deadline d = Deadline::after(seconds(90));
    while (!d.expired() && !ready(out)) wait_for(milliseconds(10));
    EXPECT_FALSE(d.expired()) << slurp(dir / "output.txt");
    bootrig.signal(sig);
    EXPECT_EQ(bootrig.wait(), 3) << slurp(dir / "output.txt");
    output = slurp(dir / "output.txt");
    summary = slurp(out / "summary.txt");
    junit = slurp(out / "junit.xml");
    EXPECT_EQ(last_line(summary).rfind("INTERRUPTED: interrupted by ", 0), 0u) << summary;
    EXPECT_NE(junit.find("tests=\"3\""), std::string::npos) << junit;
    for (const auto& n : names) {
      // Once among the scenario lines, the block between the header and the totals.
      auto from = summary.find("\n\n") + 1;
      EXPECT_EQ(count_of(summary.substr(from, summary.find("\n\n", from) - from), " " + n + " "), 1u)
          << n << "\n"
          << summary;
      EXPECT_EQ(count_of(junit, "name=\"" + n + "\""), 1u) << n;
    }
    // What the console showed ends the same way.
    EXPECT_NE(output.find("INTERRUPTED: interrupted by "), std::string::npos) << output;
    auto j = nlohmann::json::parse(slurp(out / "results.json"));
    EXPECT_EQ(j["interrupted"], true);
    EXPECT_EQ(j["finished"], true);
    EXPECT_EQ(j["exit_code"], 3);
    EXPECT_EQ(j["scenarios"].size(), 3u);
    EXPECT_NE(j["board_state"].get<std::string>().find("released"), std::string::npos) << j["board_state"];
    // report.html is whole and holds a diagram for every attempt made; results.json matches its schema.
    auto c = testing::check_run_folder(out);
    EXPECT_EQ(c.exit_code, 0) << c.out;
    return j;
  }

  std::filesystem::path out;
  std::string output, summary, junit;
};

TEST_F(CmdRunInterrupted, AsSoonAsTheRunHasBegun) {
  auto j = interrupt_when(
      [](const std::filesystem::path& o) { return std::filesystem::exists(o / "results.json"); }, SIGTERM);
  EXPECT_EQ(j["scenarios"][2]["outcome"], "NOT RUN");
  EXPECT_NE(summary.find("\nNOT RUN normal-boot"), std::string::npos) << summary;
  EXPECT_NE(junit.find("<skipped message=\"not run: the run was interrupted\"/>"), std::string::npos)
      << junit;
}

TEST_F(CmdRunInterrupted, WhileTheSecondScenarioHoldsP12) {
  // P12 held through the factory safe boot: asserted, and still by the same change a second later (of the
  // hold's 3 s at half speed). On a loaded machine the check's start can find no prompt in time and begin with
  // the recovery ladder, whose window-1 safe boot holds P12 only a few hundred ms: a signal then met the
  // board after that release (the ASan stage, twice).
  std::size_t changes_seen = 0;
  TimePoint held_since{};
  auto j = interrupt_when(
      [&](const std::filesystem::path& o) {
        auto levels = p12_levels(o / "02-safeboot-factory/attempt-1/events.jsonl");
        if (levels.empty() || levels.back() != 1) return false;
        if (levels.size() != changes_seen) {
          changes_seen = levels.size();
          held_since = now();
          return false;
        }
        return now() - held_since >= seconds(1);
      },
      SIGINT);
  EXPECT_EQ(j["scenarios"][0]["outcome"], "PASS");
  // The interrupted scenario keeps its real duration and its notes, and the record says where the board was.
  const auto& second = j["scenarios"][1];
  EXPECT_EQ(second["outcome"], "ERROR");
  EXPECT_GT(second["seconds"].get<double>(), 0.0);
  EXPECT_FALSE(second["attempts"][0]["notes"].empty());
  EXPECT_NE(j["board_state"].get<std::string>().find("(bootrig had P12 asserted"), std::string::npos)
      << j["board_state"];
  EXPECT_NE(j["board_state"].get<std::string>().find("the board was in '"), std::string::npos)
      << j["board_state"];
  EXPECT_NE(j["stop_reason"].get<std::string>().find("during safeboot-factory"), std::string::npos);
  EXPECT_EQ(j["scenarios"][2]["outcome"], "NOT RUN");
  EXPECT_EQ(j["scenarios"][2]["reason"], "not run: the run was interrupted");
  EXPECT_NE(summary.find("\nNOT RUN normal-boot"), std::string::npos) << summary;
  auto levels = p12_levels(out / "02-safeboot-factory/attempt-1/events.jsonl");
  EXPECT_EQ(levels.back(), 0) << "the timeline ends with P12 released";
}

TEST_F(CmdRunInterrupted, AfterTheSecondScenarioPassed) {
  auto j = interrupt_when(
      [](const std::filesystem::path& o) {
        return slurp(o / "summary.txt").find("\nPASS   safeboot-factory") != std::string::npos;
      },
      SIGTERM);
  EXPECT_EQ(j["scenarios"][0]["outcome"], "PASS");
  EXPECT_EQ(j["scenarios"][1]["outcome"], "PASS");
  EXPECT_NE(summary.find("\nPASS   safeboot-factory"), std::string::npos) << summary;
}

TEST_F(CmdRunInterrupted, WhileAnOtaUpdateIsSendingTheImage) {
  // The simulated board runs 1.20.2.r6 from ota_0: the first check puts the rig's current (1.20.2.r4) on by
  // OTA.
  std::ofstream(rig, std::ios::app) << "[firmware]\ncurrent = \"" << BOOTRIG_SOURCE_DIR
                                    << "/rigs/images/fipy-1.20.2.r4.bin\"\n";
  auto j = interrupt_when(
      [this](const std::filesystem::path&) {
        return slurp(dir / "output.txt").find("writing current by OTA: ") != std::string::npos;
      },
      SIGINT);
  EXPECT_EQ(j["scenarios"][0]["outcome"], "ERROR");
  // Bootrig's transfer loop on the board reads with Ctrl-C disabled: the record says what the cut left.
  const std::string state = j["board_state"];
  EXPECT_NE(state.find("the board was in 'OTA current 1.20.2.r4', waiting for writing current by OTA: "),
            std::string::npos)
      << state;
  EXPECT_NE(
      state.find("; an OTA update of current was cut short before the whole image was sent: the board "
                 "may wait for the rest with Ctrl-C disabled until a RESET, then boots the image it ran"),
      std::string::npos)
      << state;
  EXPECT_NE(summary.find("an OTA update of current was cut short"), std::string::npos) << summary;
}

TEST_F(CmdRun, AnOutFolderThatHoldsARunIsRefusedBeforeTheBoardIsTouchedAndAppendKeepsEveryRun) {
  auto out = dir / "records" / "FIPY-0042";
  std::filesystem::create_directories(out);
  std::ofstream(out / "summary.txt") << "the first run\n";
  auto r = run_bootrig("--rig " + rig.string() + " run safeboot-window1 --out " + out.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(last_line(r.err),
            "bootrig: --out " + out.string() +
                ": already holds a run (summary.txt); give a new folder, or add --append to put "
                "this run in a numbered subfolder (" +
                (out / "run-N").string() + ")");
  EXPECT_EQ(r.out, "") << "nothing ran";
  EXPECT_EQ(slurp(out / "summary.txt"), "the first run\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out), {}), 1) << "nothing added";

  // The README's retest: every run kept, each in its own folder, and the output says where.
  for (int n : {2, 3}) {
    r = run_bootrig("--rig " + rig.string() + " run safeboot-window1 --append --out " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto sub = out / ("run-" + std::to_string(n));
    EXPECT_NE(r.err.find("evidence folder: " + sub.string() + " (" + out.string() +
                         " already holds a run; --append put this one in " + sub.string() + ")"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find("evidence in " + sub.string()), std::string::npos) << r.out;
    EXPECT_NE(slurp(sub / "summary.txt").find("\nPASS   safeboot-window1"), std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(sub / "01-safeboot-window1/attempt-1/events.jsonl"));
  }
  EXPECT_EQ(slurp(out / "summary.txt"), "the first run\n");
}

TEST_F(CmdRun, OutputPathsAreCheckedBeforeAnythingTouchesTheBoard) {
  auto out = dir / "run";
  struct Case {
    std::string option, path, error;
  };
  for (const Case& c : std::vector<Case>{
           {"--junit", "/proc/bootrig-junit.xml",
            "--junit /proc/bootrig-junit.xml: cannot create files in /proc ("},
           {"--junit", dir.string(), "--junit " + dir.string() + ": is a folder; give a file name in it"},
           {"--junit", (dir / "no/such/junit.xml").string(),
            "--junit " + (dir / "no/such/junit.xml").string() + ": the folder " + (dir / "no/such").string() +
                " does not exist; create it first"},
           {"--log-file", (dir / "logs/run.log").string(),
            "--log-file " + (dir / "logs/run.log").string() + ": the folder " + (dir / "logs").string() +
                " does not exist; create it first"},
           {"--out", rig.string(), "--out " + rig.string() + ": is a file, not a folder"},
       }) {
    std::string args = c.option == "--out" ? "" : " --out " + out.string();
    auto r = run_bootrig("--rig " + rig.string() + " run safeboot-window1 " + c.option + " " + c.path + args);
    EXPECT_EQ(r.exit_code, 2) << c.option << " " << c.path << "\n" << r.err;
    EXPECT_EQ(last_line(r.err).rfind("bootrig: " + c.error, 0), 0u) << r.err;
    EXPECT_EQ(count_of(r.err, "bootrig: "), 1u) << "one line: " << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << "no run began: " << c.option;
    EXPECT_FALSE(std::filesystem::exists(dir / "logs")) << "a log folder is never made up";
  }
}

TEST_F(CmdRun, ARigThatWillNotOpenStillLeavesARecordOfWhatDidNotRun) {
  auto hw = dir / "hw.toml";
  std::ofstream(hw) << "[rig]\nname = \"bench\"\nkind = \"hardware\"\n"
                       "[lines.safeboot]\nname = \"BOOTRIG_NO_SUCH_LINE\"\nactive = \"high\"\n"
                       "[lines.reset]\nname = \"BOOTRIG_NO_SUCH_LINE_2\"\nactive = \"low\"\n"
                       "[serial]\nport = \"/dev/bootrig-no-such-port\"\n";
  auto out = dir / "run";
  auto junit = dir / "junit.xml";
  auto r = run_bootrig("--rig " + hw.string() + " run normal-boot hard-reset-pin --out " + out.string() +
                       " --junit " + junit.string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(last_line(r.err).find("BOOTRIG_NO_SUCH_LINE"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(slurp(out / "results.json"));
  EXPECT_EQ(j["exit_code"], 2);
  ASSERT_EQ(j["scenarios"].size(), 2u);
  for (const auto& s : j["scenarios"]) {
    EXPECT_EQ(s["outcome"], "NOT RUN");
    EXPECT_EQ(s["reason"].get<std::string>().rfind("not run: the rig could not be opened: ", 0), 0u)
        << s["reason"];
  }
  EXPECT_EQ(j["rig"]["simulated"], false);
  EXPECT_EQ(j["rig"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(last_line(slurp(out / "summary.txt")).rfind("STOPPED: the rig could not be opened: ", 0), 0u);
  EXPECT_EQ(slurp(junit), slurp(out / "junit.xml"));
  auto c = testing::check_run_folder(out);
  EXPECT_EQ(c.exit_code, 0) << c.out;
}

TEST_F(CmdRun, ANameGivenTwiceIsRefused) {
  auto r = run_bootrig("--rig " + rig.string() + " run normal-boot hard-reset-pin normal-boot --out " +
                       (dir / "run").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      last_line(r.err),
      "bootrig: 'normal-boot' is named twice; name each scenario once (--retries N gives it more attempts)");
  EXPECT_FALSE(std::filesystem::exists(dir / "run"));
}

TEST_F(CmdRun, TheLogFileGetsWhatTheConsoleShowedAndTheDetailWithBothClocks) {
  auto log = dir / "run.log";
  auto r = run_bootrig("--rig " + rig.string() + " run hard-reset-pin --out " + (dir / "run").string() +
                       " --log-file " + log.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string text = slurp(log);
  // Every line stamped with the wall clock (and its zone) and the monotonic clock of the timelines.
  std::istringstream in(text);
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    EXPECT_TRUE(std::regex_search(
        line, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \d+\.\d{6} \w+: )")))
        << line;
  EXPECT_GT(lines, 20);
  // What the console showed ...
  EXPECT_NE(text.find("info: PASS   hard-reset-pin"), std::string::npos);
  EXPECT_NE(text.find("info: hard-reset-pin: RESET pulse (50 ms)"), std::string::npos);
  EXPECT_NE(text.find("info: 1 passed, 0 failed, 0 errors, 0 skipped, 0 flaky, 0 not run (SIMULATED module); "
                      "exit code 0"),
            std::string::npos);
  // ... and what it did not: pin changes, boot events, the REPL's bytes.
  EXPECT_NE(text.find("debug: ["), std::string::npos);
  EXPECT_NE(text.find("] line reset -> active"), std::string::npos);
  EXPECT_NE(text.find("trace: ["), std::string::npos);
  EXPECT_NE(text.find("POWERON_RESET"), std::string::npos);
  // The console at the default level shows none of the detail; -v shows the debug part, -vv the bytes too.
  EXPECT_EQ(r.err.find("debug:"), std::string::npos) << r.err;
  r = run_bootrig("--rig " + rig.string() + " -v run hard-reset-pin --out " + (dir / "run-v").string());
  EXPECT_NE(r.err.find("debug: ["), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("trace:"), std::string::npos);
  r = run_bootrig("--rig " + rig.string() + " -vv run hard-reset-pin --out " + (dir / "run-vv").string());
  EXPECT_NE(r.err.find("trace: ["), std::string::npos);
  EXPECT_NE(r.err.find(" tx "), std::string::npos) << "bootrig's REPL exchanges";
}

TEST_F(CmdRun, AllLeavesTheDestructiveScenarioOutUnlessConsentedAndSaysWhy) {
  auto r = run_bootrig("--rig " + rig.string() + " run --all --out " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string why = "destructive: erases /flash; name it or pass --destructive";
  EXPECT_NE(r.out.find("SKIP   factory-reset                    -  " + why), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir / "run/summary.txt").find("\nSKIP   factory-reset                    -  " + why),
            std::string::npos);
  EXPECT_NE(slurp(dir / "run/junit.xml").find("<skipped message=\"" + why + "\"/>"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "run/10-factory-reset")) << "never touched";
  EXPECT_TRUE(std::filesystem::exists(dir / "run/11-recover-stuck-main"));
}

TEST_F(CmdRun, ADestructiveScenarioNamedOnTheCommandLineRuns) {
  auto r = run_bootrig("--rig " + rig.string() + " run factory-reset --out " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS   factory-reset"), std::string::npos) << r.out;
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
  EXPECT_EQ(j["finished"], false);
  EXPECT_EQ(j["interrupted"], false);
  // Every whole line of the timeline is an event (a line cut by the kill is the only one that may not parse).
  std::istringstream in(slurp(events));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 2u);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    EXPECT_FALSE(nlohmann::json::parse(lines[i], nullptr, false).is_discarded()) << lines[i];

  auto r = run_bootrig("-q --rig " + rig.string() + " run safeboot-factory --out " + (dir / "next").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir / "next/results.json"))["finished"], true);
}

TEST(CmdList, ListsEveryScenarioWithItsPurpose) {
  auto r = run_bootrig("list");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"normal-boot", "safeboot-window1", "safeboot-window2", "safeboot-factory",
                           "safeboot-not-persistent", "soft-reset-ctrl-d", "soft-reset-sys-exit",
                           "hard-reset-pin", "hard-reset-machine", "factory-reset", "recover-stuck-main"})
    EXPECT_NE(r.out.find(std::string(name) + " "), std::string::npos) << name;
}

TEST(CmdList, MarksTheDestructiveScenario) {
  auto r = run_bootrig("list");
  std::istringstream in(r.out);
  int marked = 0;
  for (std::string line; std::getline(in, line);) {
    bool mark =
        line.find("[DESTRUCTIVE: erases /flash; not in --all without --destructive]") != std::string::npos;
    EXPECT_EQ(mark, line.rfind("factory-reset ", 0) == 0) << line;
    marked += mark;
  }
  EXPECT_EQ(marked, 1);
}

TEST(CmdDescribe, SaysWhetherAScenarioIsDestructive) {
  EXPECT_NE(
      run_bootrig("describe factory-reset")
          .out.find(
              "\nDestructive: yes, erases /flash; runs only when named on the command line, or with run "
              "--all --destructive\n"),
      std::string::npos);
  EXPECT_NE(run_bootrig("describe normal-boot").out.find("\nDestructive: no\n"), std::string::npos);
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

// A bench with only a serial port: no scenario can drive P12 and RESET, so each SKIPs saying which lines it
// needs, and the board (here the module behind the port) is never touched.
TEST(CmdRunSerialOnly, EveryScenarioSkipsNamingTheLinesItNeeds) {
  testing::SimProcess sim("pycom");
  // "hard_boots=1 soft_boots=0" from the simulator's status line.
  auto boots_of = [](const std::string& status) {
    return status.substr(status.find("hard_boots=")).substr(0, 30);
  };
  const std::string boots_before = boots_of(sim.status());
  auto rig_file = sim.dir() / "serial-only.toml";
  std::ofstream(rig_file) << "[rig]\nkind = \"hardware\"\nname = \"usb only\"\n[serial]\nport = \""
                          << sim.tty() << "\"\n";
  auto out = sim.dir() / "out";
  auto r =
      testing::run_bootrig("--rig " + rig_file.string() + " run --all --no-progress --out " + out.string());
  EXPECT_EQ(r.exit_code, 1) << "a SKIP proved nothing (exit 0 only with --allow-skip)" << r.out << r.err;
  auto results = nlohmann::json::parse(slurp(out / "results.json"));
  ASSERT_FALSE(results["scenarios"].empty());
  for (const auto& sc : results["scenarios"]) {
    EXPECT_EQ(sc["outcome"], "SKIP") << sc.dump();
    EXPECT_NE(sc["reason"].get<std::string>().find("needs P12 (lines.safeboot) and RESET (lines.reset)"),
              std::string::npos)
        << sc.dump();
    EXPECT_TRUE(sc["attempts"].empty()) << sc.dump();
  }
  EXPECT_EQ(boots_of(sim.status()), boots_before) << "the module was reset or rebooted";
}

}  // namespace
}  // namespace bootrig
