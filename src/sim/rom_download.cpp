// The ROM loader behind the simulated module's download mode, mirroring the module's flash both ways.
#include "sim/rom_download.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/rom_protocol.hpp"

namespace bootrig::sim {

RomDownload::RomDownload(FlashChip& flash) : flash_(flash) {
  loader_.set_baud_hook([this](unsigned b) { baud_ = b; });
  loader_.set_flash_end_hook([this](bool reboot) { flash_end_ = reboot; });
}

void RomDownload::begin() {
  auto f = loader_.flash();
  std::fill(f.begin(), f.end(), std::uint8_t{0xFF});
  for (SlotId s : {SlotId::factory, SlotId::ota0}) {
    const auto& img = flash_.slots[static_cast<std::size_t>(s)];
    if (!img) continue;
    std::size_t n = std::min<std::size_t>(img->bytes.size(), kPycomSlotSize4MB);
    std::copy_n(reinterpret_cast<const std::uint8_t*>(img->bytes.data()), n, f.begin() + slot_address(s));
  }
  {
    std::lock_guard lk(flash_.otadata_m);
    std::copy(flash_.otadata.begin(), flash_.otadata.end(), f.begin() + kOtadataAddress);
  }
  loader_.reset_session();
  blocks_at_begin_ = loader_.stats().blocks_written;
  erased_at_begin_ = loader_.stats().erased_bytes;
  baud_.reset();
  flash_end_.reset();
}

void RomDownload::received(std::string_view bytes, const std::function<void(std::string_view)>& reply) {
  std::string out = loader_.feed(bytes);
  if (!out.empty()) reply(out);
}

std::optional<unsigned> RomDownload::take_baud() { return std::exchange(baud_, std::nullopt); }
std::optional<bool> RomDownload::take_flash_end() { return std::exchange(flash_end_, std::nullopt); }

std::size_t RomDownload::bytes_programmed() const {
  return (loader_.stats().blocks_written - blocks_at_begin_) * kRomFlashBlockSize;
}

void RomDownload::end() {
  if (loader_.stats().blocks_written == blocks_at_begin_ && loader_.stats().erased_bytes == erased_at_begin_)
    return;  // nothing changed: the module's flash is what it was
  auto f = std::as_const(loader_).flash();
  for (SlotId s : {SlotId::factory, SlotId::ota0}) {
    auto region = f.subspan(slot_address(s), kPycomSlotSize4MB);
    auto last = std::find_if(region.rbegin(), region.rend(), [](std::uint8_t b) { return b != 0xFF; });
    auto& slot = flash_.slots[static_cast<std::size_t>(s)];
    if (last == region.rend()) {
      slot.reset();  // erased: no image
      continue;
    }
    // The image's own length, as the bootloader finds it; a region that does not parse is kept up to its
    // last written byte so that the bootloader refuses it for the reason the bytes give.
    Esp32Image img = parse_esp32_image(region);
    std::size_t len =
        img.valid() && img.image_size > 0 ? img.image_size : static_cast<std::size_t>(region.rend() - last);
    slot = describe_image(std::string(reinterpret_cast<const char*>(region.data()), len));
  }
  std::lock_guard lk(flash_.otadata_m);
  std::copy_n(f.begin() + kOtadataAddress, flash_.otadata.size(), flash_.otadata.begin());
}

}  // namespace bootrig::sim
