// Fuzz target: the REPL client's reading of what a board answers (prompts, friendly and raw-REPL framing,
// raw-paste flow control, soft reboot, tracebacks) and the checked channel on top of it. The fuzzer's bytes
// are the board's side of the wire, in pieces of fuzzer-chosen sizes; when they run out the wire goes quiet
// (the link ends the exchange at once instead of waiting for a deadline).
#include <stdexcept>

#include "bootrig/core/errors.hpp"
#include "bootrig/repl/checked_channel.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using namespace bootrig;

struct WireQuiet : std::runtime_error {
  WireQuiet() : std::runtime_error("the fuzz input ended") {}
};

class FuzzLink final : public SerialLink {
 public:
  explicit FuzzLink(fuzz::Input& in) : in_(in) {}
  void write(std::string_view, Deadline) override {}
  std::optional<SerialChunk> read(Deadline) override {
    if (in_.empty()) throw WireQuiet();
    const std::size_t piece = 1 + in_.byte() % 96;
    t_ += microseconds(100);
    return SerialChunk{t_, std::string(in_.take(piece))};
  }
  void drain(Deadline) override {}
  void discard_input() override {}
  void set_baud(unsigned baud) override { baud_ = baud; }
  unsigned baud() const override { return baud_; }
  std::string describe() const override { return "fuzz link"; }

 private:
  fuzz::Input& in_;
  TimePoint t_ = now();
  unsigned baud_ = 4000000;  // the fastest rate: the client's own pacing between blocks stays short
};

void fuzz_repl(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t op = in.byte();
  FuzzLink link(in);
  ReplOptions options;
  options.try_raw_paste = (op & 0x80) != 0;
  ReplClient repl(link, options);
  const Deadline d = Deadline::after(seconds(5));
  try {
    switch (op % 8) {
      case 0:
        (void)repl.get_prompt(d);
        break;
      case 1:
        (void)repl.exec_raw("print(1)", d);
        break;
      case 2:
        (void)repl.exec_friendly("x = 1", d);
        break;
      case 3:
        (void)repl.soft_reset(d);
        break;
      case 4:
        (void)repl.exec_raw(std::string(300, 'a'), d);
        break;  // long enough for raw-paste
      case 5:
        (void)repl.write_file("/flash/f.txt", "data", d);
        break;
      case 6: {
        if (auto s = repl.start_raw("print(2)", d)) {
          // Lines until the end of the output (0x04), as ota.cpp reads them: an ended line stays ended.
          while (auto line = repl.read_program_line(d))
            if (line.value().ended) break;
        }
        break;
      }
      default: {
        CheckedChannel channel(repl);
        (void)channel.run("_r = '1'", milliseconds(0), d);
        break;
      }
    }
  } catch (const WireQuiet&) {
  } catch (const RigError&) {
  }
}

}  // namespace

BOOTRIG_FUZZ_TARGET(repl, fuzz_repl)
