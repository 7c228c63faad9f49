// Tests for BoardFiles against the simulated module in both profiles: listing, folders, binary-safe copies
// both ways with the board's hash, the board's refusals and a line that loses bytes mid-copy.
#include "bootrig/repl/board_files.hpp"

#include <gtest/gtest.h>

#include <random>

#include "bootrig/firmware/hash.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

std::string payload(std::size_t size) {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  std::mt19937 rng(11);
  while (s.size() < size) s += static_cast<char>(rng() & 0xFF);
  s.resize(size);
  return s;
}

class BoardFilesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    SimConfig c;
    c.profile = GetParam();
    c.sd_card = true;
    rig = std::make_unique<test::SimRig>(test::fast_sim(c));
    repl = std::make_unique<ReplClient>(rig->uart());
    ASSERT_TRUE(repl->get_prompt(Deadline::after(seconds(20))));
    channel = std::make_unique<CheckedChannel>(*repl);
    files = std::make_unique<BoardFiles>(*repl, *channel);
  }
  std::unique_ptr<test::SimRig> rig;
  std::unique_ptr<ReplClient> repl;
  std::unique_ptr<CheckedChannel> channel;
  std::unique_ptr<BoardFiles> files;
};

TEST_P(BoardFilesTest, PutAndGetAreBinarySafeAndVerifiedByTheBoardsSha256) {
  const std::string data = payload(9000);  // two full blocks and a part
  auto put = files->put("/flash/blob.bin", data);
  ASSERT_TRUE(put) << put.error().what;
  EXPECT_EQ(put->bytes, data.size());
  EXPECT_EQ(put->transfer, "binary");
  EXPECT_EQ(put->hash.kind, "sha256");
  EXPECT_EQ(put->hash.value, to_hex(sha256(std::span<const std::uint8_t>(
                                 reinterpret_cast<const std::uint8_t*>(data.data()), data.size()))));
  EXPECT_GT(put->wire_bytes, data.size()) << "block headers and escapes";
  std::string back;
  auto got = files->get("/flash/blob.bin", back);
  ASSERT_TRUE(got) << got.error().what;
  EXPECT_TRUE(back == data);
  EXPECT_EQ(got->hash, put->hash);
  // An empty file is a file too.
  ASSERT_TRUE(files->put("/sd/empty", ""));
  ASSERT_TRUE(files->get("/sd/empty", back));
  EXPECT_EQ(back, "");
}

TEST_P(BoardFilesTest, ListsStatsMakesAndRemoves) {
  ASSERT_TRUE(files->mkdir("/flash/d"));
  auto again = files->mkdir("/flash/d");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "already a folder";
  ASSERT_TRUE(files->put("/flash/d/b.txt", "bb"));
  ASSERT_TRUE(files->put("/flash/d/a.txt", "a"));
  ASSERT_TRUE(files->mkdir("/flash/d/sub"));
  auto l = files->list("/flash/d");
  ASSERT_TRUE(l) << l.error().what;
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0], (BoardEntry{"sub", true, (*l)[0].size}));
  EXPECT_EQ((*l)[1], (BoardEntry{"a.txt", false, 1}));
  EXPECT_EQ((*l)[2], (BoardEntry{"b.txt", false, 2}));
  auto st = files->stat("/flash/d/nothing");
  ASSERT_TRUE(st);
  EXPECT_FALSE(*st);
  auto rm = files->remove("/flash/d", false);
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().fault, FsFault::board);
  EXPECT_EQ(rm.error().what, "/flash/d: is a folder (rm -r removes it and all in it)");
  ASSERT_TRUE(files->remove("/flash/d", true));
  st = files->stat("/flash/d");
  ASSERT_TRUE(st);
  EXPECT_FALSE(*st);
}

