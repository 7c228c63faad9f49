// A ustar reader/writer and zlib-backed gzip, kept small because bundles hold five files.
#include "bootrig/firmware/archive.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "bootrig/core/bounded_file.hpp"
#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

constexpr std::size_t kBlock = 512;

std::string field(const std::uint8_t* p, std::size_t n) {
  const auto* c = reinterpret_cast<const char*>(p);
  return std::string(c, strnlen(c, n));
}

// Octal numeric field, NUL or space terminated. nullopt for anything else (base-256 is not supported).
bool parse_octal(const std::uint8_t* p, std::size_t n, std::uint64_t& out) {
  out = 0;
  std::size_t i = 0;
  while (i < n && p[i] == ' ') ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    out = out * 8 + (p[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (p[i] != 0 && p[i] != ' ') return false;
  }
  return any || out == 0;
}

unsigned header_checksum(const std::uint8_t* h) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum;
}

std::string clean_name(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  return name;
}

void put_octal(std::uint8_t* p, std::size_t n, std::uint64_t v) {
  // n-1 digits, then NUL.
  std::memset(p, '0', n - 1);
  p[n - 1] = 0;
  for (std::size_t i = n - 1; i-- > 0 && v > 0; v >>= 3) p[i] = static_cast<std::uint8_t>('0' + (v & 7));
}

struct ZStreamInflate {
  z_stream s{};
  bool ok = false;
  ZStreamInflate() { ok = inflateInit2(&s, 15 + 32) == Z_OK; }  // 32: accept gzip and zlib headers
  ~ZStreamInflate() {
    if (ok) inflateEnd(&s);
  }
  ZStreamInflate(const ZStreamInflate&) = delete;
  ZStreamInflate& operator=(const ZStreamInflate&) = delete;
};

struct ZStreamDeflate {
  z_stream s{};
  bool ok = false;
  ZStreamDeflate() {
    ok = deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }  // 16: gzip
  ~ZStreamDeflate() {
    if (ok) deflateEnd(&s);
  }
  ZStreamDeflate(const ZStreamDeflate&) = delete;
  ZStreamDeflate& operator=(const ZStreamDeflate&) = delete;
};

}  // namespace

std::vector<TarEntry> read_tar(std::span<const std::uint8_t> archive, const std::string& what) {
  std::vector<TarEntry> out;
  std::string long_name;
  std::size_t pos = 0;
  bool saw_header = false;
  while (pos + kBlock <= archive.size()) {
    const std::uint8_t* h = archive.data() + pos;
    if (std::all_of(h, h + kBlock, [](std::uint8_t b) { return b == 0; })) break;  // end-of-archive marker
    std::uint64_t stored_sum = 0;
    if (!parse_octal(h + 148, 8, stored_sum) || stored_sum != header_checksum(h)) {
      if (!saw_header) throw RigError(what + ": not a tar archive (no valid ustar header at the start)");
      throw RigError(what + ": tar header at byte " + std::to_string(pos) + " has a bad checksum");
    }
    saw_header = true;
    std::uint64_t size = 0;
    if (!parse_octal(h + 124, 12, size)) {
      throw RigError(what + ": tar header at byte " + std::to_string(pos) + " has an unreadable size");
    }
    const char type = static_cast<char>(h[156]);
    const std::size_t data_at = pos + kBlock;
    if (size > archive.size() - data_at) {
      throw RigError(what + ": tar member '" + field(h, 100) + "' claims " + std::to_string(size) +
                     " bytes but the archive ends first");
    }
    std::string name = field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0 && h[345] != 0 && h[263] == '0') {
      name = field(h + 345, 155) + "/" + name;  // POSIX prefix field
    }
    const auto* data = archive.data() + data_at;
    if (type == 'L') {  // GNU long name for the next member
      long_name = field(data, static_cast<std::size_t>(size));
    } else {
      if (type == '0' || type == '\0') {
        if (!long_name.empty()) name = long_name;
        out.push_back({clean_name(name), std::vector<std::uint8_t>(data, data + size)});
      }
      long_name.clear();
    }
    pos = data_at + (static_cast<std::size_t>(size) + kBlock - 1) / kBlock * kBlock;
  }
  if (!saw_header) throw RigError(what + ": not a tar archive (empty or shorter than one 512-byte header)");
  return out;
}

