// Bounded, checked file reading: the one way bootrig reads a file it was given.
#include "bootrig/core/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

std::string size_text(std::uint64_t bytes) {
  char buf[64];
  if (bytes >= 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f MiB (%llu bytes)", static_cast<double>(bytes) / (1024.0 * 1024.0),
                  static_cast<unsigned long long>(bytes));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB (%llu bytes)", static_cast<double>(bytes) / 1024.0,
                  static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buf;
}

std::vector<std::uint8_t> read_bounded_file(const std::filesystem::path& path, const FileBound& bound,
                                            const FileOrigin& origin, Deadline deadline) {
  const std::string head =
      path.string() + (origin.named_by.empty() ? "" : " (" + origin.named_by + ")") + ": ";
  const std::string limit = "the bound is " + size_text(bound.max_bytes) + ", " + bound.why;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the file type is checked right after.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) throw RigError(head + "no such file; check the path");
    throw RigError(head + "cannot open (" + std::strerror(e) + ")");
  }
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw RigError(head + "cannot stat (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode))
    throw RigError(head + "is " + kind_of(st.st_mode) + ", not a regular file; give a file");
  const auto declared = static_cast<std::uint64_t>(st.st_size);
  if (declared > bound.max_bytes)
    throw RigError(head + "holds " + size_text(declared) + ", too large: " + limit);

  std::vector<std::uint8_t> bytes;
  bytes.reserve(static_cast<std::size_t>(declared));
  constexpr std::size_t kChunk = 64 * 1024;
  for (;;) {
    if (deadline.expired()) throw RigError(head + "reading it took too long (a slow or hung file system?)");
    const std::size_t at = bytes.size();
    // One byte past the bound is enough to know a growing file broke it.
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bound.max_bytes + 1 - at));
    bytes.resize(at + want);
    const ssize_t n = ::read(fd, bytes.data() + at, want);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        bytes.resize(at);
        continue;
      }
      throw RigError(head + "read error (" + std::strerror(errno) + ")");
    }
    bytes.resize(at + static_cast<std::size_t>(n));
    if (n == 0) break;
    if (bytes.size() > bound.max_bytes) throw RigError(head + "grew while being read past " + limit);
  }
  return bytes;
}

std::string read_bounded_text(const std::filesystem::path& path, const FileBound& bound,
                              const FileOrigin& origin, Deadline deadline) {
  auto bytes = read_bounded_file(path, bound, origin, deadline);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace bootrig
