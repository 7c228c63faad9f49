// Fuzz target: the rig-file reader (TOML, then every table's strict checks). Only a located RigError may
// come out of it.
#include "bootrig/core/errors.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

void fuzz_rig_file(const std::uint8_t* data, std::size_t size) {
  try {
    bootrig::parse_rig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml",
                       "/nonexistent");
  } catch (const bootrig::RigError&) {
  }
}

}  // namespace

BOOTRIG_FUZZ_TARGET(rig_file, fuzz_rig_file)
