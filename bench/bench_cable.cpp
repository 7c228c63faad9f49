// Benchmark: cable flashing through the ESP32 ROM loader against the simulated module: a 64 KiB and a 1.5 MB
// Pycom-shaped image (rodata strings, code-like bytes, data: about as compressible as a real build), at
// 115200 and 921600 baud, compressed (FLASH_DEFL_*) and not, each against the line time of the bytes that
// must cross (the data blocks' payload: the zlib stream, or the image in padded 1 KiB blocks).
//
//   ./build/bench/bench_cable [--quick]   (--quick: the 64 KiB image only)
//
// BENCHMARKS.md records a run. The simulated flash erases and programs instantly; on a real module the ROM
// erases the region at FLASH_BEGIN first (about 150 ms per 64 KiB block), which this does not measure.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/firmware/rom_flasher.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }

void run(const std::vector<std::uint8_t>& image, unsigned baud, bool compress) {
  SimModule m(SimConfig{}, 115200);
  m.start();
  SerialSettings s;
  s.baud = 115200;
  auto link = open_termios(m.uart_path(), s);
  // Download mode: P2 held low through a RESET pulse, as cable_flash() does.
  m.set_line(LineRole::bootloader, Level::active);
  m.press_reset(milliseconds(20));
  m.set_line(LineRole::bootloader, Level::inactive);
  RomFlasher f(*link);
  const TimePoint t0 = now();
  auto size = f.connect();
  if (!size) {
    std::fprintf(stderr, "bench_cable: %s\n", size.error().message.c_str());
    std::exit(2);
  }
  if (baud != 115200) {
    if (auto c = f.change_baudrate(baud); !c) {
      std::fprintf(stderr, "bench_cable: %s\n", c.error().message.c_str());
      std::exit(2);
    }
  }
  const TimePoint t1 = now();
  auto r = f.write_flash(0x10000, image, {}, compress);
  const TimePoint t2 = now();
  if (!r) {
    std::fprintf(stderr, "bench_cable: %s\n", r.error().message.c_str());
    std::exit(2);
  }
  // The bytes that must cross: the data blocks' payload (zlib stream, or padded blocks) at 10 bits a byte.
  const double line = static_cast<double>(r.value().wire_bytes) * 10.0 / baud;
  // The floor for this image at this rate: its compressed stream's line time.
  const double floor = static_cast<double>(zlib_compress(image).size()) * 10.0 / baud;
  const double took = seconds_of(t2 - t1);
  std::printf("| %8zu | %6u | %-10s | %8zu | %7.2f | %7.2f | %5.2fx | %5.2fx | %5.2f |\n", image.size(), baud,
              compress ? "compressed" : "plain", r.value().wire_bytes, line, took, took / line, took / floor,
              seconds_of(t1 - t0));
  std::fflush(stdout);
}

std::vector<std::uint8_t> image_of(std::size_t payload) {
  ImageSpec spec;
  spec.version = "1.20.3.r1";
  spec.payload_size = payload;
  spec.segments = 4;
  return build_esp32_image(spec);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  // 64 KiB: a payload whose image (with the padding before IROM) is 64 KiB; 1.5 MB: a full firmware.
  std::vector<std::vector<std::uint8_t>> images{image_of(22 * 1024)};
  if (!quick) images.push_back(image_of(1'480'000));
  std::printf(
      "| image B |   baud | write      |   wire B | line s | write s | /line | /compressed line | connect s "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& img : images) {
    const auto z = zlib_compress(img);
    std::fprintf(stderr, "image %zu bytes, compressed %zu (%.1f %%)\n", img.size(), z.size(),
                 100.0 * static_cast<double>(z.size()) / static_cast<double>(img.size()));
    for (unsigned baud : {115200u, 921600u})
      for (bool compress : {true, false}) run(img, baud, compress);
  }
  return 0;
}
