// Fuzz target: the LED decoder's edge stream. Each three bytes are an edge (its direction, so repeated
// directions model missed edges) and the time since the last one; some bytes let time pass without an edge.
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

void fuzz_led_decoder(const std::uint8_t* data, std::size_t size) {
  using namespace bootrig;
  fuzz::Input in(data, size);
  TimingProfile profile;
  profile.led_tolerance_percent = 1 + in.byte() % 90;
  LedDecoder decoder(profile);
  TimePoint t = TimePoint{} + seconds(1);
  decoder.start(t, in.byte() & 1 ? std::optional<Level>(Level::active) : std::nullopt);
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    t += milliseconds(in.u16() % 6000) + microseconds(op >> 2);
    if (op & 2)
      decoder.advance(t);
    else
      decoder.feed(LineEvent{op & 1 ? Edge::rising : Edge::falling, t});
    (void)decoder.next_decision();
  }
  decoder.advance(t + seconds(10));
  (void)decoder.current();
  (void)decoder.history();
}

}  // namespace

BOOTRIG_FUZZ_TARGET(led_decoder, fuzz_led_decoder)
