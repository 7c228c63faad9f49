// The one interruptible wait that logic may use instead of sleeping.
#include "bootrig/core/time.hpp"

#include <poll.h>

#include <cerrno>

#include "bootrig/core/interrupt.hpp"

namespace bootrig {

void wait_until(Deadline deadline) {
  pollfd p{interrupt::fd(), POLLIN, 0};
  for (;;) {
    interrupt::throw_if_requested();
    if (deadline.expired()) return;
    timespec ts = deadline.remaining_timespec();
    int r = ::ppoll(&p, 1, deadline.is_never() ? nullptr : &ts, nullptr);
    if (r < 0 && errno != EINTR) return;
  }
}

}  // namespace bootrig
