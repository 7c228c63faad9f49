// Minimal ustar and gzip support: enough to read Pycom firmware bundles (.tar.gz) and to write test ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bootrig {

struct TarEntry {
  std::string name;  // "./" prefixes removed
  std::vector<std::uint8_t> data;
};

// Regular files of a ustar (POSIX or GNU) archive, in order; directories, links and pax headers are skipped,
// GNU long names are honoured. what names the archive in errors. Throws RigError("what: ...") for a bad
// header checksum, a size past the end, or a file that is not a tar archive.
std::vector<TarEntry> read_tar(std::span<const std::uint8_t> archive, const std::string& what);
// A POSIX ustar archive of regular files (mode 0644, mtime 0, so the output is reproducible).
std::vector<std::uint8_t> write_tar(const std::vector<TarEntry>& entries);

bool is_gzip(std::span<const std::uint8_t> bytes);
// Inflates a gzip stream (zlib). Throws RigError("what: ...") for corrupt data or output over max_size.
std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> gz, const std::string& what,
                                 std::size_t max_size = 64u << 20);
std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> data);

// A zlib stream (RFC 1950, what esptool's compressed writes send: zlib.compress(data, 9)).
std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> data, int level = 9);

// Inflates a zlib stream that arrives in pieces, as the ROM's FLASH_DEFL_DATA blocks do.
class ZlibInflater {
 public:
  ZlibInflater();
  ~ZlibInflater();
  ZlibInflater(const ZlibInflater&) = delete;
  ZlibInflater& operator=(const ZlibInflater&) = delete;
  // Appends what these bytes inflate to to out; false for corrupt data (then error() says why) or output
  // beyond max_out in all.
  bool feed(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out, std::size_t max_out);
  bool finished() const { return finished_; }
  const std::string& error() const { return error_; }

 private:
  struct State;
  std::unique_ptr<State> z_;
  bool finished_ = false;
  std::size_t produced_ = 0;
  std::string error_;
};

}  // namespace bootrig
