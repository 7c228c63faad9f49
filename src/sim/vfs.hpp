// The module's virtual filesystem: /flash and an optional /sd mounted under one root, with a current folder.
#pragma once

#include <string>
#include <vector>

#include "sim/flash.hpp"

namespace bootrig::sim {

class Vfs {
 public:
  Vfs(SimFs& flash, SimFs* sd) : flash_(flash), sd_(sd) {}

  struct Where {
    SimFs* fs = nullptr;  // null: the root folder "/" (or nothing mounted there)
    std::string rel;      // path inside the volume
    std::string mount;    // "/flash" or "/sd"
  };
  // Absolute, normalised ("." and ".." resolved) path of `p` relative to the current folder.
  std::string absolute(const std::string& p) const;
  Where resolve(const std::string& p) const;

  // 0 or an errno value, as the firmware's VFS reports them.
  int read(const std::string& p, std::string* out) const;
  int write(const std::string& p, const std::string& data);
  int remove(const std::string& p);
  int mkdir(const std::string& p);
  int rmdir(const std::string& p);
  int rename(const std::string& from, const std::string& to);
  int listdir(const std::string& p, std::vector<std::string>* names) const;
  int stat(const std::string& p, bool* is_dir, std::size_t* size) const;
  int chdir(const std::string& p);
  const std::string& cwd() const { return cwd_; }
  void set_cwd(std::string c) { cwd_ = std::move(c); }
  SimFs* volume(const std::string& mount) const;

 private:
  SimFs& flash_;
  SimFs* sd_;
  std::string cwd_ = "/flash";
};

}  // namespace bootrig::sim
