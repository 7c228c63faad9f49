// The ESP32 image format (esp-idf esp_image_format.h / esp_app_format.h): parsing, validation by the rules
// the ESP32 bootloader applies, and what a firmware says about itself (a Pycom build's banner in its rodata,
// an ESP-IDF app description where one is linked).
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
// Pycom 8 MB layout (esp32/lib/partitions_8MB.csv): factory and ota_0 are 0x1EF000 long, the largest app
// slot of any Pycom module, and 8 MB is the largest flash one carries.
inline constexpr std::uint32_t kPycomSlotSize8MB = 0x1EF000;
inline constexpr std::uint32_t kPycomLargestSlot = kPycomSlotSize8MB;
inline constexpr std::uint32_t kPycomLargestFlash = 8u << 20;

// Where Pycom's tools put the second-stage bootloader and the partition table.
inline constexpr std::uint32_t kPycomBootloaderOffset = 0x1000;
inline constexpr std::uint32_t kPycomPartitionTableOffset = 0x8000;

// The ESP32's address ranges an image's segments load to (esptool's ESP32ROM.MEMORY_MAP, esp-idf soc.h).
inline constexpr std::uint32_t kDromLow = 0x3F400000, kDromHigh = 0x3F800000;  // flash-mapped rodata
inline constexpr std::uint32_t kIromLow = 0x400C2000, kIromHigh = 0x40C00000;  // flash-mapped code
inline constexpr std::uint32_t kMmuPageSize = 0x10000;                         // 64 KiB flash MMU pages
bool is_flash_mapped(std::uint32_t load_address);

// The Pycom modules bootrig knows (boards/*/mpconfigboard.h MICROPY_HW_BOARD_NAME).
enum class PycomBoard : std::uint8_t { unknown, wipy, lopy, lopy4, sipy, gpy, fipy };
const char* to_string(PycomBoard b);
// Case-insensitive; "LoPy4" and "lopy4" both parse. nullopt for anything else.
std::optional<PycomBoard> parse_board(std::string_view name);
// The board a name names: an exact (case-insensitive) board name, else unknown.
PycomBoard board_from_project_name(std::string_view project_name);

enum class SpiFlashMode : std::uint8_t { qio = 0, qout = 1, dio = 2, dout = 3 };
const char* to_string(SpiFlashMode m);
// The header's flash-size nibble for ESP32 (0 = 1MB .. 4 = 16MB) in bytes; 0 if not a known code.
std::uint32_t flash_size_from_code(std::uint8_t code);
// The header's flash-frequency nibble for ESP32 in MHz (0 = 40, 1 = 26, 2 = 20, 0xF = 80); 0 if unknown.
unsigned flash_mhz_from_code(std::uint8_t code);
const char* chip_name(std::uint16_t chip_id);

// How a test build made for the simulated module misbehaves once it runs (`bootrig image make --breaks`): a
// property of the image, written into its rodata as "bootrig-sim-breaks=<kind>" and read back from the bytes,
// so that the simulated module reacts to the image it was given, never to a version name. Real firmware
// carries no such string; a real board runs the image as built.
enum class SimBreakage : std::uint8_t {
  none,
  panic_at_boot,     // LoadProhibited in the firmware's start-up: panic dump, "Rebooting...", again and again
  hang_before_repl,  // stops in its start-up before the banner, LED dark (the heartbeat never starts)
  hang_after_banner,  // prints the banner and stops before the prompt (heartbeat running)
  reboot_loop,        // restarts itself (esp_restart) in its start-up, without a panic message
  no_uart,            // runs, heartbeat and all, but UART0 is silent after the ROM's lines
};
inline constexpr std::string_view kSimBreaksMarker = "bootrig-sim-breaks=";
const char* to_string(SimBreakage b);  // "panic-at-boot"
std::optional<SimBreakage> parse_sim_breakage(std::string_view name);
std::vector<SimBreakage> all_sim_breakages();  // every kind except none

