// Process-wide interruption (Ctrl-C, SIGTERM): one flag and one file descriptor every blocking wait polls.
#pragma once

#include <stdexcept>

namespace bootrig {

// Thrown out of any wait once an interruption was requested; main turns it into exit code 3.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal_number);
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

namespace interrupt {

// An eventfd that becomes readable once interruption is requested. Blocking calls add it to their
// poll set so that Ctrl-C wakes them at once instead of after their timeout.
int fd();
bool requested();
int signal_number();
// Async-signal-safe: only stores and writes to the eventfd.
void request(int signal_number);
void throw_if_requested();
// For tests that deliver signals on purpose.
void clear();

}  // namespace interrupt
}  // namespace bootrig
