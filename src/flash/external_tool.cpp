// Runs an external flasher without a shell: forked into its own process group under a keeper that ends the
// group when bootrig dies, one merged output pipe read with ppoll beside the interrupt fd and a pidfd, and a
// TERM-then-KILL end for the whole group.
#include "bootrig/flash/external_tool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/core/signals.hpp"
#include "bootrig/rig/rig_config.hpp"

extern char** environ;

namespace bootrig {

std::vector<std::string> expand_flasher_command(const std::vector<std::string>& argv,
                                                const std::map<std::string, std::string>& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& arg : argv) {
    FlasherArg split = split_flasher_arg(arg);
    if (!split.problem.empty()) throw RigError("flasher: [flasher].command: " + split.problem);
    std::string expanded;
    for (const auto& part : split.parts) {
      if (!part.placeholder) {
        expanded += part.text;
        continue;
      }
      if (!is_flasher_placeholder(part.text))
        throw RigError("flasher: [flasher].command: unknown placeholder {" + part.text + "} in \"" + arg +
                       "\"; use " + flasher_placeholder_list() + " ({{ and }} for literal braces)");
      auto it = values.find(part.text);
      if (it == values.end())
        throw RigError("flasher: [flasher].command: bootrig has no value for {" + part.text + "} in \"" +
                       arg + "\" here; remove it from the command");
      expanded += it->second;
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

std::map<std::string, std::string> flasher_values(const std::string& port, const std::filesystem::path& image,
                                                  std::uint32_t offset, unsigned baud) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", offset);
  return {{"port", port}, {"image", image.string()}, {"offset", hex}, {"baud", std::to_string(baud)}};
}

std::optional<std::filesystem::path> find_program(const std::string& program) {
  auto runnable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (runnable(program)) return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";  // execvp's own default
  std::size_t begin = 0;
  for (;;) {
    std::size_t end = path.find(':', begin);
    std::string dir = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (runnable(candidate)) return candidate;
    if (end == std::string::npos) return std::nullopt;
    begin = end + 1;
  }
}

namespace {

constexpr Duration kTermGrace = seconds(2);
// A tool that exits but leaves something behind in its group that keeps the pipe open must not hold bootrig:
// what is already written is read for this long, then the group is ended.
constexpr Duration kDrainAfterExit = milliseconds(500);
// Without a pidfd (kernels before 5.3) the child's exit is noticed by polling this often.
constexpr Duration kExitPoll = milliseconds(50);
constexpr std::size_t kTailBytes = 4096;
// A tool that never ends its line (a spinner) must not grow a line without bound.
constexpr std::size_t kMaxToolLine = 4096;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The spawned tool. Whatever way run_tool leaves (return, Interrupted, an exception from on_line), its
// process group is killed and the tool reaped, so nothing keeps running and no zombie is left.
class Child {
 public:
  explicit Child(pid_t pid)
      : pid_(pid),
        pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))),
        // The signal watcher may end bootrig (its watchdog's _exit) while the tool runs, where no destructor
        // runs: the group is ended from the watcher then, so no tool is left holding the port.
        hook_([this] {
          std::lock_guard lock(reap_mutex_);
          if (!reaping_) ::kill(-pid_, SIGKILL);
        }) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      signal_group(SIGKILL);
      reap();
    }
  }

  int pidfd() const { return pidfd_.get(); }

  // Whether the tool has ended, without reaping it: while it is an unreaped zombie its pid (the group's id)
  // cannot be reused, so signalling the group stays safe.
  bool exited() {
    if (exited_) return true;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_)
      exited_ = true;
    return exited_;
  }

  void signal_group(int sig) const {
    if (pid_ > 0) ::kill(-pid_, sig);
  }

  int reap() {
    {
      // From here on the group's id may be reused once the tool is reaped: the watcher must not signal it.
      std::lock_guard lock(reap_mutex_);
      reaping_ = true;
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
  Fd pidfd_;
  bool exited_ = false;
  std::mutex reap_mutex_;
  bool reaping_ = false;
  EmergencyHook hook_;
};

// The merged output as lines, and its tail for the error message.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& on_line) : on_line_(on_line) {}

  void feed(std::string_view data) {
    for (char c : data) {
      if (c == '\n' || c == '\r') {
        // "\r\n" ends one line, not two, and the \r before a progress redraw leaves no empty line.
        bool skip = line_.empty() && (c == '\r' || last_was_cr_);
        last_was_cr_ = c == '\r';
        if (!skip) emit();
        continue;
      }
      last_was_cr_ = false;
      line_ += c;
      if (line_.size() >= kMaxToolLine) emit();
    }
  }

  void finish() {
    if (!line_.empty()) emit();
  }

  std::string tail() const {
    if (tail_.size() <= kTailBytes) return tail_;
    auto cut = tail_.find('\n', tail_.size() - kTailBytes);
    return cut == std::string::npos ? tail_.substr(tail_.size() - kTailBytes) : tail_.substr(cut + 1);
  }

 private:
  void emit() {
    std::string line = std::move(line_);
    line_.clear();
    tail_ += line;
    tail_ += '\n';
    if (tail_.size() > 4 * kTailBytes) tail_.erase(0, tail_.size() - 2 * kTailBytes);
    if (on_line_) on_line_(line);
  }

  const std::function<void(std::string_view)>& on_line_;
  std::string line_;
  std::string tail_;
  bool last_was_cr_ = false;
};

