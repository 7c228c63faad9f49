// Parses and validates ESP32 images the way the ROM, the esp-idf bootloader and esptool read them, and reads
// what the firmware says it is.
#include "bootrig/firmware/esp_image.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>

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

void add(Esp32Image& img, ImageProblem p, std::string detail,
         std::optional<unsigned> segment = std::nullopt) {
  img.problems.push_back({p, std::move(detail), segment});
}

struct Range {
  std::uint32_t low, high;
  const char* name;
};
// Where the ESP32 loads segments (esp-idf soc.h, esptool's memory map): DRAM, IRAM, RTC fast and slow memory.
constexpr std::array<Range, 5> kLoadable{{{0x3FFAE000, 0x40000000, "DRAM"},
                                          {0x40070000, 0x400A0000, "IRAM"},
                                          {0x3FF80000, 0x3FF82000, "RTC DRAM"},
                                          {0x400C0000, 0x400C2000, "RTC IRAM"},
                                          {0x50000000, 0x50002000, "RTC slow memory"}}};
// The second-stage bootloader's own RAM (esp-idf v3.3 bootloader.ld: dram_seg and iram_loader_seg): an app
// segment loaded there would overwrite the loader while it copies.
constexpr std::array<Range, 2> kLoaderRam{
    {{0x3FFF0000, 0x40000000, "the bootloader's DRAM"}, {0x40078000, 0x40080000, "the bootloader's IRAM"}}};

std::string segment_name(unsigned i, const EspSegment& s) {
  return "segment " + std::to_string(i) + " (load " + hex32(s.load_address) + ", " +
         std::to_string(s.length) + " bytes at file offset " +
         hex32(static_cast<std::uint32_t>(s.file_offset)) + ")";
}

void check_load_address(Esp32Image& img, unsigned i, const EspSegment& s) {
  // Below 0x10000000 nothing is loaded: esptool's padding segments (address 0) and reserved markers.
  if (s.load_address < 0x10000000 || is_flash_mapped(s.load_address) || s.length == 0) return;
  const std::uint64_t end = std::uint64_t{s.load_address} + s.length;
  const auto in = std::find_if(kLoadable.begin(), kLoadable.end(),
                               [&](const Range& r) { return s.load_address >= r.low && end <= r.high; });
  if (in == kLoadable.end()) {
    add(img, ImageProblem::bad_load_address,
        segment_name(i, s) + ": a loaded segment must lie inside the ESP32's DRAM, IRAM or RTC memory", i);
    return;
  }
  if (img.kind != ImageKind::app) return;  // the ROM loads a bootloader wherever it asks
  for (const auto& r : kLoaderRam) {
    if (s.load_address < r.high && end > r.low)
      add(img, ImageProblem::bad_load_address,
          segment_name(i, s) + ": overlaps " + r.name + " (" + hex32(r.low) + "-" + hex32(r.high) +
              "), which the bootloader runs from while it loads the app",
          i);
  }
}

// NUL-separated printable strings of a segment, with where they start.
std::vector<std::string_view> strings_in(std::span<const std::uint8_t> data) {
  std::vector<std::string_view> out;
  const char* p = reinterpret_cast<const char*>(data.data());
  std::size_t start = 0;
  for (std::size_t i = 0; i <= data.size(); ++i) {
    const bool end = i == data.size() || data[i] == 0 || data[i] < 0x0A || data[i] >= 0x7F;
    if (!end) continue;
    if (i > start + 2) out.emplace_back(p + start, i - start);
    start = i + 1;
  }
  return out;
}

bool looks_like_pycom_version(std::string_view v) {
  // 1.20.2.r4, 1.18.2.r7, 1.20.0.rc13, 1.20.1.b2: three numbers, optionally a release suffix.
  int numbers = 0;
  std::size_t i = 0;
  while (numbers < 3) {
    const std::size_t from = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == from) return false;
    ++numbers;
    if (numbers < 3) {
      if (i >= v.size() || v[i] != '.') return false;
      ++i;
    }
  }
  if (i == v.size()) return true;
  if (v[i] != '.' || ++i >= v.size()) return false;
  while (i < v.size() && std::isalpha(static_cast<unsigned char>(v[i]))) ++i;
  const std::size_t digits = i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  return i == v.size() && digits < i;
}

