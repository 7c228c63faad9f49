// Arbitrary baud rates through termios2/BOTHER: the only way to ask Linux for rates without a Bxxx constant.
#include "drivers/termios2_speed.hpp"

#include <asm/termbits.h>
#include <sys/ioctl.h>

namespace bootrig::detail {

int set_custom_baud(int fd, unsigned baud) {
  termios2 t{};
  if (::ioctl(fd, TCGETS2, &t) != 0) return -1;
  t.c_cflag &= ~static_cast<tcflag_t>(CBAUD | (CBAUD << IBSHIFT));
  t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
  t.c_ispeed = baud;
  t.c_ospeed = baud;
  return ::ioctl(fd, TCSETS2, &t);
}

}  // namespace bootrig::detail
