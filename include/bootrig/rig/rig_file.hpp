// Reading rig files: strict TOML validation into a RigConfig, and where a rig file is looked for.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

// Parses and validates a rig file's text. Every problem is a ConfigError "FILE:LINE: KEY: what to do".
// Relative firmware paths are resolved against `base_dir`.
RigConfig parse_rig(std::string_view text, const std::string& file_name,
                    const std::filesystem::path& base_dir);
// Reads the file within kRigFileBound (regular files only); `named_by` ("--rig", "$BOOTRIG_RIG") goes into
// the error line when it cannot be read.
RigConfig load_rig_file(const std::filesystem::path& path, const std::string& named_by = "");
// A rig file is a few kilobytes of TOML; 1 MiB leaves room for any amount of comment and refuses a wrong
// file (an image, a log) before it is parsed.
inline constexpr std::uint64_t kRigFileBound = 1u << 20;

// The rig used when no rig file is found: the simulated module with the firmware's own timings.
RigConfig builtin_sim_rig();

// Where the rig comes from, in order: --rig, $BOOTRIG_RIG, ./bootrig.toml, ~/.config/bootrig/rig.toml,
// /etc/bootrig/rig.toml, else the built-in simulator (path empty).
struct RigChoice {
  std::filesystem::path path;  // empty: built-in simulated rig
  std::string why;             // "--rig", "$BOOTRIG_RIG", "./bootrig.toml", ...
};
struct RigSearchEnv {
  std::optional<std::string> rig_env;   // $BOOTRIG_RIG
  std::optional<std::string> home;      // $HOME
  std::filesystem::path cwd;
  std::filesystem::path etc = "/etc/bootrig/rig.toml";
};
RigSearchEnv current_rig_search_env();
RigChoice choose_rig(const std::optional<std::string>& cli_rig, const RigSearchEnv& env);
RigConfig load_chosen_rig(const RigChoice& choice);

}  // namespace bootrig
