// The step before a check: the images the scenario needs put on the board, flashing only what is missing.
#pragma once

#include "bootrig/flash/ensure.hpp"
#include "bootrig/report/result.hpp"

namespace bootrig {

class Session;

// Reads what the board holds, flashes what the arrangement still lacks (cable when the rig can, OTA over the
// REPL otherwise), keeps bootrig's record on the board up to date after each flash, and says in the session's
// notes what it found and did. Records it all in the attempt (Attempt::firmware) and in the session
// (Session::firmware). A rig that names no images only reads and notes. Throws RigError when a flash fails,
// saying what state the board is in.
void prepare_firmware(Session& s, const Arrangement& wanted);

}  // namespace bootrig
