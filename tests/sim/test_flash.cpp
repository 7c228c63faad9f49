// Tests for the simulated filesystem volume: errno results and the host-folder mirror.
#include "sim/flash.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace bootrig::sim {
namespace {

TEST(SimFs, FilesAndFoldersWithErrnoResults) {
  SimFs fs;
  EXPECT_EQ(fs.write("a.txt", "x"), 0);
  EXPECT_EQ(fs.write("nodir/a.txt", "x"), ENOENT);
  EXPECT_EQ(fs.mkdir("d"), 0);
  EXPECT_EQ(fs.mkdir("d"), EEXIST);
  EXPECT_EQ(fs.write("d/b.txt", "yy"), 0);
  EXPECT_EQ(fs.write("a.txt/c", "x"), ENOTDIR);
  EXPECT_EQ(fs.rmdir("d"), ENOTEMPTY);
  EXPECT_EQ(fs.remove("d"), EISDIR);
  std::string out;
  EXPECT_EQ(fs.read("d/b.txt", &out), 0);
  EXPECT_EQ(out, "yy");
  EXPECT_EQ(fs.read("d", &out), EISDIR);
  EXPECT_EQ(fs.rename("d", "e"), 0);
  EXPECT_TRUE(fs.exists("e/b.txt"));
  EXPECT_FALSE(fs.exists("d/b.txt"));
  std::vector<std::string> names;
  EXPECT_EQ(fs.listdir("", &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "e"}));
  fs.format();
  EXPECT_EQ(fs.entry_count(), 0u);
}

TEST(SimFs, MirrorsToAHostFolder) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-simfs-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    SimFs fs(dir);
    EXPECT_EQ(fs.mkdir("lib"), 0);
    EXPECT_EQ(fs.write("lib/x.py", "print(1)\n"), 0);
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "lib" / "x.py"));
  {
    SimFs fs(dir);
    std::string out;
    EXPECT_EQ(fs.read("lib/x.py", &out), 0);
    EXPECT_EQ(out, "print(1)\n");
    fs.format();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig::sim
