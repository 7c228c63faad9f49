// The checked channel against the simulated module: exactly-once runs, intact answers, a line that garbles
// and drops bytes both ways, and a board reset behind the channel's back.
#include "bootrig/repl/checked_channel.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

using test::SimRig;

Deadline channel_soon() { return Deadline::after(seconds(60)); }

SimConfig channel_profile(const std::string& name) {
  SimConfig c;
  c.profile = name;
  return c;
}

class ChannelSim : public ::testing::TestWithParam<std::string> {};

TEST_P(ChannelSim, RunsCodeOnceAndReturnsItsAnswer) {
  SimRig rig(channel_profile(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CheckedChannel ch(repl);
  auto a = ch.run("import os\n_r = repr(os.uname().release)", milliseconds(0), channel_soon());
  ASSERT_TRUE(a.ok()) << a.error().what;
  EXPECT_FALSE(a->raised());
  EXPECT_EQ(a->value, GetParam() == "pycom" ? "'1.20.2.r4'" : "'1.20.2.r4'");
  EXPECT_TRUE(ch.installed());

  // State persists between runs (the helper runs code in the module's globals), each run exactly once.
  ASSERT_TRUE(ch.run("n = 0", milliseconds(0), channel_soon()).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ch.run("n = n + 1\n_r = str(n)", milliseconds(0), channel_soon()).ok());
  auto n = ch.run("_r = str(n)", milliseconds(0), channel_soon());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->value, "3");
  EXPECT_EQ(ch.stats().failed, 0u) << ch.stats().describe();
}

TEST_P(ChannelSim, AnExceptionIsAnAnswerWithItsTypeAndMessage) {
  SimRig rig(channel_profile(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CheckedChannel ch(repl);
  auto a = ch.run("open('/flash/no_such_file')", milliseconds(0), channel_soon());
  ASSERT_TRUE(a.ok()) << a.error().what;
  ASSERT_TRUE(a->raised());
  EXPECT_EQ(*a->exc_type, "OSError");
  EXPECT_NE(a->exc_message.find("ENOENT"), std::string::npos) << a->exc_message;
}

TEST_P(ChannelSim, LongCodeAndLongAnswersGoInPieces) {
  SimRig rig(channel_profile(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  ChannelOptions o;
  o.piece_bytes = 64;
  o.chunk_bytes = 48;
  CheckedChannel ch(repl, o);
  std::string text(700, 'x');
  for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  text += "\xc3\xa9\\'\"\r\n\t";  // UTF-8, quotes, backslash, control bytes
  auto w = ch.run("f = open('/flash/long.txt', 'w')\nf.write(" + py_str_literal(text) + ")\nf.close()",
                  milliseconds(0), channel_soon());
  ASSERT_TRUE(w.ok()) << w.error().what;
  ASSERT_FALSE(w->raised()) << *w->exc_type << ": " << w->exc_message;
  auto r = ch.run("f = open('/flash/long.txt')\n_r = f.read()\nf.close()", milliseconds(0), channel_soon());
  ASSERT_TRUE(r.ok()) << r.error().what;
  EXPECT_EQ(r->value, text);
}

TEST_P(ChannelSim, AResetBehindItsBackReinstallsTheHelper) {
  SimRig rig(channel_profile(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CheckedChannel ch(repl);
  ASSERT_TRUE(ch.run("_r = '1'", milliseconds(0), channel_soon()).ok());
  rig.press_reset();
  ASSERT_TRUE(rig.wait_banner());
  repl.forget_state();
  auto a = ch.run("_r = '2'", milliseconds(0), channel_soon());
  ASSERT_TRUE(a.ok()) << a.error().what;
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(ch.stats().installs, 2u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, ChannelSim, ::testing::Values("pycom", "upstream"));

// A line that garbles and drops bytes in both directions: every answer is intact, every run happens once,
// and nothing garbled is ever executed (the counter proves it: a garbled "n = n + 1" run twice, or a run
// of mangled code, would show).
TEST(ChannelNoise, OnePercentBothWaysStillExactlyOnceAndIntact) {
  SimConfig c;
  c.faults.garbage_rate = 0.005;
  c.faults.drop_rate = 0.005;
  c.fault_seed = 7;
  SimRig rig(c);
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(channel_soon()).ok());
  CheckedChannel ch(repl);
  auto first = ch.run("n = 0", milliseconds(0), channel_soon());
  ASSERT_TRUE(first.ok()) << first.error().what;
  for (int i = 0; i < 10; ++i) {
    auto a = ch.run("n = n + 1\n_r = 'count %d' % n", milliseconds(0), channel_soon());
    ASSERT_TRUE(a.ok()) << a.error().what << " (run " << i << ")";
    EXPECT_EQ(a->value, "count " + std::to_string(i + 1));
  }
  auto r = ch.run("import os\n_r = ' '.join(sorted(os.listdir('/flash')))", milliseconds(0), channel_soon());
  ASSERT_TRUE(r.ok()) << r.error().what;
  EXPECT_EQ(r->value, "boot.py cert lib main.py sys");
  EXPECT_GT(ch.stats().failed, 0u) << "the line was noisy: some round trips must have been repeated";
}

// A long answer at 1 % garbage needs far more repeated chunks in all than one chunk may take: the budget is
// per chunk, so the answer arrives whole (the fault matrix found reads failing at "a chunk ... never arrived
// intact" while every chunk was getting through).
TEST(ChannelNoise, ALongAnswerAtOnePercentGarbageArrivesWhole) {
  SimConfig c;
  c.faults.garbage_rate = 0.01;
  c.fault_seed = 11;
  SimRig rig(c);
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(channel_soon()).ok());
  ChannelOptions o;
  o.attempts = 12;  // one chunk may fail 24 times: fewer than the whole answer needs in all
  CheckedChannel ch(repl, o);
  auto a = ch.run("_r = ''.join([chr(97 + i % 26) for i in range(1200)])", milliseconds(0),
                  Deadline::after(seconds(600)));
  ASSERT_TRUE(a.ok()) << a.error().what;
  std::string want;
  for (int i = 0; i < 1200; ++i) want += static_cast<char>('a' + i % 26);
  EXPECT_EQ(a->value, want);
  EXPECT_GT(ch.stats().failed, static_cast<std::uint64_t>(2 * o.attempts)) << ch.stats().describe();
}

// One byte in a hundred dropped both ways: the fault matrix measured 80 % of the installer's round trips lost
// when each piece carried its own 130-byte check, and the install failed at every check. With the checker on
// the board, pieces that stay in the collection when a garbled number arrives, and missing pieces sent again
// under the same number, the install and every exchange after it get through, each run exactly once.
TEST(ChannelNoise, OneByteInAHundredDroppedStillInstallsAndRunsExactlyOnce) {
  for (int seed : {1, 2}) {
    SimConfig c;
    c.faults.drop_rate = 0.01;
    c.fault_seed = static_cast<unsigned>(seed);
    SimRig rig(c);
    ReplClient repl(rig.uart());
    ASSERT_TRUE(repl.get_prompt(channel_soon()).ok());
    CheckedChannel ch(repl);
    auto first = ch.run("n = 0", milliseconds(0), Deadline::after(seconds(120)));
    ASSERT_TRUE(first.ok()) << first.error().what << " (seed " << seed << ")";
    EXPECT_EQ(ch.stats().installs, 1u);
    for (int i = 0; i < 5; ++i) {
      // Long enough to go in several pieces and come back in several chunks.
      auto a = ch.run("n = n + 1\n# bootrig's queries are about this long, with a comment or two\n"
                      "_r = ' '.join([str(n)] + [str(i) * 3 for i in range(30)])",
                      milliseconds(0), Deadline::after(seconds(120)));
      ASSERT_TRUE(a.ok()) << a.error().what << " (seed " << seed << ", run " << i << ")";
      EXPECT_EQ(a->value.substr(0, a->value.find(' ')), std::to_string(i + 1)) << "seed " << seed;
    }
    EXPECT_GT(ch.stats().failed, 0u) << "the line was noisy: some round trips must have been repeated";
  }
}

TEST(ChannelNoise, ADeadLineFailsWithTheLinesRecord) {
  SimConfig c;
  c.faults.drop_rate = 1.0;
  SimRig rig(c);
  ReplClient repl(rig.uart());
  ChannelOptions o;
  o.attempts = 2;
  CheckedChannel ch(repl, o);
  auto a = ch.run("_r = '1'", milliseconds(0), Deadline::after(seconds(5)));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().what.find("round trips garbled or lost"), std::string::npos) << a.error().what;
}

// A reset in the middle of the install takes the installer's names and the pieces stored so far with it:
// the install starts again from its prologue rather than repeating a piece that can no longer be stored
// (1 % noise soft-reset a board midway in CI, and the install repeated one piece until its deadline).
TEST(ChannelInstall, AResetMidwayStartsItAgainFromThePrologue) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  ChannelOptions o;
  o.piece_bytes = 24;  // the smallest pieces: the install takes many round trips, and none is halved
  o.min_piece_bytes = 24;
  // How long one install takes on this machine now, so that the reset lands inside the next one.
  auto t0 = now();
  {
    CheckedChannel warm(repl, o);
    ASSERT_TRUE(warm.run("_r = '0'", milliseconds(0), channel_soon()).ok());
  }
  const auto install_time = now() - t0;
  bool reset_inside_an_install = false;
  for (int fraction : {3, 5, 2}) {
    CheckedChannel ch(repl, o);
    std::optional<Result<ChannelAnswer, ChannelFailure>> a;
    std::thread worker([&] { a = ch.run("_r = 'after the reset'", milliseconds(0), channel_soon()); });
    std::this_thread::sleep_for(install_time / fraction);
    rig.press_reset();
    worker.join();
    ASSERT_TRUE(a && a->ok()) << (a ? a->error().what : "no answer");
    EXPECT_EQ((*a)->value, "after the reset");
    // More prologues than installs: the reset came after a prologue and the install began again.
    if (ch.stats().prologues > ch.stats().installs) {
      reset_inside_an_install = true;
      break;
    }
    ASSERT_TRUE(repl.get_prompt(channel_soon()).ok());
  }
  EXPECT_TRUE(reset_inside_an_install) << "no reset landed inside an install (each took about "
                                       << std::chrono::duration_cast<milliseconds>(install_time).count()
                                       << " ms)";
}

TEST(ChannelSmall, TinyPiecesInstallToo) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  ChannelOptions o;
  o.piece_bytes = 24;
  o.chunk_bytes = 16;
  CheckedChannel ch(repl, o);
  auto a = ch.run("_r = 'x' * 40", milliseconds(0), channel_soon());
  ASSERT_TRUE(a.ok()) << a.error().what;
  EXPECT_EQ(a->value, std::string(40, 'x'));
}

// The board's free heap after a collection, read through the channel.
std::int64_t channel_heap_free(CheckedChannel& ch) {
  auto a = ch.run("import gc\ngc.collect()\n_r = str(gc.mem_free())", milliseconds(0), channel_soon());
  EXPECT_TRUE(a.ok()) << a.error().what;
  return a.ok() ? std::stoll(a->value) : 0;
}

// MicroPython interns short string literals in pools only a reset frees: a digest literal per round trip made
// a long OTA fill the heap (about 28 bytes a round trip) until every exchange failed, also in the next run.
TEST(ChannelHeap, ManyExchangesLeaveTheBoardsHeapAsItWas) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  ChannelOptions o;
  o.piece_bytes = 24;  // several pieces an exchange, the last one short
  CheckedChannel ch(repl, o);
  ASSERT_TRUE(ch.run("_r = ''", milliseconds(0), channel_soon()).ok());
  const std::int64_t before = channel_heap_free(ch);
  const std::uint64_t trips_before = ch.stats().round_trips;
  for (int i = 0; i < 200; ++i) {
    auto a = ch.run("_r = 'answer number %d of the heap test' % " + std::to_string(i) + "\nx = 1",
                    milliseconds(0), channel_soon());
    ASSERT_TRUE(a.ok()) << a.error().what;
  }
  const std::uint64_t trips = ch.stats().round_trips - trips_before;
  const std::int64_t lost = before - channel_heap_free(ch);
  EXPECT_GE(trips, 600u);
  // What remains is noise of the allocator's block granularity, not a pool growing with every round trip.
  EXPECT_LT(lost, 1024) << lost << " bytes of heap lost over " << trips << " round trips";
}

TEST(ChannelHeap, AFullHeapFailsAtOnceAndSaysSoNotTheLine) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CheckedChannel ch(repl);
  // Holds every block the heap has, largest first, in a global: the next call cannot even be compiled.
  auto fill = ch.run(
      "_fill = []\nfor _n in (65536, 4096, 256, 16):\n try:\n  while 1:\n   _fill.append(bytearray(_n))\n"
      " except MemoryError:\n  pass\n_r = str(len(_fill))",
      seconds(5), channel_soon());
  ASSERT_TRUE(fill.ok()) << fill.error().what;
  const std::uint64_t trips_before = ch.stats().round_trips;
  auto a = ch.run("_r = 'anything at all, and a bit longer'", milliseconds(0), channel_soon());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().what.find("the board ran out of memory (MemoryError"), std::string::npos) << a.error().what;
  EXPECT_NE(a.error().what.find("not the line's doing"), std::string::npos) << a.error().what;
  EXPECT_LE(ch.stats().round_trips - trips_before, 2u) << "no retries for a full heap: " << ch.stats().describe();
}

