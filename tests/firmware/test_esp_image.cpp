// Tests parsing and validation of ESP32 application images, fed by the image builder and by hand-made bytes.
#include "bootrig/firmware/esp_image.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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

TEST(EspImage, PycomShapedImagesOfSeveralVersionsAndBoardsDescribeThemselves) {
  const Case cases[] = {
      {"1.20.2.r4", PycomBoard::fipy, 16384, 3, true}, {"1.18.2.r7", PycomBoard::lopy4, 4000, 4, true},
      {"1.20.0.rc13", PycomBoard::wipy, 0, 1, false},  {"1.9.1.b1", PycomBoard::sipy, 77777, 7, true},
      {"1.20.2.r6", PycomBoard::gpy, 100, 15, false},  {"1.17.3.b1", PycomBoard::lopy, 12345, 2, true}};
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
    EXPECT_EQ(img.kind, ImageKind::app);
    // As Pycom builds them: no app description; the banner in rodata says what it is.
    EXPECT_FALSE(img.app.has_value());
    EXPECT_TRUE(img.identity.pycom);
    EXPECT_EQ(img.identity.source, "banner");
    EXPECT_EQ(img.identity.version, c.version);
    EXPECT_EQ(img.identity.board_name, to_string(c.board));
    EXPECT_EQ(img.identity.git_tag, spec.git_tag);
    EXPECT_EQ(img.identity.build_date, spec.build_date);
    EXPECT_EQ(img.identity.mcu, "ESP32");
    EXPECT_EQ(img.identity.note, "");
    EXPECT_EQ(img.board, c.board);
    EXPECT_EQ(img.describe(), std::string(to_string(c.board)) + " " + c.version);
    // A padding segment (load address 0) before IROM, whenever there is an IROM segment.
    const bool padded = std::any_of(img.segments.begin(), img.segments.end(),
                                    [](const EspSegment& s) { return s.load_address == 0; });
    EXPECT_EQ(padded, c.segments >= 2);
    EXPECT_EQ(img.segment_count, c.segments + (padded ? 1 : 0));
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
      if (is_flash_mapped(seg.load_address)) {
        EXPECT_EQ((seg.load_address - seg.file_offset) % 0x10000, 0u) << hex32(seg.load_address);
      }
    }
    EXPECT_EQ(img.spi_mode, SpiFlashMode::dio);
    EXPECT_EQ(flash_size_from_code(img.spi_size_code), 4u << 20);
    EXPECT_EQ(flash_mhz_from_code(img.spi_speed_code), 80u);
  }
}

TEST(EspImage, TheBannerIsOneStringLiteralAsPyexecPrintsIt) {
  EXPECT_EQ(pycom_banner("1.20.2.r4", "v1.11-a5aa0b8", "2021-01-12", "FiPy"),
            "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32");
  auto bytes = build_esp32_image({});
  const std::string raw(bytes.begin(), bytes.end());
  EXPECT_NE(raw.find("Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n"),
            std::string::npos);
  EXPECT_NE(raw.find(std::string("\0"
                                 "1.20.2.r4\0",
                                 11)),
            std::string::npos)
      << "SW_VERSION_NUMBER alone";
}

TEST(EspImage, WithoutTheBannerTheStandaloneVersionAndBoardStringsName) {
  auto bytes = build_esp32_image({});
  // Overwrite the banner's head so it no longer parses (a later firmware with another banner format).
  std::string raw(bytes.begin(), bytes.end());
  auto at = raw.find("Pycom MicroPython ");
  ASSERT_NE(at, std::string::npos);
  for (std::size_t i = 0; i < 5; ++i) bytes[at + i] = 'X';
  auto img = parse_esp32_image(bytes);
  EXPECT_TRUE(img.identity.pycom);
  EXPECT_EQ(img.identity.source, "version and board strings");
  EXPECT_EQ(img.identity.version, "1.20.2.r4");
  EXPECT_EQ(img.board, PycomBoard::fipy);
}

TEST(EspImage, AnIdfStyleImageIsNamedByItsAppDescription) {
  ImageSpec spec;
  spec.style = ImageStyle::idf;
  auto img = parse_esp32_image(build_esp32_image(spec));
  EXPECT_TRUE(img.valid()) << img.problem_summary();
  ASSERT_TRUE(img.app.has_value());
  EXPECT_EQ(img.app->version, "1.20.2.r4");
  EXPECT_EQ(img.app->project_name, "FiPy");
  EXPECT_EQ(img.app->idf_version, spec.idf_version);
  EXPECT_EQ(img.identity.source, "app description");
  EXPECT_TRUE(img.identity.pycom) << "bootrig's former convention: the project names the board";
  EXPECT_EQ(img.board, PycomBoard::fipy);
}

TEST(EspImage, AnotherEsp32AppIsReportedAsNotPycom) {
  ImageSpec spec;
  spec.style = ImageStyle::idf;
  spec.project = "hello_world";
  spec.version = "v5.1-dirty";
  auto img = parse_esp32_image(build_esp32_image(spec));
  EXPECT_TRUE(img.valid()) << img.problem_summary();
  EXPECT_FALSE(img.identity.pycom);
  EXPECT_EQ(img.board, PycomBoard::unknown);
  EXPECT_EQ(img.describe(), "hello_world v5.1-dirty (not a Pycom MicroPython build)");
}

