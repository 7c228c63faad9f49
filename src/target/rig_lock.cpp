// The rig lock: flock(2) on a lock file, with the holder's identity written inside for the one who waits.
#include "bootrig/target/rig_lock.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

namespace {

// A rig name as a file name: letters, digits, '-', '_' and '.'; anything else becomes '_'.
std::string lock_file_stem(const std::string& rig_name) {
  std::string s;
  for (char c : rig_name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    s += ok ? c : '_';
  }
  if (s.empty() || s[0] == '.') s = "rig" + s;
  return "bootrig-" + s + ".lock";
}

bool writable_dir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) && ::access(p.c_str(), W_OK | X_OK) == 0;
}

std::string user_name() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The lock file's text, one "key=value" per line: read back by describe_lock_holder.
std::string holder_text(const std::string& rig_name) {
  std::string job = ci_job_from_env();
  return "pid=" + std::to_string(::getpid()) + "\nuser=" + user_name() + "\njob=" + job +
         "\nsince=" + utc_now_iso() + "\nrig=" + rig_name + "\n";
}

}  // namespace

std::filesystem::path default_lock_path(const std::string& rig_name,
                                        const std::map<std::string, std::string>& env,
                                        const std::filesystem::path& run_lock) {
  const std::string stem = lock_file_stem(rig_name);
  if (writable_dir(run_lock)) return run_lock / stem;
  if (auto it = env.find("XDG_RUNTIME_DIR");
      it != env.end() && !it->second.empty() && writable_dir(it->second))
    return std::filesystem::path(it->second) / stem;
  return std::filesystem::temp_directory_path() / stem;
}

std::optional<std::filesystem::path> lock_path_for(const RigConfig& rig) {
  if (!rig.lock.empty()) return rig.lock;
  if (rig.kind == RigKind::sim) return std::nullopt;
  std::map<std::string, std::string> env;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR")) env["XDG_RUNTIME_DIR"] = x;
  return default_lock_path(rig.name, env);
}

std::string ci_job_from_env() {
  if (auto id = env_or_empty("CI_JOB_ID"); !id.empty()) return id + " (GitLab CI_JOB_ID)";
  if (auto id = env_or_empty("GITHUB_RUN_ID"); !id.empty()) {
    auto job = env_or_empty("GITHUB_JOB");
    return id + (job.empty() ? "" : "/" + job) + " (GitHub GITHUB_RUN_ID/GITHUB_JOB)";
  }
  if (auto tag = env_or_empty("BUILD_TAG"); !tag.empty()) return tag + " (Jenkins BUILD_TAG)";
  return "";
}

std::string describe_lock_holder(const std::filesystem::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return "an unknown process (" + lock_file.string() + " cannot be read: " + std::strerror(errno) + ")";
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::map<std::string, std::string> kv;
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (auto eq = line.find('='); eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    pos = end + 1;
  }
  if (kv["pid"].empty()) return "an unknown process (" + lock_file.string() + " names no holder yet)";
  std::string s = "pid " + kv["pid"] + ", user " + kv["user"];
  if (!kv["job"].empty()) s += ", CI job " + kv["job"];
  s += ", since " + kv["since"];
  return s;
}

RigLock::RigLock(const std::filesystem::path& path, const std::string& rig_name, Duration wait)
    : path_(path) {
  // O_NOFOLLOW: in a world-writable folder such as /run/lock a planted symlink must not redirect the write.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
  bool can_write = fd_ >= 0;
  // Another user's lock file in a sticky folder opens read-only; an flock works on that too.
  if (fd_ < 0 && errno == EACCES) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0)
    throw RigError("rig lock " + path.string() + ": cannot open it: " + std::strerror(errno) +
                   " (set [rig] lock in the rig file to a writable path)");
  // Another user of the station may take the lock after this one: umask must not keep them out.
  if (can_write) (void)::fchmod(fd_, 0666);
  const Deadline deadline = Deadline::after(wait);
  bool told = false;
  for (;;) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) {
      interrupt::throw_if_requested();
      continue;
    }
    if (errno != EWOULDBLOCK) {
      int e = errno;
      ::close(fd_);
      throw RigError("rig lock " + path.string() + ": flock failed: " + std::strerror(e));
    }
    const std::string holder = describe_lock_holder(path);
    if (deadline.expired()) {
      ::close(fd_);
      throw RigError("rig " + rig_name + " is in use by " + holder + " (lock " + path.string() + ")" +
                     (wait > Duration::zero() ? "; gave up after waiting" : "") +
                     "; wait for it with --wait-lock DURATION (e.g. --wait-lock 10m)");
    }
    if (!told) {
      spdlog::info("rig {} is in use by {}; waiting for it (--wait-lock)", rig_name, holder);
      told = true;
    }
    // The kernel has no flock with a timeout; a tenth of a second is nothing next to a run's length.
    wait_until(deadline.min(Deadline::after(milliseconds(100))));
  }
  if (can_write) {
    const std::string text = holder_text(rig_name);
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
      spdlog::debug("rig lock {}: could not write the holder's identity: {}", path.string(),
                    std::strerror(errno));
  }
  spdlog::debug("rig lock {} taken", path.string());
}

RigLock::~RigLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

Duration parse_wait_duration(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = used ? text.substr(used) : "";
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1;
  else if (unit == "ms")
    scale = 0.001;
  else if (unit == "m" || unit == "min")
    scale = 60;
  else if (unit == "h")
    scale = 3600;
  if (!used || scale == 0 || !(v >= 0) || v * scale > 7 * 24 * 3600.0)
    throw RigError(what + " " + text + ": not a duration; write e.g. 30s, 10m, 1h or 500ms (at most a week)");
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v * scale));
}

}  // namespace bootrig
