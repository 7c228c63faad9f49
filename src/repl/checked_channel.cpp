// The checked channel: a helper installed on the board in verified pieces, code sent in verified pieces and
// run once by sequence number, answers fetched in checksummed frames, all sized down while the line garbles.
#include "bootrig/repl/checked_channel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "bootrig/firmware/hash.hpp"

namespace bootrig {

namespace {

// The helper, written for MicroPython 1.11: no f-strings, no generators, one-letter-free global names that a
// user's program is unlikely to share (`_b` prefix). `_bH` and `_bB` (hashlib, binascii) come from the
// installer. Frames start a line:
//   BRA q i +|-               a piece arrived intact (+) or not (-)
//   BRM q *|i,j,...           run refused: pieces missing or the whole did not check out
//   BRF q off total dall dframe hex   a chunk of the answer ('O' + str(_r), or 'E' + type ':' + message);
//                                    dframe covers "q off total dall " and the chunk, so no field of the
//                                    frame can be garbled unnoticed
// MicroPython's parser interns string literals up to this length (MICROPY_ALLOC_PARSE_INTERN_STRING_LEN, 10 in
// 1.11 and since) into qstr pools that only a reset frees. A literal unique to each round trip must be longer
// or not a string: an OTA of 1 MB in 4 KiB bytes-literal blocks of about 370 pieces each is some 95 000 round
// trips, and an 8-digit digest literal in each (about 28 bytes of pool apiece) filled a FiPy's 2.5 MiB heap
// until every exchange ended in MemoryError, also in the next run (the fault matrix found it).
constexpr std::size_t kInternedLiteralMax = 10;

constexpr const char* kHelper =
    "_bq=-1\n"
    "_bk=-1\n"
    "_bp={}\n"
    "_bv=b''\n"
    "def _bd(s):\n"
    " return _bB.hexlify(_bH.sha256(s).digest()[:4]).decode()\n"
    "def _bf(q,o,n):\n"
    " c=_bv[o:o+n]\n"
    " h='%d %d %d %s '%(q,o,len(_bv),_bd(_bv))\n"
    " print('\\nBRF '+h+_bd(h.encode()+c)+' '+_bB.hexlify(c).decode())\n"
    "def _ba(q,i,h,s):\n"
    " global _bk,_bp\n"
    " if int(_bd(('%d/%d/%s'%(q,i,s)).encode()),16)==h:\n"
    "  if q!=_bk:\n"
    "   _bk=q\n"
    "   _bp={}\n"
    "  _bp[i]=s\n"
    "  print('\\nBRA %d %d +'%(q,i))\n"
    " else:\n"
    "  print('\\nBRA %d %d -'%(q,i))\n"
    "def _bx(q,n,h,z):\n"
    " global _bq,_bv,_bp,_r\n"
    " if q!=_bq:\n"
    "  if q!=_bk:\n"
    "   print('\\nBRM %d *'%q)\n"
    "   return\n"
    "  m=[str(i) for i in range(n) if i not in _bp]\n"
    "  if m:\n"
    "   print('\\nBRM %d %s'%(q,','.join(m)))\n"
    "   return\n"
    "  c=''.join([_bp[i] for i in range(n)])\n"
    "  if int(_bd(('%d:%s'%(q,c)).encode()),16)!=h:\n"
    "   print('\\nBRM %d *'%q)\n"
    "   return\n"
    "  _bp={}\n"
    "  _r=''\n"
    "  _bq=q\n"
    "  try:\n"
    "   import micropython\n"
    "   micropython.kbd_intr(-1)\n"
    "  except:\n"
    "   pass\n"
    "  try:\n"
    "   exec(c)\n"
    "   _bv=('O'+str(_r)).encode()\n"
    "  except Exception as e:\n"
    "   _bv=('E'+e.__class__.__name__+':'+str(e)).encode()\n"
    "  try:\n"
    "   micropython.kbd_intr(3)\n"
    "  except:\n"
    "   pass\n"
    " _bf(q,0,z)\n"
    "def _bg(q,o,n):\n"
    " if q==_bq:\n"
    "  _bf(q,o,n)\n"
    " else:\n"
    "  print('\\nBRM %d *'%q)\n";

// The installer's first exchanges, each small and repeated until its acknowledgement comes: the modules the
// helper needs under names of bootrig's, the dictionary its pieces collect in, then a checker that stores a
// piece only when it matches its digest. Every byte sent unverified is a byte a noisy line can break, and at
// 1 % dropped bytes a round trip of 155 bytes is lost four times in five (the fault matrix measured 80 %
// when each piece carried its own 130-byte check): with the checker on the board a piece costs some 25 bytes
// beyond its text. A checker garbled into something that still runs refuses pieces rather than accepting
// wrong ones, and the whole is checked again before it runs.
constexpr const char* kInstallImports =
    "try:import uhashlib as _bH\n"
    "except:import hashlib as _bH\n"
    "try:import ubinascii as _bB\n"
    "except:import binascii as _bB\n"
    "_bZ={}\n"
    "print('\\nBRI 0')\n";
constexpr const char* kInstallChecker =
    "def _bD(s):return int(_bB.hexlify(_bH.sha256(s.encode()).digest()[:4]),16)\n"
    "def _bY(i,h,s):\n"
    " if _bD('%d:'%i+s)==h:_bZ[i]=s;print('\\nBRP %d'%i)\n";
// The checker proves itself on a piece of its own (index -1, never part of the helper) before any real piece
// goes to it: its acknowledgement comes only from a checker that hashes, compares and prints as it should.
std::string install_checker_code() {
  return std::string(kInstallChecker) + "_bY(-1,0x" + channel_digest("-1:ok") + ",'ok')\n";
}

std::optional<std::string> unhex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::vector<std::string> lines_starting(const std::string& text, std::string_view prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A frame of the answer, parsed and checked: nullopt when any part of it was garbled.
struct Frame {
  std::size_t offset = 0;
  std::size_t total = 0;
  std::string whole_digest;
  std::string bytes;
};

std::optional<Frame> find_frame(const std::string& output, std::uint64_t seq, std::size_t offset) {
  for (const auto& line : lines_starting(output, "BRF ")) {
    auto w = words(line);
    if (w.size() != 6 && w.size() != 7) continue;
    if (w[1] != std::to_string(seq) || w[2] != std::to_string(offset)) continue;
    std::string hex = w.size() == 7 ? w[6] : "";
    auto bytes = unhex(hex);
    if (!bytes) continue;
    const std::string head = w[1] + " " + w[2] + " " + w[3] + " " + w[4] + " ";
    if (channel_digest(head + *bytes) != w[5]) continue;
    Frame f;
    f.offset = offset;
    try {
      f.total = std::stoul(w[3]);
    } catch (const std::exception&) {
      continue;
    }
    f.whole_digest = w[4];
    f.bytes = std::move(*bytes);
    return f;
  }
  return std::nullopt;
}

}  // namespace

std::string channel_helper_source() { return kHelper; }

std::string channel_digest(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  auto d = h.finish();
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 0xf];
  }
  return out;
}

