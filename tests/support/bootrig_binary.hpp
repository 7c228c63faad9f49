// The path of the bootrig binary this build made, for the tests that run it as a separate process.
#pragma once

namespace bootrig::testing {

// Defined in bootrig_binary.cpp, the one file told the build folder: a path in every test file's compile
// definitions made their objects differ between two builds of the same sources (a libgpiod v1 and a v2
// build), so ccache could not share them.
const char* bootrig_binary();

}  // namespace bootrig::testing

#define BOOTRIG_BINARY (::bootrig::testing::bootrig_binary())
