// Tests for the recording decorators: outputs, serial links and the LED watcher on the timeline.
#include "bootrig/observe/recording.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "support/fake_lines.hpp"
#include "support/fake_serial.hpp"

namespace bootrig {
namespace {

using testing::FakeInput;
using testing::FakeOutput;
using testing::FakeSerial;

std::filesystem::path fresh_dir(const std::string& name) {
  auto d =
      std::filesystem::path(::testing::TempDir()) / ("recording_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d;
}

std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& ev, const std::string& kind) {
  std::vector<nlohmann::json> v;
  for (const auto& e : ev) {
    if (e["kind"] == kind) v.push_back(e);
  }
  return v;
}

TEST(RecordingOutput, RecordsRequestedAndEffectiveTimes) {
  auto dir = fresh_dir("output");
  Timeline tl(dir);
  auto inner = std::make_unique<FakeOutput>();
  auto* fake = inner.get();
  RecordingOutput out(std::move(inner), tl, "safeboot");
  out.set(Level::active);
  TimePoint when = now() + milliseconds(30);
  out.set_at(Level::inactive, when);
  EXPECT_EQ(fake->history(), (std::vector<Level>{Level::active, Level::inactive}));
  EXPECT_EQ(out.get(), Level::inactive);
  auto last = out.last_change();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->requested, when);
  EXPECT_GE(last->effective, when);
  auto ev = read_events(tl.events_path());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["line"], "safeboot");
  EXPECT_EQ(ev[0]["level"], 1);
  EXPECT_LE(ev[0]["requested"].get<std::int64_t>(), ev[0]["t"].get<std::int64_t>());
  EXPECT_EQ(ev[1]["requested"], to_ns(when));
  EXPECT_GE(ev[1]["t"].get<std::int64_t>(), to_ns(when));
}

TEST(RecordingSerialLink, RecordsBothDirectionsAndFeedsTheBootLog) {
  auto dir = fresh_dir("serial");
  Timeline tl(dir);
  BootLogRecorder boot(&tl);
  FakeSerial fake;
  fake.max_chunk(10);
  fake.expect("\x03").reply("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n>>> ");
  RecordingSerialLink link(fake, tl, &boot);
  link.write("\x03", Deadline::after(seconds(1)));
  std::string got;
  while (auto c = link.read(Deadline::after(milliseconds(50)))) got += c->bytes;
  EXPECT_EQ(got.size(), 61u);
  auto ev = read_events(tl.events_path());
  auto serial = of_kind(ev, "serial");
  ASSERT_EQ(serial.size(), 8u);  // one tx, seven rx chunks of at most 10 bytes
  EXPECT_EQ(serial[0]["dir"], "tx");
  EXPECT_EQ(serial[1]["dir"], "rx");
  auto boots = of_kind(ev, "boot");
  ASSERT_EQ(boots.size(), 2u);
  EXPECT_EQ(boots[0]["event"], "rom_reset");
  EXPECT_EQ(boots[1]["event"], "prompt");
  EXPECT_EQ(boot.size(), 2u);
  // Serial events are in arrival order on the one clock.
  for (std::size_t i = 1; i < serial.size(); ++i) {
    EXPECT_LE(serial[i - 1]["t"].get<std::int64_t>(), serial[i]["t"].get<std::int64_t>());
  }
}

TEST(LedWatcher, PutsEdgesAndPatternsOnTheTimeline) {
  auto dir = fresh_dir("led");
  Timeline tl(dir);
  TimingProfile p;
  p.window1_toggle = milliseconds(40);
  p.window2_toggle = milliseconds(20);
  p.final_toggle = milliseconds(8);
  p.error_toggle = milliseconds(4);
  p.heartbeat_on = milliseconds(6);
  p.heartbeat_off = milliseconds(300);
  LedDecoder decoder(p);
  FakeInput in;
  {
    LedWatcher w(in, decoder, &tl, "status-led");
    TimePoint t = now();
    // Window 1, four half-periods, pushed at once with their own timestamps.
    for (int i = 0; i < 5; ++i) in.push(i % 2 == 0 ? Edge::rising : Edge::falling, t + i * p.window1_toggle);
    auto r = decoder.wait_for_pattern(LedPattern::safeboot_window1, Deadline::after(seconds(10)));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->current.start, t);
    // The pattern is proven before the watcher has read the last edge; let it catch up before stopping.
    auto give_up = Deadline::after(seconds(10));
    while (w.edges_seen() < 5 && !give_up.expired()) std::this_thread::sleep_for(milliseconds(1));
  }
  auto ev = read_events(tl.events_path());
  auto edges = of_kind(ev, "led_edge");
  ASSERT_EQ(edges.size(), 5u);
  EXPECT_EQ(edges[0]["line"], "status-led");
  EXPECT_EQ(edges[0]["edge"], "rising");
  bool started = false;
  for (const auto& e : of_kind(ev, "led_pattern")) {
    if (e["pattern"] == "safeboot_window1" && e["phase"] == "start") started = true;
  }
  EXPECT_TRUE(started);
}

}  // namespace
}  // namespace bootrig