std::string ChannelStats::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%llu of %llu round trips garbled or lost (%.0f %%)",
                static_cast<unsigned long long>(failed), static_cast<unsigned long long>(round_trips),
                100.0 * failure_rate());
  return buf;
}

CheckedChannel::CheckedChannel(ReplClient& repl, ChannelOptions options)
    : repl_(repl),
      options_(options),
      // Sequence numbers from the clock: a new process never reuses the number of an exchange an earlier
      // process left on the board's helper.
      seq_(static_cast<std::uint64_t>(now().time_since_epoch().count() / 1000) % 1000000000ULL),
      piece_bytes_(options.piece_bytes),
      chunk_bytes_(options.chunk_bytes) {}

void CheckedChannel::forget() {
  installed_ = false;
  heap_full_.clear();
}

ChannelFailure CheckedChannel::failure(std::string what) const {
  if (!heap_full_.empty())
    what = "the board ran out of memory (" + heap_full_ +
           "): its MicroPython heap is full, not the line's doing, and no retry mends it; a reset of the board "
           "clears it; " + stats_.describe();
  return ChannelFailure{std::move(what), stats_};
}

bool CheckedChannel::give_up(Deadline deadline) const { return deadline.expired() || !heap_full_.empty(); }

std::optional<std::string> CheckedChannel::round_trip(const std::string& code, std::size_t expect_bytes,
                                                      Duration work, Deadline deadline) {
  ++stats_.round_trips;
  stats_.bytes_sent += code.size();
  // The line time of what crosses, twice over, plus the board's own time: a lost byte is found out in about
  // the time a good exchange takes, not at a fixed long timeout.
  auto line = repl_.line_time(code.size() + expect_bytes + 64);
  Deadline d = Deadline::after(2 * line + options_.slack + work).min(deadline);
  auto r = repl_.exec_raw(code, d);
  if (!r) {
    ++stats_.failed;
    return std::nullopt;
  }
  stats_.bytes_received += r->output.size() + r->error_text.size();
  if (r->exception) {
    // The helper is gone (a reset the channel was not told of) or the line turned the call into something
    // else: either way the board ran nothing of ours.
    // Only the exact name of one of its functions means the helper is gone: a garbled call names another.
    // The board could not even take the call: not the line's doing, and the same next time.
    // A MemoryError once may be the line's: the call line is sent unchecked, and a garbled argument asks
    // for anything (the fault matrix's 1 % garbage: "allocating 1014107025 bytes", more than the module's
    // RAM). Two in a row is the heap.
    if (r->exception->type == "MemoryError" && ++memory_errors_ >= 2)
      heap_full_ = "MemoryError: " + r->exception->message;
    if (r->exception->type != "MemoryError") memory_errors_ = 0;
    if (r->exception->type == "NameError") {
      for (const char* fn : {"'_bx'", "'_ba'", "'_bg'"})
        if (r->error_text.find(fn) != std::string::npos) installed_ = false;
      for (const char* name : {"'_bH'", "'_bB'", "'_bZ'", "'_bD'", "'_bY'"})
        if (r->error_text.find(name) != std::string::npos) installer_names_gone_ = true;
    }
    ++stats_.failed;
    if (r->exception->type != "MemoryError") ++stats_.garbled;
    return std::nullopt;
  }
  memory_errors_ = 0;
  return r->output;
}

