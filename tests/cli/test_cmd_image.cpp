// Runs the built bootrig binary: `image make` writes valid and corrupt images and bundles, `image info`
// reports them (exit 0) or names the problem in one line (exit 2).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "support/bootrig_binary.hpp"

namespace bootrig {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class ImageCli : public ::testing::Test {
 protected:
  std::filesystem::path dir;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("bootrig-cli-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  CliRun run_bootrig(const std::string& args) const {
    const auto out = dir / "stdout.txt";
    const auto err = dir / "stderr.txt";
    const std::string cmd =
        std::string(BOOTRIG_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
};

TEST_F(ImageCli, MakeThenInfoShowsTheImage) {
  auto made = run_bootrig("image make --version 1.20.2.r4 --board LoPy4 --size 20k -o " + path("lopy4.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("valid"), std::string::npos);
  auto info = run_bootrig("image info " + path("lopy4.bin"));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* want :
       {"format:    ESP32 application image", "chip:      ESP32 (id 0)", "firmware:  LoPy4 1.20.2.r4",
        "micropy:   v1.11-a5aa0b8, built 2021-01-12", "read from: banner",
        "app desc:  none (as in Pycom's builds)", "segments:  4", "load 0x0  ", "padding", "checksum:  0x",
        " ok", "sha256:    ", "slot:      fits"}) {
    EXPECT_NE(info.out.find(want), std::string::npos) << "missing '" << want << "' in\n" << info.out;
  }
  EXPECT_TRUE(info.err.empty()) << info.err;
}

TEST_F(ImageCli, InfoJsonForAValidImage) {
  ASSERT_EQ(
      run_bootrig("image make --version 1.18.2.r7 --board GPy --no-sha256 --segments 5 -o " + path("g.bin"))
          .exit_code,
      0);
  auto info = run_bootrig("image info --json " + path("g.bin"));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["version"], "1.18.2.r7");
  EXPECT_EQ(j["board"], "GPy");
  EXPECT_EQ(j["segments"].size(), 6u) << "five payload segments and the padding before IROM";
  EXPECT_EQ(j["kind"], "app");
  EXPECT_EQ(j["pycom"], true);
  EXPECT_EQ(j["identity"]["source"], "banner");
  EXPECT_EQ(j["identity"]["git_tag"], "v1.11-a5aa0b8");
  EXPECT_TRUE(j["app_description"].is_null());
  EXPECT_EQ(j["sha256"]["appended"], false);
  EXPECT_EQ(j["checksum"]["ok"], true);
  EXPECT_EQ(j["slot"]["fits"], true);
  EXPECT_EQ(j["slot"]["size"], 0x1AE000);
  EXPECT_TRUE(j["problems"].empty());
}

TEST_F(ImageCli, EveryCorruptionIsExitTwoWithOneLineNamingTheFileAndProblem) {
  for (ImageCorruption c : all_corruptions()) {
    SCOPED_TRACE(to_string(c));
    const std::string file = path(std::string(to_string(c)) + ".bin");
    auto made = run_bootrig("image make --version 1.20.2.r4 --board FiPy --corrupt " +
                            std::string(to_string(c)) + " -o " + file);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto info = run_bootrig("image info " + file);
    EXPECT_EQ(info.exit_code, 2);
    EXPECT_TRUE(info.out.empty()) << info.out;
    const auto problems = expected_problems(c);
    ASSERT_FALSE(problems.empty());
    EXPECT_EQ(
        info.err.rfind(
            "bootrig: " + file + ": the ESP32 bootloader would refuse it: " + to_string(problems.front()), 0),
        0u)
        << info.err;
    EXPECT_EQ(std::count(info.err.begin(), info.err.end(), '\n'), 1) << info.err;
  }
}

TEST_F(ImageCli, InfoJsonForAnInvalidImageStillExitsTwo) {
  ASSERT_EQ(
      run_bootrig("image make --version 1.20.2.r4 --board WiPy --corrupt wrong-chip -o " + path("w.bin"))
          .exit_code,
      0);
  auto info = run_bootrig("image info --json " + path("w.bin"));
  EXPECT_EQ(info.exit_code, 2);
  auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["valid"], false);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "wrong_chip");
  EXPECT_EQ(j["chip"]["name"], "ESP32-S2");
  EXPECT_NE(info.err.find("wrong chip"), std::string::npos);
}

TEST_F(ImageCli, BundleRoundTrip) {
  auto made = run_bootrig("image make --version 1.20.2.r4 --board SiPy -o " + path("SiPy-1.20.2.r4.tar.gz"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("Pycom bundle"), std::string::npos);
  auto info = run_bootrig("image info " + path("SiPy-1.20.2.r4.tar.gz"));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("sipy.bin (script2: w factory)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("firmware:  SiPy 1.20.2.r4"), std::string::npos) << info.out;
  // A corrupt app inside a bundle names the bundle and the member.
  ASSERT_EQ(
      run_bootrig("image make --version 1.20.2.r4 --board SiPy --corrupt bad-sha256 -o " + path("bad.tgz"))
          .exit_code,
      0);
  auto bad = run_bootrig("image info " + path("bad.tgz"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(
      bad.err.find(path("bad.tgz") + ": sipy.bin: the ESP32 bootloader would refuse it: SHA-256 mismatch"),
      std::string::npos)
      << bad.err;
}

TEST_F(ImageCli, SlotSizeOption) {
  ASSERT_EQ(
      run_bootrig("image make --version 1.20.2.r4 --board FiPy --size 0x8000 -o " + path("f.bin")).exit_code,
      0);
  EXPECT_EQ(run_bootrig("image info --slot-size 128k " + path("f.bin")).exit_code, 0);
  auto small = run_bootrig("image info --slot-size 64k " + path("f.bin"));
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_NE(small.err.find("too large for the slot"), std::string::npos) << small.err;
}

TEST_F(ImageCli, InfoReadsBootloadersAndOtherEsp32Apps) {
  {
    std::ofstream f(path("bootloader.bin"), std::ios::binary);
    auto b = build_bootloader_image();
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  auto boot = run_bootrig("image info " + path("bootloader.bin"));
  ASSERT_EQ(boot.exit_code, 0) << boot.err;
  EXPECT_NE(boot.out.find("format:    ESP32 second-stage bootloader image"), std::string::npos) << boot.out;
  EXPECT_EQ(boot.out.find("slot:"), std::string::npos) << boot.out;
  auto made = run_bootrig("image make --version v5.1 --board FiPy --style idf --project hello_world -o " +
                          path("hello.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("idf-style image"), std::string::npos) << made.out;
  auto hello = run_bootrig("image info " + path("hello.bin"));
  ASSERT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_NE(hello.out.find("firmware:  hello_world v5.1 (not a Pycom MicroPython build)"), std::string::npos)
      << hello.out;
  EXPECT_NE(hello.out.find("read from: app description"), std::string::npos) << hello.out;
  EXPECT_NE(hello.out.find("app desc:  version 'v5.1', project 'hello_world'"), std::string::npos)
      << hello.out;
  auto style = run_bootrig("image make --version 1.20.2.r4 --board FiPy --style zephyr -o " + path("z.bin"));
  EXPECT_EQ(style.exit_code, 2);
  EXPECT_NE(style.err.find("--style 'zephyr': expected pycom or idf"), std::string::npos) << style.err;
}

TEST_F(ImageCli, BadArgumentsAreExitTwo) {
  auto board = run_bootrig("image make --version 1.20.2.r4 --board Pyboard -o " + path("x.bin"));
  EXPECT_EQ(board.exit_code, 2);
  EXPECT_NE(board.err.find("WiPy, LoPy, LoPy4, SiPy, GPy, FiPy"), std::string::npos) << board.err;
  auto corrupt =
      run_bootrig("image make --version 1.20.2.r4 --board FiPy --corrupt gremlins -o " + path("x.bin"));
  EXPECT_EQ(corrupt.exit_code, 2);
  EXPECT_NE(corrupt.err.find("bad-checksum"), std::string::npos) << corrupt.err;
  auto size = run_bootrig("image make --version 1.20.2.r4 --board FiPy --size lots -o " + path("x.bin"));
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_NE(size.err.find("--size 'lots'"), std::string::npos) << size.err;
  EXPECT_FALSE(std::filesystem::exists(path("x.bin")));
  auto missing = run_bootrig("image info " + path("nope.bin"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find(path("nope.bin") + ": no such file"), std::string::npos) << missing.err;
  EXPECT_EQ(run_bootrig("image").exit_code, 2);  // a sub-subcommand is required
}

TEST_F(ImageCli, MakeBreaksWritesAValidBuildThatSaysHowItBreaks) {
  auto made =
      run_bootrig("image make --version 1.20.2.r7 --board FiPy --breaks panic-at-boot -o " + path("t.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("valid (breaks on the simulated module: panic-at-boot)"), std::string::npos)
      << made.out;
  auto info = run_bootrig("image info " + path("t.bin"));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("breaks:    panic-at-boot"), std::string::npos) << info.out;
  auto json = run_bootrig("image info --json " + path("t.bin"));
  EXPECT_EQ(nlohmann::json::parse(json.out)["sim_breaks"], "panic-at-boot");
  auto good = run_bootrig("image make --version 1.20.2.r7 --board FiPy -o " + path("g.bin"));
  EXPECT_TRUE(
      nlohmann::json::parse(run_bootrig("image info --json " + path("g.bin")).out)["sim_breaks"].is_null());
  auto bad = run_bootrig("image make --version 1.20.2.r7 --board FiPy --breaks panics -o " + path("x.bin"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--breaks 'panics': expected none or one of panic-at-boot, hang-before-repl"),
            std::string::npos)
      << bad.err;
  auto idf =
      run_bootrig("image make --version 1.0 --board FiPy --style idf --breaks no-uart -o " + path("i.bin"));
  EXPECT_EQ(idf.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(path("x.bin")));
}

}  // namespace
}  // namespace bootrig
