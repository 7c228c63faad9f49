// Fuzz target: the ESP32 ROM serial protocol, both sides. The first byte picks the side: the flasher's
// decoding of the ROM's replies (SLIP, then decode_response), or the simulated ROM loader's handling of a
// host's requests (SLIP, decode_request, then every command of the loader and esptool's stub protocol).
#include "bootrig/firmware/rom_loader_model.hpp"
#include "bootrig/firmware/rom_protocol.hpp"
#include "bootrig/firmware/slip.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

void fuzz_rom_protocol(const std::uint8_t* data, std::size_t size) {
  using namespace bootrig;
  fuzz::Input in(data, size);
  const std::uint8_t side = in.byte();
  if (side & 1) {
    SlipDecoder slip;
    while (!in.empty()) {
      const std::size_t piece = 1 + in.byte() % 128;
      for (const auto& packet : slip.feed(in.take(piece))) {
        auto bytes = to_bytes(packet);
        (void)decode_response(bytes);
        (void)decode_request(bytes);
      }
    }
    return;
  }
  RomLoaderConfig config;
  config.flash_size = 1u << 20;  // a smaller flash keeps each run fast; the protocol is the same
  RomLoaderModel rom(config);
  rom.set_baud_hook([&rom](unsigned baud) { rom.set_uart_baud(baud); });
  while (!in.empty()) {
    const std::size_t piece = 1 + in.byte() % 128;
    // A valid SLIP frame around the fuzzer's bytes half the time, so the commands' own checks are reached.
    std::string_view bytes = in.take(piece);
    if (piece & 1)
      (void)rom.feed(slip_encode(bytes));
    else
      (void)rom.feed(bytes);
  }
}

}  // namespace

BOOTRIG_FUZZ_TARGET(rom_protocol, fuzz_rom_protocol)
