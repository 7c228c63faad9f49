// Makes deterministic ESP32 application images in the esptool elf2image layout, shaped like Pycom's builds,
// and breaks them on demand.
#include "bootrig/firmware/image_builder.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

struct CorruptionName {
  ImageCorruption c;
  const char* name;
};
constexpr std::array<CorruptionName, 14> kCorruptions{{
    {ImageCorruption::none, "none"},
    {ImageCorruption::bad_magic, "bad-magic"},
    {ImageCorruption::truncated_header, "truncated-header"},
    {ImageCorruption::segment_count, "segment-count"},
    {ImageCorruption::segment_past_end, "segment-past-end"},
    {ImageCorruption::misaligned_segment, "misaligned-segment"},
    {ImageCorruption::truncated, "truncated"},
    {ImageCorruption::bad_checksum, "bad-checksum"},
    {ImageCorruption::bad_sha256, "bad-sha256"},
    {ImageCorruption::corrupt_payload, "corrupt-payload"},
    {ImageCorruption::wrong_chip, "wrong-chip"},
    {ImageCorruption::unmapped_offset, "unmapped-offset"},
    {ImageCorruption::bad_load_address, "bad-load-address"},
    {ImageCorruption::oversize, "oversize"},
}};
constexpr std::array<ImageCorruption, 13> kAllCorruptions{
    ImageCorruption::bad_magic,        ImageCorruption::truncated_header,   ImageCorruption::segment_count,
    ImageCorruption::segment_past_end, ImageCorruption::misaligned_segment, ImageCorruption::truncated,
    ImageCorruption::bad_checksum,     ImageCorruption::bad_sha256,         ImageCorruption::corrupt_payload,
    ImageCorruption::wrong_chip,       ImageCorruption::unmapped_offset,    ImageCorruption::bad_load_address,
    ImageCorruption::oversize};

// splitmix64: tiny, well mixed, and the same on every platform.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  void fill(std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t v = next();
      for (std::size_t j = 0; j < 8 && i + j < n; ++j) p[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
    }
  }

 private:
  std::uint64_t s_;
};

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

enum class SegKind : std::uint8_t { drom, irom, dram, iram };

// Payload segment i's kind: DROM, IROM, DRAM, IRAM, then more DRAM.
SegKind kind_of(unsigned i) {
  switch (i) {
    case 0:
      return SegKind::drom;
    case 1:
      return SegKind::irom;
    case 3:
      return SegKind::iram;
    default:
      return SegKind::dram;
  }
}

std::uint32_t ram_address(SegKind k, unsigned i) {
  return k == SegKind::iram ? 0x40080000 : 0x3FFB0000 + 0x2000 * (i >= 2 ? i - 2 : 0);
}

// Share of the payload each kind gets (a real MicroPython build: about a quarter rodata, most of the rest
// code).
double weight(SegKind k) {
  switch (k) {
    case SegKind::drom:
      return 0.25;
    case SegKind::irom:
      return 0.60;
    case SegKind::iram:
      return 0.10;
    case SegKind::dram:
      return 0.05;
  }
  return 0;
}

constexpr const char* kWords[] = {"OSError",
                                  "ValueError",
                                  "TypeError",
                                  "the requested operation failed",
                                  "pycom",
                                  "machine",
                                  "network",
                                  "LoRa",
                                  "Sigfox",
                                  "LTE",
                                  "WLAN",
                                  "Bluetooth",
                                  "socket",
                                  "ussl",
                                  "utime",
                                  "uos",
                                  "flash",
                                  "sd",
                                  "object has no attribute",
                                  "argument num/types mismatch",
                                  "can't convert",
                                  "to int",
                                  "buffer too small",
                                  "heartbeat",
                                  "rgbled",
                                  "bootmgr",
                                  "ota_write",
                                  "nvs_set",
                                  "nvs_get",
                                  "pin",
                                  "Pin",
                                  "UART",
                                  "SPI",
                                  "I2C",
                                  "ADC",
                                  "DAC",
                                  "PWM",
                                  "RTC",
                                  "Timer",
                                  "WDT",
                                  "deepsleep",
                                  "wake_reason",
                                  "%s:%d",
                                  "0x%08x",
                                  "esp_wifi",
                                  "lwip",
                                  "tcpip_adapter",
                                  "invalid pin",
                                  "timeout",
                                  "MemoryError",
                                  "KeyError",
                                  "IndexError",
                                  "__init__",
                                  "__name__",
                                  "__class__",
                                  "append",
                                  "extend",
                                  "format",
                                  "encode",
                                  "decode",
                                  "read",
                                  "write",
                                  "close"};

