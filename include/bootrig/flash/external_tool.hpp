// Running an external flasher (esptool, the vendor's firmware update tool) named in the rig file: no shell,
// a deadline, its output line by line, and nothing left running afterwards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

// Fills in the placeholders of [flasher].command: {port} {image} {offset} {baud}; {{ and }} are literal
// braces. Throws RigError for an unknown placeholder, a malformed argument, or one without a value.
std::vector<std::string> expand_flasher_command(const std::vector<std::string>& argv,
                                                const std::map<std::string, std::string>& values);

// The values for expand_flasher_command, formatted as the flashers expect them ({offset} as "0x10000").
std::map<std::string, std::string> flasher_values(const std::string& port, const std::filesystem::path& image,
                                                  std::uint32_t offset, unsigned baud);

// Where run_tool would find `program`: looked up on $PATH unless it contains a '/'. None if it is not there
// or not executable, so that `bootrig check` can say so before a flash is attempted.
std::optional<std::filesystem::path> find_program(const std::string& program);

struct ToolRun {
  int exit_code = -1;      // the tool's exit status; -1 when it was ended by a signal
  int term_signal = 0;     // the signal that ended it, 0 if it exited
  bool timed_out = false;  // the deadline passed and bootrig ended it (SIGTERM, SIGKILL after 2 s)
  Duration elapsed{};
  std::string output_tail;  // the last ~4 KiB of its output, whole lines, for the error message

  bool ok() const { return !timed_out && term_signal == 0 && exit_code == 0; }
};

// Runs argv[0] (looked up on PATH, never through a shell) in its own process group, stdin from /dev/null,
// stdout and stderr merged. Each output line goes to on_line as it arrives; lines end at \n or \r so that
// progress redrawn with \r ("Writing at 0x00010000... (12 %)") arrives step by step, and an empty line left
// by a \r redraw is skipped. At the deadline the whole process group is ended (SIGTERM, then SIGKILL after
// 2 s) and timed_out is set; on interruption the same happens and Interrupted is rethrown. The tool is
// always reaped before this returns or throws.
// A program that cannot be started is a RigError: "flasher: cannot run 'esptool.py': not found on PATH;
// install it or fix [flasher].command in RIG_SOURCE" (rig_source empty: "in the rig file").
ToolRun run_tool(const std::vector<std::string>& argv, Deadline deadline,
                 const std::function<void(std::string_view line)>& on_line,
                 const std::string& rig_source = {});

}  // namespace bootrig
