// Reading a file bootrig was given (image, bundle, rig file, event log) only when it is a regular file of a
// size within a stated bound, in bounded chunks, before a deadline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

// The most a file may hold and why: "the largest app slot of a Pycom module".
struct FileBound {
  std::uint64_t max_bytes = 0;
  std::string why;
};

// What named the file, for the error line: "--rig", "[firmware] current in rigs/sim.toml", "bootrig flash".
struct FileOrigin {
  std::string named_by;
};

// Reads the whole file. Refuses, with one RigError line naming the file, what named it and the bound: a
// path that does not exist or cannot be opened, anything but a regular file (a directory, FIFO, device or
// socket, also behind a symlink, so a link to /dev/zero never grows without end and a FIFO never blocks), a
// file larger than the bound (checked before reading, and again while reading for a file that grows), and
// a read that has not finished by the deadline. Never holds more than the bound plus one chunk.
std::vector<std::uint8_t> read_bounded_file(const std::filesystem::path& path, const FileBound& bound,
                                            const FileOrigin& origin,
                                            Deadline deadline = Deadline::after(seconds(30)));
std::string read_bounded_text(const std::filesystem::path& path, const FileBound& bound,
                              const FileOrigin& origin, Deadline deadline = Deadline::after(seconds(30)));

// "1.9 MB (1998848 bytes)": sizes in messages.
std::string size_text(std::uint64_t bytes);

}  // namespace bootrig