std::vector<std::uint8_t> write_tar(const std::vector<TarEntry>& entries) {
  std::vector<std::uint8_t> out;
  for (const auto& e : entries) {
    std::array<std::uint8_t, kBlock> h{};
    std::memcpy(h.data(), e.name.data(), std::min<std::size_t>(e.name.size(), 99));
    put_octal(h.data() + 100, 8, 0644);
    put_octal(h.data() + 108, 8, 0);
    put_octal(h.data() + 116, 8, 0);
    put_octal(h.data() + 124, 12, e.data.size());
    put_octal(h.data() + 136, 12, 0);
    h[156] = '0';
    std::memcpy(h.data() + 257, "ustar", 6);  // "ustar\0"
    h[263] = '0';
    h[264] = '0';
    std::memcpy(h.data() + 265, "root", 4);
    std::memcpy(h.data() + 297, "root", 4);
    put_octal(h.data() + 148, 7, header_checksum(h.data()));
    h[155] = ' ';
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), e.data.begin(), e.data.end());
    out.resize((out.size() + kBlock - 1) / kBlock * kBlock, 0);
  }
  out.resize(out.size() + 2 * kBlock, 0);
  return out;
}

bool is_gzip(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
}

std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> gz, const std::string& what,
                                 std::size_t max_size) {
  ZStreamInflate z;
  if (!z.ok) throw RigError(what + ": zlib could not start inflating");
  std::vector<std::uint8_t> out;
  z.s.next_in = const_cast<Bytef*>(gz.data());  // zlib's API is not const-correct; it does not write input
  z.s.avail_in = static_cast<uInt>(gz.size());
  std::array<std::uint8_t, 64 * 1024> buf;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.s.next_out = buf.data();
    z.s.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z.s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      throw RigError(what + ": gzip data is corrupt (" +
                     (z.s.msg ? z.s.msg : "zlib error " + std::to_string(rc)) + ")");
    }
    out.insert(out.end(), buf.data(), buf.data() + (buf.size() - z.s.avail_out));
    if (out.size() > max_size) {
      throw RigError(what + ": unpacks to more than " + size_text(max_size) +
                     ", more than a firmware bundle can hold; not a firmware bundle");
    }
    if (rc == Z_OK && z.s.avail_in == 0 && z.s.avail_out != 0) {
      throw RigError(what + ": gzip data ends early (truncated download?)");
    }
  }
  return out;
}

std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> data) {
  ZStreamDeflate z;
  if (!z.ok) throw RigError("zlib could not start deflating");
  std::vector<std::uint8_t> out(deflateBound(&z.s, static_cast<uLong>(data.size())) + 32);
  z.s.next_in = const_cast<Bytef*>(data.data());
  z.s.avail_in = static_cast<uInt>(data.size());
  z.s.next_out = out.data();
  z.s.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z.s, Z_FINISH) != Z_STREAM_END) throw RigError("zlib could not compress the bundle");
  out.resize(z.s.total_out);
  return out;
}

std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> data, int level) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::vector<std::uint8_t> out(size);
  if (compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), level) != Z_OK)
    throw RigError("zlib could not compress the image");
  out.resize(size);
  return out;
}

struct ZlibInflater::State {
  z_stream s{};
  bool ok = false;
  State() { ok = inflateInit(&s) == Z_OK; }
  ~State() {
    if (ok) inflateEnd(&s);
  }
};

ZlibInflater::ZlibInflater() : z_(std::make_unique<State>()) {
  if (!z_->ok) error_ = "zlib could not start inflating";
}
ZlibInflater::~ZlibInflater() = default;

bool ZlibInflater::feed(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                        std::size_t max_out) {
  if (!z_->ok) return false;
  if (finished_) {
    if (in.empty()) return true;
    error_ = "data after the end of the zlib stream";
    return false;
  }
  z_->s.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it does not write input
  z_->s.avail_in = static_cast<uInt>(in.size());
  std::array<std::uint8_t, 16 * 1024> buf;
  for (;;) {
    z_->s.next_out = buf.data();
    z_->s.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&z_->s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      error_ = z_->s.msg ? z_->s.msg : "zlib error " + std::to_string(rc);
      return false;
    }
    const std::size_t n = buf.size() - z_->s.avail_out;
    produced_ += n;
    if (produced_ > max_out) {
      error_ = "inflates to more than the " + std::to_string(max_out) + " bytes announced";
      return false;
    }
    out.insert(out.end(), buf.data(), buf.data() + n);
    if (rc == Z_STREAM_END) {
      finished_ = true;
      if (z_->s.avail_in != 0) {
        error_ = "data after the end of the zlib stream";
        return false;
      }
      return true;
    }
    if (z_->s.avail_in == 0 && n < buf.size()) return true;  // needs more input
  }
}

}  // namespace bootrig
