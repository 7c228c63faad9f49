// The GpioBackend tests both libgpiod drivers must pass; each build includes them from its own test file.
// Hardware cases use only a gpio-sim chip (label "gpio-sim*"), never a real board's lines, and skip
// without one. Under qemu, a later tier loads gpio-sim and creates such a chip through configfs.
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "drivers/gpiod_common.hpp"

namespace bootrig::gpiod_tests {

namespace fs = std::filesystem;

// A free line on a gpio-sim chip, and the sysfs folder through which the simulator's side of it is
// driven (pull) and observed (value): /sys/devices/platform/gpio-sim.N/gpiochipM/sim_gpioK.
struct SimLine {
  ChipInfo chip;
  ResolvedLine line;
  fs::path sim;

  void pull(bool up) const {
    std::ofstream f(sim / "pull");
    f << (up ? "pull-up" : "pull-down");
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + (sim / "pull").string());
  }
  // The physical level the chip sees on the pin, before any active-low inversion.
  int physical_value() const {
    std::ifstream f(sim / "value");
    int v = -1;
    f >> v;
    return v;
  }
};

inline std::optional<fs::path> sim_folder(const ChipInfo& chip, unsigned offset) {
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator("/sys/devices/platform", ec)) {
    if (dev.path().filename().string().rfind("gpio-sim.", 0) != 0) continue;
    fs::path p = dev.path() / chip.name / ("sim_gpio" + std::to_string(offset));
    if (fs::exists(p / "pull", ec)) return p;
  }
  return std::nullopt;
}

// Why the hardware tests cannot run here, or the line they may use.
inline std::optional<SimLine> find_sim_line(GpioBackend& backend, std::string& why_not) {
  if (gpiod_detail::gpiochip_paths().empty()) {
    why_not = "no /dev/gpiochip* on this machine; these tests run under qemu with the gpio-sim module";
    return std::nullopt;
  }
  for (const ChipInfo& c : backend.chips()) {
    if (c.label.rfind("gpio-sim", 0) != 0) continue;
    for (unsigned i = 0; i < c.lines.size(); ++i) {
      if (c.lines[i].used) continue;
      if (auto sim = sim_folder(c, i)) return SimLine{c, ResolvedLine{c.path, i, c.lines[i].name}, *sim};
    }
    why_not = "gpio-sim chip " + c.name + " has no free line with a sysfs sim_gpio folder";
    return std::nullopt;
  }
  why_not =
      "GPIO chips exist but none is a gpio-sim chip (label gpio-sim*); real board lines are never touched";
  return std::nullopt;
}

inline LineSettings test_settings() {
  LineSettings s;
  s.consumer = "bootrig-test";
  return s;
}

class GpiodBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { interrupt::clear(); }
  std::unique_ptr<GpioBackend> backend_ = make_gpiod_backend();
};

// Skips the test (from the test body) unless a gpio-sim line is available.
#define BOOTRIG_REQUIRE_SIM_LINE(var)                       \
  std::string why_not_##var;                                \
  auto var##_opt = find_sim_line(*backend_, why_not_##var); \
  if (!var##_opt) GTEST_SKIP() << why_not_##var;            \
  const SimLine& var = *var##_opt

TEST_F(GpiodBackendTest, ChipsListsEveryGpiochipWithoutThrowing) {
  std::vector<ChipInfo> chips;
  ASSERT_NO_THROW(chips = backend_->chips());
  const auto paths = gpiod_detail::gpiochip_paths();
  ASSERT_EQ(chips.size(), paths.size());
  for (std::size_t i = 0; i < chips.size(); ++i) {
    EXPECT_EQ(chips[i].path, paths[i]);
    EXPECT_FALSE(chips[i].name.empty());
  }
}

TEST_F(GpiodBackendTest, RequestOnAMissingChipNamesThePath) {
  const ResolvedLine missing{"/dev/gpiochip-bootrig-missing", 0, ""};
  for (bool output : {true, false}) {
    try {
      if (output)
        backend_->request_output(missing, test_settings());
      else
        backend_->request_input(missing, test_settings());
      ADD_FAILURE() << "no error for a missing chip";
    } catch (const RigError& e) {
      EXPECT_EQ(
          std::string(e.what()),
          "GPIO chip /dev/gpiochip-bootrig-missing does not exist; 'bootrig lines' lists the chips on this "
          "machine");
    }
  }
}

TEST_F(GpiodBackendTest, RequestOnAFileThatIsNoChipNamesThePath) {
  try {
    backend_->request_output(ResolvedLine{"/dev/null", 0, ""}, test_settings());
    ADD_FAILURE() << "no error for /dev/null";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/null"), std::string::npos) << e.what();
  }
}

TEST_F(GpiodBackendTest, OutputAppliesTheInitialValueAndReadsBack) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  LineSettings s = test_settings();
  s.initial = Level::active;
  auto out = backend_->request_output(sim.line, s);
  EXPECT_EQ(out->get(), Level::active);
  EXPECT_EQ(sim.physical_value(), 1);
  out->set(Level::inactive);
  EXPECT_EQ(out->get(), Level::inactive);
  EXPECT_EQ(sim.physical_value(), 0);
  EXPECT_EQ(out->describe(), sim.line.describe());
}

