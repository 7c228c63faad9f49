// Files on the board: small questions through the checked channel, payloads through the REPL's stdin and
// stdout (escaped binary, acknowledged blocks upward), and a hash computed on the board over every copy.
#include "bootrig/repl/board_files.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "bootrig/firmware/hash.hpp"
#include "bootrig/repl/binary_stream.hpp"

namespace bootrig {

namespace {

// Plain words for the errors a file command meets; the board's own text follows in brackets.
std::string errno_words(const std::string& message) {
  static const std::pair<const char*, const char*> kWords[] = {
      {"[Errno 2]", "no such file or folder"}, {"[Errno 13]", "permission denied"},
      {"[Errno 17]", "already exists"},        {"[Errno 20]", "not a folder"},
      {"[Errno 21]", "is a folder"},           {"[Errno 28]", "no space left on the volume"},
      {"[Errno 39]", "folder not empty"},      {"[Errno 30]", "read-only volume"},
  };
  for (auto [code, words] : kWords)
    if (message.rfind(code, 0) == 0) return words;
  return "";
}

// The board-side digest of P (a str literal): SHA-256 through the channel's own hashlib, a byte sum where
// that module has no sha256.
std::string hash_code(const std::string& path_literal, std::size_t block) {
  const std::string b = std::to_string(block);
  return "f = open(" + path_literal +
         ", 'rb')\n"
         "try:\n"
         " if hasattr(_bH, 'sha256'):\n"
         "  h = _bH.sha256()\n"
         "  while True:\n"
         "   b = f.read(" +
         b +
         ")\n"
         "   if not b:\n"
         "    break\n"
         "   h.update(b)\n"
         "  _r = 'sha256 ' + _bB.hexlify(h.digest()).decode()\n"
         " else:\n"
         "  c = 0\n"
         "  while True:\n"
         "   b = f.read(" +
         b +
         ")\n"
         "   if not b:\n"
         "    break\n"
         "   c = (c + sum(b)) & 0xffffffff\n"
         "  _r = 'sum %d' % c\n"
         "finally:\n"
         " f.close()\n";
}

// The board's time for a payload of `bytes` (flash writes, hashing): generous, so only a board that stopped
// answering runs out of it.
Duration work_for(std::size_t bytes, Duration base) { return base + milliseconds(bytes / 20); }

}  // namespace

BoardHash BoardHash::of(std::string_view data, const std::string& kind) {
  if (kind == "sum") return {"sum", std::to_string(byte_sum(data))};
  auto d =
      sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  return {"sha256", to_hex(d)};
}

std::string BoardHash::describe() const {
  if (kind == "sha256") return "sha256 " + value.substr(0, 12);
  return "byte sum " + value;
}

double FileCopy::line_share(unsigned baud) const {
  double s = seconds();
  if (s <= 0 || baud == 0) return 0;
  return static_cast<double>(bytes) * 10.0 / baud / s;
}

std::string board_path_join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

BoardFiles::BoardFiles(ReplClient& repl, CheckedChannel& channel, BoardFilesOptions options)
    : repl_(repl), channel_(channel), options_(std::move(options)) {}

FsFailure BoardFiles::link_failure(const std::string& what, const std::string& why) const {
  return {FsFault::link, what + ": the exchange with the board failed (" + why + ")"};
}

FsResult<std::string> BoardFiles::run(const std::string& code, const std::string& what) {
  auto a = channel_.run(code, options_.work, Deadline::after(options_.work * 3));
  if (!a) return link_failure(what, a.error().what);
  if (a->raised()) {
    std::string words = errno_words(a->exc_message);
    return FsFailure{FsFault::board, what + ": " + (words.empty() ? "" : words + " (") + *a->exc_type + ": " +
                                         a->exc_message + (words.empty() ? "" : ")")};
  }
  return a->value;
}

FsResult<std::string> BoardFiles::cwd() { return run("import os\n_r = os.getcwd()\n", "current folder"); }

FsResult<std::optional<BoardEntry>> BoardFiles::stat(const std::string& path) {
  auto r = run("import os\ntry:\n s = os.stat(" + py_str_literal(path) +
                   ")\n _r = '%d %d' % (1 if s[0] & 0x4000 else 0, s[6])\nexcept OSError as e:\n"
                   " if e.args[0] != 2:\n  raise\n _r = '-'\n",
               path);
  if (!r) return r.error();
  if (*r == "-") return std::optional<BoardEntry>{};
  BoardEntry e;
  int dir = 0;
  unsigned long long size = 0;
  if (std::sscanf(r->c_str(), "%d %llu", &dir, &size) != 2)
    return FsFailure{FsFault::link, path + ": the board's answer '" + *r + "' is not a file's kind and size"};
  auto slash = path.find_last_of('/');
  e.name = slash == std::string::npos ? path : path.substr(slash + 1);
  e.dir = dir != 0;
  e.size = size;
  return std::optional<BoardEntry>{e};
}

FsResult<std::vector<BoardEntry>> BoardFiles::list(const std::string& dir) {
  auto r = run("import os\n_bo = []\nfor n in os.listdir(" + py_str_literal(dir) + "):\n s = os.stat(" +
                   py_str_literal(dir == "/" ? "" : dir) +
                   " + '/' + n)\n _bo.append('%d %d %s' % (1 if s[0] & 0x4000 else 0, s[6], n))\n"
                   "_r = '\\n'.join(_bo)\n",
               dir);
  if (!r) return r.error();
  std::vector<BoardEntry> out;
  std::istringstream in(*r);
  for (std::string line; std::getline(in, line);) {
    BoardEntry e;
    int d = 0;
    unsigned long long size = 0;
    int used = 0;
    if (std::sscanf(line.c_str(), "%d %llu %n", &d, &size, &used) != 2 || used <= 0)
      return FsFailure{FsFault::link, dir + ": the board's listing line '" + line + "' is not an entry"};
    e.dir = d != 0;
    e.size = size;
    e.name = line.substr(static_cast<std::size_t>(used));
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const BoardEntry& a, const BoardEntry& b) {
    return a.dir != b.dir ? a.dir : a.name < b.name;
  });
  return out;
}

