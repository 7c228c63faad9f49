// The simulated module's download mode by default: the ESP32 ROM serial loader (RomLoaderModel) over the
// module's whole flash: its own copy of everything outside the slots and otadata (second-stage bootloader,
// partition table, nvs, the filesystem's sectors), the slots and boot_info mirrored in and written back.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "bootrig/firmware/rom_loader_model.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "sim/flash.hpp"

namespace bootrig::sim {

// Flash addresses on the 4 MB parts: boot_info at the start of otadata.
inline constexpr std::uint32_t kOtadataAddress = 0x1BE000;

// The simulated module's identity as its registers show it: sim.mac (else a MAC in Espressif's range that
// no other simulated module of this run shares), sim.flash_id.
Esp32Identity esp32_identity(const SimConfig& config);

class RomDownload final : public SimDownloadHandler {
 public:
  // identity: the module's MAC, flash chip and crystal as its registers show them. The flash outside the
  // slots starts as a Pycom module's: a second-stage bootloader at 0x1000 and the partition table at 0x8000.
  RomDownload(FlashChip& flash, const Esp32Identity& identity);

  // Entering download mode at the UART's current rate: the slots and otadata are copied in (OTA may have
  // changed them), the session starts over (ROM loader, unsynced).
  void begin(unsigned baud);
  void begin() override { begin(115200); }
  // Feeds the loader and queues its replies.
  void received(std::string_view bytes, const std::function<void(std::string_view)>& reply) override;
  // Leaving download mode: writes the slots and boot_info back (only when something was erased or
  // written), as the bootloader will read them.
  void end() override;

  // After received(): the rate the UART must switch to once the reply is out; how the chip leaves the loader
  // (FLASH_END). Each is reported once.
  std::optional<unsigned> take_baud();
  std::optional<LoaderExit> take_exit();
  // Bytes programmed into flash since begin() (after inflating compressed writes).
  std::size_t bytes_programmed() const;

  RomLoaderModel& loader() { return loader_; }

 private:
  FlashChip& flash_;
  RomLoaderModel loader_;
  std::size_t bytes_at_begin_ = 0;
  std::size_t erased_at_begin_ = 0;
  std::optional<unsigned> baud_;
  std::optional<LoaderExit> exit_;
};

}  // namespace bootrig::sim