TEST_F(GpiodBackendTest, ActiveLowOutputDrivesTheInvertedPhysicalLevel) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  LineSettings s = test_settings();
  s.active_low = true;
  s.initial = Level::active;
  auto out = backend_->request_output(sim.line, s);
  EXPECT_EQ(out->get(), Level::active);
  EXPECT_EQ(sim.physical_value(), 0);
  out->set(Level::inactive);
  EXPECT_EQ(sim.physical_value(), 1);
}

TEST_F(GpiodBackendTest, AHeldOutputShowsItsConsumerAndIsReleasedOnDestruction) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  {
    auto out = backend_->request_output(sim.line, test_settings());
    auto chips = backend_->chips();
    const ChipInfo* c = find_chip(chips, sim.chip.path);
    ASSERT_NE(c, nullptr);
    const LineInfo& li = c->lines.at(sim.line.offset);
    EXPECT_TRUE(li.used);
    EXPECT_TRUE(li.output);
    EXPECT_EQ(li.consumer, "bootrig-test");
  }
  auto chips = backend_->chips();
  const ChipInfo* c = find_chip(chips, sim.chip.path);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->lines.at(sim.line.offset).used);
  EXPECT_NO_THROW(backend_->request_output(sim.line, test_settings()));
}

TEST_F(GpiodBackendTest, ABusyLineNamesItsHolder) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  LineSettings holder = test_settings();
  holder.consumer = "bootrig-holder";
  auto held = backend_->request_output(sim.line, holder);
  try {
    backend_->request_input(sim.line, test_settings());
    ADD_FAILURE() << "second request of a held line succeeded";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()),
              sim.line.describe() +
                  " is busy: 'bootrig-holder' holds it; stop that user or choose another line "
                  "('bootrig lines' shows who uses what)");
  }
}

TEST_F(GpiodBackendTest, AnOffsetBeyondTheChipIsRefused) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  const auto n = static_cast<unsigned>(sim.chip.lines.size());
  EXPECT_THROW(backend_->request_output(ResolvedLine{sim.chip.path, n, ""}, test_settings()), RigError);
}

TEST_F(GpiodBackendTest, InputReportsEachEdgeWithIncreasingKernelTimestamps) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(false);
  auto in = backend_->request_input(sim.line, test_settings());
  EXPECT_EQ(in->get(), Level::inactive);
  const TimePoint start = now();
  TimePoint last = start;
  for (Edge expected : {Edge::rising, Edge::falling, Edge::rising}) {
    sim.pull(expected == Edge::rising);
    auto e = in->wait_event(Deadline::after(seconds(10)));
    ASSERT_TRUE(e.has_value()) << "no " << to_string(expected) << " edge";
    EXPECT_EQ(e->edge, expected);
    EXPECT_GT(e->time, last);  // kernel stamps on CLOCK_MONOTONIC: after the previous edge and the start
    EXPECT_LE(e->time, now());
    last = e->time;
  }
  EXPECT_EQ(in->get(), Level::active);
  sim.pull(false);
}

TEST_F(GpiodBackendTest, EdgesThatArriveTogetherComeOutOneByOneInOrder) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(false);
  auto in = backend_->request_input(sim.line, test_settings());
  // Four edges before the first read, so the kernel hands them over in one batch. The pause only makes
  // each level settle (gpio-sim reports the level after the edge); nothing is asserted about time.
  for (bool up : {true, false, true, false}) {
    sim.pull(up);
    std::this_thread::sleep_for(milliseconds(100));
  }
  TimePoint last{};
  for (Edge expected : {Edge::rising, Edge::falling, Edge::rising, Edge::falling}) {
    auto e = in->wait_event(Deadline::after(seconds(10)));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->edge, expected);
    EXPECT_GT(e->time, last);
    last = e->time;
  }
  EXPECT_FALSE(in->wait_event(Deadline::after(milliseconds(100))).has_value());
}

TEST_F(GpiodBackendTest, ActiveLowInputReportsLogicalEdges) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(false);
  LineSettings s = test_settings();
  s.active_low = true;
  auto in = backend_->request_input(sim.line, s);
  EXPECT_EQ(in->get(), Level::active);  // low pin, active-low wiring
  sim.pull(true);
  auto e = in->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::falling);  // became inactive
  EXPECT_EQ(in->get(), Level::inactive);
  sim.pull(false);
}

TEST_F(GpiodBackendTest, InputBiasIsApplied) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  LineSettings s = test_settings();
  s.bias = Bias::pull_up;
  auto in = backend_->request_input(sim.line, s);
  EXPECT_EQ(in->get(), Level::active);  // gpio-sim follows the requested pull
}

TEST_F(GpiodBackendTest, WaitEventReturnsNothingAtTheDeadline) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  auto in = backend_->request_input(sim.line, test_settings());
  const auto d = Deadline::after(milliseconds(100));
  EXPECT_FALSE(in->wait_event(d).has_value());
  EXPECT_GE(now(), d.when());
}

TEST_F(GpiodBackendTest, InterruptionWakesAWaitingInput) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  auto in = backend_->request_input(sim.line, test_settings());
  std::thread t([] {
    std::this_thread::sleep_for(milliseconds(50));
    interrupt::request(SIGINT);
  });
  EXPECT_THROW(in->wait_event(Deadline::never()), Interrupted);
  t.join();
  interrupt::clear();
}

}  // namespace bootrig::gpiod_tests