// Rodata: NUL-terminated strings (4-byte aligned, as the linker leaves them) and small integer tables.
void fill_rodata(std::vector<std::uint8_t>& d, std::size_t n, Prng& prng) {
  const std::size_t end = d.size() + n;
  while (d.size() < end) {
    if (prng.next() % 4 == 0) {
      for (int k = 0; k < 8 && d.size() < end; ++k) {
        const std::uint32_t v = static_cast<std::uint32_t>(prng.next() % 0x400);
        for (int b = 0; b < 4 && d.size() < end; ++b) d.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
      }
      continue;
    }
    std::string_view w = kWords[prng.next() % std::size(kWords)];
    for (char c : w) {
      if (d.size() < end) d.push_back(static_cast<std::uint8_t>(c));
    }
    while (d.size() < end) {
      d.push_back(0);
      if (d.size() % 4 == 0) break;
    }
  }
}

// Code: 3-byte Xtensa-like instructions, opcodes from a small skewed set, operands varying.
void fill_code(std::vector<std::uint8_t>& d, std::size_t n, Prng& prng) {
  static constexpr std::uint8_t kOps[] = {0x0C, 0x1C, 0x22, 0x32, 0x42, 0x52, 0x66, 0x81, 0x91, 0xA2, 0xC0,
                                          0xE5, 0x06, 0x16, 0x26, 0x37, 0x47, 0x56, 0xB6, 0xCC, 0xF0, 0x1D};
  const std::size_t end = d.size() + n;
  while (d.size() < end) {
    const std::uint64_t r = prng.next();
    // A skewed pick: low indices far more often, as real code repeats a few instructions.
    const std::size_t op = (r & 0xFF) % (1 + ((r >> 8) & 0xFF) % std::size(kOps));
    const std::uint8_t bytes[3] = {kOps[op], static_cast<std::uint8_t>((r >> 16) & 0x1F),
                                   static_cast<std::uint8_t>(((r >> 24) & 0x3) ? (r >> 26) & 0x0F : r >> 32)};
    for (auto b : bytes) {
      if (d.size() < end) d.push_back(b);
    }
  }
}

// Data: mostly zero-initialised words, some pointers into DRAM and flash.
void fill_data(std::vector<std::uint8_t>& d, std::size_t n, Prng& prng) {
  const std::size_t end = d.size() + n;
  while (d.size() < end) {
    const std::uint64_t r = prng.next();
    std::uint32_t v = 0;
    if (r % 5 == 0) v = 0x3FFB0000 | static_cast<std::uint32_t>((r >> 8) & 0xFFFC);
    if (r % 7 == 0) v = 0x3F400000 | static_cast<std::uint32_t>((r >> 8) & 0xFFFFC);
    for (int b = 0; b < 4 && d.size() < end; ++b) d.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
  }
}

void put_cstring(std::vector<std::uint8_t>& d, std::string_view s) {
  d.insert(d.end(), s.begin(), s.end());
  do {
    d.push_back(0);
  } while (d.size() % 4 != 0);
}

struct Segment {
  std::uint32_t address;
  std::vector<std::uint8_t> data;
  bool mapped_irom = false;  // placed last, after padding, at an address matching its offset
};

struct Layout {
  std::vector<std::uint8_t> bytes;
  std::size_t checksum_pos = 0;
  std::size_t sha_pos = 0;           // 0 when no digest is appended
  std::size_t irom_header = 0;       // file offset of the IROM segment's header, 0 when there is none
  std::vector<std::size_t> headers;  // file offset of each segment's header, in file order
};

