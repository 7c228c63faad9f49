// Tests for the simulated module's gpio-sim wires: the module's pins follow kernel GPIO lines that a rig
// drives through libgpiod, and its photodiode output reaches the rig's input. Needs the kernel tier's chip.
#include "sim/gpio_sim_wires.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "support/gpio_sim.hpp"

namespace bootrig::sim {
namespace {

using testing::named_sim_line;

// What the board would be told, in order.
class PinRecorder final : public ModuleInputs {
 public:
  void pin_changed(ModulePin pin, bool high, TimePoint) override {
    std::lock_guard lk(m_);
    seen_.emplace_back(pin, high);
    cv_.notify_all();
  }
  void uart_rx(std::string_view, TimePoint) override {}
  // The next change, or nullopt after 10 s.
  std::optional<std::pair<ModulePin, bool>> next() {
    std::unique_lock lk(m_);
    if (!cv_.wait_for(lk, std::chrono::seconds(10), [&] { return !seen_.empty(); })) return std::nullopt;
    auto v = seen_.front();
    seen_.pop_front();
    return v;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<ModulePin, bool>> seen_;
};

class GpioSimWires : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!named_sim_line(*backend_, "GPIO17")) GTEST_SKIP() << testing::kNoPiSimChip;
    wires_.kind = SimWiresKind::gpio_sim;
    wires_.uart = "/dev/null";  // not used by the pins
  }
  ResolvedLine line(const char* name) { return named_sim_line(*backend_, name)->line; }
  std::unique_ptr<GpioBackend> backend_ = make_gpiod_backend();
  SimWiresConfig wires_;
};

TEST_F(GpioSimWires, TheModulesPullsHoldItsPinsReleased) {
  GpioSimPins pins(wires_);
  EXPECT_FALSE(pins.high(ModulePin::p12));  // the rig's pull-down: no safe-boot request
  EXPECT_TRUE(pins.high(ModulePin::en));    // the module's pull-up: running
  EXPECT_TRUE(pins.high(ModulePin::p2));    // the module's pull-up: normal boot
  EXPECT_EQ(named_sim_line(*backend_, "GPIO22")->physical_value(), 1);  // LED dark
  EXPECT_NE(pins.describe().find("P12 on GPIO17"), std::string::npos) << pins.describe();
}

TEST_F(GpioSimWires, ThePinsFollowTheLinesTheRigDrives) {
  GpioSimPins pins(wires_);
  PinRecorder board;
  pins.start(board);
  LineSettings p12;
  p12.initial = Level::active;
  auto safeboot = backend_->request_output(line("GPIO17"), p12);
  EXPECT_EQ(board.next(), std::pair(ModulePin::p12, true));
  LineSettings od;
  od.active_low = true;
  od.drive = Drive::open_drain;
  auto reset = backend_->request_output(line("GPIO27"), od);
  reset->set(Level::active);
  EXPECT_EQ(board.next(), std::pair(ModulePin::en, false));
  reset->set(Level::inactive);
  EXPECT_EQ(board.next(), std::pair(ModulePin::en, true));
  auto boot = backend_->request_output(line("GPIO23"), od);
  boot->set(Level::active);
  EXPECT_EQ(board.next(), std::pair(ModulePin::p2, false));
  safeboot.reset();  // released by the rig: the pull-down takes P12 low again
  EXPECT_EQ(board.next(), std::pair(ModulePin::p12, false));
  pins.stop();
}

TEST_F(GpioSimWires, TheLedReachesTheRigsPhotodiodeInputWhateverBiasItAsks) {
  GpioSimPins pins(wires_);
  PinRecorder board;
  pins.start(board);
  pins.led(true);
  LineSettings s;
  s.active_low = true;
  s.bias = Bias::pull_up;  // asked while the LED is lit: the comparator's output still wins
  auto in = backend_->request_input(line("GPIO22"), s);
  const Deadline d = Deadline::after(seconds(10));
  while (in->get() != Level::active && !d.expired()) wait_until(Deadline::after(milliseconds(5)));
  EXPECT_EQ(in->get(), Level::active);
  while (in->wait_event(Deadline::after(milliseconds(50)))) {
  }
  pins.led(false);
  auto e = in->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::falling);
  pins.led(true);
  e = in->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::rising);
  pins.led(false);
  pins.stop();
}

TEST_F(GpioSimWires, ALineThatIsNoGpioSimLineIsARigError) {
  wires_.safeboot = "NO_SUCH_LINE";
  EXPECT_THROW(GpioSimPins pins(wires_), RigError);
}

}  // namespace
}  // namespace bootrig::sim
