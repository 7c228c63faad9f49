// Test support: a run folder checked by the real readers (tests/tools/check_run_folder.py): results.json
// against docs/results.schema.json (python3-jsonschema), junit.xml (python3-junitparser), report.html as XML,
// the attempts' serial.txt and signals.vcd; optionally sigrok-cli and headless Chromium.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/run_bootrig.hpp"

namespace bootrig::testing {

// `extra`: "--sigrok", "--render". The result's out says what was checked or the first thing wrong.
inline CliResult check_run_folder(const std::filesystem::path& run, const std::string& extra = "") {
  return run_command(std::string("'") + BOOTRIG_SYSTEM_PYTHON3 + "' '" + BOOTRIG_SOURCE_DIR +
                     "/tests/tools/check_run_folder.py' --schema '" + BOOTRIG_SOURCE_DIR +
                     "/docs/results.schema.json' '" + run.string() + "' " + extra + " 2>&1");
}

inline std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace bootrig::testing