FsResult<bool> BoardFiles::mkdir(const std::string& path) {
  auto r = run("import os\ntry:\n os.mkdir(" + py_str_literal(path) +
                   ")\n _r = '1'\nexcept OSError as e:\n if e.args[0] != 17 or not os.stat(" +
                   py_str_literal(path) + ")[0] & 0x4000:\n  raise\n _r = '0'\n",
               path);
  if (!r) return r.error();
  return *r == "1";
}

FsResult<bool> BoardFiles::remove(const std::string& path, bool recursive) {
  const std::string p = py_str_literal(path);
  std::string code =
      "import os\n"
      "def _brm(p, r):\n"
      " if os.stat(p)[0] & 0x4000:\n"
      "  if not r:\n"
      "   raise OSError(21)\n"
      "  for n in os.listdir(p):\n"
      "   _brm(p + '/' + n, r)\n"
      "  os.rmdir(p)\n"
      " else:\n"
      "  os.remove(p)\n"
      "_brm(" +
      p + ", " + (recursive ? "True" : "False") + ")\n";
  auto r = run(code, path);
  if (!r) {
    FsFailure f = r.error();
    if (!recursive && f.what.find("is a folder") != std::string::npos)
      f.what = path + ": is a folder (rm -r removes it and all in it)";
    return f;
  }
  return true;
}

FsResult<BoardHash> BoardFiles::hash(const std::string& path) {
  auto a = channel_.run(hash_code(py_str_literal(path), options_.block), options_.work,
                        Deadline::after(options_.work * 3));
  if (!a) return link_failure(path, a.error().what);
  if (a->raised()) return FsFailure{FsFault::board, path + ": " + *a->exc_type + ": " + a->exc_message};
  auto sp = a->value.find(' ');
  if (sp == std::string::npos)
    return FsFailure{FsFault::link, path + ": the board's hash answer '" + a->value + "'"};
  return BoardHash{a->value.substr(0, sp), a->value.substr(sp + 1)};
}

