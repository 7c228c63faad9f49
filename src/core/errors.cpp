// Located rig-file errors: "FILE:LINE: KEY: what".
#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {
std::string located(const std::string& file, int line, const std::string& key, const std::string& what) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + what;
}
}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& key, const std::string& what)
    : RigError(located(file, line, key, what)), file_(file), line_(line), key_(key) {}

}  // namespace bootrig
