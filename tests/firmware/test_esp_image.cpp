// Tests parsing and validation of ESP32 application images, fed by the image builder and by hand-made bytes.
#include "bootrig/firmware/esp_image.hpp"

#include <gtest/gtest.h>

#include "bootrig/firmware/image_builder.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {
namespace {

std::vector<ImageProblem> problems_of(const Esp32Image& img) {
  std::vector<ImageProblem> v;
  for (const auto& i : img.problems) v.push_back(i.problem);
  return v;
}

struct Case {
  const char* version;
  PycomBoard board;
  std::size_t payload;
  unsigned segments;
  bool sha;
};

TEST(EspImage, ValidImagesOfSeveralVersionsAndBoardsRoundTrip) {
  const Case cases[] = {
      {"1.20.2.r4", PycomBoard::fipy, 16384, 3, true}, {"1.18.2.r7", PycomBoard::lopy4, 4000, 4, true},
      {"1.20.0.rc13", PycomBoard::wipy, 0, 1, false},  {"1.9.1.b1", PycomBoard::sipy, 77777, 7, true},
      {"1.20.2.r6", PycomBoard::gpy, 100, 16, false},  {"1.17.3.b1", PycomBoard::lopy, 12345, 2, true}};
  for (const auto& c : cases) {
    ImageSpec spec;
    spec.version = c.version;
    spec.board = c.board;
    spec.payload_size = c.payload;
    spec.segments = c.segments;
    spec.append_sha256 = c.sha;
    auto bytes = build_esp32_image(spec);
    auto img = parse_esp32_image(bytes);
    SCOPED_TRACE(std::string(c.version) + " " + to_string(c.board));
    EXPECT_TRUE(img.valid()) << img.problem_summary();
    ASSERT_TRUE(img.app.has_value());
    EXPECT_EQ(img.app->version, c.version);
    EXPECT_EQ(img.app->project_name, to_string(c.board));
    EXPECT_EQ(img.board, c.board);
    EXPECT_EQ(img.app->idf_version, spec.idf_version);
    EXPECT_EQ(img.app->date, spec.date);
    EXPECT_EQ(img.segment_count, c.segments);
    EXPECT_EQ(img.segments.size(), c.segments);
    EXPECT_EQ(img.chip_id, kEsp32ChipId);
    EXPECT_EQ(img.hash_appended, c.sha);
    EXPECT_EQ(img.stored_checksum, img.computed_checksum);
    EXPECT_EQ(img.image_size, bytes.size());
    EXPECT_EQ(img.trailing_bytes, 0u);
    EXPECT_EQ(img.stored_sha256.has_value(), c.sha);
    // The checksum is the last byte of a 16-byte block.
    EXPECT_EQ((bytes.size() - (c.sha ? 32 : 0)) % 16, 0u);
    // Flash-mapped segments (DROM, IROM): load address and file offset agree modulo the 64 KiB MMU page.
    for (const auto& seg : img.segments) {
      const bool mapped = (seg.load_address >= 0x3F400000 && seg.load_address < 0x3F800000) ||
                          (seg.load_address >= 0x400D0000 && seg.load_address < 0x40C00000);
      if (mapped) {
        EXPECT_EQ((seg.load_address - seg.file_offset) % 0x10000, 0u) << hex32(seg.load_address);
      }
    }
    EXPECT_EQ(img.spi_mode, SpiFlashMode::dio);
    EXPECT_EQ(flash_size_from_code(img.spi_size_code), 4u << 20);
    EXPECT_EQ(flash_mhz_from_code(img.spi_speed_code), 80u);
  }
}

TEST(EspImage, BuilderIsDeterministicAndSeedSensitive) {
  ImageSpec a;
  EXPECT_EQ(build_esp32_image(a), build_esp32_image(a));
  ImageSpec b = a;
  b.version = "1.20.2.r5";
  EXPECT_NE(build_esp32_image(a), build_esp32_image(b));
  ImageSpec c = a;
  c.seed = 42;
  EXPECT_NE(build_esp32_image(a), build_esp32_image(c));
}

TEST(EspImage, EveryCorruptionClassIsDetectedWithExactlyItsProblem) {
  for (bool sha : {true, false}) {
    ImageSpec spec;
    spec.append_sha256 = sha;
    for (ImageCorruption c : all_corruptions()) {
      SCOPED_TRACE(std::string(to_string(c)) + (sha ? " with sha" : " without sha"));
      auto img = parse_esp32_image(build_esp32_image(spec, c));
      EXPECT_FALSE(img.valid());
      EXPECT_EQ(problems_of(img), expected_problems(c, spec)) << img.problem_summary();
      EXPECT_FALSE(img.problem_summary().empty());
    }
  }
}

TEST(EspImage, CorruptionNamesRoundTrip) {
  for (ImageCorruption c : all_corruptions()) {
    auto parsed = parse_corruption(to_string(c));
    ASSERT_TRUE(parsed.has_value()) << to_string(c);
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(parse_corruption("none"), ImageCorruption::none);
  EXPECT_FALSE(parse_corruption("nonsense").has_value());
}

TEST(EspImage, ChecksumMismatchNamesBothValues) {
  auto img = parse_esp32_image(build_esp32_image({}, ImageCorruption::bad_checksum));
  ASSERT_EQ(img.problems.size(), 1u);
  EXPECT_NE(img.stored_checksum, img.computed_checksum);
  EXPECT_NE(img.problems[0].detail.find(hex8(img.stored_checksum)), std::string::npos);
  EXPECT_NE(img.problems[0].detail.find(hex8(img.computed_checksum)), std::string::npos);
}

TEST(EspImage, OversizeDependsOnTheSlotSize) {
  ImageSpec spec;
  spec.payload_size = 64 * 1024;
  auto bytes = build_esp32_image(spec);
  EXPECT_TRUE(parse_esp32_image(bytes).valid());
  ImageLimits small;
  small.slot_size = 32 * 1024;
  auto img = parse_esp32_image(bytes, small);
  ASSERT_EQ(problems_of(img), std::vector<ImageProblem>{ImageProblem::too_large_for_slot});
  // Exactly the slot size fits.
  ImageLimits exact;
  exact.slot_size = static_cast<std::uint32_t>(bytes.size());
  EXPECT_TRUE(parse_esp32_image(bytes, exact).valid());
  exact.slot_size -= 1;
  EXPECT_TRUE(parse_esp32_image(bytes, exact).has(ImageProblem::too_large_for_slot));
}

TEST(EspImage, DefaultSlotIsThePycom4MBFactoryPartition) {
  EXPECT_EQ(ImageLimits{}.slot_size, 0x1AE000u);
  EXPECT_LE(kPycomFactoryOffset + kPycomSlotSize4MB, kPycomOta0Offset4MB);
}

TEST(EspImage, WrongChipIsNamed) {
  auto img = parse_esp32_image(build_esp32_image({}, ImageCorruption::wrong_chip));
  ASSERT_TRUE(img.has(ImageProblem::wrong_chip));
  EXPECT_EQ(img.chip_id, 2);
  EXPECT_NE(img.problem_summary().find("ESP32-S2"), std::string::npos);
  // The same bytes are fine for a rig that expects an ESP32-S2.
  ImageLimits s2;
  s2.chip_id = 2;
  EXPECT_TRUE(parse_esp32_image(build_esp32_image({}, ImageCorruption::wrong_chip), s2).valid());
}

TEST(EspImage, TrailingErasedFlashIsNotAProblem) {
  auto bytes = build_esp32_image({});
  const auto size = bytes.size();
  bytes.resize(size + 4096, 0xFF);  // a slot read back from flash
  auto img = parse_esp32_image(bytes);
  EXPECT_TRUE(img.valid()) << img.problem_summary();
  EXPECT_EQ(img.image_size, size);
  EXPECT_EQ(img.trailing_bytes, 4096u);
}

TEST(EspImage, EmptyAndTinyInputs) {
  EXPECT_TRUE(parse_esp32_image({}).has(ImageProblem::truncated_header));
  std::vector<std::uint8_t> one{0xE9};
  EXPECT_TRUE(parse_esp32_image(one).has(ImageProblem::truncated_header));
  std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o'};
  EXPECT_TRUE(parse_esp32_image(text).has(ImageProblem::bad_magic));
}

TEST(EspImage, MissingChecksumByteIsATruncatedFooter) {
  auto bytes = build_esp32_image({});
  bytes.resize(bytes.size() - 32 - 1);  // drop digest and checksum byte
  auto img = parse_esp32_image(bytes);
  EXPECT_EQ(problems_of(img), std::vector<ImageProblem>{ImageProblem::truncated_footer});
  auto shortdigest = build_esp32_image({});
  shortdigest.resize(shortdigest.size() - 5);
  EXPECT_EQ(problems_of(parse_esp32_image(shortdigest)),
            std::vector<ImageProblem>{ImageProblem::truncated_footer});
}

TEST(EspImage, BoardNames) {
  EXPECT_EQ(parse_board("lopy4"), PycomBoard::lopy4);
  EXPECT_EQ(parse_board("LoPy"), PycomBoard::lopy);
  EXPECT_EQ(parse_board("FIPY"), PycomBoard::fipy);
  EXPECT_FALSE(parse_board("Pyboard").has_value());
  EXPECT_EQ(board_from_project_name("micropython"), PycomBoard::unknown);
  for (auto b : {PycomBoard::wipy, PycomBoard::lopy, PycomBoard::lopy4, PycomBoard::sipy, PycomBoard::gpy,
                 PycomBoard::fipy}) {
    EXPECT_EQ(parse_board(to_string(b)), b);
  }
}

TEST(EspImage, BuilderRejectsImpossibleSpecs) {
  ImageSpec s;
  s.segments = 0;
  EXPECT_THROW(build_esp32_image(s), std::invalid_argument);
  s.segments = 17;
  EXPECT_THROW(build_esp32_image(s), std::invalid_argument);
  ImageSpec v;
  v.version = std::string(32, '1');
  EXPECT_THROW(build_esp32_image(v), std::invalid_argument);
}

}  // namespace
}  // namespace bootrig
