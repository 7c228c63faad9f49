// Benchmark: cable flashing through the ESP32 ROM loader against the simulated module: bootrig's RomFlasher,
// compressed (FLASH_DEFL_*) and not, at 115200 and 921600 baud, each against the line time of the bytes that
// must cross, beside the real esptool's ROM-only path without compression at 115200 (--no-stub
// --no-compress: the vendor tool's way when no stub runs), interleaved round by round.
//
//   bench_cable [--rounds N] [--large] [--esptool PATH]   (markdown on stdout; --large adds a 1.5 MB image)
//
// The simulated flash erases and programs instantly; on a real module the ROM erases the region at
// FLASH_BEGIN first (about 150 ms per 64 KiB block), which this does not measure.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include "bench_support.hpp"

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/firmware/rom_flasher.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }

// Download mode: P2 held low through a RESET pulse, as cable_flash() does.
void enter_download(SimModule& m) {
  m.set_line(LineRole::bootloader, Level::active);
  m.press_reset(milliseconds(20));
  m.set_line(LineRole::bootloader, Level::inactive);
}

struct Write {
  double seconds = 0, line = 0;  // FLASH_(DEFL_)BEGIN to the MD5 read-back; line time of the blocks' payload
};

Write bootrig_write(const std::vector<std::uint8_t>& image, unsigned baud, bool compress) {
  SimModule m(SimConfig{}, 115200);
  m.start();
  SerialSettings s;
  s.baud = 115200;
  auto link = open_termios(m.uart_path(), s);
  enter_download(m);
  RomFlasher f(*link);
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
  return {seconds_of(t2 - t1), static_cast<double>(r.value().wire_bytes) * 10.0 / baud};
}

// The real esptool, ROM only, uncompressed, at 115200; its own "Wrote ... in X seconds" (FLASH_BEGIN to the
// last block) and the process from start to exit (Python's start and the connection included).
struct EsptoolWrite {
  double wrote = 0, process = 0;
};
EsptoolWrite esptool_write(const std::string& esptool, const std::filesystem::path& image_file) {
  SimModule m(SimConfig{}, 115200);
  m.start();
  enter_download(m);
  const std::string out = image_file.string() + ".log";
  const std::string cmd =
      "'" + esptool + "' --chip esp32 --port '" + m.uart_path() +
      "' --baud 115200 --before no_reset --after no_reset --no-stub --connect-attempts 30 "
      "write_flash --no-compress 0x10000 '" +
      image_file.string() + "' >'" + out + "' 2>&1";
  const TimePoint t0 = now();
  const int st = std::system(cmd.c_str());
  const TimePoint t1 = now();
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (st != 0) {
    std::fprintf(stderr, "bench_cable: esptool failed:\n%s\n", text.c_str());
    std::exit(2);
  }
  EsptoolWrite w;
  w.process = seconds_of(t1 - t0);
  const auto at = text.find(" in ", text.find("Wrote "));
  if (at != std::string::npos) w.wrote = std::strtod(text.c_str() + at + 4, nullptr);
  return w;
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
  int rounds = 3;
  bool large = false;
  std::string esptool;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--large"))
      large = true;
    else if (!std::strcmp(argv[i], "--esptool") && i + 1 < argc)
      esptool = argv[++i];
  }
  // 79 KB: a small Pycom-shaped image (43 KB of it the padding before the code segment's page); 1.5 MB: a
  // full firmware.
  std::vector<std::vector<std::uint8_t>> images{image_of(22 * 1024)};
  if (large) images.push_back(image_of(1'480'000));
  const auto dir =
      std::filesystem::temp_directory_path() / ("bootrig-bench-cable-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::printf(
      "| image B | compressed to | baud | write | write s, median (min-max) | its line time s | "
      "write / its line | write / compressed line | target 1.10 |\n|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> esptool_rows;
  for (const auto& img : images) {
    const double z = static_cast<double>(zlib_compress(img).size());
    const auto file = dir / ("image-" + std::to_string(img.size()) + ".bin");
    {
      std::ofstream f(file, std::ios::binary);
      f.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    }
    std::map<std::string, bench::Spread> took;
    std::map<std::string, double> line;
    bench::Spread es_wrote, es_process;
    for (int r = 0; r < rounds; ++r) {
      for (unsigned baud : {115200u, 921600u}) {
        for (bool compress : {true, false}) {
          const std::string key = std::to_string(baud) + (compress ? " compressed" : " plain");
          Write w = bootrig_write(img, baud, compress);
          took[key].add(w.seconds);
          line[key] = w.line;
        }
      }
      if (!esptool.empty()) {
        EsptoolWrite e = esptool_write(esptool, file);
        es_wrote.add(e.wrote);
        es_process.add(e.process);
      }
    }
    for (unsigned baud : {115200u, 921600u}) {
      for (bool compress : {true, false}) {
        const std::string key = std::to_string(baud) + (compress ? " compressed" : " plain");
        const double floor = z * 10.0 / baud;
        const bench::Spread& t = took[key];
        std::printf("| %zu | %.1f %% | %u | %s | %s | %.2f | %.2f | %.2f | %s |\n", img.size(),
                    100.0 * z / static_cast<double>(img.size()), baud,
                    compress ? "bootrig, compressed" : "bootrig, plain", t.text(2).c_str(), line[key],
                    t.median() / line[key], t.median() / floor,
                    compress ? bench::verdict(t.median() / floor <= 1.10) : "-");
      }
    }
    if (!esptool.empty()) {
      const double plain_line = line["115200 plain"];
      char buf[600];
      std::snprintf(buf, sizeof buf,
                    "| %zu | 115200 | %s s (process start to exit: %s s) | %.2f | %s s | %.2f | %.2f |",
                    img.size(), es_wrote.text(2).c_str(), es_process.text(2).c_str(),
                    es_wrote.median() / plain_line, took["115200 compressed"].text(2).c_str(),
                    took["115200 compressed"].median() / es_wrote.median(),
                    took["115200 plain"].median() / es_wrote.median());
      esptool_rows.push_back(buf);
    }
  }
  if (!esptool_rows.empty()) {
    std::printf(
        "\nBeside the real esptool (Debian 13's 4.7, ROM only: --no-stub --no-compress), same image, same "
        "simulated ROM, interleaved; esptool's time is its own \"Wrote ... in X seconds\":\n\n");
    std::printf(
        "| image B | baud | esptool --no-compress: write | its / plain line time | bootrig compressed: write "
        "| bootrig compressed / esptool | bootrig plain / esptool |\n|---|---|---|---|---|---|---|\n");
    for (const auto& r : esptool_rows) std::printf("%s\n", r.c_str());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
