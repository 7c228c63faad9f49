// The command-line entry point: parses arguments, runs one subcommand, maps failures to exit codes.
#pragma once

namespace bootrig {

int run_cli(int argc, char** argv);

}  // namespace bootrig