bool CheckedChannel::install(Deadline deadline) {
  ++stats_.installs;
  const std::string src = kHelper;
  // The installer runs unverified code, so every line of it is small: a line garbled on the way is a
  // SyntaxError or NameError far more often than anything else, and it is repeated until its answer comes.
  auto until_acked = [&](const std::string& code, const std::string& ack, int attempts) {
    for (int a = 0; a < attempts && !give_up(deadline); ++a) {
      auto out = round_trip(code, ack.size() + 8, milliseconds(0), deadline);
      // A board reset during the install took the prologue's names (and the pieces stored so far) with it:
      // repeating this piece cannot succeed (the fault matrix's 1 % noise soft-reset a board midway, and the
      // install repeated one piece until the deadline).
      if (installer_names_gone_) return false;
      if (!out) continue;
      for (const auto& l : lines_starting(*out, "BR"))
        if (l == ack) return true;
      ++stats_.failed, ++stats_.garbled;
    }
    return false;
  };
  // The helper's text in pieces, each stored only when it checks out; then all of it run when the whole
  // checks out. Re-running a definition is harmless, so a lost acknowledgement only costs a repeat. Pieces
  // that do not get through are made smaller, and the collection starts again.
  std::size_t piece = std::min<std::size_t>(std::max(piece_bytes_, options_.min_piece_bytes), 192);
  // Pieces stored on the board stay valid while the piece size stays: only a new size starts the collection
  // again (the prologue empties it). At the smallest size a piece that did not get through is tried again
  // where it stopped, so a long noisy install never throws away what already arrived.
  std::size_t next = 0;
  bool fresh = true;
  bool recheck = false;
  for (;;) {
    if (fresh) {
      installer_names_gone_ = false;
      ++stats_.prologues;
      // More attempts than a piece gets: these are the longest unverified exchanges, and nothing can be
      // made smaller about them.
      if (!until_acked(kInstallImports, "BRI 0", 3 * options_.attempts)) return false;
    }
    if (fresh || recheck) {
      if (!until_acked(install_checker_code(), "BRP -1", 3 * options_.attempts)) {
        if (installer_names_gone_ && !give_up(deadline)) {
          fresh = true;
          continue;
        }
        return false;
      }
    }
    recheck = false;
    const std::size_t count = (src.size() + piece - 1) / piece;
    bool all = true;
    for (std::size_t i = fresh ? 0 : next; i < count && all; ++i) {
      // The index is part of what the digest covers: a garbled index must not store a good piece elsewhere.
      std::string s = src.substr(i * piece, piece);
      std::string code = "_bY(" + std::to_string(i) + ",0x" + channel_digest(std::to_string(i) + ":" + s) + "," +
                         py_str_literal(s) + ")";
      const int tries = piece > options_.min_piece_bytes ? 3 : options_.attempts;
      all = until_acked(code, "BRP " + std::to_string(i), tries);
      next = all ? i + 1 : i;
    }
    if (all) {
      std::string run = "_bs=''.join([_bZ[i] for i in range(" + std::to_string(count) + ")])\nif _bD(_bs)==0x" +
                        channel_digest(src) + ":exec(_bs);print('\\nBRI 1')\n";
      if (until_acked(run, "BRI 1", options_.attempts)) break;
    }
    if (give_up(deadline)) return false;
    // A reset took the collection: it starts again at this size.
    if (installer_names_gone_) {
      fresh = true;
      continue;
    }
    // All pieces acknowledged but the whole did not check out: the collection holds a wrong piece (it cannot
    // tell which), so it starts again.
    fresh = all || piece > options_.min_piece_bytes;
    // A piece of the smallest size that never got through may have met a checker that was garbled on its
    // way yet passed: it is defined again (the pieces stored so far stay) before the piece is tried again.
    recheck = !fresh;
    piece = std::max(options_.min_piece_bytes, piece / 2);
  }
  installed_ = true;
  return true;
}