// Everything that can be wrong with an image, one value per cause so tests and reports can tell them apart.
enum class ImageProblem : std::uint8_t {
  truncated_header,    // fewer than 24 bytes
  bad_magic,           // first byte is not 0xE9
  segment_count,       // 0 or more than 16 segments
  segment_past_end,    // a segment header or its data runs past the end of the file
  misaligned_segment,  // a segment length that is not a multiple of 4 (the bootloader refuses it)
  segment_too_long,    // a segment of 16 MB or more
  unmapped_offset,     // a flash-mapped segment whose load address and file offset differ modulo 64 KiB
  bad_load_address,    // a loaded segment outside the ESP32's RAM, or over the bootloader's own RAM
  truncated_footer,    // the checksum byte or the appended SHA-256 is missing
  checksum_mismatch,   // XOR of segment data (seeded 0xEF) differs from the stored byte
  sha256_mismatch,     // appended SHA-256 differs from the digest of everything before it
  wrong_chip,          // extended header names another chip than the ESP32
  too_large_for_slot,  // the image is longer than the app slot it is meant for
};
const char* to_string(ImageProblem p);   // "checksum mismatch": for people
const char* problem_id(ImageProblem p);  // "checksum_mismatch": for JSON and scripts

struct ImageIssue {
  ImageProblem problem;
  std::string detail;                 // one line with the numbers: "stored 0x12, computed 0x34"
  std::optional<unsigned> segment{};  // the segment the rule was broken by, when one was
};

struct EspSegment {
  std::uint32_t load_address = 0;
  std::uint32_t length = 0;
  std::size_t file_offset = 0;  // of the segment's data (after its 8-byte header)
};

// esp_app_desc_t, the part bootrig shows. Pycom's builds have none (their prebuilt one, where linked, has an
// empty version and project name).
struct EspAppDescription {
  std::uint32_t secure_version = 0;
  std::string version;
  std::string project_name;
  std::string time;
  std::string date;
  std::string idf_version;
  Sha256Digest elf_sha256{};
};

enum class ImageKind : std::uint8_t {
  app,         // an application: flash-mapped segments, started by the second-stage bootloader
  bootloader,  // a second-stage bootloader: RAM segments only, loaded by the ROM from 0x1000
};
const char* to_string(ImageKind k);

// What the firmware says it is, and which of its own statements bootrig took it from.
struct FirmwareIdentity {
  bool pycom = false;      // a Pycom MicroPython build (its banner or version/board strings were found)
  std::string version;     // "1.20.2.r4"; for other apps the app description's version
  std::string git_tag;     // "v1.11-a5aa0b8" (the MicroPython base)
  std::string build_date;  // "2021-01-12"
  std::string board_name;  // "FiPy"; for other apps the app description's project name
  std::string mcu;         // "ESP32"
  std::string source;      // "banner", "version and board strings", "app description" or "" (nothing)
  std::string note;        // where sources disagree: which won and why
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
  ImageKind kind = ImageKind::app;
  std::optional<EspAppDescription> app;  // present in the image (may be empty)
  FirmwareIdentity identity;
  PycomBoard board = PycomBoard::unknown;  // identity.board_name when it names a Pycom module
  SimBreakage sim_breaks = SimBreakage::none;  // a test build's breakage marker in its rodata
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
  // "FiPy 1.20.2.r4" for a Pycom build, "hello_world 1.0 (not a Pycom build)", "a bootloader" ...
  std::string describe() const;
};

struct ImageLimits {
  std::uint32_t slot_size = kPycomSlotSize4MB;
  std::uint16_t chip_id = kEsp32ChipId;
};

// Parses and validates an image (an app, or a bootloader) by the ESP32 bootloader's rules: magic, segment
// count, chip id, each segment's length (a multiple of 4, under 16 MB), each flash-mapped segment's load
// address congruent with its offset modulo 64 KiB, each loaded segment inside the ESP32's RAM and clear of
// the second-stage bootloader's own RAM (apps), checksum, appended SHA-256, and the slot's size. Then reads
// the firmware's identity: the Pycom banner in flash-mapped rodata, else standalone version and board
// strings; an app description with a non-empty version names it when no Pycom strings do. Never throws on bad
// bytes: every finding is in problems.
Esp32Image parse_esp32_image(std::span<const std::uint8_t> bytes, const ImageLimits& limits = {});

// The Pycom banner literal (lib/utils/pyexec.c) for these parts, without its "\r\n":
// "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32".
std::string pycom_banner(std::string_view version, std::string_view git_tag, std::string_view build_date,
                         std::string_view board, std::string_view mcu = "ESP32");

// The XOR checksum the bootloader checks, over a segment's data, continuing from state.
std::uint8_t esp_checksum(std::span<const std::uint8_t> data, std::uint8_t state = kEspChecksumSeed);

}  // namespace bootrig
