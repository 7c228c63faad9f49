// Fuzz target: what users flash: plain ESP32 images, Pycom bundles (gzip, tar, the JSON scripts), and the
// partition table inside them. Only a RigError naming the file may come out.
#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

void fuzz_firmware_file(const std::uint8_t* data, std::size_t size) {
  using namespace bootrig;
  std::span<const std::uint8_t> bytes(data, size);
  try {
    (void)parse_esp32_image(bytes);
    LoadedFirmware f = load_firmware_bytes(bytes, "fuzz.bin");
    if (f.is_bundle()) {
      for (std::uint32_t flash : {4u << 20, 8u << 20}) {
        for (const auto& w : bundle_writes(f, flash))
          if (w.offset == kPycomPartitionTableOffset)
            (void)partition_table_mismatch(parse_partition_table(w.bytes, "fuzz"), flash);
      }
    }
  } catch (const RigError&) {
  }
  try {
    (void)parse_partition_table(bytes, "fuzz");
  } catch (const RigError&) {
  }
}

}  // namespace

BOOTRIG_FUZZ_TARGET(firmware_file, fuzz_firmware_file)
