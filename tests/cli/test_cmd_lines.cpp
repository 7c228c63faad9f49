// Tests for `bootrig lines`: its output over hand-made chips, and the built binary on this machine.
#include "cli/cmd_lines.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "drivers/gpiod_common.hpp"
#include "support/gpio_sim.hpp"
#include "support/run_bootrig.hpp"

namespace bootrig {
namespace {

class FakeBackend : public GpioBackend {
 public:
  explicit FakeBackend(std::vector<ChipInfo> chips) : chips_(std::move(chips)) {}
  std::vector<ChipInfo> chips() override { return chips_; }
  std::unique_ptr<DigitalOutput> request_output(const ResolvedLine&, const LineSettings&) override {
    throw RigError("not in this test");
  }
  std::unique_ptr<DigitalInput> request_input(const ResolvedLine&, const LineSettings&) override {
    throw RigError("not in this test");
  }

 private:
  std::vector<ChipInfo> chips_;
};

std::vector<ChipInfo> two_chips() {
  return {ChipInfo{"/dev/gpiochip0",
                   "gpiochip0",
                   "pinctrl-bcm2711",
                   {LineInfo{"ID_SDA", "", false, false}, LineInfo{"GPIO17", "bootrig", true, true},
                    LineInfo{"", "", true, false}}},
          ChipInfo{"/dev/gpiochip1", "gpiochip1", "", {LineInfo{"STATUS_LED", "led0", true, true}}}};
}

std::string run(std::vector<ChipInfo> chips, const LinesOptions& opts, int* rc = nullptr) {
  FakeBackend backend(std::move(chips));
  std::ostringstream out;
  int code = run_lines(backend, opts, out);
  if (rc) *rc = code;
  return out.str();
}

TEST(LinesText, OneBlockPerChipOneRowPerLine) {
  EXPECT_EQ(format_lines_text(two_chips()),
            "gpiochip0 [pinctrl-bcm2711] /dev/gpiochip0, 3 lines\n"
            "  offset  name    direction  user\n"
            "       0  ID_SDA  input      -\n"
            "       1  GPIO17  output     used by \"bootrig\"\n"
            "       2  -       input      used\n"
            "\n"
            "gpiochip1 /dev/gpiochip1, 1 line\n"
            "  offset  name        direction  user\n"
            "       0  STATUS_LED  output     used by \"led0\"\n");
}

TEST(LinesText, ChipOptionSelectsOneChipByAnyOfItsIdentifiers) {
  for (const std::string id : {"gpiochip1", "1", "/dev/gpiochip1"}) {
    SCOPED_TRACE(id);
    int rc = -1;
    std::string text = run(two_chips(), LinesOptions{id, false}, &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(text.find("gpiochip0"), std::string::npos) << text;
    EXPECT_NE(text.find("STATUS_LED"), std::string::npos) << text;
  }
  std::string by_label = run(two_chips(), LinesOptions{"pinctrl-bcm2711", false});
  EXPECT_EQ(by_label.rfind("gpiochip0 [pinctrl-bcm2711]", 0), 0u) << by_label;
  EXPECT_EQ(by_label.find("STATUS_LED"), std::string::npos) << by_label;
}

TEST(LinesText, AnUnknownChipIsARigErrorListingTheChips) {
  try {
    run(two_chips(), LinesOptions{"gpiochip7", false});
    ADD_FAILURE() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "GPIO chip 'gpiochip7' not found; this machine has gpiochip0 [pinctrl-bcm2711], gpiochip1");
  }
  try {
    run({}, LinesOptions{"gpiochip7", false});
    ADD_FAILURE() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(), "GPIO chip 'gpiochip7' not found: there are no GPIO chips in /dev");
  }
}

TEST(LinesText, NoChipsIsOneLineAndSuccess) {
  int rc = -1;
  EXPECT_EQ(
      run({}, LinesOptions{}, &rc),
      "no GPIO chips found in /dev (expected on machines without GPIO; the simulated module needs none)\n");
  EXPECT_EQ(rc, 0);
}

TEST(LinesJson, StructureAndNullsForAbsentNames) {
  int rc = -1;
  auto j = nlohmann::json::parse(run(two_chips(), LinesOptions{"", true}, &rc));
  EXPECT_EQ(rc, 0);
  ASSERT_TRUE(j.contains("libgpiod"));
  EXPECT_NE(j["libgpiod"].get<std::string>().find("API"), std::string::npos);
  ASSERT_EQ(j["chips"].size(), 2u);
  const auto& c0 = j["chips"][0];
  EXPECT_EQ(c0["name"], "gpiochip0");
  EXPECT_EQ(c0["label"], "pinctrl-bcm2711");
  EXPECT_EQ(c0["path"], "/dev/gpiochip0");
  EXPECT_EQ(c0["num_lines"], 3);
  ASSERT_EQ(c0["lines"].size(), 3u);
  EXPECT_EQ(c0["lines"][1], (nlohmann::json{{"offset", 1},
                                            {"name", "GPIO17"},
                                            {"used", true},
                                            {"consumer", "bootrig"},
                                            {"direction", "output"}}));
  EXPECT_TRUE(c0["lines"][2]["name"].is_null());
  EXPECT_TRUE(c0["lines"][0]["consumer"].is_null());
}

TEST(LinesJson, NoChipsIsAnEmptyList) {
  auto j = lines_json({}, "libgpiod test");
  EXPECT_EQ(j, (nlohmann::json{{"libgpiod", "libgpiod test"}, {"chips", nlohmann::json::array()}}));
}

void skip_if_chips_exist() {
  if (!gpiod_detail::gpiochip_paths().empty())
    GTEST_SKIP() << "this machine has /dev/gpiochip*; the test checks the no-GPIO case";
}

TEST(LinesBinary, WithoutChipsSaysSoAndSucceeds) {
  skip_if_chips_exist();
  if (IsSkipped()) return;
  auto r = testing::run_bootrig("lines");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(
      r.out,
      "no GPIO chips found in /dev (expected on machines without GPIO; the simulated module needs none)\n");
}

TEST(LinesBinary, JsonWithoutChipsIsAnEmptyList) {
  skip_if_chips_exist();
  if (IsSkipped()) return;
  auto r = testing::run_bootrig("lines --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["chips"].empty());
}

TEST(LinesBinary, AnUnknownChipIsExitCode2WithOneLine) {
  auto r = testing::run_bootrig("lines --chip bootrig-no-such-chip");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("bootrig: GPIO chip 'bootrig-no-such-chip' not found", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// ---- The built binary against the kernel tier's gpio-sim chip (lines named like a Raspberry Pi's) ----

TEST(LinesGpioSim, ListsTheChipWithItsNamedLinesAndWhoHoldsOne) {
  auto backend = make_gpiod_backend();
  auto p12 = testing::named_sim_line(*backend, "GPIO17");
  if (!p12) GTEST_SKIP() << testing::kNoPiSimChip;
  LineSettings s;
  s.consumer = "lines-test-holder";
  auto held = backend->request_output(p12->line, s);
  auto r = testing::run_bootrig("lines --chip " + p12->chip.name);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(p12->chip.name + " [" + p12->chip.label + "] " + p12->chip.path + ", 28 lines"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      17  GPIO17  output     used by \"lines-test-holder\""), std::string::npos)
      << r.out;
  // Free lines keep whatever direction their last user left; name and user are what count.
  EXPECT_NE(r.out.find("      27  GPIO27  "), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(testing::run_bootrig("lines --json --chip " + p12->chip.path).out);
  ASSERT_EQ(j["chips"].size(), 1u);
  EXPECT_EQ(j["chips"][0]["lines"][17]["name"], "GPIO17");
  EXPECT_EQ(j["chips"][0]["lines"][17]["consumer"], "lines-test-holder");
  EXPECT_EQ(j["chips"][0]["lines"][17]["direction"], "output");
}

}  // namespace
}  // namespace bootrig
