// Tests for the external flasher runner: placeholder expansion, output lines in order (\r progress
// included), exit status, timeout and interruption ending the tool with everything it started, and a
// missing program. The "tool" is /bin/sh running a small script; bootrig itself never runs a shell.
#include "bootrig/flash/external_tool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/core/signals.hpp"

namespace bootrig {
namespace {

std::vector<std::string> sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

struct Captured {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
};

// A killed grandchild is reparented to init, which may take its time to reap it: a zombie counts as gone.
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' &&
         line[close + 2] != 'X';
}

// A pid the script wrote to a file, once it is there.
pid_t read_pid(const std::string& path, Deadline d) {
  while (!d.expired()) {
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return 0;
}

// Waits (generously) for a process to be gone: it may take the kernel a moment to tear down a killed
// process that is not our child.
bool gone_within(pid_t pid, Duration limit) {
  Deadline d = Deadline::after(limit);
  while (!d.expired()) {
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return !process_alive(pid);
}

std::string temp_file(const std::string& tag) {
  return (std::filesystem::temp_directory_path() /
          ("bootrig-exttool-" + tag + "-" + std::to_string(::getpid())))
      .string();
}

TEST(ExpandFlasherCommand, FillsPlaceholdersAndUnescapesBraces) {
  auto values = flasher_values("/dev/ttyUSB0", "/images/fipy.bin", 0x10000, 921600);
  EXPECT_EQ(values.at("offset"), "0x10000");
  EXPECT_EQ(values.at("baud"), "921600");
  auto argv = expand_flasher_command({"esptool.py", "--port", "{port}", "--baud", "{baud}", "write_flash",
                                      "{offset}", "{image}", "--x={{{port}}}", "}}{{"},
                                     values);
  EXPECT_EQ(argv, (std::vector<std::string>{"esptool.py", "--port", "/dev/ttyUSB0", "--baud", "921600",
                                            "write_flash", "0x10000", "/images/fipy.bin",
                                            "--x={/dev/ttyUSB0}", "}{"}));
}

TEST(ExpandFlasherCommand, RejectsUnknownAndMalformedPlaceholders) {
  auto values = flasher_values("/dev/ttyUSB0", "a.bin", 0x1000, 115200);
  try {
    expand_flasher_command({"esptool.py", "--port", "{prot}", "{image}"}, values);
    FAIL() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "flasher: [flasher].command: unknown placeholder {prot} in \"{prot}\"; use {port}, "
                 "{image}, {offset} or {baud} ({{ and }} for literal braces)");
  }
  EXPECT_THROW(expand_flasher_command({"tool", "{image"}, values), RigError);
  EXPECT_THROW(expand_flasher_command({"tool", "image}"}, values), RigError);
  try {
    expand_flasher_command({"tool", "{offset}"}, {{"image", "a.bin"}});
    FAIL() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "flasher: [flasher].command: bootrig has no value for {offset} in \"{offset}\" here; "
                 "remove it from the command");
  }
}

TEST(FindProgram, LooksOnPathUnlessTheNameHasASlash) {
  auto sh_path = find_program("sh");
  ASSERT_TRUE(sh_path.has_value());
  EXPECT_EQ(sh_path->filename(), "sh");
  EXPECT_EQ(find_program("/bin/sh"), std::optional<std::filesystem::path>("/bin/sh"));
  EXPECT_FALSE(find_program("bootrig-no-such-flasher.py").has_value());
  EXPECT_FALSE(find_program("/nonexistent/esptool.py").has_value());
  std::string plain = temp_file("plain");
  std::ofstream(plain) << "not a program\n";
  std::filesystem::permissions(plain,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_FALSE(find_program(plain).has_value()) << "not executable";
  std::filesystem::remove(plain);
  EXPECT_FALSE(find_program("").has_value());
}

TEST(RunTool, DeliversLinesInOrderIncludingCarriageReturnProgress) {
  interrupt::clear();
  Captured out;
  ToolRun run = run_tool(sh("printf 'Connecting...\\n'; printf 'Writing at 0x00010000... (12 %%)\\r'; "
                            "printf 'Writing at 0x00014000... (25 %%)\\r'; printf 'Wrote 1000 bytes\\r\\n'; "
                            "printf 'oops\\n' >&2; printf '\\nno newline at the end'"),
                         Deadline::after(seconds(30)), out.sink());
  EXPECT_TRUE(run.ok());
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.term_signal, 0);
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(out.lines, (std::vector<std::string>{"Connecting...", "Writing at 0x00010000... (12 %)",
                                                 "Writing at 0x00014000... (25 %)", "Wrote 1000 bytes",
                                                 "oops", "", "no newline at the end"}));
  EXPECT_NE(run.output_tail.find("Wrote 1000 bytes\noops\n"), std::string::npos) << run.output_tail;
  EXPECT_GT(run.elapsed, Duration::zero());
}

TEST(RunTool, ReportsTheExitCodeAndKeepsTheTailOfLongOutput) {
  Captured out;
  ToolRun run = run_tool(sh("i=0; while [ $i -lt 2000 ]; do echo \"line $i\"; i=$((i+1)); done; "
                            "echo 'A fatal error occurred: Failed to connect' >&2; exit 2"),
                         Deadline::after(seconds(60)), out.sink());
  EXPECT_FALSE(run.ok());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.term_signal, 0);
  ASSERT_EQ(out.lines.size(), 2001u);
  EXPECT_EQ(out.lines.front(), "line 0");
  EXPECT_EQ(out.lines[1999], "line 1999");
  EXPECT_LE(run.output_tail.size(), 4096u);
  EXPECT_GT(run.output_tail.size(), 1000u);
  EXPECT_TRUE(run.output_tail.ends_with("line 1999\nA fatal error occurred: Failed to connect\n"))
      << run.output_tail;
  EXPECT_TRUE(run.output_tail.starts_with("line ")) << "the tail starts at a whole line";
}