void put_field(std::uint8_t* dst, std::size_t size, std::string_view value) {
  std::memset(dst, 0, size);
  std::memcpy(dst, value.data(), std::min(value.size(), size - 1));
}

std::vector<std::uint8_t> app_description(const ImageSpec& spec, std::uint64_t seed) {
  std::vector<std::uint8_t> d(kEspAppDescSize, 0);
  le::store32(d.data(), kEspAppDescMagic);
  le::store32(d.data() + 4, 0);  // secure_version
  put_field(d.data() + 16, 32, spec.version);
  put_field(d.data() + 48, 32, spec.project.empty() ? to_string(spec.board) : spec.project);
  put_field(d.data() + 80, 16, spec.time);
  put_field(d.data() + 96, 16, spec.date);
  put_field(d.data() + 112, 32, spec.idf_version);
  // A stand-in for the ELF's digest: derived from the seed, so it differs between builds as a real one would.
  Prng(seed ^ 0xE1F).fill(d.data() + 144, 32);
  return d;
}

void append_segment(std::vector<std::uint8_t>& b, std::uint32_t address, std::span<const std::uint8_t> data) {
  le::append32(b, address);
  le::append32(b, static_cast<std::uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
}

Layout serialize(std::uint32_t entry, std::uint16_t chip_id, bool append_sha256, std::vector<Segment> segs) {
  Layout out;
  auto& b = out.bytes;
  b.assign(kEspImageHeaderSize, 0);
  b[0] = kEspImageMagic;
  b[2] = static_cast<std::uint8_t>(SpiFlashMode::dio);
  b[3] = 0x2F;  // 4 MB (2 << 4), 80 MHz (0xF): what Pycom's tools flash with
  le::store32(b.data() + 4, entry);
  b[8] = 0xEE;  // WP pin: disabled, as esp-idf writes it
  le::store16(b.data() + 12, chip_id);
  b[23] = append_sha256 ? 1 : 0;
  // IROM last, after padding (esptool pads the gap before a flash-mapped segment with a segment at address
  // 0).
  std::stable_partition(segs.begin(), segs.end(), [](const Segment& s) { return !s.mapped_irom; });
  std::uint8_t checksum = kEspChecksumSeed;
  std::uint8_t count = 0;
  for (auto& s : segs) {
    if (s.mapped_irom) {
      // The IROM segment's data should start at offset 0x20 of a 64 KiB page (where 0x400D0020 maps); pad
      // up to there, or to the next page when less than a segment header is left.
      const std::size_t data_at = b.size() + 2 * kEspSegmentHeaderSize;  // after padding's and IROM's headers
      std::size_t target = (data_at + 0xFFFF - 0x20) / 0x10000 * 0x10000 + 0x20;
      std::size_t pad = target - data_at;
      pad -= pad % 4;
      if (pad > 0) {
        std::vector<std::uint8_t> zeros(pad, 0);
        out.headers.push_back(b.size());
        append_segment(b, 0, zeros);
        ++count;
      }
      // A flash-mapped segment's address agrees with its flash offset modulo 64 KiB (the MMU's pages).
      const std::uint32_t data_offset = static_cast<std::uint32_t>(b.size() + kEspSegmentHeaderSize);
      s.address = 0x400D0000 | (data_offset & 0xFFFF);
      out.irom_header = b.size();
    } else if (s.address >= kDromLow && s.address < kDromHigh) {
      s.address = kDromLow | static_cast<std::uint32_t>((b.size() + kEspSegmentHeaderSize) & 0xFFFF);
    }
    out.headers.push_back(b.size());
    append_segment(b, s.address, s.data);
    checksum = esp_checksum(s.data, checksum);
    ++count;
  }
  b[1] = count;
  b.resize(b.size() + (15 - b.size() % 16), 0);
  out.checksum_pos = b.size();
  b.push_back(checksum);
  if (append_sha256) {
    out.sha_pos = b.size();
    auto digest = sha256(b);
    b.insert(b.end(), digest.begin(), digest.end());
  }
  return out;
}

void reseal_sha(Layout& l) {
  if (l.sha_pos == 0) return;
  auto digest = sha256(std::span<const std::uint8_t>(l.bytes.data(), l.sha_pos));
  std::copy(digest.begin(), digest.end(), l.bytes.begin() + static_cast<std::ptrdiff_t>(l.sha_pos));
}

}  // namespace

