// Makes deterministic ESP32 application images in the esptool elf2image layout, and breaks them on demand.
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
constexpr std::array<CorruptionName, 13> kCorruptions{{
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
    {ImageCorruption::missing_app_desc, "missing-app-desc"},
    {ImageCorruption::oversize, "oversize"},
}};
constexpr std::array<ImageCorruption, 12> kAllCorruptions{
    ImageCorruption::bad_magic,        ImageCorruption::truncated_header,   ImageCorruption::segment_count,
    ImageCorruption::segment_past_end, ImageCorruption::misaligned_segment, ImageCorruption::truncated,
    ImageCorruption::bad_checksum,     ImageCorruption::bad_sha256,         ImageCorruption::corrupt_payload,
    ImageCorruption::wrong_chip,       ImageCorruption::missing_app_desc,   ImageCorruption::oversize};

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

// Where esptool places the usual ESP32 app segments: DROM, DRAM, IRAM, IROM; more segments repeat DRAM.
std::uint32_t load_address(unsigned index) {
  switch (index) {
    case 0:
      return 0x3F400020;
    case 1:
      return 0x3FFB0000;
    case 2:
      return 0x40080000;
    case 3:
      return 0x400D0020;
    default:
      return 0x3FFB0000 + 0x2000 * index;
  }
}

struct Segment {
  std::uint32_t address;
  std::vector<std::uint8_t> data;
};

struct Layout {
  std::vector<std::uint8_t> bytes;
  std::size_t checksum_pos = 0;
  std::size_t sha_pos = 0;  // 0 when no digest is appended
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
  put_field(d.data() + 48, 32, to_string(spec.board));
  put_field(d.data() + 80, 16, spec.time);
  put_field(d.data() + 96, 16, spec.date);
  put_field(d.data() + 112, 32, spec.idf_version);
  // A stand-in for the ELF's digest: derived from the seed, so it differs between builds as a real one would.
  Prng(seed ^ 0xE1F).fill(d.data() + 144, 32);
  return d;
}

Layout serialize(std::uint8_t segment_count, std::uint16_t chip_id, bool append_sha256,
                 const std::vector<Segment>& segs) {
  Layout out;
  auto& b = out.bytes;
  b.assign(kEspImageHeaderSize, 0);
  b[0] = kEspImageMagic;
  b[1] = segment_count;
  b[2] = static_cast<std::uint8_t>(SpiFlashMode::dio);
  b[3] = 0x2F;  // 4 MB (2 << 4), 80 MHz (0xF): what Pycom's tools flash with
  le::store32(b.data() + 4, segs.size() > 2 ? segs[2].address + 0x4F4 : 0x40080400);
  b[8] = 0xEE;  // WP pin: disabled, as esp-idf writes it
  le::store16(b.data() + 12, chip_id);
  b[23] = append_sha256 ? 1 : 0;
  std::uint8_t checksum = kEspChecksumSeed;
  for (const auto& s : segs) {
    // Flash-mapped segments (DROM, IROM) go through the MMU in 64 KiB pages, so the bootloader insists that
    // load address and file offset agree modulo 64 KiB; esptool pads to get there, the builder moves the
    // address.
    std::uint32_t address = s.address;
    const std::uint32_t data_offset = static_cast<std::uint32_t>(b.size() + kEspSegmentHeaderSize);
    if (address >= 0x400D0000 && address < 0x40C00000) address = 0x400D0000 | (data_offset & 0xFFFF);
    if (address >= 0x3F400000 && address < 0x3F800000) address = 0x3F400000 | (data_offset & 0xFFFF);
    le::append32(b, address);
    le::append32(b, static_cast<std::uint32_t>(s.data.size()));
    b.insert(b.end(), s.data.begin(), s.data.end());
    checksum = esp_checksum(s.data, checksum);
  }
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
  if (spec.segments == 0 || spec.segments > kEspMaxSegments) {
    throw std::invalid_argument("an image has 1 to 16 segments, not " + std::to_string(spec.segments));
  }
  if (spec.version.size() > 31)
    throw std::invalid_argument("version longer than 31 characters: " + spec.version);
  if (spec.board == PycomBoard::unknown) throw std::invalid_argument("no board given");

  const std::uint64_t seed = spec.seed != 0 ? spec.seed : fnv1a(to_string(spec.board), fnv1a(spec.version));
  Prng prng(seed);

  std::size_t payload = spec.payload_size;
  if (corruption == ImageCorruption::oversize)
    payload = std::max<std::size_t>(payload, spec.slot_size) + 4096;

  // Split the payload in 4-byte multiples; the first segment also carries the app description.
  std::vector<Segment> segs(spec.segments);
  const std::size_t per_segment = (payload / spec.segments + 3) / 4 * 4;
  for (unsigned i = 0; i < spec.segments; ++i) {
    segs[i].address = load_address(i);
    std::size_t n = per_segment;
    if (i == 0) {
      segs[i].data = app_description(spec, seed);
    }
    std::size_t at = segs[i].data.size();
    segs[i].data.resize(at + n);
    prng.fill(segs[i].data.data() + at, n);
  }
  if (corruption == ImageCorruption::missing_app_desc) le::store32(segs[0].data.data(), 0);
  if (corruption == ImageCorruption::misaligned_segment) {
    auto& s = segs.size() > 1 ? segs[1] : segs[0];
    s.data.push_back(0x5A);
    s.data.push_back(0xA5);
  }

  const bool with_sha = spec.append_sha256 || corruption == ImageCorruption::bad_sha256;
  const std::uint16_t chip = corruption == ImageCorruption::wrong_chip ? 0x0002 : kEsp32ChipId;
  Layout l = serialize(static_cast<std::uint8_t>(spec.segments), chip, with_sha, segs);
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
      std::size_t hdr = kEspImageHeaderSize;
      for (unsigned i = 0; i + 1 < spec.segments; ++i) hdr += kEspSegmentHeaderSize + segs[i].data.size();
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
      std::size_t end = kEspImageHeaderSize;
      for (const auto& s : segs) end += kEspSegmentHeaderSize + s.data.size();
      const std::size_t len = segs.back().data.size();
      b[len > 0 ? end - len / 2 - 1 : kEspImageHeaderSize + kEspSegmentHeaderSize + 255] ^= 0x10;
      break;
    }
    default:
      break;
  }
  return std::move(l.bytes);
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
    case ImageCorruption::missing_app_desc:
      return {ImageProblem::missing_app_desc};
    case ImageCorruption::oversize:
      return {ImageProblem::too_large_for_slot};
  }
  return {};
}

}  // namespace bootrig
