// The ROM loader behind the simulated module's download mode, mirroring the module's slots both ways.
#include "sim/rom_download.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <utility>

#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/rom_protocol.hpp"

namespace bootrig::sim {

namespace {

RomLoaderConfig loader_config(const Esp32Identity& identity) {
  RomLoaderConfig c;
  c.identity = identity;
  // The JEDEC capacity byte is log2 of the size: 0x16 is 4 MB.
  const unsigned capacity = (identity.jedec_id >> 16) & 0xFF;
  c.flash_size = capacity >= 0x13 && capacity <= 0x19 ? std::size_t{1} << capacity : 4u << 20;
  return c;
}

}  // namespace

Esp32Identity esp32_identity(const SimConfig& config) {
  Esp32Identity id;
  id.jedec_id = config.flash_id;
  unsigned b[6];
  if (!config.mac.empty() && std::sscanf(config.mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2],
                                         &b[3], &b[4], &b[5]) == 6) {
    for (int i = 0; i < 6; ++i) id.mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
    return id;
  }
  // Espressif's 24:0A:C4, then three bytes from this process and a counter: two simulated modules, in one
  // run or in two bootrig processes at once, do not share a MAC, as two real modules do not.
  static std::atomic<unsigned> counter{0};
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint64_t v : {std::uint64_t(::getpid()), std::uint64_t(counter++),
                          std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count())}) {
    h ^= v;
    h *= 0x100000001b3ull;
  }
  id.mac[3] = static_cast<std::uint8_t>(h >> 16);
  id.mac[4] = static_cast<std::uint8_t>(h >> 8);
  id.mac[5] = static_cast<std::uint8_t>(h);
  return id;
}

RomDownload::RomDownload(FlashChip& flash, const Esp32Identity& identity)
    : flash_(flash), loader_(loader_config(identity)) {
  loader_.set_baud_hook([this](unsigned b) { baud_ = b; });
  loader_.set_exit_hook([this](LoaderExit e) { exit_ = e; });
  // What a module leaves the factory with around the slots (the board does not boot through them, but a
  // host reading the flash finds them where a real module has them).
  const auto boot = pycom_bootloader_image();
  const auto table = pycom_partition_table(static_cast<std::uint32_t>(loader_.flash().size()));
  std::copy(boot.begin(), boot.end(), loader_.flash().begin() + kPycomBootloaderOffset);
  std::copy(table.begin(), table.end(), loader_.flash().begin() + kPycomPartitionTableOffset);
}

void RomDownload::begin(unsigned baud) {
  auto f = loader_.flash();
  for (SlotId s : {SlotId::factory, SlotId::ota0}) {
    auto region = f.subspan(slot_address(s), kPycomSlotSize4MB);
    std::fill(region.begin(), region.end(), std::uint8_t{0xFF});
    const auto& img = flash_.slots[static_cast<std::size_t>(s)];
    if (!img) continue;
    std::size_t n = std::min<std::size_t>(img->bytes.size(), kPycomSlotSize4MB);
    std::copy_n(reinterpret_cast<const std::uint8_t*>(img->bytes.data()), n, region.begin());
  }
  {
    std::lock_guard lk(flash_.otadata_m);
    std::copy(flash_.otadata.begin(), flash_.otadata.end(), f.begin() + kOtadataAddress);
  }
  loader_.reset_session();
  loader_.set_uart_baud(baud);
  bytes_at_begin_ = loader_.stats().bytes_written;
  erased_at_begin_ = loader_.stats().erased_bytes;
  baud_.reset();
  exit_.reset();
}

void RomDownload::received(std::string_view bytes, const std::function<void(std::string_view)>& reply) {
  std::string out = loader_.feed(bytes);
  if (!out.empty()) reply(out);
}

std::optional<unsigned> RomDownload::take_baud() { return std::exchange(baud_, std::nullopt); }
std::optional<LoaderExit> RomDownload::take_exit() { return std::exchange(exit_, std::nullopt); }

std::size_t RomDownload::bytes_programmed() const { return loader_.stats().bytes_written - bytes_at_begin_; }

void RomDownload::end() {
  if (loader_.stats().bytes_written == bytes_at_begin_ && loader_.stats().erased_bytes == erased_at_begin_)
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
        img.image_size > 0 && img.image_size <= region.size() && !img.has(ImageProblem::segment_past_end)
            ? img.image_size
            : static_cast<std::size_t>(region.rend() - last);
    slot = describe_image(std::string(reinterpret_cast<const char*>(region.data()), len));
  }
  std::lock_guard lk(flash_.otadata_m);
  std::copy_n(f.begin() + kOtadataAddress, flash_.otadata.size(), flash_.otadata.begin());
}

}  // namespace bootrig::sim
