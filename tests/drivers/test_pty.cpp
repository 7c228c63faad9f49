// Tests for open_pty(): a raw pair whose master never sees a hangup while the rig has not opened the slave.
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig {
namespace {

TEST(Pty, OpensARawPairWithNonBlockingMaster) {
  Pty pty = open_pty();
  ASSERT_TRUE(pty.is_open());
  EXPECT_GE(pty.hold_fd, 0);
  EXPECT_EQ(pty.slave_path.rfind("/dev/pts/", 0), 0u) << pty.slave_path;
  EXPECT_TRUE(std::filesystem::exists(pty.slave_path));
  EXPECT_NE(::fcntl(pty.master_fd, F_GETFL) & O_NONBLOCK, 0);

  termios t{};
  ASSERT_EQ(::tcgetattr(pty.hold_fd, &t), 0);
  EXPECT_EQ(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0u);
  EXPECT_EQ(t.c_oflag & (OPOST | ONLCR), 0u);
  EXPECT_EQ(t.c_iflag & (ICRNL | INLCR | IGNCR | IXON), 0u);
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(t.c_cflag & HUPCL, 0u);
}

TEST(Pty, MasterSeesNoHangupWhileNoReaderHasTheSlave) {
  Pty pty = open_pty();
  pollfd p{pty.master_fd, POLLIN | POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents & (POLLHUP | POLLERR), 0);
  EXPECT_NE(p.revents & POLLOUT, 0);
  // Nothing to read and no EIO: a master without a slave reader would fail here.
  char c;
  errno = 0;
  EXPECT_EQ(::read(pty.master_fd, &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(::write(pty.master_fd, "x", 1), 1);
}

TEST(Pty, MoveTransfersOwnershipAndCloseHangsUpTheSlave) {
  Pty a = open_pty();
  const std::string slave = a.slave_path;
  const int master = a.master_fd;
  const int hold = a.hold_fd;
  Pty b = std::move(a);
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): moved-from state is part of the contract
  EXPECT_EQ(a.hold_fd, -1);
  EXPECT_EQ(b.master_fd, master);
  EXPECT_EQ(b.slave_path, slave);

  // A reader of the slave, like the rig: it must see the hangup when the pair is closed. (The path itself
  // is no proof: another process may be handed the same /dev/pts number at once.)
  int reader = ::open(slave.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  b.close();
  EXPECT_FALSE(b.is_open());
  EXPECT_EQ(b.hold_fd, -1);
  pollfd p{reader, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_NE(p.revents & POLLHUP, 0);
  char c;
  EXPECT_LE(::read(reader, &c, 1), 0);
  ::close(reader);
  // Both fds were released (nothing else in this test opens fds that could take their numbers).
  EXPECT_EQ(::fcntl(master, F_GETFD), -1);
  EXPECT_EQ(::fcntl(hold, F_GETFD), -1);
  b.close();  // twice is harmless
}

}  // namespace
}  // namespace bootrig
