// Tests for the simulator's command language and its control socket.
#include "bootrig/sim/sim_control.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

std::filesystem::path temp_dir(const std::string& tag) {
  auto d =
      std::filesystem::temp_directory_path() / ("bootrig-simctl-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return ensure_private_dir(d);
}

TEST(SimControl, CommandsDrivePinsAndReport) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  SimModule& m = rig.module();
  EXPECT_EQ(run_sim_command(m, "p12 high").text, "ok");
  EXPECT_EQ(m.line(LineRole::safeboot), Level::active);
  EXPECT_EQ(run_sim_command(m, "p12 low").text, "ok");
  EXPECT_EQ(run_sim_command(m, "p2 hold").text, "ok");
  EXPECT_EQ(m.line(LineRole::bootloader), Level::active);
  EXPECT_EQ(run_sim_command(m, "p2 release").text, "ok");
  EXPECT_EQ(run_sim_command(m, "line safeboot active").text, "ok");
  EXPECT_EQ(run_sim_command(m, "line safeboot inactive").text, "ok");
  EXPECT_EQ(run_sim_command(m, "uart").text, "ok " + m.uart_path());
  auto status = run_sim_command(m, "status").text;
  EXPECT_NE(status.find("phase=repl slot=factory version=1.20.2.r4"), std::string::npos) << status;
  EXPECT_EQ(run_sim_command(m, "led").text.substr(0, 3), "ok ");
  EXPECT_EQ(run_sim_command(m, "fault soft_reset_keeps_names true").text, "ok");
  EXPECT_TRUE(m.faults().soft_reset_keeps_names);
  EXPECT_NE(run_sim_command(m, "faults").text.find("soft_reset_keeps_names=true"), std::string::npos);
  EXPECT_FALSE(run_sim_command(m, "fault drop_rate 7").ok);
  EXPECT_FALSE(run_sim_command(m, "p12 sideways").ok);
  EXPECT_FALSE(run_sim_command(m, "line led active").ok);
  EXPECT_TRUE(run_sim_command(m, "quit").quit);
  EXPECT_TRUE(run_sim_command(m, "watch").watch);
  EXPECT_EQ(run_sim_command(m, "   ").text, "");
}

TEST(SimControl, ResetAndPowerCommandsBootTheModule) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run_sim_command(rig.module(), "reset").text, "ok");
  EXPECT_TRUE(rig.read_until("rst:0x1 (POWERON_RESET)"));
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run_sim_command(rig.module(), "power off").text, "ok");
  EXPECT_FALSE(rig.module().status().powered);
  EXPECT_EQ(run_sim_command(rig.module(), "power on").text, "ok");
  EXPECT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run_sim_command(rig.module(), "reset hold").text, "ok");
  EXPECT_TRUE(rig.module().status().in_reset);
  EXPECT_EQ(run_sim_command(rig.module(), "reset release").text, "ok");
  EXPECT_TRUE(rig.read_until(kBannerEnd));
}

TEST(SimControl, LedEventLines) {
  EXPECT_EQ(sim_led_event_line(0x50, false, from_ns(1234)), "event led rising 1234 0x000050");
  EXPECT_EQ(sim_led_event_line(0, true, from_ns(5)), "event led falling 5 0x000000");
  EXPECT_EQ(sim_led_event_line(0x2C1200, true, from_ns(5)), "event led colour 5 0x2c1200");
}

TEST(SimControl, PrivateDirIsOwnerOnly) {
  auto d = temp_dir("perm");
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ::chmod(d.c_str(), 0755);
  ensure_private_dir(d);  // tightened again
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::filesystem::remove_all(d);
}

int connect_to(const std::filesystem::path& p) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string exchange(int fd, const std::string& cmd) {
  std::string line = cmd + "\n";
  EXPECT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  std::string out;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') out += c;
  return out;
}

TEST(SimControl, SocketIsOwnerOnlyAndServesSessions) {
  auto d = temp_dir("sock");
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  {
    SimControlServer server(rig.module(), d / "control.sock");
    struct stat st {};
    ASSERT_EQ(::stat(server.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_THROW(SimControlServer(rig.module(), d / "control.sock"), RigError) << "a live simulator owns it";
    int a = connect_to(server.path());
    int b = connect_to(server.path());
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_EQ(exchange(a, "p12 high"), "ok");
    EXPECT_NE(exchange(b, "status").find("p12=high"), std::string::npos);
    EXPECT_EQ(exchange(a, "quit"), "ok bye");
    char c;
    EXPECT_EQ(::read(a, &c, 1), 0) << "quit closes only that session";
    EXPECT_EQ(exchange(b, "p12 low"), "ok");
    ::close(a);
    ::close(b);
  }
  EXPECT_FALSE(std::filesystem::exists(d / "control.sock"));
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace bootrig::test