// Reads what the pipe holds now. Returns false once every writer has closed it.
bool drain(int fd, LineSplitter& lines) {
  std::array<char, 4096> buf;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      lines.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;  // EOF, or an error that leaves nothing more to read
  }
}

// Waits for output or the tool's exit, up to `until`. Watching the interrupt fd is the caller's choice:
// while ending the tool after an interruption it stays readable and must not be polled.
// Returns true if an interruption was seen.
bool wait_for_activity(Child& child, Fd& pipe, Deadline until, bool watch_interrupt) {
  std::array<pollfd, 3> fds{};
  nfds_t n = 0;
  if (pipe.valid()) fds[n++] = {pipe.get(), POLLIN, 0};
  bool by_pidfd = child.pidfd() >= 0 && !child.exited();
  if (by_pidfd) fds[n++] = {child.pidfd(), POLLIN, 0};
  nfds_t interrupt_slot = n;
  if (watch_interrupt) fds[n++] = {interrupt::fd(), POLLIN, 0};
  if (!child.exited() && !by_pidfd) until = until.min(Deadline::after(kExitPoll));
  timespec ts = until.remaining_timespec();
  int r = ::ppoll(fds.data(), n, until.is_never() ? nullptr : &ts, nullptr);
  if (r < 0 && errno != EINTR)
    throw RigError(std::string("flasher: cannot wait for the tool: ") + std::strerror(errno));
  return (watch_interrupt && r > 0 && fds[interrupt_slot].revents) || interrupt::requested();
}

void read_pipe(Fd& pipe, LineSplitter& lines) {
  if (pipe.valid() && !drain(pipe.get(), lines)) pipe.reset();
}

// Ends the tool and everything it started: SIGTERM to the group, its output read meanwhile, SIGKILL to
// whatever is left after the grace time.
void end_group(Child& child, Fd& pipe, LineSplitter& lines) {
  child.signal_group(SIGTERM);
  Deadline grace = Deadline::after(kTermGrace);
  while (!grace.expired() && !(child.exited() && !pipe.valid())) {
    wait_for_activity(child, pipe, grace, false);
    read_pipe(pipe, lines);
  }
  child.signal_group(SIGKILL);
}

// The forked child: async-signal-safe calls only (bootrig has threads). It leads a process group of its own
// and stays in it as the tool's keeper: it forks the tool (which execs), relays the tool's exit status as its
// own, and ends the whole group when bootrig dies. bootrig dying by SIGKILL runs no code of bootrig's, and the
// kernel's parent-death signal reaches only a direct child: a wrapper script's esptool, or anything the
// tool started, would be left holding the serial port. The keeper sees bootrig's end as the hang-up of the
// life pipe (bootrig holds its only write end) and kills the group, itself included (a parent-death signal on
// the keeper would kill it before it could). The tool gets default signal handling and an empty mask,
// because bootrig ignores SIGPIPE and SIGXFSZ and handles SIGINT/SIGTERM itself and exec would pass the
// ignore on; the keeper ignores the termination signals sent to the group, so that the status it relays is
// the tool's.
[[noreturn]] void spawned_tool_child(const char* path, char* const* argv, int out_fd, int exec_fd, int life_fd,
                                     pid_t parent) {
  ::setpgid(0, 0);
  if (::getppid() != parent) ::_exit(127);  // bootrig died already
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s : {SIGPIPE, SIGXFSZ, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    ::sigaction(s, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const pid_t tool = ::fork();
  if (tool < 0) {
    int e = errno;
    [[maybe_unused]] auto n = ::write(exec_fd, &e, sizeof e);
    ::_exit(127);
  }
  if (tool == 0) {
    ::close(life_fd);
    int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0 && in != STDIN_FILENO) {
      ::dup2(in, STDIN_FILENO);
      ::close(in);
    }
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
    ::execve(path, argv, environ);
    int e = errno;
    [[maybe_unused]] auto n = ::write(exec_fd, &e, sizeof e);
    ::_exit(127);
  }
  // The keeper holds no end of the output or exec pipes: their ends mean the tool's.
  ::close(out_fd);
  ::close(exec_fd);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(s, &ign, nullptr);
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(tool, &status, WNOHANG);
    if (w == tool) {
      if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
      const int sig = WTERMSIG(status);
      ::sigaction(sig, &dfl, nullptr);
      ::kill(::getpid(), sig);
      ::_exit(128 + sig);
    }
    pollfd p{life_fd, POLLIN, 0};
    // The tool's end is looked for every 20 ms (no SIGCHLD handler in a forked child of a threaded process).
    if (::poll(&p, 1, 20) > 0 && (p.revents & (POLLHUP | POLLERR | POLLIN))) {
      ::kill(0, SIGKILL);  // bootrig is gone: the whole group, the keeper too
      ::_exit(137);
    }
  }
}

