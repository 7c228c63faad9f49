// Path resolution across the /flash and /sd mounts, and the file operations the os module needs.
#include "sim/vfs.hpp"

#include <cerrno>

namespace bootrig::sim {

std::string Vfs::absolute(const std::string& p) const {
  std::string full = (!p.empty() && p[0] == '/') ? p : cwd_ + "/" + p;
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= full.size()) {
    std::size_t j = full.find('/', i);
    if (j == std::string::npos) j = full.size();
    std::string part = full.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

SimFs* Vfs::volume(const std::string& mount) const {
  if (mount == "/flash") return &flash_;
  if (mount == "/sd") return sd_;
  return nullptr;
}

Vfs::Where Vfs::resolve(const std::string& p) const {
  std::string abs = absolute(p);
  for (const char* mount : {"/flash", "/sd"}) {
    SimFs* fs = volume(mount);
    if (!fs) continue;
    std::string m = mount;
    if (abs == m) return Where{fs, "", m};
    if (abs.compare(0, m.size() + 1, m + "/") == 0) return Where{fs, abs.substr(m.size() + 1), m};
  }
  return Where{};
}

int Vfs::read(const std::string& p, std::string* out) const {
  Where w = resolve(p);
  if (!w.fs) return absolute(p) == "/" ? EISDIR : ENOENT;
  return w.fs->read(w.rel, out);
}

int Vfs::write(const std::string& p, const std::string& data) {
  Where w = resolve(p);
  if (!w.fs) return absolute(p) == "/" ? EISDIR : ENOENT;
  return w.fs->write(w.rel, data);
}

int Vfs::remove(const std::string& p) {
  Where w = resolve(p);
  if (!w.fs) return ENOENT;
  if (w.rel.empty()) return EISDIR;
  return w.fs->remove(w.rel);
}

int Vfs::mkdir(const std::string& p) {
  Where w = resolve(p);
  if (!w.fs) return absolute(p) == "/" ? EEXIST : EPERM;
  if (w.rel.empty()) return EEXIST;
  return w.fs->mkdir(w.rel);
}

int Vfs::rmdir(const std::string& p) {
  Where w = resolve(p);
  if (!w.fs) return ENOENT;
  if (w.rel.empty()) return EBUSY;
  return w.fs->rmdir(w.rel);
}

int Vfs::rename(const std::string& from, const std::string& to) {
  Where a = resolve(from);
  Where b = resolve(to);
  if (!a.fs || !b.fs) return ENOENT;
  if (a.fs != b.fs) return EXDEV;
  return a.fs->rename(a.rel, b.rel);
}

int Vfs::listdir(const std::string& p, std::vector<std::string>* names) const {
  if (absolute(p) == "/") {
    names->clear();
    names->push_back("flash");
    if (sd_) names->push_back("sd");
    return 0;
  }
  Where w = resolve(p);
  if (!w.fs) return ENOENT;
  return w.fs->listdir(w.rel, names);
}

int Vfs::stat(const std::string& p, bool* is_dir, std::size_t* size) const {
  if (absolute(p) == "/") {
    *is_dir = true;
    *size = 0;
    return 0;
  }
  Where w = resolve(p);
  if (!w.fs || !w.fs->exists(w.rel)) return ENOENT;
  *is_dir = w.fs->is_dir(w.rel);
  *size = *is_dir ? 0 : w.fs->file_size(w.rel);
  return 0;
}

int Vfs::chdir(const std::string& p) {
  std::string abs = absolute(p);
  if (abs == "/") {
    cwd_ = abs;
    return 0;
  }
  Where w = resolve(abs);
  if (!w.fs || !w.fs->exists(w.rel)) return ENOENT;
  if (!w.fs->is_dir(w.rel)) return ENOTDIR;
  cwd_ = abs;
  return 0;
}

}  // namespace bootrig::sim
