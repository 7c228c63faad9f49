// The ESP32 application image format (esp-idf esp_image_format.h / esp_app_format.h): parsing, validation,
// and the Pycom conventions bootrig reads from it (firmware version and board).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/firmware/hash.hpp"

namespace bootrig {

// Layout constants, as esp-idf and esptool define them.
inline constexpr std::uint8_t kEspImageMagic = 0xE9;
inline constexpr std::uint8_t kEspChecksumSeed = 0xEF;  // ESP_CHECKSUM_MAGIC
inline constexpr std::size_t kEspImageHeaderSize = 24;  // 8-byte header + 16-byte extended header
inline constexpr std::size_t kEspSegmentHeaderSize = 8;
inline constexpr std::size_t kEspMaxSegments = 16;  // ESP_IMAGE_MAX_SEGMENTS
inline constexpr std::uint32_t kEspAppDescMagic = 0xABCD5432;
inline constexpr std::size_t kEspAppDescSize = 256;
inline constexpr std::uint16_t kEsp32ChipId = 0;  // ESP_CHIP_ID_ESP32

// Pycom 4 MB layout (esp32/tools/script_4MB in pycom-micropython-sigfox): factory at 0x10000 and ota_0 at
// 0x1C0000 are 0x1B0000 apart, but each app partition is 0x1AE000 long because otadata sits at 0x1BE000
// right behind factory. An image longer than 0x1AE000 does not fit either slot.
inline constexpr std::uint32_t kPycomFactoryOffset = 0x10000;
inline constexpr std::uint32_t kPycomOta0Offset4MB = 0x1C0000;
inline constexpr std::uint32_t kPycomOta0Offset8MB = 0x210000;
inline constexpr std::uint32_t kPycomSlotSize4MB = 0x1AE000;

// The Pycom modules bootrig knows. bootrig's convention: the board name is stored in the app description's
// project_name ("FiPy"); the firmware version ("1.20.2.r4") in its version field.
enum class PycomBoard : std::uint8_t { unknown, wipy, lopy, lopy4, sipy, gpy, fipy };
const char* to_string(PycomBoard b);
// Case-insensitive; "LoPy4" and "lopy4" both parse. nullopt for anything else.
std::optional<PycomBoard> parse_board(std::string_view name);
// The board a project_name names: an exact (case-insensitive) board name, else unknown.
PycomBoard board_from_project_name(std::string_view project_name);

enum class SpiFlashMode : std::uint8_t { qio = 0, qout = 1, dio = 2, dout = 3 };
const char* to_string(SpiFlashMode m);
// The header's flash-size nibble for ESP32 (0 = 1MB .. 4 = 16MB) in bytes; 0 if not a known code.
std::uint32_t flash_size_from_code(std::uint8_t code);
// The header's flash-frequency nibble for ESP32 in MHz (0 = 40, 1 = 26, 2 = 20, 0xF = 80); 0 if unknown.
unsigned flash_mhz_from_code(std::uint8_t code);
const char* chip_name(std::uint16_t chip_id);

// Everything that can be wrong with an image, one value per cause so tests and reports can tell them apart.
enum class ImageProblem : std::uint8_t {
  truncated_header,    // fewer than 24 bytes
  bad_magic,           // first byte is not 0xE9
  segment_count,       // 0 or more than 16 segments
  segment_past_end,    // a segment header or its data runs past the end of the file
  misaligned_segment,  // a segment length that is not a multiple of 4 (the bootloader refuses it)
  truncated_footer,    // the checksum byte or the appended SHA-256 is missing
  checksum_mismatch,   // XOR of segment data (seeded 0xEF) differs from the stored byte
  sha256_mismatch,     // appended SHA-256 differs from the digest of everything before it
  wrong_chip,          // extended header names another chip than the ESP32
  missing_app_desc,    // the first segment does not start with esp_app_desc_t (magic 0xABCD5432)
  too_large_for_slot,  // the image is longer than the app slot it is meant for
};
const char* to_string(ImageProblem p);   // "checksum mismatch": for people
const char* problem_id(ImageProblem p);  // "checksum_mismatch": for JSON and scripts

struct ImageIssue {
  ImageProblem problem;
  std::string detail;  // one line with the numbers: "stored 0x12, computed 0x34"
};

struct EspSegment {
  std::uint32_t load_address = 0;
  std::uint32_t length = 0;
  std::size_t file_offset = 0;  // of the segment's data (after its 8-byte header)
};

// esp_app_desc_t, the part bootrig shows.
struct EspAppDescription {
  std::uint32_t secure_version = 0;
  std::string version;       // Pycom firmware version, e.g. "1.20.2.r4"
  std::string project_name;  // bootrig convention: the board name, e.g. "FiPy"
  std::string time;
  std::string date;
  std::string idf_version;
  Sha256Digest elf_sha256{};
};

// What a parse found. Fields are filled as far as the bytes allowed; valid() says whether nothing is wrong.
struct Esp32Image {
  std::uint8_t segment_count = 0;
  SpiFlashMode spi_mode = SpiFlashMode::qio;
  std::uint8_t spi_speed_code = 0;
  std::uint8_t spi_size_code = 0;
  std::uint32_t entry_address = 0;
  std::uint16_t chip_id = 0;
  std::uint8_t min_chip_revision = 0;
  bool hash_appended = false;
  std::vector<EspSegment> segments;
  std::optional<EspAppDescription> app;
  PycomBoard board = PycomBoard::unknown;
  std::uint8_t stored_checksum = 0;
  std::uint8_t computed_checksum = 0;
  std::optional<Sha256Digest> stored_sha256;
  std::optional<Sha256Digest> computed_sha256;
  std::size_t image_size = 0;      // header to checksum (and digest): what a slot must hold
  std::size_t trailing_bytes = 0;  // after the image, e.g. erased flash read back with it
  std::uint32_t slot_size = 0;     // the limit the image was checked against
  std::vector<ImageIssue> problems;

  bool valid() const { return problems.empty(); }
  bool has(ImageProblem p) const;
  // "checksum mismatch (stored 0x12, computed 0x34); SHA-256 mismatch (...)": every problem, one line.
  std::string problem_summary() const;
};

struct ImageLimits {
  std::uint32_t slot_size = kPycomSlotSize4MB;
  std::uint16_t chip_id = kEsp32ChipId;
};

// Parses and validates an application image. Never throws on bad bytes: every finding is in problems.
Esp32Image parse_esp32_image(std::span<const std::uint8_t> bytes, const ImageLimits& limits = {});

// The XOR checksum the bootloader checks, over a segment's data, continuing from state.
std::uint8_t esp_checksum(std::span<const std::uint8_t> data, std::uint8_t state = kEspChecksumSeed);

}  // namespace bootrig
