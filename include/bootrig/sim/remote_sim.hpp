// A simulated module's wires wherever it runs: in this process (SimModule) or in a standalone `bootrig sim`
// reached through its control socket (RemoteSim), behind one small interface a rig is built from.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "bootrig/hw/gpio.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_module.hpp"

namespace bootrig {

// What a rig takes from a simulated module: outputs for its roles, the LED photodiode, the UART's path.
class SimRigWires {
 public:
  virtual ~SimRigWires() = default;
  virtual std::unique_ptr<DigitalOutput> make_output(LineRole role, Level initial) = 0;
  virtual std::unique_ptr<DigitalInput> make_led_input() = 0;
  virtual std::string uart_path() = 0;
  virtual std::string describe() = 0;
};

// The standalone simulator's wires over its control socket. Outputs send "line ROLE LEVEL"; each LED input
// has its own connection that "watch"es and turns the event lines back into timestamped edges (both
// processes read the same CLOCK_MONOTONIC, so the times need no conversion).
class RemoteSim final : public SimRigWires {
 public:
  // Throws RigError naming the socket when no simulator answers there.
  explicit RemoteSim(std::filesystem::path socket);
  ~RemoteSim() override;
  RemoteSim(const RemoteSim&) = delete;
  RemoteSim& operator=(const RemoteSim&) = delete;

  std::unique_ptr<DigitalOutput> make_output(LineRole role, Level initial = Level::inactive) override;
  std::unique_ptr<DigitalInput> make_led_input() override;
  std::string uart_path() override;
  std::string describe() override;

  // Sends one command and returns its reply after "ok" (e.g. "on 0x000050" for "led"). Throws RigError on an
  // "error" reply or when the simulator is gone.
  std::string command(std::string_view line, Deadline deadline = Deadline::after(seconds(5)));

  struct Connection;

 private:
  std::filesystem::path socket_;
  std::shared_ptr<Connection> conn_;
};

// An in-process module started with the rig's settings and owned by the returned object, or, when
// rig.sim.remote names a control socket, a RemoteSim connected to it.
std::unique_ptr<SimRigWires> open_sim_wires(const RigConfig& rig);

}  // namespace bootrig
