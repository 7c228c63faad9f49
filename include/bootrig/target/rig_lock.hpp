// One bootrig per rig: an flock(2) on the rig's lock file, held while a command drives the board.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "bootrig/core/time.hpp"

namespace bootrig {

struct RigConfig;

// Where a rig's lock file is: the rig file's [rig] lock, else /run/lock/bootrig-NAME.lock when /run/lock is
// writable, else $XDG_RUNTIME_DIR/bootrig-NAME.lock, else /tmp. `env` holds XDG_RUNTIME_DIR (tests pass
// their own); `run_lock` is /run/lock except in tests.
std::filesystem::path default_lock_path(const std::string& rig_name,
                                        const std::map<std::string, std::string>& env,
                                        const std::filesystem::path& run_lock = "/run/lock");

// Whether a command on this rig locks it: a hardware rig always (two processes driving one board's pins is
// never right); a simulated rig when its rig file names a lock (each bootrig otherwise has its own module).
std::optional<std::filesystem::path> lock_path_for(const RigConfig& rig);

// Who holds a lock, as the holder wrote it into the lock file: "pid 4242, user ci, CI job 9911 (GitLab
// CI_JOB_ID), since 2026-12-05T06:10:00Z".
std::string describe_lock_holder(const std::filesystem::path& lock_file);

// The CI job this process runs in, from the environment the CI engines set (GitLab CI_JOB_ID, GitHub
// GITHUB_RUN_ID/GITHUB_JOB, Jenkins BUILD_TAG); "" outside CI.
std::string ci_job_from_env();

// Held from construction to destruction. The kernel drops an flock when the last descriptor of the open
// file goes, so a killed holder never leaves a stale lock; the descriptor is close-on-exec, so a flasher
// bootrig runs does not keep it.
class RigLock {
 public:
  // Takes the lock, waiting up to `wait` (zero: not at all) while another process holds it; then throws
  // RigError naming the holder. Ctrl-C while waiting throws Interrupted.
  RigLock(const std::filesystem::path& path, const std::string& rig_name, Duration wait);
  ~RigLock();
  RigLock(const RigLock&) = delete;
  RigLock& operator=(const RigLock&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// "30s", "5m", "1h", "250ms", "90" (seconds) -> a duration; RigError naming `what` otherwise.
Duration parse_wait_duration(const std::string& text, const std::string& what);

}  // namespace bootrig