const char* to_string(ImageStyle s) { return s == ImageStyle::idf ? "idf" : "pycom"; }

const char* to_string(ImageCorruption c) {
  for (const auto& e : kCorruptions) {
    if (e.c == c) return e.name;
  }
  return "?";
}

std::optional<ImageCorruption> parse_corruption(std::string_view name) {
  for (const auto& e : kCorruptions) {
    if (name == e.name) return e.c;
  }
  return std::nullopt;
}

std::span<const ImageCorruption> all_corruptions() { return kAllCorruptions; }

std::vector<std::uint8_t> build_esp32_image(const ImageSpec& spec, ImageCorruption corruption) {
  if (spec.segments == 0 || spec.segments > kEspMaxSegments - 1) {
    throw std::invalid_argument("an image has 1 to 15 payload segments (one more is kept for padding), not " +
                                std::to_string(spec.segments));
  }
  if (spec.version.size() > 31)
    throw std::invalid_argument("version longer than 31 characters: " + spec.version);
  if (spec.project.size() > 31)
    throw std::invalid_argument("project longer than 31 characters: " + spec.project);
  if (spec.board == PycomBoard::unknown) throw std::invalid_argument("no board given");

  const std::uint64_t seed = spec.seed != 0 ? spec.seed : fnv1a(to_string(spec.board), fnv1a(spec.version));
  Prng prng(seed);

  std::size_t payload = spec.payload_size;
  if (corruption == ImageCorruption::oversize)
    payload = std::max<std::size_t>(payload, spec.slot_size) + 4096;

  double total_weight = 0;
  for (unsigned i = 0; i < spec.segments; ++i) total_weight += weight(kind_of(i));
  std::vector<Segment> segs(spec.segments);
  for (unsigned i = 0; i < spec.segments; ++i) {
    const SegKind k = kind_of(i);
    auto& s = segs[i];
    const std::size_t n =
        static_cast<std::size_t>(static_cast<double>(payload) * weight(k) / total_weight) / 4 * 4;
    switch (k) {
      case SegKind::drom:
        s.address = kDromLow + 0x20;
        if (spec.style == ImageStyle::idf) {
          s.data = app_description(spec, seed);
        } else {
          // What Pycom's firmware says about itself: the banner literal, SW_VERSION_NUMBER and the board
          // name.
          put_cstring(
              s.data,
              pycom_banner(spec.version, spec.git_tag, spec.build_date, to_string(spec.board)) + "\r\n");
          put_cstring(s.data, spec.version);
          put_cstring(s.data, to_string(spec.board));
          if (spec.breaks != SimBreakage::none)
            put_cstring(s.data, std::string(kSimBreaksMarker) + to_string(spec.breaks));
        }
        fill_rodata(s.data, n, prng);
        break;
      case SegKind::irom:
        s.mapped_irom = true;
        fill_code(s.data, n, prng);
        break;
      case SegKind::iram:
        s.address = ram_address(k, i);
        fill_code(s.data, n, prng);
        break;
      case SegKind::dram:
        s.address = ram_address(k, i);
        fill_data(s.data, n, prng);
        break;
    }
  }
  if (corruption == ImageCorruption::misaligned_segment) {
    auto& s = segs.size() > 2 ? segs[2] : segs[0];
    s.data.push_back(0x5A);
    s.data.push_back(0xA5);
  }
  if (corruption == ImageCorruption::bad_load_address) {
    Segment over;
    over.address = 0x3FFF0000;  // the bootloader's DRAM
    fill_data(over.data, 256, prng);
    segs.insert(segs.begin() + 1, std::move(over));
  }

  const bool with_sha = spec.append_sha256 || corruption == ImageCorruption::bad_sha256;
  const std::uint16_t chip = corruption == ImageCorruption::wrong_chip ? 0x0002 : kEsp32ChipId;
  const std::uint32_t entry = 0x400804F4;  // call_start_cpu0 in IRAM, as esp-idf links it
  Layout l = serialize(entry, chip, with_sha, std::move(segs));
  auto& b = l.bytes;

  switch (corruption) {
    case ImageCorruption::bad_magic:
      b[0] = 0xE8;
      break;
    case ImageCorruption::truncated_header:
      b.resize(16);
      break;
    case ImageCorruption::segment_count:
      b[1] = static_cast<std::uint8_t>(kEspMaxSegments + 1);
      reseal_sha(l);
      break;
    case ImageCorruption::segment_past_end: {
      // The last segment header sits right before its data; lengthen it by 64 KiB.
      const std::size_t hdr = l.headers.back();
      le::store32(b.data() + hdr + 4, le::load32(b.data() + hdr + 4) + 0x10000);
      reseal_sha(l);
      break;
    }
    case ImageCorruption::truncated:
      b.resize(b.size() / 2);
      break;
    case ImageCorruption::bad_checksum:
      b[l.checksum_pos] ^= 0xFF;
      reseal_sha(l);
      break;
    case ImageCorruption::bad_sha256:
      b.back() ^= 0x01;
      break;
    case ImageCorruption::corrupt_payload: {
      // A flipped bit in the middle of the last segment, as bit rot or a bad transfer leaves it.
      const std::size_t hdr = l.headers.back();
      const std::size_t len = le::load32(b.data() + hdr + 4);
      b[hdr + kEspSegmentHeaderSize + len / 2] ^= 0x10;
      break;
    }
    case ImageCorruption::unmapped_offset: {
      // The IROM segment (or, without one, DROM) four bytes off its flash offset within the MMU page.
      const std::size_t hdr = l.irom_header != 0 ? l.irom_header : l.headers.front();
      le::store32(b.data() + hdr, le::load32(b.data() + hdr) + 4);
      reseal_sha(l);
      break;
    }
    default:
      break;
  }
  return std::move(l.bytes);
}