TEST_P(BoardFilesTest, TheBoardsRefusalsSayWhatInPlainWords) {
  std::string data;
  auto g = files->get("/flash/none", data);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().fault, FsFault::board);
  EXPECT_EQ(g.error().what, "/flash/none: no such file or folder");
  auto p = files->put("/flash/no/such/dir.txt", "x");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().fault, FsFault::board);
  EXPECT_NE(p.error().what.find("no such file or folder"), std::string::npos) << p.error().what;
  // The REPL is still usable afterwards.
  ASSERT_TRUE(files->put("/flash/ok.txt", "ok"));
}

// A line that loses nearly everything once the copy runs: the line's fault, never the board's, named with the
// line's record. The loop on the board cannot be told to stop over such a line (Ctrl-C is off while it
// runs), so a RESET brings the board back.
TEST_P(BoardFilesTest, ALineThatLosesEverythingFailsTheCopyAsTheLinesFault) {
  BoardFilesOptions quick;
  quick.work = seconds(2);
  bool lost = false;
  quick.progress = [&](std::size_t done, std::size_t) {
    if (done < 8192 || lost) return;
    SimFaults g = rig->module().faults();
    g.drop_rate = 0.9;
    rig->module().set_faults(g);
    lost = true;
  };
  quick.block = 4096;
  files = std::make_unique<BoardFiles>(*repl, *channel, quick);
  auto p = files->put("/flash/lossy.bin", payload(40000));
  SimFaults f = rig->module().faults();
  f.drop_rate = 0;
  rig->module().set_faults(f);
  ASSERT_TRUE(lost) << "the copy never got past 8 KiB";
  ASSERT_FALSE(p) << "90 % of the bytes lost and nobody noticed";
  EXPECT_EQ(p.error().fault, FsFault::link) << p.error().what;
  EXPECT_NE(p.error().what.find("garbled or lost on the line"), std::string::npos) << p.error().what;
  rig->press_reset();
  repl->forget_state();
  channel->forget();
  ASSERT_TRUE(repl->get_prompt(Deadline::after(seconds(20))));
  ASSERT_TRUE(files->put("/flash/after.txt", "after")) << "the board came back";
}

// One byte in a hundred lost both ways: two frames in three fail (a lost byte, a lost acknowledgement), and
// over a few kilobytes some position fails many times in a row for longer than the step time-out. The board
// answers all along (refusals, late acknowledgements), so that is a bad line, not a stuck board: the copy
// keeps trying and every byte arrives. (Before, such a run gave up: "no acknowledgement from the board".)
TEST_P(BoardFilesTest, ALineLosingOneByteInAHundredStillCopiesEveryByte) {
  ASSERT_TRUE(files->put("/flash/first.txt", "first")) << "the helper is installed over a clean line";
  SimFaults f = rig->module().faults();
  f.drop_rate = 0.01;
  rig->module().set_faults(f);
  const std::string data = payload(6000);
  auto p = files->put("/flash/lossy.bin", data);
  f.drop_rate = 0;
  rig->module().set_faults(f);
  ASSERT_TRUE(p) << p.error().what;
  EXPECT_EQ(p->bytes, data.size());
  EXPECT_EQ(p->hash.value, to_hex(sha256(std::span<const std::uint8_t>(
                               reinterpret_cast<const std::uint8_t*>(data.data()), data.size()))));
  std::string back;
  auto got = files->get("/flash/lossy.bin", back);
  ASSERT_TRUE(got) << got.error().what;
  EXPECT_TRUE(back == data) << "the file on the board is what was sent";
}

INSTANTIATE_TEST_SUITE_P(Profiles, BoardFilesTest, ::testing::Values("pycom", "upstream"));

TEST(BoardFilesPaths, Join) {
  EXPECT_EQ(board_path_join("/flash", "a.py"), "/flash/a.py");
  EXPECT_EQ(board_path_join("/", "x"), "/x");
  EXPECT_EQ(board_path_join("", "x"), "x");
  EXPECT_EQ(board_path_join("lib/", "y"), "lib/y");
}

}  // namespace
}  // namespace bootrig
