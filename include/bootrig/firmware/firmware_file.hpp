// Loads the application image out of what users flash: a plain .bin or a Pycom firmware bundle (.tar.gz).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/esp_image.hpp"

namespace bootrig {

// Where the app image came from.
struct FirmwareSource {
  std::string file;    // the path given
  std::string member;  // the tar member ("fipy.bin"), empty for a plain .bin
  std::string rule;  // how it was chosen: "plain image", "script_4MB: w factory", "only app image in bundle"
  std::uint32_t flash_offset = kPycomFactoryOffset;
  std::optional<std::uint32_t> partition_size;  // the factory size the bundle's script declares
  std::string describe() const;                 // "FiPy-1.20.2.r4.tar.gz: fipy.bin (script2: w factory)"
};

struct LoadedFirmware {
  FirmwareSource source;
  std::vector<std::uint8_t> bytes;  // the app image alone
  Esp32Image image;                 // parsed; image.problems lists what is wrong with it
};

struct LoadOptions {
  ImageLimits limits;
  // A bundle whose script declares the factory partition's size is checked against that size instead of
  // limits.slot_size (an explicit --slot-size turns this off).
  bool slot_size_from_bundle = true;
};

// Reading rule for bundles, in this order (Pycom's updater, esp32/tools/fw_updater/updater.py, reads the same
// files): the JSON scripts script_4MB, script2, script_8MB ({"version", "partitions": {name: [offset, size]},
// "script": [["w", partition, file], ...]}) name the file written to "factory"; the legacy "script" (a JSON
// list of ["w", "0x10000", file]) names the file written at 0x10000; without a script, the one .bin member
// that parses as an app image with an app description is taken. Throws RigError naming the file for an
// unreadable file, a broken archive or script, or a bundle without exactly one app image. A bad image is not
// an exception: it comes back with image.problems filled.
LoadedFirmware load_firmware_file(const std::string& path, const LoadOptions& options = {});
LoadedFirmware load_firmware_bytes(std::span<const std::uint8_t> bytes, const std::string& name,
                                   const LoadOptions& options = {});

// A bundle in Pycom's layout (makepkg.sh): bootloader.bin, partitions.bin, <board>.bin, script2 and the
// legacy script, gzip-compressed. The bootloader and partition table are bootrig-made stand-ins, not Pycom's.
std::vector<std::uint8_t> make_pycom_bundle(std::span<const std::uint8_t> app_image, PycomBoard board);

std::vector<std::uint8_t> read_binary_file(const std::string& path);  // throws RigError naming the path
void write_binary_file(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace bootrig
