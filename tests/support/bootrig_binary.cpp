// The built bootrig binary's path, from the one compile definition that names the build folder.
#include "support/bootrig_binary.hpp"

namespace bootrig::testing {

const char* bootrig_binary() { return BOOTRIG_BINARY_PATH; }

}  // namespace bootrig::testing