TEST(RunTool, ReportsDeathBySignal) {
  Captured out;
  ToolRun run = run_tool(sh("echo going; kill -USR1 $$"), Deadline::after(seconds(30)), out.sink());
  EXPECT_FALSE(run.ok());
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.term_signal, SIGUSR1);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_EQ(out.lines, std::vector<std::string>{"going"});
}

TEST(RunTool, StdinIsEmptyAndSignalsAreAtTheirDefaults) {
  // bootrig ignores SIGPIPE; the tool must not inherit that (exec would pass it on).
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  Captured out;
  ToolRun run =
      run_tool(sh("if read x; then echo \"read $x\"; else echo eof; fi; grep SigIgn /proc/self/status"),
               Deadline::after(seconds(30)), out.sink());
  ::sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0], "eof");
  // SigIgn is a 64-bit hex mask (wider than unsigned long on armhf; qemu-user sets bits above 32); SIGPIPE
  // (13) is bit 12: 0x1000.
  std::uint64_t mask = std::stoull(out.lines[1].substr(out.lines[1].find(':') + 1), nullptr, 16);
  EXPECT_EQ(mask & (std::uint64_t{1} << (SIGPIPE - 1)), 0u) << out.lines[1];
}

TEST(RunTool, TimeoutEndsTheToolAndWhatItStarted) {
  std::string pid_file = temp_file("timeout");
  std::filesystem::remove(pid_file);
  Captured out;
  TimePoint start = now();
  ToolRun run = run_tool(sh("sleep 100 & echo $! > " + pid_file + "; echo started; wait"),
                         Deadline::after(seconds(3)), out.sink());
  EXPECT_TRUE(run.timed_out);
  EXPECT_FALSE(run.ok());
  EXPECT_LT(now() - start, seconds(60)) << "ended long before the tool's own 100 s";
  EXPECT_EQ(out.lines, std::vector<std::string>{"started"});
  pid_t grandchild = read_pid(pid_file, Deadline::after(seconds(5)));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_within(grandchild, seconds(10))) << "the tool's own child was left running";
  std::filesystem::remove(pid_file);
}

TEST(RunTool, ATermIgnoringToolIsKilled) {
  Captured out;
  ToolRun run = run_tool(sh("trap '' TERM; echo stubborn; while :; do sleep 1; done"),
                         Deadline::after(seconds(3)), out.sink());
  EXPECT_TRUE(run.timed_out);
  EXPECT_EQ(run.term_signal, SIGKILL);
  EXPECT_EQ(out.lines, std::vector<std::string>{"stubborn"});
}

