// Fuzz target: the boot-log reader, fed the board's bytes in pieces of fuzzer-chosen sizes.
#include "bootrig/observe/boot_log.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

void fuzz_boot_log(const std::uint8_t* data, std::size_t size) {
  bootrig::fuzz::Input in(data, size);
  bootrig::BootLogReader reader;
  bootrig::TimePoint t{};
  while (!in.empty()) {
    const std::size_t piece = 1 + in.byte() % 64;
    t += bootrig::microseconds(in.byte());
    reader.feed(in.take(piece), t);
  }
}

}  // namespace

BOOTRIG_FUZZ_TARGET(boot_log, fuzz_boot_log)
