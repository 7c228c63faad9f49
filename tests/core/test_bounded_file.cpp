// Tests for read_bounded_file: what it refuses (by type, by size, behind links) and that it never blocks.
#include "bootrig/core/bounded_file.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"

namespace bootrig {
namespace {

class BoundedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bootrig-bounded-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path file(const std::string& name, std::size_t bytes) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << std::string(bytes, 'x');
    return p;
  }
  std::string refusal(const std::filesystem::path& p, std::uint64_t max = 1000) {
    try {
      read_bounded_file(p, {max, "the test's bound"}, {"--test"});
    } catch (const RigError& e) {
      return e.what();
    }
    return "(accepted)";
  }
  std::filesystem::path dir_;
};

TEST_F(BoundedFile, ReadsARegularFileWithinTheBoundWhole) {
  auto p = file("ok.bin", 200000);
  auto bytes = read_bounded_file(p, {200000, "exactly its size"}, {});
  EXPECT_EQ(bytes.size(), 200000u);
  EXPECT_EQ(read_bounded_text(file("t.txt", 3), {10, "x"}, {}), "xxx");
  EXPECT_TRUE(read_bounded_file(file("empty", 0), {10, "x"}, {}).empty());
}

TEST_F(BoundedFile, ALargerFileIsRefusedBeforeReadingNamingFileOriginAndBound) {
  auto p = file("big.bin", 1001);
  EXPECT_EQ(refusal(p),
            p.string() + " (--test): holds 1001 bytes, too large: the bound is 1000 bytes, the test's bound");
}

TEST_F(BoundedFile, ADirectoryFifoDeviceOrSocketIsRefusedAtOnce) {
  EXPECT_EQ(refusal(dir_), dir_.string() + " (--test): is a directory, not a regular file; give a file");
  auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer: a blocking open would hang here forever.
  EXPECT_EQ(refusal(fifo),
            fifo.string() + " (--test): is a FIFO (named pipe), not a regular file; give a file");
  EXPECT_EQ(refusal("/dev/null"),
            "/dev/null (--test): is a character device, not a regular file; give a file");
  auto sock = dir_ / "sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // A socket cannot be opened as a file at all: still one line naming it.
  EXPECT_NE(refusal(sock).find(sock.string() + " (--test): "), std::string::npos);
  ::close(fd);
}

TEST_F(BoundedFile, ASymlinkToDevZeroIsADeviceNotAnEndlessFile) {
  auto link = dir_ / "image.bin";
  std::filesystem::create_symlink("/dev/zero", link);
  EXPECT_EQ(refusal(link),
            link.string() + " (--test): is a character device, not a regular file; give a file");
}

TEST_F(BoundedFile, AMissingFileSaysSo) {
  EXPECT_EQ(refusal(dir_ / "nope"), (dir_ / "nope").string() + " (--test): no such file; check the path");
}

TEST_F(BoundedFile, AnExpiredDeadlineStopsTheRead) {
  auto p = file("slow.bin", 10);
  try {
    read_bounded_file(p, {100, "x"}, {}, Deadline::after(Duration::zero()));
    FAIL() << "accepted";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("reading it took too long"), std::string::npos) << e.what();
  }
}

TEST(SizeText, ReadsLikeAPerson) {
  EXPECT_EQ(size_text(512), "512 bytes");
  EXPECT_EQ(size_text(0x1EF000), "1.9 MiB (2027520 bytes)");
  EXPECT_EQ(size_text(2048), "2.0 KiB (2048 bytes)");
}

}  // namespace
}  // namespace bootrig
