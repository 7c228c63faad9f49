// bootrig's executable: everything lives in the library; this only hands over to it.
#include "bootrig/cli/cli.hpp"

int main(int argc, char** argv) { return bootrig::run_cli(argc, argv); }