TEST(RunTool, AToolThatLeavesAChildBehindStillReturns) {
  std::string pid_file = temp_file("leftover");
  std::filesystem::remove(pid_file);
  Captured out;
  // The background sleep keeps the output pipe open after the tool itself exits.
  ToolRun run = run_tool(sh("sleep 100 & echo $! > " + pid_file + "; echo done"),
                         Deadline::after(seconds(60)), out.sink());
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(out.lines, std::vector<std::string>{"done"});
  pid_t leftover = read_pid(pid_file, Deadline::after(seconds(5)));
  ASSERT_GT(leftover, 0);
  EXPECT_TRUE(gone_within(leftover, seconds(10)));
  std::filesystem::remove(pid_file);
}

TEST(RunTool, MissingProgramIsARigErrorNamingIt) {
  try {
    run_tool({"bootrig-no-such-flasher.py", "--port", "/dev/null"}, Deadline::after(seconds(10)), nullptr,
             "rigs/pi4.toml");
    FAIL() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "flasher: cannot run 'bootrig-no-such-flasher.py': not found on PATH; install it or "
                 "fix [flasher].command in rigs/pi4.toml");
  }
  try {
    run_tool({"/nonexistent/esptool.py"}, Deadline::after(seconds(10)), nullptr);
    FAIL() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "flasher: cannot run '/nonexistent/esptool.py': no such file; install it or fix "
                 "[flasher].command in the rig file");
  }
  EXPECT_THROW(run_tool({}, Deadline::after(seconds(1)), nullptr), RigError);
}

TEST(RunTool, InterruptionEndsTheToolAndThrows) {
  interrupt::clear();
  std::string pid_file = temp_file("interrupt");
  std::filesystem::remove(pid_file);
  Captured out;
  std::thread ctrl_c([&] {
    // Interrupt once the tool is running (its grandchild's pid is written), or after a while regardless.
    read_pid(pid_file, Deadline::after(seconds(20)));
    interrupt::request(SIGINT);
  });
  bool thrown = false;
  try {
    run_tool(sh("sleep 100 & echo $! > " + pid_file + "; echo flashing; wait"), Deadline::after(seconds(120)),
             out.sink());
  } catch (const Interrupted& e) {
    thrown = true;
    EXPECT_EQ(e.signal_number(), SIGINT);
  }
  ctrl_c.join();
  interrupt::clear();
  EXPECT_TRUE(thrown);
  pid_t grandchild = read_pid(pid_file, Deadline::after(seconds(5)));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_within(grandchild, seconds(10)));
  std::filesystem::remove(pid_file);
}

TEST(RunTool, AlreadyInterruptedStartsNothing) {
  interrupt::clear();
  interrupt::request(SIGTERM);
  bool started = false;
  EXPECT_THROW(
      run_tool(sh("echo ran"), Deadline::after(seconds(10)), [&](std::string_view) { started = true; }),
      Interrupted);
  interrupt::clear();
  EXPECT_FALSE(started);
}

TEST(RunTool, AnExceptionFromTheLineSinkEndsTheTool) {
  std::string pid_file = temp_file("sink");
  std::filesystem::remove(pid_file);
  EXPECT_THROW(
      run_tool(sh("sleep 100 & echo $! > " + pid_file + "; echo boom; wait"), Deadline::after(seconds(120)),
               [](std::string_view) { throw std::runtime_error("log full"); }),
      std::runtime_error);
  pid_t grandchild = read_pid(pid_file, Deadline::after(seconds(5)));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_within(grandchild, seconds(10)));
  std::filesystem::remove(pid_file);
}

}  // namespace
}  // namespace bootrig

