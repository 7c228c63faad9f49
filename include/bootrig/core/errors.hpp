// The failures that end a bootrig command, and the exit codes they map to.
#pragma once

#include <stdexcept>
#include <string>

namespace bootrig {

// Documented in README.md; CI jobs rely on them.
enum class ExitCode : int {
  ok = 0,            // everything asked for passed
  check_failed = 1,  // the board broke a rule
  rig_error = 2,     // bad rig file, bad usage, or the rig itself could not do its job
  interrupted = 3,   // SIGINT or SIGTERM
};

// The rig cannot do its job: a bad rig file, a missing port, a busy line. The message is one line that
// names the file, key or device and says what to do about it.
class RigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A wire every check depends on does not carry bootrig's level to the module (RESET never resets it, P12
// reads high released so every reset safe-boots): each later check would only repeat this ERROR, so a run
// stops after it.
class RigWiringError : public RigError {
 public:
  using RigError::RigError;
};

// A bench command reached the board but did not get what it asked for (no such file on the board, a copy that
// did not verify): one line, exit code 1, as a failed check.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A rig-file problem, located: "rigs/pi4.toml:12: lines.reset.offset: ..." .
class ConfigError : public RigError {
 public:
  ConfigError(const std::string& file, int line, const std::string& key, const std::string& what);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
};

}  // namespace bootrig
