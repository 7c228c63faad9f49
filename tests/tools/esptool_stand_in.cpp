// A stand-in for esptool in tests: writes files to a module's flash through the ESP32 ROM serial loader, as
// `esptool.py --before no_reset --after no_reset write_flash OFFSET FILE...` does, so the external-flasher
// path is tested with a real separate process speaking the ROM protocol on the port bootrig lends it.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/rom_flasher.hpp"

using namespace bootrig;

int main(int argc, char** argv) {
  std::string port;
  unsigned baud = 115200;
  std::vector<std::pair<std::uint32_t, std::string>> writes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) port = argv[++i];
    else if (a == "--baud" && i + 1 < argc) baud = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 0));
    else if (a == "write_flash") {
      for (++i; i + 1 < argc; i += 2)
        writes.emplace_back(static_cast<std::uint32_t>(std::strtoul(argv[i], nullptr, 0)), argv[i + 1]);
    }
  }
  if (port.empty() || writes.empty()) {
    std::fprintf(stderr, "usage: esptool_stand_in --port PORT [--baud N] write_flash OFFSET FILE...\n");
    return 2;
  }
  try {
    SerialSettings s;
    s.baud = baud;
    auto link = open_termios(port, s);
    RomFlasher flasher(*link);
    std::printf("Connecting...\n");
    std::fflush(stdout);
    if (auto c = flasher.connect(); !c) {
      std::printf("A fatal error occurred: %s\n", c.error().message.c_str());
      return 2;
    }
    for (const auto& [offset, file] : writes) {
      auto data = read_binary_file(file);
      auto w = flasher.write_flash(offset, data, [](std::size_t done, std::size_t total) {
        std::printf("\rWriting... (%zu %%)", total ? done * 100 / total : 100);
        std::fflush(stdout);
      });
      if (!w) {
        std::printf("\nA fatal error occurred: %s\n", w.error().message.c_str());
        return 2;
      }
      std::printf("\nWrote %zu bytes at 0x%08x; hash of data verified.\n", data.size(), offset);
    }
    std::printf("Leaving...\n");
    return 0;
  } catch (const std::exception& e) {
    std::printf("A fatal error occurred: %s\n", e.what());
    return 2;
  }
}