// The call line is sent unchecked, so a garbled argument can ask the helper for any allocation: at 1 %
// garbage the fault matrix saw "MemoryError: memory allocation failed, allocating 1014107025 bytes", which
// was taken for a full heap and ended the check in an ERROR. One MemoryError is repeated; two in a row are
// the heap (above).
TEST(ChannelHeap, OneMemoryErrorIsRepeatedNotTakenForAFullHeap) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  ReplClient repl(rig.uart());
  CheckedChannel ch(repl);
  ASSERT_TRUE(ch.run("_r = 1", milliseconds(0), channel_soon()).ok());
  // The helper's entry point raises once, as a garbled size would make it.
  auto w = repl.exec_raw(
      "_bxo = _bx\n_bm = [1]\ndef _bx(*a):\n if _bm:\n  _bm.pop()\n"
      "  raise MemoryError('memory allocation failed, allocating 1014107025 bytes')\n return _bxo(*a)\n",
      channel_soon());
  ASSERT_TRUE(w && !w->exception);
  auto a = ch.run("_r = 'through'", milliseconds(0), channel_soon());
  ASSERT_TRUE(a.ok()) << a.error().what;
  EXPECT_EQ(a->value, "through");
  EXPECT_GE(a->retries, 1);
}

TEST(ChannelDigest, IsTheSha256Prefix) {
  EXPECT_EQ(channel_digest("abc"), "ba7816bf");
  EXPECT_EQ(channel_digest(""), "e3b0c442");
}

}  // namespace
}  // namespace bootrig
