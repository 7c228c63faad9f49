// The simulated module's download mode by default: the ESP32 ROM serial loader (RomLoaderModel) over a copy
// of the module's flash, written back into the slots and otadata when the chip leaves download mode.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "bootrig/firmware/rom_loader_model.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "sim/flash.hpp"

namespace bootrig::sim {

// Flash addresses on the 4 MB parts: boot_info at the start of otadata.
inline constexpr std::uint32_t kOtadataAddress = 0x1BE000;

class RomDownload final : public SimDownloadHandler {
 public:
  explicit RomDownload(FlashChip& flash);

  // Entering download mode: the loader's flash becomes a copy of the module's (slots, otadata, the rest
  // erased) and the session starts over (unsynced).
  void begin() override;
  // Feeds the loader and queues its replies.
  void received(std::string_view bytes, const std::function<void(std::string_view)>& reply) override;
  // Leaving download mode: writes the slots and boot_info back (only when something was erased or
  // written), as the bootloader will read them.
  void end() override;

  // After received(): a CHANGE_BAUDRATE the chip must apply once its reply is out; a FLASH_END (true: run
  // the app). Each is reported once.
  std::optional<unsigned> take_baud();
  std::optional<bool> take_flash_end();
  // Bytes programmed by FLASH_DATA since begin() (whole 0x400-byte blocks).
  std::size_t bytes_programmed() const;

  RomLoaderModel& loader() { return loader_; }

 private:
  FlashChip& flash_;
  RomLoaderModel loader_;
  std::size_t blocks_at_begin_ = 0;
  std::size_t erased_at_begin_ = 0;
  std::optional<unsigned> baud_;
  std::optional<bool> flash_end_;
};

}  // namespace bootrig::sim
