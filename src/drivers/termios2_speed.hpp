// Arbitrary baud rates through the kernel's termios2/BOTHER, kept apart because <asm/termbits.h> and
// glibc's <termios.h> cannot share a translation unit.
#pragma once

namespace bootrig::detail {

// Sets input and output speed of the tty on fd to baud exactly; 0 on success, else -1 with errno.
int set_custom_baud(int fd, unsigned baud);

}  // namespace bootrig::detail
