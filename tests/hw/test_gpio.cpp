// Tests for finding GPIO lines among chips (resolve_line, find_chip) and the GPIO enum names.
#include "bootrig/hw/gpio.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "support/fake_lines.hpp"

namespace bootrig {
namespace {

ChipInfo chip(const std::string& name, const std::string& label, std::vector<std::string> line_names) {
  ChipInfo c{"/dev/" + name, name, label, {}};
  for (auto& n : line_names) c.lines.push_back(LineInfo{std::move(n), "", false, false});
  return c;
}

// A Raspberry Pi 4 in miniature: the header chip and the firmware expander.
std::vector<ChipInfo> pi_chips() {
  return {chip("gpiochip0", "pinctrl-bcm2711", {"ID_SDA", "ID_SCL", "GPIO17", ""}),
          chip("gpiochip1", "raspberrypi-exp-gpio", {"BT_ON", "WL_ON", "STATUS_LED"})};
}

LineLocator by_name(const std::string& name) { return LineLocator{name, "", std::nullopt}; }
LineLocator at(const std::string& chip_id, std::optional<unsigned> offset, const std::string& name = "") {
  return LineLocator{name, chip_id, offset};
}

// The RigError's message, or a marker that none was thrown, so EXPECT_EQ shows the full text on failure.
std::string error_of(const std::vector<ChipInfo>& chips, const LineLocator& where) {
  try {
    resolve_line(chips, where);
  } catch (const RigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(ResolveLine, FindsANameOnWhicheverChipHasIt) {
  auto chips = pi_chips();
  ResolvedLine r = resolve_line(chips, by_name("GPIO17"));
  EXPECT_EQ(r.chip_path, "/dev/gpiochip0");
  EXPECT_EQ(r.offset, 2u);
  EXPECT_EQ(r.line_name, "GPIO17");

  r = resolve_line(chips, by_name("STATUS_LED"));
  EXPECT_EQ(r.chip_path, "/dev/gpiochip1");
  EXPECT_EQ(r.offset, 2u);
}

TEST(ResolveLine, ANameOnTwoChipsIsAmbiguousAndBothAreNamed) {
  auto chips = pi_chips();
  chips.push_back(chip("gpiochip2", "gpio-sim.0-node0", {"LED", "GPIO17"}));
  EXPECT_EQ(error_of(chips, by_name("GPIO17")),
            "GPIO line name 'GPIO17' is on 2 lines (GPIO17 (/dev/gpiochip0 offset 2), GPIO17 (/dev/gpiochip2 "
            "offset 1)); give chip and offset instead");
}

TEST(ResolveLine, AMissingNamePointsToBootrigLines) {
  EXPECT_EQ(error_of(pi_chips(), by_name("P12")),
            "GPIO line 'P12' not found on any chip; 'bootrig lines' lists the names (chips: gpiochip0 "
            "[pinctrl-bcm2711] gpiochip1 [raspberrypi-exp-gpio])");
}

TEST(ResolveLine, AMissingNameOnAMachineWithoutChipsSaysSo) {
  EXPECT_EQ(error_of({}, by_name("P12")),
            "GPIO line 'P12' not found on any chip; 'bootrig lines' lists the names (no GPIO chips found (is "
            "/dev/gpiochip* readable?))");
}

TEST(ResolveLine, ChipByNameNumberLabelOrPathWithOffset) {
  auto chips = pi_chips();
  for (const std::string id : {"gpiochip1", "1", "raspberrypi-exp-gpio", "/dev/gpiochip1"}) {
    SCOPED_TRACE(id);
    ResolvedLine r = resolve_line(chips, at(id, 1));
    EXPECT_EQ(r.chip_path, "/dev/gpiochip1");
    EXPECT_EQ(r.offset, 1u);
    EXPECT_EQ(r.line_name, "WL_ON");
  }
}

TEST(ResolveLine, AnUnnamedLineByChipAndOffsetHasNoName) {
  ResolvedLine r = resolve_line(pi_chips(), at("gpiochip0", 3));
  EXPECT_EQ(r.line_name, "");
  EXPECT_EQ(r.describe(), "/dev/gpiochip0 offset 3");
}

TEST(ResolveLine, NameChipAndOffsetThatAgreeResolve) {
  ResolvedLine r = resolve_line(pi_chips(), at("gpiochip0", 2, "GPIO17"));
  EXPECT_EQ(r.describe(), "GPIO17 (/dev/gpiochip0 offset 2)");
}

TEST(ResolveLine, OffsetOutOfRange) {
  EXPECT_EQ(error_of(pi_chips(), at("gpiochip1", 3)),
            "GPIO chip gpiochip1 has 3 lines; offset 3 is out of range");
}

TEST(ResolveLine, ANameThatDisagreesWithTheOffsetsActualName) {
  // The rig file was written for another board: refuse rather than drive the wrong pin.
  EXPECT_EQ(
      error_of(pi_chips(), at("gpiochip1", 0, "GPIO17")),
      "line 'GPIO17' chip 'gpiochip1' offset 0: that offset is named 'BT_ON' on this machine, not 'GPIO17'");
}

TEST(ResolveLine, ChipWithoutOffsetAndOffsetWithoutChip) {
  EXPECT_EQ(
      error_of(pi_chips(), at("gpiochip0", std::nullopt)),
      "chip 'gpiochip0' offset ?: give both chip and offset, or a line name ('bootrig lines' lists them)");
  EXPECT_EQ(error_of(pi_chips(), at("", 4)),
            "chip '?' offset 4: give both chip and offset, or a line name ('bootrig lines' lists them)");
}

TEST(ResolveLine, UnknownChip) {
  EXPECT_EQ(
      error_of(pi_chips(), at("gpiochip9", 0)),
      "GPIO chip 'gpiochip9' not found; chips: gpiochip0 [pinctrl-bcm2711] gpiochip1 [raspberrypi-exp-gpio]");
}

TEST(ResolveLine, NothingGiven) {
  EXPECT_EQ(error_of(pi_chips(), LineLocator{}), "a GPIO line needs a name, or a chip and an offset");
}

TEST(FindChip, ByNameNumberLabelAndPath) {
  auto chips = pi_chips();
  EXPECT_EQ(find_chip(chips, "gpiochip1"), &chips[1]);
  EXPECT_EQ(find_chip(chips, "0"), &chips[0]);
  EXPECT_EQ(find_chip(chips, "pinctrl-bcm2711"), &chips[0]);
  EXPECT_EQ(find_chip(chips, "/dev/gpiochip1"), &chips[1]);
}

TEST(FindChip, NoMatchOrEmptyIsNull) {
  auto chips = pi_chips();
  EXPECT_EQ(find_chip(chips, ""), nullptr);
  EXPECT_EQ(find_chip(chips, "7"), nullptr);
  EXPECT_EQ(find_chip(chips, "gpiochip"), nullptr);
  EXPECT_EQ(find_chip({}, "gpiochip0"), nullptr);
}

TEST(FindChip, NameAndPathWinOverALabel) {
  // Labels are free text and may repeat or look like another chip's name; names and paths are unique.
  std::vector<ChipInfo> chips = {chip("gpiochip5", "gpiochip0", {"A"}), chip("gpiochip0", "real", {"B"})};
  EXPECT_EQ(find_chip(chips, "gpiochip0"), &chips[1]);
  EXPECT_EQ(find_chip(chips, "real"), &chips[1]);
}

TEST(FindChip, ARepeatedLabelPicksTheFirstChip) {
  std::vector<ChipInfo> chips = {chip("gpiochip3", "same", {"A"}), chip("gpiochip4", "same", {"B"})};
  EXPECT_EQ(find_chip(chips, "same"), &chips[0]);
}

TEST(GpioNames, ToStringCoversEveryValue) {
  EXPECT_STREQ(to_string(Level::active), "active");
  EXPECT_STREQ(to_string(Level::inactive), "inactive");
  EXPECT_STREQ(to_string(Edge::rising), "rising");
  EXPECT_STREQ(to_string(Edge::falling), "falling");
  EXPECT_STREQ(to_string(Drive::push_pull), "push-pull");
  EXPECT_STREQ(to_string(Drive::open_drain), "open-drain");
  EXPECT_STREQ(to_string(Drive::open_source), "open-source");
  EXPECT_STREQ(to_string(Bias::as_is), "as-is");
  EXPECT_STREQ(to_string(Bias::disabled), "disabled");
  EXPECT_STREQ(to_string(Bias::pull_up), "pull-up");
  EXPECT_STREQ(to_string(Bias::pull_down), "pull-down");
}

TEST(GpioNames, LevelHelpersRoundTrip) {
  EXPECT_EQ(level_of(true), Level::active);
  EXPECT_EQ(level_of(false), Level::inactive);
  EXPECT_TRUE(is_active(Level::active));
  EXPECT_FALSE(is_active(Level::inactive));
}

TEST(GpioNames, LocatorDescriptions) {
  EXPECT_EQ(by_name("GPIO17").describe(), "line 'GPIO17'");
  EXPECT_EQ(at("gpiochip0", 17).describe(), "chip 'gpiochip0' offset 17");
  EXPECT_EQ(at("gpiochip0", 17, "GPIO17").describe(), "line 'GPIO17' chip 'gpiochip0' offset 17");
  EXPECT_EQ(LineLocator{}.describe(), "unspecified line");
  EXPECT_EQ((ResolvedLine{"/dev/gpiochip0", 17, "GPIO17"}.describe()), "GPIO17 (/dev/gpiochip0 offset 17)");
}

TEST(Pulse, DrivesActiveThenInactive) {
  testing::FakeOutput out;
  pulse(out, milliseconds(1));
  EXPECT_EQ(out.history(), (std::vector<Level>{Level::active, Level::inactive}));
}

TEST(Pulse, AnInterruptionStillEndsThePulse) {
  // A Ctrl-C during a RESET pulse must not leave the module held in reset.
  testing::FakeOutput out;
  interrupt::clear();
  interrupt::request(SIGINT);
  EXPECT_THROW(pulse(out, seconds(30)), Interrupted);
  interrupt::clear();
  EXPECT_EQ(out.history(), (std::vector<Level>{Level::active, Level::inactive}));
}

TEST(Pulse, OnAnExitPathThePulseIsWholeEvenWhenInterrupted) {
  // Resetting a module out of download mode after a Ctrl-C: a pulse cut to nothing would leave it in the ROM.
  testing::FakeOutput out;
  interrupt::clear();
  interrupt::request(SIGINT);
  const TimePoint start = now();
  EXPECT_NO_THROW(pulse_on_exit_path(out, milliseconds(30)));
  const Duration held = now() - start;
  interrupt::clear();
  EXPECT_EQ(out.history(), (std::vector<Level>{Level::active, Level::inactive}));
  EXPECT_GE(held, milliseconds(30)) << "a sleep lasts at least its width, however loaded the machine";
}

}  // namespace
}  // namespace bootrig