std::vector<std::uint8_t> build_bootloader_image(std::uint64_t seed) {
  Prng prng(seed);
  std::vector<Segment> segs(3);
  segs[0].address = 0x3FFF0000;
  fill_data(segs[0].data, 0x400, prng);
  segs[1].address = 0x40078000;
  fill_code(segs[1].data, 0x1800, prng);
  segs[2].address = 0x40080400;
  fill_code(segs[2].data, 0x1400, prng);
  for (auto& s : segs) s.data.resize(s.data.size() / 4 * 4);
  return std::move(serialize(0x40080400 + 0x3B4, kEsp32ChipId, true, std::move(segs)).bytes);
}

std::vector<ImageProblem> expected_problems(ImageCorruption corruption, const ImageSpec& spec) {
  switch (corruption) {
    case ImageCorruption::none:
      return {};
    case ImageCorruption::bad_magic:
      return {ImageProblem::bad_magic};
    case ImageCorruption::truncated_header:
      return {ImageProblem::truncated_header};
    case ImageCorruption::segment_count:
      return {ImageProblem::segment_count};
    case ImageCorruption::segment_past_end:
      return {ImageProblem::segment_past_end};
    case ImageCorruption::misaligned_segment:
      return {ImageProblem::misaligned_segment};
    case ImageCorruption::truncated:
      return {ImageProblem::segment_past_end};
    case ImageCorruption::bad_checksum:
      return {ImageProblem::checksum_mismatch};
    case ImageCorruption::bad_sha256:
      return {ImageProblem::sha256_mismatch};
    case ImageCorruption::corrupt_payload:
      if (spec.append_sha256) return {ImageProblem::checksum_mismatch, ImageProblem::sha256_mismatch};
      return {ImageProblem::checksum_mismatch};
    case ImageCorruption::wrong_chip:
      return {ImageProblem::wrong_chip};
    case ImageCorruption::unmapped_offset:
      return {ImageProblem::unmapped_offset};
    case ImageCorruption::bad_load_address:
      return {ImageProblem::bad_load_address};
    case ImageCorruption::oversize:
      return {ImageProblem::too_large_for_slot};
  }
  return {};
}

}  // namespace bootrig