// "Pycom MicroPython VERSION [TAG] on DATE; BOARD with MCU\r\n" out of one string.
std::optional<FirmwareIdentity> parse_banner(std::string_view s) {
  static constexpr std::string_view kHead = "Pycom MicroPython ";
  auto at = s.find(kHead);
  if (at == std::string_view::npos) return std::nullopt;
  s.remove_prefix(at + kHead.size());
  auto take = [&s](std::string_view until, std::string& into) {
    auto p = s.find(until);
    if (p == std::string_view::npos) return false;
    into.assign(s.substr(0, p));
    s.remove_prefix(p + until.size());
    return true;
  };
  FirmwareIdentity id;
  if (!take(" [", id.version) || !take("] on ", id.git_tag) || !take("; ", id.build_date) ||
      !take(" with ", id.board_name))
    return std::nullopt;
  id.mcu.assign(s.substr(0, s.find_first_of("\r\n")));
  if (id.version.empty() || id.board_name.empty()) return std::nullopt;
  id.pycom = true;
  id.source = "banner";
  return id;
}

void read_identity(Esp32Image& img, std::span<const std::uint8_t> bytes) {
  std::optional<FirmwareIdentity> banner;
  std::string version_string, board_string;
  for (const auto& seg : img.segments) {
    if (seg.load_address < kDromLow || seg.load_address >= kDromHigh) continue;  // rodata is in DROM
    // The app description's fields are strings too; they speak for themselves below.
    const std::size_t skip =
        img.app && seg.file_offset == img.segments.front().file_offset ? kEspAppDescSize : 0;
    if (seg.length <= skip) continue;
    for (auto str : strings_in(bytes.subspan(seg.file_offset + skip, seg.length - skip))) {
      if (!banner) banner = parse_banner(str);
      if (version_string.empty() && looks_like_pycom_version(str)) version_string = str;
      if (board_string.empty() && parse_board(str)) board_string = str;
      if (str.substr(0, kSimBreaksMarker.size()) == kSimBreaksMarker)
        img.sim_breaks = parse_sim_breakage(str.substr(kSimBreaksMarker.size())).value_or(SimBreakage::none);
    }
  }
  const bool desc_named = img.app && !img.app->version.empty();
  FirmwareIdentity& id = img.identity;
  if (banner) {
    id = *banner;
    if (!version_string.empty() && version_string != id.version)
      id.note = "a standalone version string says " + version_string +
                "; the banner, which the firmware prints, wins";
  } else if (!version_string.empty() && !board_string.empty()) {
    id.pycom = true;
    id.version = version_string;
    id.board_name = board_string;
    id.mcu = "ESP32";
    id.source = "version and board strings";
  } else if (desc_named) {
    id.version = img.app->version;
    id.board_name = img.app->project_name;
    id.source = "app description";
    // bootrig's own ESP-IDF-style images name a Pycom board as their project: treat those as Pycom builds.
    id.pycom = parse_board(img.app->project_name).has_value();
  }
  if (id.source != "app description" && desc_named &&
      (img.app->version != id.version || img.app->project_name != id.board_name)) {
    if (!id.note.empty()) id.note += "; ";
    id.note += "the app description says " + img.app->project_name + " " + img.app->version + "; the " +
               id.source + " (what the firmware prints and os.uname() reports) wins";
  }
  img.board = id.pycom ? parse_board(id.board_name).value_or(PycomBoard::unknown) : PycomBoard::unknown;
}

}  // namespace

const char* to_string(SimBreakage b) {
  switch (b) {
    case SimBreakage::none:
      return "none";
    case SimBreakage::panic_at_boot:
      return "panic-at-boot";
    case SimBreakage::hang_before_repl:
      return "hang-before-repl";
    case SimBreakage::hang_after_banner:
      return "hang-after-banner";
    case SimBreakage::reboot_loop:
      return "reboot-loop";
    case SimBreakage::no_uart:
      return "no-uart";
  }
  return "?";
}

std::vector<SimBreakage> all_sim_breakages() {
  return {SimBreakage::panic_at_boot, SimBreakage::hang_before_repl, SimBreakage::hang_after_banner,
          SimBreakage::reboot_loop, SimBreakage::no_uart};
}

std::optional<SimBreakage> parse_sim_breakage(std::string_view name) {
  if (name == "none") return SimBreakage::none;
  for (auto b : all_sim_breakages())
    if (name == to_string(b)) return b;
  return std::nullopt;
}

bool is_flash_mapped(std::uint32_t a) {
  return (a >= kDromLow && a < kDromHigh) || (a >= kIromLow && a < kIromHigh);
}

