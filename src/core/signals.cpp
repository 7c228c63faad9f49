// Signal handlers that only flag the interruption, and the watcher thread that acts on it.
#include "bootrig/core/signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig {

namespace {

std::mutex g_hooks_mutex;
std::map<int, std::function<void()>> g_hooks;
int g_next_id = 0;

std::atomic<int> g_signal_count{0};
int g_stop_pipe[2] = {-1, -1};

void on_signal(int sig) {
  // Async-signal-safe only: count, flag, wake.
  if (g_signal_count.fetch_add(1) >= 1) {
    // Second signal: the user insists. The watcher is woken through the same fd and exits at once.
  }
  interrupt::request(sig);
}

}  // namespace

EmergencyHook::EmergencyHook(std::function<void()> fn) {
  std::lock_guard lock(g_hooks_mutex);
  id_ = g_next_id++;
  g_hooks.emplace(id_, std::move(fn));
}

EmergencyHook::~EmergencyHook() {
  std::lock_guard lock(g_hooks_mutex);
  g_hooks.erase(id_);
}

void run_emergency_hooks() noexcept {
  std::lock_guard lock(g_hooks_mutex);
  for (auto& [id, fn] : g_hooks) {
    try {
      fn();
    } catch (...) {
      // A hook that fails must not stop the others from releasing their lines.
    }
  }
}

namespace {
std::thread g_watcher;
}

SignalHandling::SignalHandling(Duration grace) {
  interrupt::fd();  // create the eventfd before any handler can run
  g_signal_count = 0;
  if (::pipe2(g_stop_pipe, O_CLOEXEC) != 0) throw RigError("cannot create the signal watcher's pipe");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and re-check the interruption
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);
  // A closed pipe (the run's output piped into `head`) must not kill bootrig before it releases the lines.
  ::signal(SIGPIPE, SIG_IGN);
  // Nor a file size limit (ulimit -f): a report that outgrows it is a failed write, reported like a full disk
  // with the lines released, rather than a SIGXFSZ that kills bootrig with P12 or RESET asserted.
  ::signal(SIGXFSZ, SIG_IGN);

  int stop_fd = g_stop_pipe[0];
  g_watcher = std::thread([grace, stop_fd] {
    pollfd fds[2] = {{interrupt::fd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;  // normal shutdown
      if (fds[0].revents) break;
    }
    run_emergency_hooks();
    // Give the main thread time to unwind (write its results, close files); end the process if it does not.
    auto deadline = now() + grace;
    for (;;) {
      int ms = static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - now()).count());
      if (ms <= 0 || g_signal_count.load() >= 2) break;
      pollfd stop{stop_fd, POLLIN, 0};
      if (::poll(&stop, 1, std::min(ms, 100)) > 0) return;
    }
    run_emergency_hooks();
    static const char msg[] = "bootrig: interrupted; lines released, exiting\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(static_cast<int>(ExitCode::interrupted));
  });
}

SignalHandling::~SignalHandling() {
  char c = 'x';
  [[maybe_unused]] auto n = ::write(g_stop_pipe[1], &c, 1);
  if (g_watcher.joinable()) g_watcher.join();
  ::close(g_stop_pipe[0]);
  ::close(g_stop_pipe[1]);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
}

}  // namespace bootrig
