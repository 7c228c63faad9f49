// Tests for the libgpiod v2 driver: the shared backend cases plus what is particular to the v2 API.
#include <gtest/gtest.h>

#include "drivers/gpiod_backend_tests.hpp"

namespace bootrig::gpiod_tests {
namespace {

TEST(GpiodV2, DescriptionNamesTheV2Api) {
  const std::string d = gpiod_api_description();
  EXPECT_EQ(d.rfind("libgpiod 2.", 0), 0u) << d;
  EXPECT_NE(d.find("(v2 API)"), std::string::npos) << d;
}

TEST_F(GpiodBackendTest, V2DebouncedInputStillReportsASettledEdge) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(false);
  LineSettings s = test_settings();
  s.debounce = microseconds(1000);
  // gpio-sim has no hardware debounce, so the kernel debounces in software; a level that stays put
  // longer than the period must still produce its edge.
  auto in = backend_->request_input(sim.line, s);
  sim.pull(true);
  auto e = in->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::rising);
  EXPECT_EQ(in->get(), Level::active);
  sim.pull(false);
}

}  // namespace
}  // namespace bootrig::gpiod_tests
