// Loads the application image out of what users flash: a plain .bin or a Pycom firmware bundle (.tar.gz).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bootrig/core/bounded_file.hpp"
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
  std::string bundle_version;                   // the version the bundle's script names ("" if none)
  std::string bundle_board;                     // the board the app member's name names ("fipy.bin": FiPy)
  std::string describe() const;                 // "FiPy-1.20.2.r4.tar.gz: fipy.bin (script2: w factory)"
};

struct LoadedFirmware {
  FirmwareSource source;
  std::vector<std::uint8_t> bytes;  // the app image alone
  Esp32Image image;                 // parsed; image.problems lists what is wrong with it
  std::vector<TarEntry> members;    // a bundle's files (empty for a plain image)
  bool is_bundle() const { return !members.empty(); }
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
// legacy script, gzip-compressed; the scripts name the version. The bootloader and partition table are
// bootrig-made stand-ins with Pycom's layout, not Pycom's.
std::vector<std::uint8_t> make_pycom_bundle(std::span<const std::uint8_t> app_image, PycomBoard board,
                                            const std::string& version = "");

// A second-stage bootloader stand-in (build_bootloader_image) and the partition table of Pycom's layout for a
// 4 MB or 8 MB flash (esp32/lib/partitions.csv, partitions_8MB.csv), 0xC00 bytes in esp-idf's binary format.
std::vector<std::uint8_t> pycom_bootloader_image();
std::vector<std::uint8_t> pycom_partition_table(std::uint32_t flash_size);

struct Partition {
  std::uint8_t type = 0, subtype = 0;
  std::uint32_t offset = 0, size = 0;
  std::string label;
};
// An esp-idf binary partition table (32-byte entries, magic 0x50AA, an MD5 entry). Throws RigError("what:
// ...") for a table that is not one or whose MD5 does not match.
std::vector<Partition> parse_partition_table(std::span<const std::uint8_t> bytes, const std::string& what);
// "" when the table fits a flash of flash_size and is Pycom's layout for it; else one line saying why not
// (a partition past the end, the 8 MB layout on a 4 MB part, ...).
std::string partition_table_mismatch(const std::vector<Partition>& table, std::uint32_t flash_size);

// What the vendor's updater writes for a bundle, following its script (script_4MB or script_8MB by the flash
// size, else script2, else the legacy script): bootloader at 0x1000, partition table at 0x8000, app at
// 0x10000, in the script's order. Throws RigError naming the bundle for a script that names a missing file.
struct FlashWrite {
  std::uint32_t offset = 0;
  std::string name;  // the member
  std::vector<std::uint8_t> bytes;
};
std::vector<FlashWrite> bundle_writes(const LoadedFirmware& bundle, std::uint32_t flash_size);

// The most an image or bundle file may hold, and a bundle once unpacked (both from the largest flash).
FileBound firmware_file_bound();
std::size_t bundle_contents_bound();
// Reads an image or bundle file within firmware_file_bound() (read_bounded_file: regular files only).
std::vector<std::uint8_t> read_binary_file(const std::string& path);
void write_binary_file(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace bootrig
