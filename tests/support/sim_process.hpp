// Test support: `bootrig sim` as its own process (as a person starts it) for tests that point MicroPython's
// tools or another bootrig at its UART, and a shell runner with a time limit.
#pragma once

#include <signal.h>
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

#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"

namespace bootrig::testing {

namespace fs = std::filesystem;

inline const std::string kTools = BOOTRIG_MICROPYTHON_TOOLS;
// Debian's interpreter, where python3-serial installs (a python3 earlier on PATH may lack pyserial).
inline const std::string kPython = "/usr/bin/python3";

// A tool's exit code and its stdout and stderr together (`err` stays empty).
using ToolRun = CliResult;

inline ToolRun sh(const std::string& cmd) { return run_command("timeout 60 " + cmd + " 2>&1 </dev/null"); }

// `bootrig sim` in the background for one test, stopped by closing its stdin.
class SimProcess {
 public:
  // A simulated module of that profile (firmware timings, 115200 baud), or of the rig file text given.
  explicit SimProcess(const std::string& profile, const std::string& rig_text = "") {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("bootrig-simproc-" + profile + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    rig_ = dir_ / "rig.toml";
    if (rig_text.empty())
      std::ofstream(rig_) << "[rig]\nname = \"tools\"\nkind = \"sim\"\n[sim]\nprofile = \"" << profile
                          << "\"\n";
    else
      std::ofstream(rig_) << rig_text;
    int in[2];
    if (::pipe(in) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::close(in[1]);
      std::string out = (dir_ / "sim.log").string();
      FILE* log = std::fopen(out.c_str(), "w");
      if (log) {
        ::dup2(::fileno(log), 1);
        ::dup2(::fileno(log), 2);
      }
      ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "sim", rig_.c_str(), "--dir", (dir_ / "run").c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    stdin_ = in[1];
    // Like a person, the tools start once the module sits at its prompt (bytes sent while it boots are lost,
    // as on the board): the control socket's status says so.
    for (int i = 0; i < 400 && status().find("phase=repl") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~SimProcess() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    fs::remove_all(dir_);
  }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  std::string tty() const { return (dir_ / "run" / "tty").string(); }

  // The control socket's `status` line, or "" while it is not there yet.
  std::string status() const { return control("status"); }
  // One command on the control socket (the commands `bootrig sim` lists), and its one-line answer.
  std::string control(const std::string& command) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = socket();
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    std::string line;
    const std::string text = command + "\n";
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
      char c;
      while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
    }
    ::close(fd);
    return line;
  }
  std::string socket() const { return (dir_ / "run" / "control.sock").string(); }
  // A rig file that drives this simulator through its socket, as `[sim] remote` does.
  std::string remote_rig(const std::string& extra = "") const {
    auto p = dir_ / "remote.toml";
    std::ofstream(p) << "[rig]\nkind = \"sim\"\nname = \"served\"\n"
                     << extra << "[sim]\nremote = \"" << socket() << "\"\n";
    return p.string();
  }
  const fs::path& dir() const { return dir_; }

  ToolRun pyboard(const std::string& args) const {
    return sh(kPython + " '" + kTools + "/pyboard.py' --device '" + tty() + "' " + args);
  }
  ToolRun mpremote(const std::string& args) const {
    return sh("env PYTHONPATH='" + kTools + "/mpremote' " + kPython + " -m mpremote connect '" + tty() +
              "' " + args);
  }

 private:
  fs::path dir_, rig_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace bootrig::testing
