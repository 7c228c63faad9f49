// A rig opened for use: its output lines claimed through the safe-state guard, its LED input and serial link,
// from real drivers or from the in-process simulated module.
#pragma once

#include <memory>
#include <string>

#include "bootrig/hw/gpio.hpp"
#include "bootrig/hw/safe_state.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/target/lendable_link.hpp"

namespace bootrig {

class SimModule;
class SimRigWires;

class Target {
 public:
  // Claims every line of the rig (initial level inactive, in the same request) and opens the serial port.
  // For kind = "sim" it starts an in-process simulated module and wires to it instead. Throws RigError
  // naming the line or port that could not be had.
  static std::unique_ptr<Target> open(const RigConfig& rig);
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  const RigConfig& rig() const { return rig_; }
  bool simulated() const { return rig_.kind == RigKind::sim; }
  // "simulated FiPy (firmware 1.20.2) [SIMULATED]" or "pi4 + expansion board 3.1 [hardware]".
  std::string describe() const;

  DigitalOutput& safeboot() { return *safeboot_; }
  DigitalOutput& reset() { return *reset_; }
  DigitalOutput* bootloader() { return bootloader_; }  // nullptr when not wired
  DigitalOutput* power() { return power_; }            // nullptr when not wired
  DigitalInput* led() { return led_.get(); }           // nullptr when no photodiode
  SerialLink& serial() { return *serial_; }
  // The port's device path, for an external tool ({port} in [flasher].command).
  const std::string& serial_path() const { return serial_->path(); }
  // Closes the serial port while the returned loan lives (an external flasher opens it itself) and opens
  // it again afterwards; readers above see a quiet line meanwhile.
  class PortLoan {
   public:
    explicit PortLoan(LendableLink& l) : l_(&l) { l.lend(); }
    ~PortLoan() { l_->take_back(); }
    PortLoan(const PortLoan&) = delete;
    PortLoan& operator=(const PortLoan&) = delete;

   private:
    LendableLink* l_;
  };
  [[nodiscard]] std::unique_ptr<PortLoan> lend_serial() { return std::make_unique<PortLoan>(*serial_); }
  // The in-process simulated module, for status and fault injection; nullptr on hardware and for a remote
  // simulator. Scenarios judge from the wires and the UART only, never from this.
  SimModule* sim() { return sim_.get(); }

  // Whether this run already proved the board's slots by the ROM's MD5 (P2 wired): one visit to download mode
  // a run, again only when bootrig's record is gone (os.fsformat deletes it).
  bool slots_proven() const { return slots_proven_; }
  void set_slots_proven(bool v) { slots_proven_ = v; }

  // Drives P12 and RESET inactive now (also done on destruction and on SIGINT/SIGTERM).
  void release_lines() { safe_.release_all(); }

 private:
  explicit Target(const RigConfig& rig);

  RigConfig rig_;
  // Declared first so it outlives the wires it made; the safe-state guard releases them before it stops.
  std::unique_ptr<SimModule> sim_;
  std::unique_ptr<SimRigWires> remote_;  // a standalone simulator's wires (rig.sim.remote)
  SafeState safe_;
  DigitalOutput* safeboot_ = nullptr;
  DigitalOutput* reset_ = nullptr;
  DigitalOutput* bootloader_ = nullptr;
  DigitalOutput* power_ = nullptr;
  std::unique_ptr<DigitalInput> led_;
  std::unique_ptr<LendableLink> serial_;
  bool slots_proven_ = false;
};

}  // namespace bootrig
