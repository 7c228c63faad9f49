// Tests loading app images from plain .bin files and Pycom .tar.gz bundles, and the RigErrors for bad ones.
#include "bootrig/firmware/firmware_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"

namespace bootrig {
namespace {

std::vector<std::uint8_t> fw_bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

class FwTempDir {
 public:
  FwTempDir() : path_(std::filesystem::temp_directory_path() / ("bootrig-fw-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~FwTempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string rig_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const RigError& e) {
    return e.what();
  }
  return "";
}

TEST(FirmwareFile, PlainBinLoads) {
  FwTempDir d;
  ImageSpec spec;
  spec.board = PycomBoard::gpy;
  auto img = build_esp32_image(spec);
  write_binary_file(d.file("gpy.bin"), img);
  auto f = load_firmware_file(d.file("gpy.bin"));
  EXPECT_EQ(f.bytes, img);
  EXPECT_TRUE(f.image.valid());
  EXPECT_EQ(f.image.board, PycomBoard::gpy);
  EXPECT_TRUE(f.source.member.empty());
  EXPECT_EQ(f.source.rule, "plain image");
  EXPECT_EQ(f.source.flash_offset, kPycomFactoryOffset);
}

TEST(FirmwareFile, BundleMadeByBootrigLoadsThroughScript4MBOrScript2) {
  for (auto board : {PycomBoard::fipy, PycomBoard::lopy4, PycomBoard::wipy}) {
    ImageSpec spec;
    spec.board = board;
    spec.version = "1.20.2.r4";
    auto img = build_esp32_image(spec);
    auto bundle = make_pycom_bundle(img, board);
    auto f = load_firmware_bytes(bundle, "B.tar.gz");
    EXPECT_EQ(f.bytes, img);
    EXPECT_TRUE(f.image.valid()) << f.image.problem_summary();
    EXPECT_EQ(f.image.board, board);
    EXPECT_EQ(f.source.rule, "script2: w factory");
    EXPECT_EQ(f.source.partition_size, 0x1AE000u);
    EXPECT_EQ(f.image.slot_size, 0x1AE000u);
    std::string lower = to_string(board);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(f.source.member, lower + ".bin");
    EXPECT_NE(f.source.describe().find(lower + ".bin"), std::string::npos);
  }
}

TEST(FirmwareFile, ScriptPreferenceAndPartitionSize) {
  auto app = build_esp32_image({});
  auto other = build_esp32_image({}, ImageCorruption::bad_checksum);
  const std::string s4 =
      R"({"version":"2.0","partitions":{"factory":["0x10000","0x100000"]},"script":[["w","factory","a.bin"]]})";
  const std::string s2 = R"({"version":"2.0","script":[["w","factory","b.bin"]]})";
  auto tar =
      write_tar({{"a.bin", app}, {"b.bin", other}, {"script_4MB", fw_bytes_of(s4)}, {"script2", fw_bytes_of(s2)}});
  auto f = load_firmware_bytes(gzip(tar), "x.tar.gz");
  EXPECT_EQ(f.source.member, "a.bin");
  EXPECT_EQ(f.source.rule, "script_4MB: w factory");
  EXPECT_EQ(f.image.slot_size, 0x100000u);
  // An explicit slot size wins when asked for.
  LoadOptions fixed;
  fixed.slot_size_from_bundle = false;
  fixed.limits.slot_size = 0x200000;
  EXPECT_EQ(load_firmware_bytes(gzip(tar), "x.tar.gz", fixed).image.slot_size, 0x200000u);
  // A plain (uncompressed) tar is read too.
  EXPECT_EQ(load_firmware_bytes(tar, "x.tar").source.member, "a.bin");
}

TEST(FirmwareFile, LegacyScriptAndContentRule) {
  auto app = build_esp32_image({});
  auto bootloader = build_bootloader_image();
  const std::string legacy =
      R"([["e","0x1000","0x40000"],["w","0x1000","bootloader.bin"],["w","0x10000","appimg.bin"]])";
  auto f = load_firmware_bytes(
      gzip(write_tar({{"bootloader.bin", bootloader}, {"appimg.bin", app}, {"script", fw_bytes_of(legacy)}})),
      "legacy.tar.gz");
  EXPECT_EQ(f.source.member, "appimg.bin");
  EXPECT_EQ(f.source.rule, "script: w 0x10000");
  // No script: the one .bin that is an app; the bootloader is not.
  auto g =
      load_firmware_bytes(gzip(write_tar({{"bootloader.bin", bootloader}, {"lopy.bin", app}})), "n.tar.gz");
  EXPECT_EQ(g.source.member, "lopy.bin");
  EXPECT_EQ(g.source.rule, "only app image in bundle");
}

TEST(FirmwareFile, CorruptImageInsideABundleIsReportedNotThrown) {
  auto bad = build_esp32_image({}, ImageCorruption::corrupt_payload);
  auto f = load_firmware_bytes(make_pycom_bundle(bad, PycomBoard::fipy), "bad.tar.gz");
  EXPECT_FALSE(f.image.valid());
  EXPECT_TRUE(f.image.has(ImageProblem::checksum_mismatch));
}

TEST(FirmwareFile, BrokenBundlesAreRigErrorsNamingTheFileAndProblem) {
  auto app = build_esp32_image({});
  auto msg = rig_error_of([&] {
    load_firmware_bytes(gzip(write_tar({{"script2", fw_bytes_of("{not json")}, {"a.bin", app}})), "j.tar.gz");
  });
  EXPECT_NE(msg.find("j.tar.gz: script2: not valid JSON"), std::string::npos) << msg;

  msg = rig_error_of([&] {
    load_firmware_bytes(
        gzip(write_tar({{"script2", fw_bytes_of(R"({"script":[["w","factory","gone.bin"]]})")}})), "m.tar.gz");
  });
  EXPECT_NE(msg.find("m.tar.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gone.bin"), std::string::npos) << msg;

  msg = rig_error_of([&] { load_firmware_bytes(gzip(write_tar({{"readme", fw_bytes_of("hi")}})), "e.tar.gz"); });
  EXPECT_NE(msg.find("e.tar.gz: no script"), std::string::npos) << msg;

  msg = rig_error_of([&] {
    load_firmware_bytes(gzip(write_tar({{"a.bin", app}, {"b.bin", app}})), "two.tar.gz");
  });
  EXPECT_NE(msg.find("two.tar.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 members"), std::string::npos) << msg;

  auto gz = gzip(write_tar({{"a.bin", app}}));
  gz.resize(gz.size() / 2);
  msg = rig_error_of([&] { load_firmware_bytes(gz, "half.tar.gz"); });
  EXPECT_NE(msg.find("half.tar.gz: gzip"), std::string::npos) << msg;

  msg = rig_error_of([&] { load_firmware_file("/nonexistent/dir/fw.bin"); });
  EXPECT_NE(msg.find("/nonexistent/dir/fw.bin: no such file"), std::string::npos) << msg;

  // A download that is an error page, named like a bundle: said so, not "bad ESP32 magic".
  const std::string html = "<html>404</html>";
  msg = rig_error_of(
      [&] { load_firmware_bytes(std::vector<std::uint8_t>(html.begin(), html.end()), "fw.tar.gz"); });
  EXPECT_EQ(msg,
            "fw.tar.gz: named like a bundle (.tar.gz) but is neither gzip nor tar data; a broken or partial "
            "download?");

  // No app image is larger than the largest slot: refused whole, with the bound.
  msg = rig_error_of(
      [&] { load_firmware_bytes(std::vector<std::uint8_t>(kPycomLargestSlot + 1, 0xE9), "big.bin"); });
  EXPECT_NE(msg.find("big.bin: 1.9 MiB (2027521 bytes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the largest app slot, 1.9 MiB (2027520 bytes)"), std::string::npos) << msg;

  // A bundle that inflates past what any flash holds stops inflating there (a gzip bomb).
  msg = rig_error_of([&] {
    load_firmware_bytes(gzip(std::vector<std::uint8_t>(bundle_contents_bound() + 1, 0)), "bomb.tar.gz");
  });
  EXPECT_NE(msg.find("bomb.tar.gz: unpacks to more than 8.1 MiB"), std::string::npos) << msg;

  msg = rig_error_of([&] { load_firmware_bytes({}, "zero.bin"); });
  EXPECT_NE(msg.find("zero.bin: file is empty"), std::string::npos) << msg;
}

}  // namespace
}  // namespace bootrig
