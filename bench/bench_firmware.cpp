// Benchmarks for the firmware layer: image parsing (SHA-256 dominated), MD5, and a ROM-loader flash write
// through the model over a zero-latency in-process link (protocol and model cost only, no serial time).
#include <benchmark/benchmark.h>

#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/firmware/rom_flasher.hpp"
#include "bootrig/firmware/rom_loader_model.hpp"

namespace bootrig {
namespace {

// The model answers inside write(); read() hands the replies back.
class LoopbackLink : public SerialLink {
 public:
  explicit LoopbackLink(RomLoaderModel& m) : model_(m) {}
  void write(std::string_view bytes, Deadline) override { pending_ += model_.feed(bytes); }
  std::optional<SerialChunk> read(Deadline) override {
    if (pending_.empty()) return std::nullopt;
    SerialChunk c{now(), std::move(pending_)};
    pending_.clear();
    return c;
  }
  void drain(Deadline) override {}
  void discard_input() override { pending_.clear(); }
  void set_baud(unsigned b) override { baud_ = b; }
  unsigned baud() const override { return baud_; }
  std::string describe() const override { return "loopback"; }

 private:
  RomLoaderModel& model_;
  std::string pending_;
  unsigned baud_ = 115200;
};

void BM_ParseFullSlotImage(benchmark::State& state) {
  ImageSpec spec;
  spec.payload_size = 0x1A0000;  // close to a full 4 MB-layout slot
  auto img = build_esp32_image(spec);
  for (auto _ : state) benchmark::DoNotOptimize(parse_esp32_image(img));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * img.size()));
}
BENCHMARK(BM_ParseFullSlotImage)->Unit(benchmark::kMillisecond);

void BM_Md5(benchmark::State& state) {
  std::vector<std::uint8_t> data(1 << 20, 0x5A);
  for (auto _ : state) benchmark::DoNotOptimize(md5(data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Md5)->Unit(benchmark::kMillisecond);

void BM_RomFlashWrite(benchmark::State& state) {
  ImageSpec spec;
  spec.payload_size = static_cast<std::size_t>(state.range(0));
  auto img = build_esp32_image(spec);
  for (auto _ : state) {
    RomLoaderModel model;
    LoopbackLink link(model);
    RomFlasher f(link);
    if (!f.connect()) state.SkipWithError("connect failed");
    auto r = f.write_flash(0x10000, img);
    if (!r) state.SkipWithError(r.error().message.c_str());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * img.size()));
}
BENCHMARK(BM_RomFlashWrite)->Arg(256 << 10)->Arg(0x1A0000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bootrig

BENCHMARK_MAIN();
