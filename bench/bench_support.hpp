// What the benchmarks share: a simulated firmware that boots quickly, since its boot is not what they
// measure.
#pragma once

#include "bootrig/rig/rig_config.hpp"

namespace bootrig::bench {

// The firmware's own boot is not what is measured: a quick profile gets the module to its prompt fast.
inline FirmwareTiming quick_boot() {
  FirmwareTiming t;
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  return t;
}

}  // namespace bootrig::bench
