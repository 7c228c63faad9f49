// An integrity-checked channel over the raw REPL: bootrig's own code runs on the board only when it arrived
// intact, exactly once, and its answer comes back framed with a checksum, retransmitted until it is intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bootrig/core/time.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

// How a noisy line is ridden out. Pieces and answer chunks start large and halve after each corrupted
// attempt (down to the minimum), so a clean line costs one round trip per exchange and a line garbling one
// byte in a hundred still gets through.
struct ChannelOptions {
  std::size_t piece_bytes = 512;      // code bytes sent in one piece at first
  std::size_t min_piece_bytes = 24;
  std::size_t chunk_bytes = 512;      // answer bytes fetched in one frame at first
  std::size_t min_chunk_bytes = 16;
  // Attempts of one round trip (a piece, the run, an answer chunk) before the exchange is given up.
  int attempts = 24;
  // Time the board may take on top of the line time of an exchange (compiling, hashing); the caller's `work`
  // allowance is added for the code itself (flash writes, a format).
  milliseconds slack{250};
};

// What the line did to the exchanges so far: the basis of "the line garbled N % of the round trips".
struct ChannelStats {
  std::uint64_t round_trips = 0;  // raw-REPL exchanges attempted
  std::uint64_t failed = 0;       // of those, corrupted, refused, lost or timed out
  // Of the failed, those whose answer came but was wrong: the line's doing for certain (a lost or late answer
  // may be a slow host's).
  std::uint64_t garbled = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t installs = 0;     // helper (re)installations
  std::uint64_t prologues = 0;    // installer prologues run (more than installs: the board lost them midway)
  double failure_rate() const { return round_trips ? static_cast<double>(failed) / round_trips : 0.0; }
  std::string describe() const;   // "3 of 41 round trips garbled or lost (7 %)"
};

// The answer of one exchange: what the code left in `_r`, or the exception it raised.
struct ChannelAnswer {
  std::string value;                     // str(_r) after the code ran
  std::optional<std::string> exc_type;   // set when the code raised: "OSError"
  std::string exc_message;               // str(e): "[Errno 2] ENOENT"
  int retries = 0;                       // round trips repeated because of the line
  bool raised() const { return exc_type.has_value(); }
};

struct ChannelFailure {
  std::string what;  // one line: which round trip failed, how often, and the line's record
  ChannelStats stats;
};

// The helper bootrig keeps on the board (a handful of functions whose names start with `_b`): verifies
// code pieces against their SHA-256 prefix, runs an exchange once, keeps its answer for resending.
// Written for MicroPython 1.11 (Pycom firmware 1.20) and later: exec, uhashlib/hashlib and ubinascii.
std::string channel_helper_source();
// The first 8 hex digits of SHA-256: what both sides use to check a piece or a frame.
std::string channel_digest(std::string_view bytes);

class CheckedChannel {
 public:
  explicit CheckedChannel(ReplClient& repl, ChannelOptions options = {});

  // Runs `code` on the board exactly once, verified before it runs. The code returns its answer by
  // assigning a str to `_r` (print() output is not part of the answer). `work` is how long the code itself
  // may take on the board. Fails only when the line defeats every attempt, or the board stops answering.
  Result<ChannelAnswer, ChannelFailure> run(std::string_view code, Duration work, Deadline deadline);

  // After any reset the helper is gone from the board; the next run installs it again.
  void forget();
  const ChannelStats& stats() const { return stats_; }
  bool installed() const { return installed_; }

 private:
  // One raw-REPL round trip with a deadline derived from its size; nullopt when it failed (counted).
  std::optional<std::string> round_trip(const std::string& code, std::size_t expect_bytes, Duration work,
                                        Deadline deadline);
  bool install(Deadline deadline);
  bool send_piece(std::uint64_t seq, std::size_t index, std::string_view piece, Deadline deadline);
  ChannelFailure failure(std::string what) const;
  // The deadline passed, or the board's heap is full: retrying cannot help.
  bool give_up(Deadline deadline) const;

  ReplClient& repl_;
  ChannelOptions options_;
  ChannelStats stats_;
  bool installed_ = false;
  // The installer's own names (_bH, _bB, _bZ, _bD, _bY) were reported missing by the last round trip: the board was
  // reset during an install, and only the prologue brings them back.
  bool installer_names_gone_ = false;
  // The board answered a round trip with MemoryError (its heap is full): the exception, for the failure.
  std::string heap_full_;
  int memory_errors_ = 0;  // round trips in a row that raised MemoryError
  std::uint64_t seq_;
  std::size_t piece_bytes_;
  std::size_t chunk_bytes_;
};

}  // namespace bootrig
