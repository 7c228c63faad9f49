// The real esptool (Debian's package, unpacked by cmake/fetch-esptool.sh) for tests, and a `bootrig sim`
// process to run it against: its control socket drives P2 and RESET as a rig's lines would.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"

namespace bootrig::testing {

#ifdef BOOTRIG_ESPTOOL
inline constexpr bool kHaveEsptool = true;
inline const char* esptool_path() { return BOOTRIG_ESPTOOL; }
#else
inline constexpr bool kHaveEsptool = false;
inline const char* esptool_path() { return ""; }
#endif

#define BOOTRIG_REQUIRE_ESPTOOL()                                                                       \
  do {                                                                                                  \
    if (!::bootrig::testing::kHaveEsptool)                                                              \
      GTEST_SKIP()                                                                                      \
          << "the real esptool is not fetched: run cmake/fetch-esptool.sh build/esptool and configure " \
             "again (cmake/dev.sh test does both)";                                                     \
  } while (0)

struct EsptoolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together, as a user sees them
};

// Runs esptool with these arguments (each quoted for the shell). stub: through the wrapper that gives
// Debian's esptool a placeholder ESP32 stub (tests/tools/esptool_with_stub_placeholder.py), so that its
// default flow uploads a stub and then speaks the stub's protocol.
inline EsptoolRun run_esptool(const std::vector<std::string>& args, bool stub = false) {
  std::string cmd = "timeout 300 ";
#ifdef BOOTRIG_ESPTOOL
  if (stub)
    cmd += std::string("env PYTHONPATH='") + BOOTRIG_ESPTOOL_PYTHONPATH + "' /usr/bin/python3 '" +
           BOOTRIG_ESPTOOL_STUB_WRAPPER + "'";
  else
    cmd += std::string("'") + BOOTRIG_ESPTOOL + "'";
#else
  (void)stub;  // without esptool the command fails and its tests skip
#endif
  for (const auto& a : args) cmd += " '" + a + "'";
  const CliResult r = run_command(cmd + " 2>&1 </dev/null");
  return EsptoolRun{r.exit_code, r.out};
}

// `bootrig sim RIG --dir DIR` as a separate process, stopped (end of input) when this goes.
class SimRigProcess {
 public:
  SimRigProcess(const std::filesystem::path& dir, const std::string& rig_toml) : dir_(dir) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    rig_ = dir_ / "sim-rig.toml";
    std::ofstream(rig_) << rig_toml;
    int to_child[2];
    if (::pipe(to_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::close(to_child[1]);
      int log = ::open((dir_ / "sim.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      const std::string d = (dir_ / "run").string();
      ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "sim", rig_.c_str(), "--dir", d.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    stdin_ = to_child[1];
    for (int i = 0; i < 400 && !std::filesystem::exists(socket_path()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ~SimRigProcess() {
    if (stdin_ >= 0) ::close(stdin_);  // end of input: the simulator stops
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    std::filesystem::remove_all(dir_);
  }
  SimRigProcess(const SimRigProcess&) = delete;
  SimRigProcess& operator=(const SimRigProcess&) = delete;

  bool running() const { return pid_ > 0 && std::filesystem::exists(socket_path()); }
  std::filesystem::path socket_path() const { return dir_ / "run" / "control.sock"; }
  std::string port() const { return (dir_ / "run" / "tty").string(); }

  // One control command, its one reply line.
  std::string command(const std::string& line) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", socket_path().c_str());
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (fd >= 0) ::close(fd);
      return "error: no control socket";
    }
    std::string out = line + "\n";
    (void)!::write(fd, out.data(), out.size());
    std::string reply;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') reply += c;
    ::close(fd);
    return reply;
  }
  // P2 held low through a RESET pulse, then released: the ROM loader waits for a host.
  void enter_download_mode() const {
    command("p2 hold");
    command("reset");
    command("p2 release");
  }
  // The status line's value for key ("version", "phase").
  std::string status(const std::string& key) const {
    const std::string s = command("status");
    const auto at = s.find(" " + key + "=");
    if (at == std::string::npos) return "";
    const auto from = at + key.size() + 2;
    return s.substr(from, s.find(' ', from) - from);
  }

 private:
  std::filesystem::path dir_, rig_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace bootrig::testing
