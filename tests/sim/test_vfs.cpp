// Tests for path resolution across the simulated /flash and /sd mounts.
#include "sim/vfs.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace bootrig::sim {
namespace {

TEST(Vfs, ResolvesRelativePathsAndDotDot) {
  SimFs flash, sd;
  Vfs v(flash, &sd);
  EXPECT_EQ(v.absolute("boot.py"), "/flash/boot.py");
  EXPECT_EQ(v.absolute("../sd/./x"), "/sd/x");
  EXPECT_EQ(v.absolute("/../../flash//a/"), "/flash/a");
  auto w = v.resolve("/sd/x");
  EXPECT_EQ(w.fs, &sd);
  EXPECT_EQ(w.rel, "x");
  EXPECT_EQ(v.resolve("/other").fs, nullptr);
}

TEST(Vfs, RootListsTheMountsAndCrossMountRenameFails) {
  SimFs flash;
  Vfs without_sd(flash, nullptr);
  std::vector<std::string> names;
  EXPECT_EQ(without_sd.listdir("/", &names), 0);
  EXPECT_EQ(names, std::vector<std::string>{"flash"});
  SimFs sd;
  Vfs v(flash, &sd);
  EXPECT_EQ(v.write("/flash/a", "1"), 0);
  EXPECT_EQ(v.rename("/flash/a", "/sd/a"), EXDEV);
  EXPECT_EQ(v.chdir("/sd"), 0);
  EXPECT_EQ(v.cwd(), "/sd");
  EXPECT_EQ(v.chdir("/flash/a"), ENOTDIR);
  EXPECT_EQ(v.write("/nowhere/x", "1"), ENOENT);
}

}  // namespace
}  // namespace bootrig::sim