TEST(EspImage, AnEmptyPrebuiltAppDescriptionLosesToTheBanner) {
  // What Pycom's builds would carry if esp_app_desc were linked: empty version and project name.
  auto bytes = build_esp32_image({});
  ImageSpec idf;
  idf.style = ImageStyle::idf;
  idf.version = "";
  idf.project = "";
  auto with_empty = parse_esp32_image(build_esp32_image(idf));
  EXPECT_FALSE(with_empty.identity.pycom) << "an empty description names nothing";
  EXPECT_EQ(with_empty.identity.source, "");
  EXPECT_NE(with_empty.describe().find("names no version"), std::string::npos);
}

TEST(EspImage, ABootloaderIsReadAsOne) {
  auto img = parse_esp32_image(build_bootloader_image());
  EXPECT_TRUE(img.valid()) << img.problem_summary();
  EXPECT_EQ(img.kind, ImageKind::bootloader);
  EXPECT_EQ(img.describe(), "a second-stage bootloader");
  EXPECT_FALSE(img.identity.pycom);
  // Its RAM at 0x3FFF0000 and 0x40078000 is where an app must not load.
  for (const auto& s : img.segments) EXPECT_FALSE(is_flash_mapped(s.load_address));
}

// One segment by hand: header, segment, checksum; the offsets are exact.
std::vector<std::uint8_t> one_segment(std::uint32_t address, std::uint32_t length,
                                      std::size_t pad_before = 0) {
  std::vector<std::uint8_t> b(24, 0);
  b[0] = 0xE9;
  b[1] = pad_before ? 2 : 1;
  b[3] = 0x2F;
  if (pad_before) {
    le::append32(b, 0);
    le::append32(b, static_cast<std::uint32_t>(pad_before));
    b.resize(b.size() + pad_before, 0);
  }
  le::append32(b, address);
  le::append32(b, length);
  std::uint8_t sum = 0xEF;
  for (std::uint32_t i = 0; i < length; ++i) {
    b.push_back(static_cast<std::uint8_t>(i * 7));
    sum ^= static_cast<std::uint8_t>(i * 7);
  }
  b.resize(b.size() + (15 - b.size() % 16), 0);
  b.push_back(sum);
  return b;
}

TEST(EspImage, EveryBootloaderRuleNamesTheSegmentAndTheRule) {
  struct Rule {
    std::vector<std::uint8_t> bytes;
    ImageProblem problem;
    const char* says;
  };
  const Rule rules[] = {
      // DROM data at file offset 0x20 must load at an address ending in 0x0020 within its page.
      {one_segment(0x3F400024, 64), ImageProblem::unmapped_offset,
       "segment 0 (load 0x3f400024, 64 bytes at file offset 0x20): a flash-mapped segment's load address "
       "and flash offset must agree modulo 64 KiB (0x24 vs 0x20)"},
      {one_segment(0x400D0020, 66, 0x10000 - 8), ImageProblem::misaligned_segment,
       "segment 1 (load 0x400d0020, 66 bytes at file offset 0x10020): a segment's length must be a multiple "
       "of 4"},
      {one_segment(0x60000000, 16), ImageProblem::bad_load_address,
       "segment 0 (load 0x60000000, 16 bytes at file offset 0x20): a loaded segment must lie inside the "
       "ESP32's DRAM, IRAM or RTC memory"},
  };
  for (const auto& r : rules) {
    auto img = parse_esp32_image(r.bytes);
    ASSERT_TRUE(img.has(r.problem)) << img.problem_summary();
    const auto& issue = img.problems.front();
    EXPECT_EQ(issue.problem, r.problem);
    EXPECT_TRUE(issue.segment.has_value());
    EXPECT_NE(issue.detail.find(r.says), std::string::npos) << issue.detail;
  }
  // An app segment over the bootloader's own RAM, beside a mapped one (so the image is an app).
  ImageSpec spec;
  auto img = parse_esp32_image(build_esp32_image(spec, ImageCorruption::bad_load_address));
  ASSERT_TRUE(img.has(ImageProblem::bad_load_address));
  EXPECT_NE(img.problem_summary().find("overlaps the bootloader's DRAM (0x3fff0000-0x40000000)"),
            std::string::npos)
      << img.problem_summary();
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

TEST(EspImage, ABrokenTestBuildSaysHowItBreaksAndStaysValid) {
  for (SimBreakage b : all_sim_breakages()) {
    ImageSpec spec;
    spec.version = "1.20.2.r7";
    spec.breaks = b;
    auto bytes = build_esp32_image(spec);
    Esp32Image img = parse_esp32_image(bytes);
    EXPECT_TRUE(img.valid()) << to_string(b) << ": " << img.problem_summary();
    EXPECT_EQ(img.sim_breaks, b) << to_string(b);
    EXPECT_EQ(img.identity.version, "1.20.2.r7");
    ASSERT_EQ(parse_sim_breakage(to_string(b)), b);
  }
  ImageSpec good;
  good.version = "1.20.2.r7";
  EXPECT_EQ(parse_esp32_image(build_esp32_image(good)).sim_breaks, SimBreakage::none);
  EXPECT_FALSE(parse_sim_breakage("panics"));
}

TEST(EspImage, TheBreakageIsReadFromTheBytesNotTheVersion) {
  // Two builds of one version: only the one whose rodata carries the marker breaks.
  ImageSpec spec;
  spec.version = "1.20.2.r7";
  ImageSpec broken = spec;
  broken.breaks = SimBreakage::panic_at_boot;
  EXPECT_EQ(parse_esp32_image(build_esp32_image(spec)).sim_breaks, SimBreakage::none);
  EXPECT_EQ(parse_esp32_image(build_esp32_image(broken)).sim_breaks, SimBreakage::panic_at_boot);
}

}  // namespace
}  // namespace bootrig
