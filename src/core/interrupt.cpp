// Process-wide interruption flag and its eventfd, set from signal handlers.
#include "bootrig/core/interrupt.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace bootrig {

Interrupted::Interrupted(int signal_number)
    : std::runtime_error(std::string("interrupted by ") + (signal_number > 0 ? strsignal(signal_number) : "request")),
      signal_(signal_number) {}

namespace interrupt {
namespace {

std::atomic<int> g_signal{0};

// Created before any signal handler is installed (fd() is called by the installer), so the handler
// only ever reads an initialised value.
int event_fd();

// A forked child (the tests fork; a program bootrig is linked into may) would otherwise share the eventfd
// with its parent: one process's interruption would wake the other's waits and signal watcher. The child gets
// a fresh eventfd on the same descriptor number, and no interruption.
void fresh_after_fork() {
  int f = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (f >= 0) {
    ::dup3(f, event_fd(), O_CLOEXEC);
    ::close(f);
  }
  g_signal.store(0, std::memory_order_relaxed);
}

int event_fd() {
  static const int fd = [] {
    int f = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ::pthread_atfork(nullptr, nullptr, fresh_after_fork);
    return f;
  }();
  return fd;
}

}  // namespace

int fd() { return event_fd(); }
bool requested() { return g_signal.load(std::memory_order_acquire) != 0; }
int signal_number() { return g_signal.load(std::memory_order_acquire); }

void request(int signal_number) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal_number > 0 ? signal_number : -1);
  std::uint64_t one = 1;
  int saved = errno;  // a signal handler must not clobber errno
  [[maybe_unused]] auto n = ::write(event_fd(), &one, sizeof one);
  errno = saved;
}

void throw_if_requested() {
  if (int s = signal_number(); s != 0) throw Interrupted(s);
}

void clear() {
  std::uint64_t v;
  while (::read(event_fd(), &v, sizeof v) > 0) {
  }
  g_signal.store(0, std::memory_order_release);
}

}  // namespace interrupt
}  // namespace bootrig
