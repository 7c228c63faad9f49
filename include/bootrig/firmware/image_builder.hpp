// Builds ESP32 application images of any Pycom version and board, shaped like real builds and valid, or
// broken in one chosen way: the rig's source of firmware for tests, demos and the simulated module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/firmware/esp_image.hpp"

namespace bootrig {

// One corruption class per ImageProblem a bootloader or updater must catch.
enum class ImageCorruption : std::uint8_t {
  none,
  bad_magic,           // first byte 0xE8
  truncated_header,    // only the first 16 bytes
  segment_count,       // header claims 17 segments
  segment_past_end,    // last segment's length runs past the end of the file
  misaligned_segment,  // a segment 2 bytes longer than a multiple of 4 (checksum and digest still right)
  truncated,           // the second half of the file is missing (an interrupted download)
  bad_checksum,        // checksum byte wrong, digest recomputed so only the checksum is caught
  bad_sha256,          // appended digest wrong
  corrupt_payload,     // one payload byte flipped after sealing: checksum and digest both disagree
  wrong_chip,          // built for the ESP32-S2 (chip id 2)
  unmapped_offset,     // the IROM segment's load address moved off its flash offset (modulo 64 KiB)
  bad_load_address,    // the DRAM segment loads over the bootloader's own RAM (0x3FFF0000)
  oversize,            // longer than the slot it is meant for
};
const char* to_string(ImageCorruption c);  // "bad-checksum"
std::optional<ImageCorruption> parse_corruption(std::string_view name);
std::span<const ImageCorruption> all_corruptions();  // every class except none

// pycom: as Pycom's firmware is built (no app description; the banner literal, the version and the board name
// in rodata). idf: an ESP-IDF app whose app description opens its rodata (project_name and version as
// given), without Pycom strings.
enum class ImageStyle : std::uint8_t { pycom, idf };
const char* to_string(ImageStyle s);

// Segments in file order as esptool's elf2image writes an app: DROM (rodata, mapped at 0x3F400000 + its
// offset), the RAM segments (DRAM, IRAM, more DRAM), a padding segment (load address 0) so that the IROM
// segment's data starts on the same offset in its 64 KiB page as its load address, then IROM (code). The
// payload is shaped like a real build's: strings and tables in rodata, instruction-like bytes in code, mostly
// zeros in data, so that it compresses about as well as a real image (about 60 %).
struct ImageSpec {
  std::string version = "1.20.2.r4";
  PycomBoard board = PycomBoard::fipy;
  ImageStyle style = ImageStyle::pycom;
  std::size_t payload_size = 16 * 1024;  // bytes of rodata, data and code (padding not counted)
  unsigned segments = 3;                 // payload segments: DROM, IROM, DRAM, IRAM, then more DRAM (1 to 15)
  bool append_sha256 = true;
  std::uint64_t seed = 0;  // 0: derived from version and board, so equal specs give identical images
  std::string git_tag = "v1.11-a5aa0b8";  // the banner's MicroPython base
  std::string build_date = "2021-01-12";  // the banner's build date
  std::string project;                    // idf style: the app description's project_name (empty: the board)
  std::string idf_version = "v3.3.1";
  std::string date = "Jan 12 2021";  // the app description's build date and time (idf style)
  std::string time = "10:25:43";
  std::uint32_t slot_size = kPycomSlotSize4MB;  // what ImageCorruption::oversize exceeds
  // pycom style: how the build misbehaves on the simulated module (its marker in rodata); the image stays
  // valid by the bootloader's rules.
  SimBreakage breaks = SimBreakage::none;
};

// A valid image for spec, or one with exactly the given corruption. Throws std::invalid_argument for a spec
// that cannot be built (0 or more than 15 payload segments, version or project longer than 31 characters).
std::vector<std::uint8_t> build_esp32_image(const ImageSpec& spec,
                                            ImageCorruption corruption = ImageCorruption::none);

// A second-stage bootloader image as the ROM loads it from 0x1000 (RAM segments only: DRAM at 0x3FFF0000, the
// loader's IRAM at 0x40078000, IRAM at 0x40080400): a stand-in with Pycom's layout, not Pycom's code.
std::vector<std::uint8_t> build_bootloader_image(std::uint64_t seed = 0xB007);

// The problems parse_esp32_image() reports for an image built with this corruption (with the default
// ImageLimits, or the spec's slot size): what tests and `bootrig image make` promise.
std::vector<ImageProblem> expected_problems(ImageCorruption corruption, const ImageSpec& spec = {});

}  // namespace bootrig
