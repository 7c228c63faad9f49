// Tests for the interruption flag and its eventfd: a forked child's interruption stays its own.
#include "bootrig/core/interrupt.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace bootrig {
namespace {

bool fd_readable() {
  pollfd p{interrupt::fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(Interrupt, AForkedChildsInterruptionNeverReachesItsParent) {
  interrupt::clear();
  ASSERT_FALSE(fd_readable());
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child starts uninterrupted with its own eventfd, on the same descriptor number.
    const bool clean = !interrupt::requested() && !fd_readable();
    interrupt::request(SIGINT);
    ::_exit(clean && fd_readable() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(interrupt::requested());
  EXPECT_FALSE(fd_readable()) << "the child's interruption woke the parent's waits";
}

}  // namespace
}  // namespace bootrig