bool CheckedChannel::send_piece(std::uint64_t seq, std::size_t index, std::string_view piece, Deadline deadline) {
  std::string head = std::to_string(seq) + "/" + std::to_string(index) + "/";
  std::string code = "_ba(" + std::to_string(seq) + "," + std::to_string(index) + ",0x" +
                     channel_digest(head + std::string(piece)) + "," + py_str_literal(piece) + ")";
  std::string ack = "BRA " + std::to_string(seq) + " " + std::to_string(index) + " +";
  auto out = round_trip(code, ack.size() + 4, milliseconds(0), deadline);
  if (!out) return false;
  for (const auto& l : lines_starting(*out, "BRA "))
    if (l == ack) return true;
  ++stats_.failed, ++stats_.garbled;
  return false;
}

Result<ChannelAnswer, ChannelFailure> CheckedChannel::run(std::string_view code, Duration work, Deadline deadline) {
  ChannelAnswer answer;
  const std::uint64_t failed_before = stats_.failed;
  auto retries = [&] { return static_cast<int>(stats_.failed - failed_before); };

  heap_full_.clear();  // asked again once per exchange: the code before may have freed what it held
  if (!installed_ && !install(deadline))
    return failure("could not install bootrig's REPL helper on the board: " + stats_.describe());

  // Attempts at one exchange: each restart splits the code into smaller pieces under a new number.
  for (int restart = 0; restart < 8 && !give_up(deadline); ++restart) {
    const std::uint64_t seq = ++seq_;
    const std::string full(code);
    std::vector<std::string> pieces;
    for (std::size_t off = 0; off < full.size() || pieces.empty(); off += piece_bytes_) {
      pieces.push_back(full.substr(off, piece_bytes_));
      if (full.empty()) break;
    }
    // MicroPython interns a string literal of up to 10 characters as a qstr, which lives in the heap until
    // the next reset: a short last piece of every exchange would leak one (digests go as integers for the
    // same reason). It rides with the piece before it.
    if (pieces.size() > 1 && pieces.back().size() <= kInternedLiteralMax) {
      pieces[pieces.size() - 2] += pieces.back();
      pieces.pop_back();
    }
    const std::string whole = channel_digest(std::to_string(seq) + ":" + full);

    // The pieces, each until it is acknowledged intact.
    bool pieces_ok = true;
    for (std::size_t i = 0; i < pieces.size() && pieces_ok; ++i) {
      int fails = 0;
      while (!send_piece(seq, i, pieces[i], deadline)) {
        if (!installed_ && !install(deadline))
          return failure("the board lost bootrig's REPL helper and it could not be put back: " + stats_.describe());
        if (give_up(deadline)) return failure("the deadline passed while sending code: " + stats_.describe());
        if (++fails >= 3 && piece_bytes_ > options_.min_piece_bytes) {
          // This size does not get through: smaller pieces, from the start under a new number.
          piece_bytes_ = std::max(options_.min_piece_bytes, piece_bytes_ / 2);
          pieces_ok = false;
          break;
        }
        if (fails >= options_.attempts)
          return failure("a piece of code never arrived intact after " + std::to_string(fails) + " tries: " +
                         stats_.describe());
      }
    }
    if (!pieces_ok) continue;

    // Run it: the first answer chunk comes with the run. From the first _bx() on, the code may have run, so
    // nothing is ever sent again under a new number: a lost or garbled answer is asked for again (_bx again,
    // or _bg), and the helper, remembering the last number it ran, never runs it twice.
    std::string value;
    std::size_t total = 0;
    std::string total_digest;
    bool have_first = false;
    bool resend_pieces = false;
    int refusals = 0;
    for (int a = 0; a < options_.attempts * 2 && !have_first; ++a) {
      if (give_up(deadline)) return failure("the deadline passed waiting for an answer: " + stats_.describe());
      std::string call = "_bx(" + std::to_string(seq) + "," + std::to_string(pieces.size()) + ",0x" + whole + "," +
                         std::to_string(chunk_bytes_) + ")";
      auto out = round_trip(call, 2 * chunk_bytes_ + 80, work, deadline);
      if (!out) {
        if (!installed_)
          return failure("the board lost bootrig's REPL helper during an exchange (was it reset?); the code may "
                         "or may not have run");
        chunk_bytes_ = std::max(options_.min_chunk_bytes, chunk_bytes_ / 2);
        continue;
      }
      if (auto f = find_frame(*out, seq, 0)) {
        value = f->bytes;
        total = f->total;
        total_digest = f->whole_digest;
        have_first = true;
        break;
      }
      // A refusal names this number only when the helper has not run it: then sending pieces again is safe.
      // Pieces it lists as missing (lost with a reinstalled helper) go again under the same number; a whole
      // that did not check out is asked about again first, since a call garbled in its count or digest is
      // refused the same way, and only a repeated refusal starts the exchange again under a new number.
      std::vector<std::size_t> missing;
      bool refused = false;
      for (const auto& l : lines_starting(*out, "BRM ")) {
        auto w = words(l);
        if (w.size() < 3 || w[1] != std::to_string(seq)) continue;
        refused = true;
        std::istringstream list(w[2]);
        for (std::string item; std::getline(list, item, ',');) {
          char* end = nullptr;
          unsigned long i = std::strtoul(item.c_str(), &end, 10);
          // A garbled list can only name a piece needlessly (storing it again is harmless) or leave one out
          // (the next refusal names it).
          if (!item.empty() && *end == '\0' && i < pieces.size()) missing.push_back(i);
        }
      }
      ++stats_.failed, ++stats_.garbled;
      if (!missing.empty()) {
        for (std::size_t i : missing) {
          for (int fails = 0; !send_piece(seq, i, pieces[i], deadline);) {
            if (!installed_ && !install(deadline))
              return failure("the board lost bootrig's REPL helper and it could not be put back: " +
                             stats_.describe());
            if (give_up(deadline)) return failure("the deadline passed while sending code: " + stats_.describe());
            if (++fails >= options_.attempts)
              return failure("a piece of code never arrived intact after " + std::to_string(fails) + " tries: " +
                             stats_.describe());
          }
        }
        continue;
      }
      if (refused && ++refusals >= 3) {
        resend_pieces = true;
        break;
      }
      chunk_bytes_ = std::max(options_.min_chunk_bytes, chunk_bytes_ / 2);
    }
    if (resend_pieces) continue;
    if (!have_first) return failure("the board's answer never arrived intact: " + stats_.describe());

    // The rest of the answer, chunk by chunk; each frame is checked whole, so the assembled answer matches
    // its digest unless the board changed the answer underneath (then it is fetched again from the start).
    for (int whole_tries = 0;; ++whole_tries) {
      int chunk_fails = 0;
      while (value.size() < total) {
        if (give_up(deadline)) return failure("the deadline passed while reading an answer: " + stats_.describe());
        std::string call = "_bg(" + std::to_string(seq) + "," + std::to_string(value.size()) + "," +
                           std::to_string(chunk_bytes_) + ")";
        auto out = round_trip(call, 2 * chunk_bytes_ + 80, milliseconds(0), deadline);
        std::optional<Frame> f;
        if (out) f = find_frame(*out, seq, value.size());
        if (!f || f->bytes.empty() || f->total != total || f->whole_digest != total_digest) {
          if (out) ++stats_.failed, ++stats_.garbled;
          if (!installed_)
            return failure("the board lost bootrig's REPL helper while answering (was it reset?); the code ran");
          chunk_bytes_ = std::max(options_.min_chunk_bytes, chunk_bytes_ / 2);
          if (++chunk_fails >= options_.attempts * 2)
            return failure("a chunk of the board's answer never arrived intact: " + stats_.describe());
          continue;
        }
        value += f->bytes;
        chunk_fails = 0;  // the budget is per chunk: a long answer on a noisy line needs many retries in all
      }
      if (channel_digest(value) == total_digest) break;
      ++stats_.failed, ++stats_.garbled;
      if (whole_tries >= 2) return failure("the board's answer changed while it was read: " + stats_.describe());
      value.clear();
    }
    // Sizes creep back up on a line that behaves.
    if (retries() == 0) {
      piece_bytes_ = std::min(options_.piece_bytes, piece_bytes_ * 2);
      chunk_bytes_ = std::min(options_.chunk_bytes, chunk_bytes_ * 2);
    }
    answer.retries = retries();
    if (value.empty()) return failure("the board's answer was empty (neither a value nor an exception)");
    if (value[0] == 'O') {
      answer.value = value.substr(1);
    } else {
      std::string rest = value.substr(1);
      auto colon = rest.find(':');
      answer.exc_type = rest.substr(0, colon);
      answer.exc_message = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    return answer;
  }
  return failure("the code never arrived intact: " + stats_.describe());
}

}  // namespace bootrig
