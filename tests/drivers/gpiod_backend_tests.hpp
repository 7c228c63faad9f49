// The GpioBackend tests both libgpiod drivers must pass; each build includes them from its own test file.
// Hardware cases use only a gpio-sim chip (label "gpio-sim*"), never a real board's lines, and skip
// without one. The kernel tier (tests/kernel/run-tier.sh) runs them under qemu on a gpio-sim chip.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

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
#include "support/gpio_sim.hpp"

namespace bootrig::gpiod_tests {

namespace fs = std::filesystem;

using testing::sim_folder;
using testing::SimLine;

// Why the hardware tests cannot run here, or the `count` free lines they may use.
inline std::vector<SimLine> find_sim_lines(GpioBackend& backend, std::size_t count, std::string& why_not) {
  if (gpiod_detail::gpiochip_paths().empty()) {
    why_not = "no /dev/gpiochip* on this machine; these tests run under qemu with the gpio-sim module";
    return {};
  }
  for (const ChipInfo& c : backend.chips()) {
    if (c.label.rfind("gpio-sim", 0) != 0) continue;
    std::vector<SimLine> found;
    for (unsigned i = 0; i < c.lines.size() && found.size() < count; ++i) {
      if (c.lines[i].used) continue;
      if (auto sim = sim_folder(c, i))
        found.push_back(SimLine{c, ResolvedLine{c.path, i, c.lines[i].name}, *sim});
    }
    if (found.size() == count) return found;
    why_not = "gpio-sim chip " + c.name + " has fewer than " + std::to_string(count) +
              " free lines with a sysfs sim_gpio folder";
    return {};
  }
  why_not =
      "GPIO chips exist but none is a gpio-sim chip (label gpio-sim*); real board lines are never touched";
  return {};
}

inline std::optional<SimLine> find_sim_line(GpioBackend& backend, std::string& why_not) {
  auto lines = find_sim_lines(backend, 1, why_not);
  if (lines.empty()) return std::nullopt;
  return lines.front();
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

TEST_F(GpiodBackendTest, ALineIsFoundByTheNameTheChipGivesIt) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  ASSERT_FALSE(sim.line.line_name.empty()) << "the kernel tier names every line of its gpio-sim chip";
  ResolvedLine r = resolve_line(backend_->chips(), LineLocator{sim.line.line_name, "", std::nullopt});
  EXPECT_EQ(r.chip_path, sim.chip.path);
  EXPECT_EQ(r.offset, sim.line.offset);
  auto out = backend_->request_output(r, test_settings());
  EXPECT_NE(out->describe().find(sim.line.line_name), std::string::npos) << out->describe();
}

TEST_F(GpiodBackendTest, OpenDrainOutputPullsLowAndOtherwiseLetsTheLineFloat) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  // RESET as on the bench: active low, open-drain, the module's pull-up on the far side.
  LineSettings s = test_settings();
  s.active_low = true;
  s.drive = Drive::open_drain;
  sim.pull(true);
  {
    auto out = backend_->request_output(sim.line, s);
    EXPECT_EQ(sim.physical_value(), 1);  // released: the pull-up holds the line high
    out->set(Level::active);
    EXPECT_EQ(sim.physical_value(), 0);
    out->set(Level::inactive);
    EXPECT_EQ(sim.physical_value(), 1);
  }
  // With a pull-down on the far side the released line reads low: open-drain never drives high, where a
  // push-pull active-low output would (ActiveLowOutputDrivesTheInvertedPhysicalLevel).
  sim.pull(false);
  auto out = backend_->request_output(sim.line, s);
  EXPECT_EQ(sim.physical_value(), 0);
  out->set(Level::active);
  out->set(Level::inactive);
  EXPECT_EQ(sim.physical_value(), 0);
}

TEST_F(GpiodBackendTest, OutputBiasReachesTheChip) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(true);
  LineSettings s = test_settings();
  s.bias = Bias::pull_down;  // P12's setting on the bench
  s.initial = Level::active;
  {
    auto out = backend_->request_output(sim.line, s);
    EXPECT_EQ(sim.physical_value(), 1);
  }
  // Released, the line shows the pull the driver asked the chip for.
  EXPECT_EQ(sim.physical_value(), 0);
}

// What a Pi's P12 and RESET do when bootrig is killed outright (no signal handler runs): docs/testing.md.
TEST_F(GpiodBackendTest, WhenTheHolderIsKilledTheKernelFreesItsLines) {
  std::string why_not;
  auto lines = find_sim_lines(*backend_, 2, why_not);
  if (lines.size() < 2) GTEST_SKIP() << why_not;
  const SimLine& p12 = lines[0];
  const SimLine& reset = lines[1];
  p12.pull(false);   // the rig's pull-down on P12
  reset.pull(true);  // the module's pull-up on EN
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The holder, in the middle of a safe-boot entry: P12 asserted, RESET asserted.
    try {
      auto backend = make_gpiod_backend();
      LineSettings s = test_settings();
      s.consumer = "bootrig-killed";
      s.initial = Level::active;
      auto p12_out = backend->request_output(p12.line, s);
      s.active_low = true;
      s.drive = Drive::open_drain;
      auto reset_out = backend->request_output(reset.line, s);
      [[maybe_unused]] auto n = ::write(ready[1], "r", 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the holder could not request its lines";
  ::close(ready[0]);
  EXPECT_EQ(p12.physical_value(), 1);
  EXPECT_EQ(reset.physical_value(), 0);
  {
    auto chips = backend_->chips();
    EXPECT_EQ(find_chip(chips, p12.chip.path)->lines.at(p12.line.offset).consumer, "bootrig-killed");
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  // The kernel frees a dead process's lines however it died: the next user can have them...
  auto chips = backend_->chips();
  const ChipInfo* chip = find_chip(chips, p12.chip.path);
  ASSERT_NE(chip, nullptr);
  EXPECT_FALSE(chip->lines.at(p12.line.offset).used);
  EXPECT_FALSE(chip->lines.at(reset.line.offset).used);
  // ...and what the pins do then is the chip driver's choice. gpio-sim, like mainline's Raspberry Pi pin
  // controller, stops driving them: each takes its pull, so P12 and RESET are released. A Raspberry Pi OS
  // kernel keeps freed outputs driven instead (docs/testing.md).
  EXPECT_EQ(p12.physical_value(), 0);
  EXPECT_EQ(reset.physical_value(), 1);
  EXPECT_NO_THROW(backend_->request_output(p12.line, test_settings()));
}

}  // namespace bootrig::gpiod_tests
