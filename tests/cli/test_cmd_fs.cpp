// Tests for `bootrig fs` through the built binary against `bootrig sim` in both profiles, by --port and by a
// rig: binary-safe copies both ways verified on the board, folders recursively, /flash and /sd, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "support/run_bootrig.hpp"
#include "support/sim_process.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;
using testing::run_bootrig;
using testing::SimProcess;

// Every byte value, the REPL's control bytes and Pycom's Ctrl-F reset among them, then noise.
std::string binary_payload(std::size_t size) {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  std::mt19937 rng(7);
  while (s.size() < size) s += static_cast<char>(rng() & 0xFF);
  s.resize(size);
  return s;
}

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string sd_rig(const std::string& profile) {
  return "[rig]\nname = \"fs\"\nkind = \"sim\"\n[serial]\nbaud = 921600\n[sim]\nprofile = \"" + profile +
         "\"\nsd_card = true\n";
}

class CmdFs : public ::testing::TestWithParam<std::string> {};

TEST_P(CmdFs, CopiesBinaryFilesBothWaysVerifiedOnTheBoard) {
  SimProcess sim(GetParam(), sd_rig(GetParam()));
  const std::string port = " --port " + sim.tty() + " --baud 921600";
  const std::string data = binary_payload(20000);
  write_file(sim.dir() / "blob.bin", data);
  auto r = run_bootrig("fs put" + port + " " + (sim.dir() / "blob.bin").string() + " :/flash/blob.bin");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("put " + (sim.dir() / "blob.bin").string() + " -> /flash/blob.bin: 20000 bytes in"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("binary), sha256 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verified on the board"), std::string::npos) << r.out;

  r = run_bootrig("fs ls" + port + " /flash");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("     20000 blob.bin\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("         - lib/\n"), std::string::npos) << r.out;

  // Back, to the SD card and from it: the same bytes every time.
  r = run_bootrig("fs get" + port + " /flash/blob.bin " + (sim.dir() / "back.bin").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("got /flash/blob.bin -> "), std::string::npos) << r.out;
  EXPECT_TRUE(read_file(sim.dir() / "back.bin") == data) << "the copy differs from the original";
  r = run_bootrig("fs put" + port + " " + (sim.dir() / "back.bin").string() + " /sd");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("-> /sd/back.bin: 20000 bytes"), std::string::npos) << r.out;
  r = run_bootrig("fs get" + port + " /sd/back.bin " + sim.dir().string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(read_file(sim.dir() / "back.bin") == data);
}

TEST_P(CmdFs, FoldersRecursivelyTreeCatMkdirAndRm) {
  SimProcess sim(GetParam());
  const std::string port = " --port " + sim.tty();
  auto src = sim.dir() / "app";
  write_file(src / "main.py", "print('app')\n");
  write_file(src / "lib" / "util.py", "X = 1\n");
  write_file(src / "lib" / "data" / "table.bin", binary_payload(700));
  auto r = run_bootrig("fs put -r" + port + " " + src.string() + " /flash/app");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("-> /flash/app/lib/data/table.bin: 700 bytes"), std::string::npos) << r.out;

  r = run_bootrig("fs tree" + port + " /flash/app");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "/flash/app\n  lib/\n    data/\n      table.bin  (700 bytes)\n    util.py  (6 bytes)\n"
            "  main.py  (13 bytes)\n");
  r = run_bootrig("fs cat" + port + " :/flash/app/main.py");
  EXPECT_EQ(r.out, "print('app')\n") << r.err;

  r = run_bootrig("fs get -r" + port + " /flash/app " + (sim.dir() / "copy").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read_file(sim.dir() / "copy" / "lib" / "data" / "table.bin"), binary_payload(700));
  EXPECT_EQ(read_file(sim.dir() / "copy" / "main.py"), "print('app')\n");

  r = run_bootrig("fs mkdir" + port + " /flash/app /flash/empty");
  EXPECT_EQ(r.out, "already a folder: /flash/app\nmade /flash/empty\n") << r.err;
  r = run_bootrig("fs rm" + port + " /flash/app");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/flash/app: is a folder (rm -r removes it and all in it)"), std::string::npos)
      << r.err;
  r = run_bootrig("fs rm -r" + port + " /flash/app /flash/empty");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_bootrig("fs ls" + port);
  EXPECT_EQ(r.out.find("app/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("main.py"), std::string::npos) << "the board's current folder: " << r.out;
}

TEST_P(CmdFs, ThroughARigAsWell) {
  SimProcess sim(GetParam());
  write_file(sim.dir() / "x.txt", "through the rig\n");
  auto r = run_bootrig("-q --rig " + sim.remote_rig() + " fs put " + (sim.dir() / "x.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = run_bootrig("-q --rig " + sim.remote_rig() + " fs cat x.txt");
  EXPECT_EQ(r.out, "through the rig\n") << r.err;
}

INSTANTIATE_TEST_SUITE_P(Profiles, CmdFs, ::testing::Values("pycom", "upstream"));

TEST(CmdFsErrors, TheBoardsRefusalsAreOneLineAndExitOne) {
  SimProcess sim("pycom");
  const std::string port = " --port " + sim.tty();
  auto r = run_bootrig("fs get" + port + " /flash/nothing.bin " + (sim.dir() / "n.bin").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bootrig: /flash/nothing.bin: no such file or folder on the board\n");
  r = run_bootrig("fs cat" + port + " /flash/lib");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bootrig: /flash/lib: is a folder (copy it with get -r)\n");
  write_file(sim.dir() / "y.txt", "y");
  r = run_bootrig("fs put" + port + " " + (sim.dir() / "y.txt").string() + " /nowhere/y.txt");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("/nowhere/y.txt: "), std::string::npos) << r.err;
  r = run_bootrig("fs put" + port + " " + (sim.dir() / "absent.txt").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("absent.txt: no such file or folder here"), std::string::npos) << r.err;
  r = run_bootrig("fs get" + port);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: bootrig fs get REMOTE [LOCAL]"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bootrig
