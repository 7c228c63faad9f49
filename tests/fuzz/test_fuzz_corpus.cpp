// Replays every fuzz target's corpus (tests/fuzz/corpus/<target>/: the seeds and every input a fuzzing run
// found crashing, kept as regressions) through the same target code in the ordinary test build, so the
// sanitizer build checks them on every run without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace bootrig::fuzz {
namespace {

const std::filesystem::path kCorpus = std::filesystem::path(BOOTRIG_SOURCE_DIR) / "tests/fuzz/corpus";

std::size_t replay(const std::string& target) {
  auto it = registry().find(target);
  EXPECT_NE(it, registry().end()) << "no fuzz target " << target;
  if (it == registry().end()) return 0;
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / target)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    it->second(bytes.data(), bytes.size());
    ++n;
  }
  return n;
}

TEST(FuzzCorpus, EveryTargetHasASeedCorpusAndNoCorpusLacksATarget) {
  for (const auto& [name, target] : registry())
    EXPECT_TRUE(std::filesystem::is_directory(kCorpus / name)) << "no corpus for fuzz target " << name;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus))
    EXPECT_TRUE(registry().count(entry.path().filename().string()))
        << "corpus without a target: " << entry.path();
  EXPECT_EQ(registry().size(), 6u);
}

// One test per target, so a regression names its parser.
TEST(FuzzCorpus, RigFile) { EXPECT_GT(replay("rig_file"), 0u); }
TEST(FuzzCorpus, Repl) { EXPECT_GT(replay("repl"), 0u); }
TEST(FuzzCorpus, BootLog) { EXPECT_GT(replay("boot_log"), 0u); }
TEST(FuzzCorpus, LedDecoder) { EXPECT_GT(replay("led_decoder"), 0u); }
TEST(FuzzCorpus, RomProtocol) { EXPECT_GT(replay("rom_protocol"), 0u); }
TEST(FuzzCorpus, FirmwareFile) { EXPECT_GT(replay("firmware_file"), 0u); }

}  // namespace
}  // namespace bootrig::fuzz
