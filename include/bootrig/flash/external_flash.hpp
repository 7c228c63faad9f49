// Cable flashing through the external flasher the rig file names (esptool, the vendor's tool): bootrig
// drives download mode and the resets through its lines, lends the tool the serial port, and confirms the
// version the module runs afterwards.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/result.hpp"
#include "bootrig/flash/external_tool.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "bootrig/target/target.hpp"

namespace bootrig {

struct ExternalFlashReport {
  std::vector<std::string> argv;  // as run, placeholders filled in
  ToolRun run;
  RunningFirmware after;
  TimePoint start{}, end{};
};

// The lines to drive: the session's recorded ones or the target's own.
struct ExternalFlashWires {
  DigitalOutput& reset;
  DigitalOutput* bootloader;  // P2; required when the flasher's download_mode is true
};

// Runs rig.flasher for `image_path` (which must hold `expected_version`). A rig without [flasher], or with
// download_mode but no P2 line, is a RigError before anything happens. The tool failing (exit status,
// signal, deadline) or the module running another version afterwards is the failure value, saying what the
// tool printed last and what state the module is in. Each output line of the tool goes to on_line.
Result<ExternalFlashReport, OtaFailure> external_flash(Target& target, const ExternalFlashWires& wires,
                                                       ReplClient& repl, const std::string& image_path,
                                                       const std::string& expected_version,
                                                       const std::function<void(std::string_view)>& on_line);

}  // namespace bootrig