std::string BoardFiles::define(const std::string& code) {
  auto a = channel_.run(code + "_r = 'ok'\n", options_.work, Deadline::after(options_.work * 3));
  if (!a) return a.error().what;
  if (a->raised())
    return "the board refused bootrig's transfer code: " + *a->exc_type + ": " + a->exc_message;
  return "";
}

FsResult<bool> BoardFiles::binary_io() {
  if (binary_) return *binary_;
  auto r = repl_.exec_raw(
      "import sys, micropython\nsys.stdin.buffer.read\nsys.stdout.buffer.write\nmicropython.kbd_intr",
      Deadline::after(options_.work));
  if (!r) return link_failure("probing sys.stdin.buffer", r.error().describe());
  binary_ = !r->exception;
  return *binary_;
}

FsResult<FileCopy> BoardFiles::verify(FileCopy c, std::string_view data) {
  auto h = hash(c.path);
  if (!h) return h.error();
  BoardHash mine = BoardHash::of(data, h->kind);
  if (!(mine == *h))
    return FsFailure{FsFault::verify, c.path + ": the copy does not match: the board's " + h->describe() +
                                          ", the data's " + mine.describe() + " (" + std::to_string(c.bytes) +
                                          " bytes); copy it again"};
  c.hash = *h;
  return c;
}

FsResult<FileCopy> BoardFiles::put(const std::string& path, std::string_view data) {
  auto bin = binary_io();
  if (!bin) return bin.error();
  FileCopy c;
  c.path = path;
  if (*bin) {
    StdinUpload plan;
    plan.prologue = "f = open(" + py_str_literal(path) + ", 'wb')\nw = f.write";
    plan.epilogue = "f.close()";
    plan.tag = "PUT>";
    plan.block = options_.block;
    plan.step_timeout = work_for(options_.block, options_.work);
    plan.recovery = options_.work;
    plan.progress = options_.progress;
    plan.define = [this](const std::string& code) { return define(code); };
    c.transfer = "binary";
    auto r = upload_through_stdin(repl_, data, plan);
    if (!r) {
      const auto& f = r.error();
      if (f.exception && f.exception->type == "OSError") {
        std::string words = errno_words(f.exception->message);
        return FsFailure{FsFault::board,
                         path + ": " + (words.empty() ? f.what : words + " (" + f.what + ")")};
      }
      return link_failure(path, f.what);
    }
    c.bytes = r->bytes;
    c.wire_bytes = r->wire_bytes;
    c.start = r->start;
    c.end = r->end;
  } else {
    // Bytes literals, one exec each: slower, but any MicroPython takes them.
    c.transfer = "bytes-literal";
    auto w = repl_.write_file(path, data, Deadline::after(work_for(data.size() * 4, options_.work)));
    if (!w) return link_failure(path, w.error().describe());
    if (w->exception) return FsFailure{FsFault::board, path + ": " + w->exception->describe()};
    c.bytes = w->bytes;
    c.start = w->start;
    c.end = w->end;
    if (options_.progress) options_.progress(c.bytes, data.size());
  }
  return verify(std::move(c), data);
}