const char* to_string(ImageKind k) { return k == ImageKind::bootloader ? "bootloader" : "app"; }

std::string pycom_banner(std::string_view version, std::string_view git_tag, std::string_view build_date,
                         std::string_view board, std::string_view mcu) {
  std::string s = "Pycom MicroPython ";
  s.append(version).append(" [").append(git_tag).append("] on ").append(build_date).append("; ");
  s.append(board).append(" with ").append(mcu);
  return s;
}

std::string Esp32Image::describe() const {
  if (kind == ImageKind::bootloader) return "a second-stage bootloader";
  if (identity.pycom) return identity.board_name + " " + identity.version;
  if (!identity.version.empty())
    return identity.board_name + " " + identity.version + " (not a Pycom MicroPython build)";
  return "an ESP32 app that names no version (not a Pycom MicroPython build)";
}

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
    case ImageProblem::segment_too_long:
      return "segment too long";
    case ImageProblem::unmapped_offset:
      return "mapped segment not congruent with its flash offset";
    case ImageProblem::bad_load_address:
      return "segment load address refused";
    case ImageProblem::truncated_footer:
      return "truncated footer";
    case ImageProblem::checksum_mismatch:
      return "checksum mismatch";
    case ImageProblem::sha256_mismatch:
      return "SHA-256 mismatch";
    case ImageProblem::wrong_chip:
      return "wrong chip";
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
    case ImageProblem::segment_too_long:
      return "segment_too_long";
    case ImageProblem::unmapped_offset:
      return "unmapped_offset";
    case ImageProblem::bad_load_address:
      return "bad_load_address";
    case ImageProblem::truncated_footer:
      return "truncated_footer";
    case ImageProblem::checksum_mismatch:
      return "checksum_mismatch";
    case ImageProblem::sha256_mismatch:
      return "sha256_mismatch";
    case ImageProblem::wrong_chip:
      return "wrong_chip";
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
          segment_name(i, seg) + ": a segment's length must be a multiple of 4", i);
    }
    if (seg.length >= 16u << 20)
      add(img, ImageProblem::segment_too_long, segment_name(i, seg) + ": a segment must be under 16 MB", i);
    // The flash MMU maps 64 KiB pages: a mapped segment's bytes must sit at the same offset within their
    // page in flash as in the address space (the slot starts on a page, so the file offset decides).
    if (is_flash_mapped(seg.load_address) &&
        seg.load_address % kMmuPageSize != seg.file_offset % kMmuPageSize) {
      add(img, ImageProblem::unmapped_offset,
          segment_name(i, seg) +
              ": a flash-mapped segment's load address and flash offset must agree modulo " + "64 KiB (" +
              hex32(seg.load_address % kMmuPageSize) + " vs " +
              hex32(static_cast<std::uint32_t>(seg.file_offset % kMmuPageSize)) + ")",
          i);
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

  // A bootloader has no flash-mapped segment: the ROM copies all of it into RAM.
  img.kind = std::any_of(img.segments.begin(), img.segments.end(),
                         [](const EspSegment& s) { return is_flash_mapped(s.load_address); })
                 ? ImageKind::app
                 : ImageKind::bootloader;
  for (unsigned i = 0; i < img.segments.size(); ++i) check_load_address(img, i, img.segments[i]);

  // esp_app_desc_t, where linked, opens the first (DROM) segment.
  const EspSegment& first = img.segments.front();
  if (img.kind == ImageKind::app && first.length >= kEspAppDescSize &&
      le::load32(h + first.file_offset) == kEspAppDescMagic) {
    const std::uint8_t* d = h + first.file_offset;
    EspAppDescription app;
    app.secure_version = le::load32(d + 4);
    app.version = c_field(d + 16, 32);
    app.project_name = c_field(d + 48, 32);
    app.time = c_field(d + 80, 16);
    app.date = c_field(d + 96, 16);
    app.idf_version = c_field(d + 112, 32);
    std::copy_n(d + 144, 32, app.elf_sha256.begin());
    img.app = std::move(app);
  }
  if (img.kind == ImageKind::app) read_identity(img, bytes);

  if (img.image_size > limits.slot_size) {
    add(img, ImageProblem::too_large_for_slot,
        std::to_string(img.image_size) + " bytes, the slot holds " + std::to_string(limits.slot_size) + " (" +
            hex32(limits.slot_size) + ")");
  }
  return img;
}

}  // namespace bootrig