std::string cannot_run(const std::string& program, int err, const std::string& rig_source) {
  std::string why;
  if (err == ENOENT)
    why = program.find('/') == std::string::npos ? "not found on PATH" : "no such file";
  else if (err == EACCES)
    why = "permission denied (is it executable?)";
  else
    why = std::strerror(err);
  std::string where = rig_source.empty() ? "the rig file" : rig_source;
  return "flasher: cannot run '" + program + "': " + why + "; install it or fix [flasher].command in " +
         where;
}

}  // namespace

ToolRun run_tool(const std::vector<std::string>& argv, Deadline deadline,
                 const std::function<void(std::string_view line)>& on_line, const std::string& rig_source) {
  if (argv.empty() || argv.front().empty())
    throw RigError("flasher: the command is empty; fix [flasher].command in " +
                   (rig_source.empty() ? std::string("the rig file") : rig_source));
  interrupt::throw_if_requested();

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    throw RigError(std::string("flasher: cannot create the output pipe: ") + std::strerror(errno));
  Fd read_end(p[0]);
  Fd write_end(p[1]);

  // The program is found before the fork: between fork and exec the child may only make async-signal-safe
  // calls, and a PATH search allocates.
  auto program = find_program(argv.front());
  if (!program) {
    // A path that is there but not executable is said so, as exec would have.
    std::error_code ec;
    const bool there =
        argv.front().find('/') != std::string::npos && std::filesystem::exists(argv.front(), ec);
    throw RigError(cannot_run(argv.front(), there ? EACCES : ENOENT, rig_source));
  }
  std::string program_path = program->string();
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  // exec's errno comes back through this pipe; it closes on a successful exec.
  int ep[2];
  if (::pipe2(ep, O_CLOEXEC) != 0)
    throw RigError(std::string("flasher: cannot create the exec pipe: ") + std::strerror(errno));
  Fd exec_read(ep[0]);
  Fd exec_write(ep[1]);
  // The keeper's sign that bootrig is gone: bootrig holds the only write end until the tool has ended.
  int lp[2];
  if (::pipe2(lp, O_CLOEXEC) != 0)
    throw RigError(std::string("flasher: cannot create the life pipe: ") + std::strerror(errno));
  Fd life_read(lp[0]);
  Fd life_write(lp[1]);

  TimePoint start = now();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw RigError(std::string("flasher: cannot start the tool: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(life_write.get());
    spawned_tool_child(program_path.c_str(), cargv.data(), write_end.get(), exec_write.get(), life_read.get(),
                       parent);
  }
  ::setpgid(pid, pid);  // also here, so that a group signal sent before the child's own call reaches it
  exec_write.reset();
  life_read.reset();
  int exec_errno = 0;
  ssize_t got;
  while ((got = ::read(exec_read.get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw RigError(cannot_run(argv.front(), exec_errno, rig_source));
  }
  Child child(pid);
  write_end.reset();  // only the tool holds the write end now: EOF means it (and its children) closed it
  ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);

  LineSplitter lines(on_line);
  ToolRun run;
  bool interrupted = false;
  std::optional<Deadline> drain_until;
  for (;;) {
    if (drain_until && (!read_end.valid() || drain_until->expired())) break;
    if (!drain_until && deadline.expired()) {
      run.timed_out = true;
      break;
    }
    Deadline wake = drain_until ? *drain_until : deadline;
    if (wait_for_activity(child, read_end, wake, true)) {
      interrupted = true;
      break;
    }
    read_pipe(read_end, lines);
    if (!drain_until && child.exited()) drain_until = Deadline::after(kDrainAfterExit);
  }
  if (run.timed_out || interrupted) end_group(child, read_end, lines);
  child.signal_group(SIGKILL);  // anything the tool left behind in its group
  int status = child.reap();
  lines.finish();

  run.elapsed = now() - start;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.term_signal = WTERMSIG(status);
  run.output_tail = lines.tail();
  if (interrupted) throw Interrupted(interrupt::signal_number());
  return run;
}

}  // namespace bootrig
