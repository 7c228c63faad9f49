// Parses and validates ESP32 application images the way the esp-idf bootloader and esptool read them.
#include "bootrig/firmware/esp_image.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

struct BoardName {
  PycomBoard board;
  const char* name;
};
constexpr std::array<BoardName, 6> kBoards{{{PycomBoard::wipy, "WiPy"},
                                            {PycomBoard::lopy, "LoPy"},
                                            {PycomBoard::lopy4, "LoPy4"},
                                            {PycomBoard::sipy, "SiPy"},
                                            {PycomBoard::gpy, "GPy"},
                                            {PycomBoard::fipy, "FiPy"}}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A fixed-size C string field: up to the first NUL.
std::string c_field(const std::uint8_t* p, std::size_t n) {
  const auto* c = reinterpret_cast<const char*>(p);
  return std::string(c, strnlen(c, n));
}

void add(Esp32Image& img, ImageProblem p, std::string detail) {
  img.problems.push_back({p, std::move(detail)});
}

}  // namespace

const char* to_string(PycomBoard b) {
  for (const auto& e : kBoards) {
    if (e.board == b) return e.name;
  }
  return "unknown";
}

std::optional<PycomBoard> parse_board(std::string_view name) {
  for (const auto& e : kBoards) {
    if (iequals(name, e.name)) return e.board;
  }
  return std::nullopt;
}

PycomBoard board_from_project_name(std::string_view project_name) {
  return parse_board(project_name).value_or(PycomBoard::unknown);
}

const char* to_string(SpiFlashMode m) {
  switch (m) {
    case SpiFlashMode::qio:
      return "QIO";
    case SpiFlashMode::qout:
      return "QOUT";
    case SpiFlashMode::dio:
      return "DIO";
    case SpiFlashMode::dout:
      return "DOUT";
  }
  return "?";
}

std::uint32_t flash_size_from_code(std::uint8_t code) { return code <= 4 ? (0x100000u << code) : 0; }

unsigned flash_mhz_from_code(std::uint8_t code) {
  switch (code) {
    case 0x0:
      return 40;
    case 0x1:
      return 26;
    case 0x2:
      return 20;
    case 0xF:
      return 80;
    default:
      return 0;
  }
}

const char* chip_name(std::uint16_t chip_id) {
  switch (chip_id) {
    case 0x0000:
      return "ESP32";
    case 0x0002:
      return "ESP32-S2";
    case 0x0005:
      return "ESP32-C3";
    case 0x0009:
      return "ESP32-S3";
    case 0x000C:
      return "ESP32-C2";
    case 0x000D:
      return "ESP32-C6";
    case 0x0010:
      return "ESP32-H2";
    default:
      return "unknown chip";
  }
}

const char* to_string(ImageProblem p) {
  switch (p) {
    case ImageProblem::truncated_header:
      return "truncated header";
    case ImageProblem::bad_magic:
      return "bad magic";
    case ImageProblem::segment_count:
      return "segment count out of range";
    case ImageProblem::segment_past_end:
      return "segment runs past the end";
    case ImageProblem::misaligned_segment:
      return "misaligned segment";
    case ImageProblem::truncated_footer:
      return "truncated footer";
    case ImageProblem::checksum_mismatch:
      return "checksum mismatch";
    case ImageProblem::sha256_mismatch:
      return "SHA-256 mismatch";
    case ImageProblem::wrong_chip:
      return "wrong chip";
    case ImageProblem::missing_app_desc:
      return "missing app description";
    case ImageProblem::too_large_for_slot:
      return "too large for the slot";
  }
  return "?";
}

const char* problem_id(ImageProblem p) {
  switch (p) {
    case ImageProblem::truncated_header:
      return "truncated_header";
    case ImageProblem::bad_magic:
      return "bad_magic";
    case ImageProblem::segment_count:
      return "segment_count";
    case ImageProblem::segment_past_end:
      return "segment_past_end";
    case ImageProblem::misaligned_segment:
      return "misaligned_segment";
    case ImageProblem::truncated_footer:
      return "truncated_footer";
    case ImageProblem::checksum_mismatch:
      return "checksum_mismatch";
    case ImageProblem::sha256_mismatch:
      return "sha256_mismatch";
    case ImageProblem::wrong_chip:
      return "wrong_chip";
    case ImageProblem::missing_app_desc:
      return "missing_app_desc";
    case ImageProblem::too_large_for_slot:
      return "too_large_for_slot";
  }
  return "?";
}

bool Esp32Image::has(ImageProblem p) const {
  return std::any_of(problems.begin(), problems.end(), [p](const ImageIssue& i) { return i.problem == p; });
}

std::string Esp32Image::problem_summary() const {
  std::string s;
  for (const auto& i : problems) {
    if (!s.empty()) s += "; ";
    s += to_string(i.problem);
    if (!i.detail.empty()) s += " (" + i.detail + ")";
  }
  return s;
}

std::uint8_t esp_checksum(std::span<const std::uint8_t> data, std::uint8_t state) {
  for (auto b : data) state ^= b;
  return state;
}

