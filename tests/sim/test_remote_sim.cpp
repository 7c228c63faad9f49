// Tests for using a simulator through its control socket: the same wire objects as in-process, remotely.
#include "bootrig/sim/remote_sim.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/sim/sim_control.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

struct Served {
  Served() : dir(std::filesystem::temp_directory_path() / ("bootrig-remote-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    ensure_private_dir(dir);
    module = std::make_unique<SimModule>(fast_sim(ota_active()), kFastBaud);
    module->set_uart_link(dir / "tty");
    module->start();
    server = std::make_unique<SimControlServer>(*module, dir / "control.sock");
  }
  ~Served() {
    server.reset();
    module.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<SimModule> module;
  std::unique_ptr<SimControlServer> server;
};

TEST(RemoteSim, NoSimulatorIsARigErrorNamingTheSocket) {
  try {
    RemoteSim r("/nonexistent/bootrig/control.sock");
    FAIL();
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bootrig/control.sock"), std::string::npos);
  }
}

TEST(RemoteSim, DrivesPinsWatchesTheLedAndFindsTheUart) {
  Served s;
  RemoteSim remote(s.dir / "control.sock");
  EXPECT_EQ(remote.uart_path(), (s.dir / "tty").string());
  SerialSettings ser;
  ser.baud = kFastBaud;
  auto uart = open_termios(remote.uart_path(), ser);
  auto safeboot = remote.make_output(LineRole::safeboot, Level::inactive);
  auto reset = remote.make_output(LineRole::reset, Level::inactive);
  auto led = remote.make_led_input();
  EXPECT_NE(safeboot->describe().find("via"), std::string::npos);

  // A safe boot through the socket: hold P12, pulse RESET, release after window 1 has shown.
  safeboot->set(Level::active);
  EXPECT_EQ(s.module->line(LineRole::safeboot), Level::active);
  reset->set(Level::active);
  EXPECT_TRUE(s.module->status().in_reset);
  reset->set(Level::inactive);
  std::vector<LineEvent> edges;
  Deadline d = Deadline::after(seconds(10));
  while (edges.size() < 3) {
    auto e = led->wait_event(d);
    ASSERT_TRUE(e) << "LED edges arrive over the socket";
    if (edges.empty() && e->edge == Edge::falling) continue;  // heartbeat latched through the reset
    edges.push_back(*e);
  }
  EXPECT_EQ(edges[0].edge, Edge::rising);
  EXPECT_GT(edges[1].time, edges[0].time);
  EXPECT_LE(edges[2].time, now()) << "same monotonic clock in both ends";
  safeboot->set(Level::inactive);
  std::string text;
  Deadline t = Deadline::after(seconds(10));
  // The power-on boot's banner may still be on its way when the UART opened (a loaded machine): the safe
  // boot is over once its own banner came and the module says it booted safe.
  while ((text.find(kBannerEnd) == std::string::npos || !s.module->status().safe_boot) && !t.expired())
    if (auto c = uart->read(Deadline::after(milliseconds(100)))) text += c->bytes;
  EXPECT_NE(text.find("Pycom MicroPython 1.20.2.r6"), std::string::npos) << text;
  EXPECT_TRUE(s.module->status().safe_boot);
  EXPECT_EQ(remote.command("led").substr(0, 2) == "on" || remote.command("led").substr(0, 3) == "off", true);
  EXPECT_THROW(remote.command("no such command"), RigError);
}

// The LED input read through the socket is the rig's photodiode, with its faults: a cut photodiode wire sees
// no edge and reads dark while the LED blinks (the plain LED stream carried every blink, so the fault
// matrix's photodiode cases, which use a remote simulator, were vacuous). Mended, the blinks come through.
TEST(RemoteSim, ThePhotodiodesFaultsApplyThroughTheSocket) {
  Served s;
  RemoteSim remote(s.dir / "control.sock");
  SimFaults f = s.module->faults();
  f.wire_photodiode = "disconnected";
  s.module->set_faults(f);
  auto led = remote.make_led_input();
  auto safeboot = remote.make_output(LineRole::safeboot, Level::inactive);
  auto reset = remote.make_output(LineRole::reset, Level::inactive);
  // A safe boot: window 1 blinks, which an intact photodiode sees within a second.
  safeboot->set(Level::active);
  reset->set(Level::active);
  reset->set(Level::inactive);
  EXPECT_FALSE(led->wait_event(Deadline::after(milliseconds(1500)))) << "a cut wire carries no edge";
  EXPECT_EQ(led->get(), Level::inactive);
  f.wire_photodiode = "";
  s.module->set_faults(f);
  EXPECT_TRUE(led->wait_event(Deadline::after(seconds(5)))) << "the blinks come through the mended wire";
  safeboot->set(Level::inactive);
}

TEST(RemoteSim, OpenSimWiresPicksLocalOrRemote) {
  Served s;
  RigConfig rig;
  rig.kind = RigKind::sim;
  rig.sim.remote = s.dir / "control.sock";
  auto w = open_sim_wires(rig);
  EXPECT_NE(w->describe().find("bootrig sim"), std::string::npos);
  EXPECT_EQ(w->uart_path(), (s.dir / "tty").string());
  RigConfig local;
  local.kind = RigKind::sim;
  local.sim.timing = fast_firmware();
  auto l = open_sim_wires(local);
  EXPECT_NE(l->describe().find("in-process"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_symlink(l->uart_path()));
  RigConfig hw;
  hw.kind = RigKind::hardware;
  EXPECT_THROW(open_sim_wires(hw), RigError);
}

}  // namespace
}  // namespace bootrig::test
