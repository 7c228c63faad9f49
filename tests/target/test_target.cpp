// Tests for opening a rig: the hardware branch (lines claimed inactive through libgpiod, the port through
// libserialport) on the kernel tier's gpio-sim chip and UART, and refusals that name what is wrong.
#include "bootrig/target/target.hpp"

#include <gtest/gtest.h>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "support/gpio_sim.hpp"

namespace bootrig {
namespace {

using testing::named_sim_line;
using testing::SimLine;

class TargetGpioSim : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    rig_text_ = testing::pi_rig_on_gpio_sim(*backend_, why_not);
    if (rig_text_.empty()) GTEST_SKIP() << why_not;
    for (const char* name : {"GPIO17", "GPIO27", "GPIO22", "GPIO23"})
      lines_.push_back(*named_sim_line(*backend_, name));
    // The bench's resistors: the rig's pull-down on P12, the module's pull-ups on EN and P2, the photodiode
    // comparator's output high while the LED is dark.
    p12().pull(false);
    reset().pull(true);
    led().pull(true);
    boot().pull(true);
  }
  const SimLine& p12() const { return lines_[0]; }
  const SimLine& reset() const { return lines_[1]; }
  const SimLine& led() const { return lines_[2]; }
  const SimLine& boot() const { return lines_[3]; }
  const LineInfo& info(const std::vector<ChipInfo>& chips, const SimLine& l) const {
    return find_chip(chips, l.chip.path)->lines.at(l.line.offset);
  }

  std::unique_ptr<GpioBackend> backend_ = make_gpiod_backend();
  std::string rig_text_;
  std::vector<SimLine> lines_;
};

TEST_F(TargetGpioSim, HardwareRigClaimsEveryLineInactiveAndOpensItsPort) {
  auto t = Target::open(parse_rig(rig_text_, "pi.toml", "."));
  EXPECT_FALSE(t->simulated());
  auto chips = backend_->chips();
  for (auto [line, consumer, output] : {std::tuple{&p12(), "bootrig-safeboot", true},
                                        {&reset(), "bootrig-reset", true},
                                        {&led(), "bootrig-led", false},
                                        {&boot(), "bootrig-bootloader", true}}) {
    const LineInfo& li = info(chips, *line);
    EXPECT_TRUE(li.used) << line->line.line_name;
    EXPECT_EQ(li.consumer, consumer);
    EXPECT_EQ(li.output, output) << line->line.line_name;
  }
  // Claimed quiet: P12 low, RESET and P2 released to the module's pull-ups.
  EXPECT_EQ(p12().physical_value(), 0);
  EXPECT_EQ(reset().physical_value(), 1);
  EXPECT_EQ(boot().physical_value(), 1);
  t->safeboot().set(Level::active);
  t->reset().set(Level::active);
  EXPECT_EQ(p12().physical_value(), 1);
  EXPECT_EQ(reset().physical_value(), 0);
  ASSERT_NE(t->led(), nullptr);
  EXPECT_EQ(t->led()->get(), Level::inactive);  // dark
  led().pull(false);                            // lit: the comparator pulls the line low
  auto e = t->led()->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::rising);
  EXPECT_EQ(t->serial_path(), std::getenv("BOOTRIG_TEST_SERIAL_PORT"));
  t->release_lines();
  EXPECT_EQ(p12().physical_value(), 0);
  EXPECT_EQ(reset().physical_value(), 1);
  t.reset();
  chips = backend_->chips();
  for (const SimLine* l : {&p12(), &reset(), &led(), &boot()})
    EXPECT_FALSE(info(chips, *l).used) << l->line.line_name;
}

TEST_F(TargetGpioSim, ABusyLineIsARigErrorNamingItsHolderAndNothingStaysClaimed) {
  LineSettings s;
  s.consumer = "other-tool";
  auto held = backend_->request_output(reset().line, s);
  try {
    Target::open(parse_rig(rig_text_, "pi.toml", "."));
    ADD_FAILURE() << "opened a rig whose RESET line is held by another program";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("GPIO27"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'other-tool' holds it"), std::string::npos) << e.what();
  }
  auto chips = backend_->chips();
  EXPECT_FALSE(info(chips, p12()).used) << "P12 was claimed before RESET failed and must be free again";
  EXPECT_EQ(p12().physical_value(), 0);
}

TEST_F(TargetGpioSim, AMissingPortIsARigErrorAfterWhichTheLinesAreFree) {
  std::string text =
      rig_text_.substr(0, rig_text_.find("[serial]")) + "[serial]\nport = \"/dev/ttyS-bootrig-none\"\n";
  EXPECT_THROW(Target::open(parse_rig(text, "pi.toml", ".")), RigError);
  auto chips = backend_->chips();
  for (const SimLine* l : {&p12(), &reset(), &led(), &boot()})
    EXPECT_FALSE(info(chips, *l).used) << l->line.line_name;
}

TEST(TargetSim, ASimulatorOnGpioSimWiresIsNotOpenedInProcess) {
  RigConfig rig = parse_rig(
      "[rig]\nkind = \"sim\"\n[sim.wires]\nkind = \"gpio-sim\"\nuart = \"/dev/ttyS1\"\n", "wired.toml", ".");
  try {
    Target::open(rig);
    ADD_FAILURE() << "opened a simulator whose pins are gpio-sim lines";
  } catch (const RigError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "rig wired.toml wires the simulated module to gpio-sim lines; run it with `bootrig sim` and drive it "
        "through those lines with a hardware rig file");
  }
}

}  // namespace
}  // namespace bootrig