FsResult<FileCopy> BoardFiles::get(const std::string& path, std::string& data) {
  auto st = stat(path);
  if (!st) return st.error();
  if (!*st) return FsFailure{FsFault::board, path + ": no such file or folder"};
  if ((*st)->dir) return FsFailure{FsFault::board, path + ": is a folder (copy it with get -r)"};
  const std::size_t total = (*st)->size;
  auto bin = binary_io();
  if (!bin) return bin.error();
  FileCopy c;
  c.path = path;
  c.transfer = *bin ? "binary" : "hex";
  const std::string p = py_str_literal(path);
  const std::string block = std::to_string(options_.block);
  // The reader is defined through a checked exchange (path and all), so only "_bgt()" travels unchecked. Each
  // block goes after the host asked for it ('+'): no more than one block is ever in flight, so a host that
  // falls behind (a loaded machine, a small tty buffer) loses nothing, as no UART flow control is assumed.
  const std::string body =
      *bin ? "def _bgt():\n import sys\n f = open(" + p +
                 ", 'rb')\n w = sys.stdout.buffer.write\n"
                 " r = sys.stdin.buffer.read\n try:\n  while True:\n   b = f.read(" +
                 block + ")\n   e = b" + std::string(kStdoutEscape) +
                 "\n   w(('%05d' % len(e)).encode())\n   w(e)\n   if not b:\n    break\n"
                 "   if r(1) != b'+':\n    break\n finally:\n  f.close()\n"
           : "def _bgt():\n f = open(" + p + ", 'rb')\n try:\n  while True:\n   b = f.read(" + block +
                 ")\n   if not b:\n    break\n   print(_bB.hexlify(b).decode())\n finally:\n  f.close()\n";
  if (std::string why = define(body); !why.empty()) return link_failure(path, why);
  auto started = repl_.start_raw("_bgt()", Deadline::after(options_.work));
  if (!started) return link_failure(path, started.error().describe());
  c.start = started->sent;  // from the call on: the board's start-up counts against the transfer
  data.clear();
  std::string wire;  // received and not yet taken apart
  const Duration quiet = work_for(options_.block, options_.work);
  auto lost = [&](const std::string& why) {
    repl_.forget_state();
    return link_failure(
        path, why + " after " + std::to_string(data.size()) + " of " + std::to_string(total) + " bytes");
  };
  bool ended = false;
  for (bool last = false; !ended;) {
    ProgramLine chunk = repl_.read_program_output(Deadline::after(quiet));
    if (chunk.text.empty() && !chunk.ended) return lost("the board stopped sending");
    c.wire_bytes += chunk.text.size();
    wire += chunk.text;
    ended = chunk.ended;
    if (!*bin) continue;
    // Blocks: five digits of escaped length, the escaped bytes; "00000" ends the file.
    while (!last && wire.size() >= 5) {
      std::size_t len = 0;
      for (int i = 0; i < 5; ++i) {
        if (wire[i] < '0' || wire[i] > '9') return lost("a block header changed on the line");
        len = len * 10 + static_cast<std::size_t>(wire[i] - '0');
      }
      if (wire.size() < 5 + len) break;
      StdoutUnescaper unescape;
      if (!unescape.feed(std::string_view(wire).substr(5, len), data) || unescape.pending())
        return lost("a byte changed on the line (a broken escape)");
      wire.erase(0, 5 + len);
      if (len == 0) {
        last = true;
      } else {
        repl_.send_stdin("+", Deadline::after(options_.work));
        if (options_.progress) options_.progress(std::min(data.size(), total), total);
      }
    }
    if (ended && !last && *bin) return lost("the output ended before the file did");
  }
  c.end = now();
  auto end = repl_.finish_raw(std::move(started).value(), Deadline::after(options_.work));
  if (!end) return link_failure(path, end.error().describe());
  if (end->exception)
    return FsFailure{end->exception->type == "OSError" ? FsFault::board : FsFault::link,
                     path + ": " + end->exception->describe()};
  if (!*bin) {
    std::istringstream in(wire);  // hex lines
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      for (std::size_t i = 0; i + 1 < line.size(); i += 2) {
        unsigned v = 0;
        if (std::sscanf(line.c_str() + i, "%2x", &v) != 1)
          return link_failure(path, "a hex line changed on the way");
        data += static_cast<char>(v);
      }
    }
  }
  c.bytes = data.size();
  return verify(std::move(c), data);
}

}  // namespace bootrig
