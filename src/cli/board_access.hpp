// How the bench commands (console, exec, fs, doctor) reach a board: through a rig, or a bare serial port.
#pragma once

#include <memory>
#include <string>

#include "bootrig/core/time.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "bootrig/target/target.hpp"

namespace CLI {
class App;
}

namespace bootrig {

struct GlobalOptions;

struct BoardOptions {
  std::string port;   // --port PATH: no rig file, no lines
  unsigned baud = 0;  // --baud N: 0 = the rig's, or 115200 with --port
};

// Adds --port and --baud to a subcommand.
void add_board_options(CLI::App& cmd, BoardOptions& o);
// Opens the board: the port alone with --port (refused together with --rig), else the rig as `bootrig run`
// finds it. A RigError names what could not be had.
std::unique_ptr<Target> open_board(const GlobalOptions& g, const BoardOptions& o);
// How long a REPL may take to answer on this board: the rig's boot and prompt allowances (a simulated module
// started by this command is still booting).
Duration repl_allowance(const Target& t);
// A live REPL (interrupting what runs), or a RigError that says the board did not answer and what to try.
void require_prompt(Target& t, ReplClient& repl);

}  // namespace bootrig
