// Builds ESP32 application images of any Pycom version and board, valid or broken in one chosen way:
// the rig's source of firmware for tests, demos and the simulated module.
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
  missing_app_desc,    // first segment without esp_app_desc_t
  oversize,            // longer than the slot it is meant for
};
const char* to_string(ImageCorruption c);  // "bad-checksum"
std::optional<ImageCorruption> parse_corruption(std::string_view name);
std::span<const ImageCorruption> all_corruptions();  // every class except none

struct ImageSpec {
  std::string version = "1.20.2.r4";
  PycomBoard board = PycomBoard::fipy;
  std::size_t payload_size = 16 * 1024;  // pseudo-random bytes spread over the segments
  unsigned segments = 3;                 // 1 to 16
  bool append_sha256 = true;
  std::uint64_t seed = 0;  // 0: derived from version and board, so equal specs give identical images
  std::string idf_version = "v3.3.1";
  std::string date = "Jan 12 2021";
  std::string time = "10:25:43";
  std::uint32_t slot_size = kPycomSlotSize4MB;  // what ImageCorruption::oversize exceeds
};

// A valid image for spec, or one with exactly the given corruption. Throws std::invalid_argument for a spec
// that cannot be built (0 or more than 16 segments, version or board name longer than 31 characters).
std::vector<std::uint8_t> build_esp32_image(const ImageSpec& spec,
                                            ImageCorruption corruption = ImageCorruption::none);

// The problems parse_esp32_image() reports for an image built with this corruption (with the default
// ImageLimits, or the spec's slot size): what tests and `bootrig image make` promise.
std::vector<ImageProblem> expected_problems(ImageCorruption corruption, const ImageSpec& spec = {});

}  // namespace bootrig
