// Files on the board (/flash, /sd): listing, making and removing through the checked channel, binary-safe
// copies both ways through the REPL's stdin and stdout at nearly the line rate, each copy verified by a hash
// the board computes over the file as it landed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/repl/checked_channel.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

struct BoardEntry {
  std::string name;  // within its folder
  bool dir = false;
  std::uint64_t size = 0;
  bool operator==(const BoardEntry&) const = default;
};

// A file's digest as the board computed it: SHA-256 where the firmware has it, else a 32-bit byte sum.
struct BoardHash {
  std::string kind;   // "sha256" or "sum"
  std::string value;  // 64 hex digits, or the sum in decimal
  // The same digest of local bytes, for comparison.
  static BoardHash of(std::string_view data, const std::string& kind);
  std::string describe() const;  // "sha256 1f0c..." (12 digits) or "byte sum 81231"
  bool operator==(const BoardHash&) const = default;
};

struct FileCopy {
  std::string path;  // on the board
  std::size_t bytes = 0;
  std::size_t wire_bytes = 0;  // what crossed the line for the payload (escapes and block headers included)
  TimePoint start{}, end{};    // the payload's first and last byte (not the hash check)
  BoardHash hash;              // the board's digest, equal to the local one
  std::string transfer;        // "binary" or "hex" (a board without a binary stdin/stdout)
  double seconds() const { return to_ms(end - start) / 1000.0; }
  // The payload's rate as a share of what the line carries (10 bits per byte).
  double line_share(unsigned baud) const;
};

enum class FsFault : std::uint8_t {
  board,  // the board refused: no such file, not a folder, no space (OSError)
  link,   // the line or the REPL failed the exchange (rig trouble)
  verify  // the copy arrived, but its hash on the board differs from the sender's
};
struct FsFailure {
  FsFault fault = FsFault::link;
  std::string what;  // one line
};
template <class T>
using FsResult = Result<T, FsFailure>;

struct BoardFilesOptions {
  std::size_t block =
      4096;  // payload bytes per block: acknowledged after the write (put), sent on request (get)
  Duration work = seconds(10);  // what one exchange may take on the board on top of its line time
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// Not thread-safe; uses the REPL client and its channel exclusively while a call runs.
class BoardFiles {
 public:
  BoardFiles(ReplClient& repl, CheckedChannel& channel, BoardFilesOptions options = {});

  // The board's current folder ("/flash" on Pycom, "/" upstream).
  FsResult<std::string> cwd();
  // nullopt when nothing is at `path`.
  FsResult<std::optional<BoardEntry>> stat(const std::string& path);
  // A folder's entries, folders first, each group by name.
  FsResult<std::vector<BoardEntry>> list(const std::string& dir);
  FsResult<bool> mkdir(const std::string& path);  // false: it already was a folder
  // A file, or with `recursive` a folder and all in it.
  FsResult<bool> remove(const std::string& path, bool recursive);
  FsResult<BoardHash> hash(const std::string& path);

  // Writes `data` to `path` (replacing it), then checks the board's hash of the file against the data's.
  FsResult<FileCopy> put(const std::string& path, std::string_view data);
  // Reads `path` and checks what arrived against the board's hash of the file.
  FsResult<FileCopy> get(const std::string& path, std::string& data);

 private:
  FsResult<std::string> run(const std::string& code, const std::string& what);
  FsFailure link_failure(const std::string& what, const std::string& why) const;
  FsResult<bool> binary_io();
  // Defines a function on the board through the checked channel: "" or why it could not.
  std::string define(const std::string& code);
  FsResult<FileCopy> verify(FileCopy c, std::string_view data);

  ReplClient& repl_;
  CheckedChannel& channel_;
  BoardFilesOptions options_;
  std::optional<bool> binary_;
};

// Joins board paths: ("/flash", "a.py") -> "/flash/a.py"; ("/", "x") -> "/x".
std::string board_path_join(const std::string& dir, const std::string& name);

}  // namespace bootrig