Esp32Image parse_esp32_image(std::span<const std::uint8_t> bytes, const ImageLimits& limits) {
  Esp32Image img;
  img.slot_size = limits.slot_size;
  const std::size_t size = bytes.size();

  // Not an image at all: say so and stop, the rest would be noise.
  if (size >= 1 && bytes[0] != kEspImageMagic) {
    add(img, ImageProblem::bad_magic, "first byte " + hex8(bytes[0]) + ", expected 0xe9");
    return img;
  }
  if (size < kEspImageHeaderSize) {
    add(img, ImageProblem::truncated_header,
        std::to_string(size) + " bytes, the header alone needs " + std::to_string(kEspImageHeaderSize));
    return img;
  }

  const std::uint8_t* h = bytes.data();
  img.segment_count = h[1];
  img.spi_mode = static_cast<SpiFlashMode>(h[2] & 0x3);
  img.spi_speed_code = h[3] & 0x0F;
  img.spi_size_code = static_cast<std::uint8_t>(h[3] >> 4);
  img.entry_address = le::load32(h + 4);
  img.chip_id = le::load16(h + 12);
  img.min_chip_revision = h[14];
  img.hash_appended = h[23] == 1;

  if (img.chip_id != limits.chip_id) {
    add(img, ImageProblem::wrong_chip,
        "chip id " + std::to_string(img.chip_id) + " (" + chip_name(img.chip_id) + "), expected " +
            std::to_string(limits.chip_id) + " (" + chip_name(limits.chip_id) + ")");
  }
  if (img.segment_count == 0 || img.segment_count > kEspMaxSegments) {
    add(img, ImageProblem::segment_count,
        std::to_string(img.segment_count) + " segments, expected 1 to " + std::to_string(kEspMaxSegments));
    return img;
  }

  std::size_t offset = kEspImageHeaderSize;
  std::uint8_t checksum = kEspChecksumSeed;
  for (unsigned i = 0; i < img.segment_count; ++i) {
    if (offset + kEspSegmentHeaderSize > size) {
      add(img, ImageProblem::segment_past_end,
          "segment " + std::to_string(i) + " header at file offset " +
              hex32(static_cast<std::uint32_t>(offset)) + " is past the end of the " + std::to_string(size) +
              "-byte file");
      return img;
    }
    EspSegment seg;
    seg.load_address = le::load32(h + offset);
    seg.length = le::load32(h + offset + 4);
    seg.file_offset = offset + kEspSegmentHeaderSize;
    if (seg.length > size - seg.file_offset) {
      add(img, ImageProblem::segment_past_end,
          "segment " + std::to_string(i) + " (load " + hex32(seg.load_address) + ", " + hex32(seg.length) +
              " bytes at file offset " + hex32(static_cast<std::uint32_t>(seg.file_offset)) + ") needs " +
              std::to_string(seg.file_offset + seg.length - size) + " bytes more than the file has");
      img.segments.push_back(seg);
      return img;
    }
    if (seg.length % 4 != 0) {
      add(img, ImageProblem::misaligned_segment,
          "segment " + std::to_string(i) + " is " + std::to_string(seg.length) +
              " bytes, not a multiple of 4");
    }
    checksum = esp_checksum(bytes.subspan(seg.file_offset, seg.length), checksum);
    img.segments.push_back(seg);
    offset = seg.file_offset + seg.length;
  }
  img.computed_checksum = checksum;

  // Zero padding up to the last byte of a 16-byte block, which holds the checksum.
  const std::size_t checksum_pos = offset + (15 - offset % 16);
  std::size_t end = checksum_pos + 1;
  if (checksum_pos >= size) {
    add(img, ImageProblem::truncated_footer,
        "checksum byte at file offset " + hex32(static_cast<std::uint32_t>(checksum_pos)) +
            " is past the end of the " + std::to_string(size) + "-byte file");
  } else {
    img.stored_checksum = bytes[checksum_pos];
    if (img.stored_checksum != img.computed_checksum) {
      add(img, ImageProblem::checksum_mismatch,
          "stored " + hex8(img.stored_checksum) + ", computed " + hex8(img.computed_checksum));
    }
    if (img.hash_appended) {
      if (end + 32 > size) {
        add(img, ImageProblem::truncated_footer,
            "SHA-256 is flagged as appended but only " + std::to_string(size - end) + " of 32 bytes follow");
      } else {
        Sha256Digest stored;
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(end), 32, stored.begin());
        img.stored_sha256 = stored;
        img.computed_sha256 = sha256(bytes.first(end));
        if (stored != *img.computed_sha256) {
          add(img, ImageProblem::sha256_mismatch,
              "stored " + to_hex(stored).substr(0, 16) + "..., computed " +
                  to_hex(*img.computed_sha256).substr(0, 16) + "...");
        }
      }
      end += 32;
    }
  }
  img.image_size = end;
  img.trailing_bytes = size > end ? size - end : 0;

  const EspSegment& first = img.segments.front();
  if (first.length >= kEspAppDescSize && le::load32(h + first.file_offset) == kEspAppDescMagic) {
    const std::uint8_t* d = h + first.file_offset;
    EspAppDescription app;
    app.secure_version = le::load32(d + 4);
    app.version = c_field(d + 16, 32);
    app.project_name = c_field(d + 48, 32);
    app.time = c_field(d + 80, 16);
    app.date = c_field(d + 96, 16);
    app.idf_version = c_field(d + 112, 32);
    std::copy_n(d + 144, 32, app.elf_sha256.begin());
    img.board = board_from_project_name(app.project_name);
    img.app = std::move(app);
  } else {
    std::string found = first.length >= 4 ? "word " + hex32(le::load32(h + first.file_offset))
                                          : std::to_string(first.length) + "-byte segment";
    add(img, ImageProblem::missing_app_desc,
        "first segment starts with " + found + ", expected magic 0xabcd5432");
  }

  if (img.image_size > limits.slot_size) {
    add(img, ImageProblem::too_large_for_slot,
        std::to_string(img.image_size) + " bytes, the slot holds " + std::to_string(limits.slot_size) + " (" +
            hex32(limits.slot_size) + ")");
  }
  return img;
}

}  // namespace bootrig