namespace bootrig {
namespace {

// bootrig stuck where no interruption reaches (here: inside the line sink) is ended by the signal watcher's
// watchdog with _exit, where no destructor runs: the tool's whole process group must still be ended, never
// left running and holding the port. Runs in a child process: signal handling is process-wide.
TEST(RunTool, TheWatchdogsExitEndsTheToolsGroupToo) {
  std::string pid_file = temp_file("watchdog");
  std::filesystem::remove(pid_file);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    SignalHandling signals(milliseconds(200));
    run_tool(sh("sleep 100 & echo $! > " + pid_file + "; echo started; wait"), Deadline::after(seconds(120)),
             [&](std::string_view) {
               [[maybe_unused]] auto n = ::write(ready[1], "r", 1);
               for (;;) ::pause();
             });
    ::_exit(0);
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  pid_t grandchild = read_pid(pid_file, Deadline::after(seconds(5)));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_within(grandchild, seconds(10)));
  std::filesystem::remove(pid_file);
}

// bootrig killed by SIGKILL while the tool runs: no code of bootrig's runs, so only the kernel can end the
// tool (the parent-death signal armed in the forked child). The tool holds a "port" (a pty's slave, as
// esptool holds the serial port); it must die by SIGKILL and the port must be free (the master sees the
// hang-up), never left to an orphan. Process A stands in for the shell: it adopts orphans (a subreaper),
// so that the tool, once bootrig (B) is gone, is A's to wait for.
// `leave_a_child`: the tool starts a child that holds the port too and outlives the tool's own death, as a
// wrapper script's esptool would: the kernel's parent-death signal reaches only bootrig's own child, so the
// keeper between bootrig and the tool ends the whole group.
int sigkill_of_bootrig_ends_the_tool(const std::string& pid_file, bool leave_a_child) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::alarm(120);  // a tool left running would otherwise hang this check: SIGALRM ends A, and the test fails
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return 10;
  std::string port = ::ptsname(master);
  int ready[2];
  if (::pipe(ready) != 0) return 11;
  pid_t bootrig = ::fork();
  if (bootrig == 0) {
    ::close(ready[0]);
    run_tool(sh(leave_a_child ? "exec 3<>" + port + "; sleep 600 & echo $! > " + pid_file + "; echo started; wait"
                              : "exec 3<>" + port + "; echo $$ > " + pid_file + "; echo started; exec sleep 600"),
             Deadline::after(seconds(600)), [&](std::string_view line) {
               if (line == "started") [[maybe_unused]]
                 auto n = ::write(ready[1], "r", 1);
             });
    ::_exit(0);
  }
  ::close(ready[1]);
  char c;
  if (::read(ready[0], &c, 1) != 1) return 12;
  pid_t tool = read_pid(pid_file, Deadline::after(seconds(30)));
  if (tool <= 0) return 13;
  ::kill(bootrig, SIGKILL);
  int status = 0;
  ::waitpid(bootrig, &status, 0);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) return 14;
  // Everything bootrig left, reparented to A, waited for without a time limit (the alarm is the limit): the
  // tool (or the child it left) must have died by SIGKILL.
  bool tool_killed = false;
  for (pid_t w; (w = ::waitpid(-1, &status, 0)) > 0 || errno == EINTR;)
    if (w == tool) tool_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!tool_killed) return 16;
  // The port is free: no one holds the slave open any more.
  pollfd p{master, POLLIN, 0};
  if (::poll(&p, 1, 30000) != 1 || !(p.revents & POLLHUP)) return 17;
  return 0;
}

TEST(RunTool, SigkillOfBootrigEndsTheToolAndFreesItsPort) {
  std::string pid_file = temp_file("sigkill");
  std::filesystem::remove(pid_file);
  pid_t a = ::fork();
  if (a == 0) ::_exit(sigkill_of_bootrig_ends_the_tool(pid_file, false));
  int status = 0;
  ::waitpid(a, &status, 0);
  // 0: the tool died by SIGKILL and the port was freed; 16-17 name the step that failed; SIGALRM: it hung.
  EXPECT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                 << " (SIGALRM: the tool outlived bootrig)";
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
  std::filesystem::remove(pid_file);
}

TEST(RunTool, SigkillOfBootrigEndsWhatTheToolStartedToo) {
  std::string pid_file = temp_file("sigkill-child");
  std::filesystem::remove(pid_file);
  pid_t a = ::fork();
  if (a == 0) ::_exit(sigkill_of_bootrig_ends_the_tool(pid_file, true));
  int status = 0;
  ::waitpid(a, &status, 0);
  // 0: the tool's child died by SIGKILL and the port was freed; 16-17 name the step that failed; SIGALRM: the
  // child outlived bootrig (the kernel's parent-death signal alone did not reach it).
  EXPECT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                 << " (SIGALRM: the tool's child outlived bootrig)";
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
  std::filesystem::remove(pid_file);
}

}  // namespace
}  // namespace bootrig
