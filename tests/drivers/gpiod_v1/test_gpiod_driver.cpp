// Tests for the libgpiod v1 driver: the shared backend cases plus what is particular to the v1 API.
#include <gtest/gtest.h>

#include "drivers/gpiod_backend_tests.hpp"

namespace bootrig::gpiod_tests {
namespace {

TEST(GpiodV1, DescriptionNamesTheV1Api) {
  const std::string d = gpiod_api_description();
  EXPECT_EQ(d.rfind("libgpiod 1.", 0), 0u) << d;
  EXPECT_NE(d.find("(v1 API)"), std::string::npos) << d;
}

TEST_F(GpiodBackendTest, V1AcceptsAndIgnoresDebounce) {
  BOOTRIG_REQUIRE_SIM_LINE(sim);
  sim.pull(false);
  LineSettings s = test_settings();
  s.debounce = microseconds(1000);
  // The v1 API has no debounce: the request still succeeds and edges still arrive.
  auto in = backend_->request_input(sim.line, s);
  sim.pull(true);
  auto e = in->wait_event(Deadline::after(seconds(10)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->edge, Edge::rising);
  sim.pull(false);
}

}  // namespace
}  // namespace bootrig::gpiod_tests
