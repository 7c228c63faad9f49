// Controlling a simulated module by text commands: the language shared by `bootrig sim`'s stdin and its
// Unix control socket, the socket server, and where a standalone simulator keeps its files.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "bootrig/sim/sim_module.hpp"

namespace bootrig {

// One reply to one command line. Replies are single lines: "ok ..." or "error ...".
struct SimCommandReply {
  bool ok = true;
  std::string text;    // the whole reply line, without its line end
  bool quit = false;   // "quit": the session (or, on stdin, the simulator) ends
  bool watch = false;       // "watch": LED events follow on this session
  bool photodiode = false;  // "watch photodiode": the photodiode's edges, after its faults
};

// Commands (one per line; words separated by spaces):
//   p12 high|low            drive the safe-boot pin         reset [MS]         press RESET (default pulse)
//   reset hold|release      hold or release RESET           p2 hold|release    hold P2 low (download mode)
//   power on|off            switch the supply               line ROLE active|inactive   (remote backends)
//   led                     "ok on 0x2c1200" / "ok off 0x000000"
//   status                  one line of key=value pairs     uart               the UART's stable path
//   faults                  every fault as name=value       fault NAME VALUE   set a fault now
//   watch                   stream "event led rising|falling|colour NS 0xRRGGBB" lines (NS: CLOCK_MONOTONIC)
//   watch photodiode        stream "event led rising|falling NS photodiode": the edges a rig's photodiode sees
//                           (its miss rate and wire faults applied); what RemoteSim's LED input reads
//   help                    the command summary             quit               end the session
SimCommandReply run_sim_command(SimModule& module, std::string_view line);
// One line listing the commands, for `bootrig sim`'s start-up text and "help".
std::string sim_command_summary();
// "event led rising 123456789 0x000050"
std::string sim_led_event_line(LedColour colour, bool was_lit, TimePoint t);

// Where a standalone simulator keeps its UART link and control socket: $XDG_RUNTIME_DIR/bootrig-sim, else
// /tmp/bootrig-sim-UID. Created owner-only (0700); an existing folder must belong to this user and not be
// open to others (RigError otherwise).
std::filesystem::path default_sim_dir();
std::filesystem::path ensure_private_dir(const std::filesystem::path& dir);

// Serves the command language on a Unix socket (mode 0600, connecting peers must be this user). One
// thread, poll-driven; every client is its own session.
class SimControlServer {
 public:
  // Throws RigError when the socket cannot be created (e.g. a live simulator already owns it).
  SimControlServer(SimModule& module, std::filesystem::path socket_path);
  ~SimControlServer();
  SimControlServer(const SimControlServer&) = delete;
  SimControlServer& operator=(const SimControlServer&) = delete;

  const std::filesystem::path& path() const;
  // Sessions that said "quit" on stdin semantics do not exist here: a socket "quit" only closes that session.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bootrig
