// boot_info encoding and CRC, and the simulated filesystem with its optional host-folder mirror.
#include "sim/flash.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/image_builder.hpp"

namespace bootrig::sim {

const char* to_string(SlotId s) { return s == SlotId::factory ? "factory" : "ota_0"; }

std::uint32_t slot_address(SlotId s) {
  return s == SlotId::factory ? kPycomFactoryOffset : kPycomOta0Offset4MB;
}

ImageDescriptor describe_image(std::string bytes) {
  ImageDescriptor d;
  Esp32Image img =
      parse_esp32_image(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  // What the firmware says about itself, read as bootrig reads any image (its banner in rodata).
  d.valid = img.valid() && img.kind == ImageKind::app;
  d.version = img.identity.version;
  d.board = img.board != PycomBoard::unknown ? to_string(img.board) : img.identity.board_name;
  if (!img.identity.git_tag.empty()) d.micropython = img.identity.git_tag;
  if (!img.identity.build_date.empty()) d.build_date = img.identity.build_date;
  d.bytes = std::move(bytes);
  return d;
}

ImageDescriptor make_slot_image(const std::string& version, const std::string& board) {
  ImageSpec spec;
  spec.version = version;
  spec.board = parse_board(board).value_or(PycomBoard::fipy);
  std::vector<std::uint8_t> raw = build_esp32_image(spec);
  return describe_image(std::string(raw.begin(), raw.end()));
}

std::uint32_t crc32_le(std::uint32_t crc, const std::uint8_t* data, std::size_t len) {
  crc = ~crc;
  for (std::size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

namespace {
void put32(std::array<std::uint8_t, 40>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get32(const std::array<std::uint8_t, 40>& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}
}  // namespace

std::array<std::uint8_t, 40> BootInfo::encode() const {
  std::array<std::uint8_t, 40> b{};
  put32(b, 0, active_img);
  put32(b, 4, status);
  put32(b, 8, prev_img);
  put32(b, 12, size);
  put32(b, 16, safeboot);
  for (std::size_t i = 0; i < 16; ++i) b[20 + i] = signature[i];
  put32(b, 36, crc);
  return b;
}

BootInfo BootInfo::decode(const std::array<std::uint8_t, 40>& b) {
  BootInfo bi;
  bi.active_img = get32(b, 0);
  bi.status = get32(b, 4);
  bi.prev_img = get32(b, 8);
  bi.size = get32(b, 12);
  bi.safeboot = get32(b, 16);
  for (std::size_t i = 0; i < 16; ++i) bi.signature[i] = b[20 + i];
  bi.crc = get32(b, 36);
  return bi;
}

std::uint32_t BootInfo::compute_crc() const {
  auto raw = encode();
  return crc32_le(0xFFFFFFFFu, raw.data(), 36);
}

BootInfo FlashChip::read_boot_info() {
  std::lock_guard lk(otadata_m);
  return BootInfo::decode(otadata);
}

void FlashChip::write_boot_info(BootInfo bi) {
  bi.crc = bi.compute_crc();
  std::lock_guard lk(otadata_m);
  otadata = bi.encode();
}

// ---------------------------------------------------------------------------------------------------

SimFs::SimFs(std::filesystem::path backing) : backing_(std::move(backing)) {
  nodes_[""] = Node{true, {}};
  if (backing_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(backing_, ec);
  if (ec)
    throw RigError("simulated /flash folder " + backing_.string() + " cannot be created: " + ec.message());
  for (auto it = std::filesystem::recursive_directory_iterator(backing_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = std::filesystem::relative(it->path(), backing_, ec).generic_string();
    if (ec || rel.empty()) continue;
    if (it->is_directory(ec)) {
      nodes_[rel] = Node{true, {}};
    } else if (it->is_regular_file(ec)) {
      std::ifstream f(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      nodes_[rel] = Node{false, ss.str()};
    }
  }
  if (ec) throw RigError("simulated /flash folder " + backing_.string() + " cannot be read: " + ec.message());
}

std::string SimFs::parent_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

void SimFs::mirror_write(const std::string& path, const Node& n) {
  if (backing_.empty()) return;
  std::error_code ec;
  auto host = backing_ / path;
  if (n.dir) {
    std::filesystem::create_directories(host, ec);
  } else {
    std::ofstream f(host, std::ios::binary | std::ios::trunc);
    f.write(n.data.data(), static_cast<std::streamsize>(n.data.size()));
  }
}

void SimFs::mirror_remove(const std::string& path) {
  if (backing_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(backing_ / path, ec);
}

int SimFs::read(const std::string& path, std::string* out) const {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (it->second.dir) return EISDIR;
  *out = it->second.data;
  return 0;
}

int SimFs::write(const std::string& path, const std::string& data) {
  std::lock_guard lk(m_);
  if (path.empty()) return EISDIR;
  auto parent = nodes_.find(parent_of(path));
  if (parent == nodes_.end()) return ENOENT;
  if (!parent->second.dir) return ENOTDIR;
  auto it = nodes_.find(path);
  if (it != nodes_.end() && it->second.dir) return EISDIR;
  Node& n = nodes_[path];
  n = Node{false, data};
  mirror_write(path, n);
  return 0;
}

int SimFs::remove(const std::string& path) {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (it->second.dir) return EISDIR;
  nodes_.erase(it);
  mirror_remove(path);
  return 0;
}

int SimFs::mkdir(const std::string& path) {
  std::lock_guard lk(m_);
  if (nodes_.count(path)) return EEXIST;
  auto parent = nodes_.find(parent_of(path));
  if (parent == nodes_.end()) return ENOENT;
  if (!parent->second.dir) return ENOTDIR;
  nodes_[path] = Node{true, {}};
  mirror_write(path, nodes_[path]);
  return 0;
}

int SimFs::rmdir(const std::string& path) {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (!it->second.dir) return ENOTDIR;
  if (path.empty()) return EACCES;
  std::string prefix = path + "/";
  for (const auto& [k, v] : nodes_)
    if (k.compare(0, prefix.size(), prefix) == 0) return ENOTEMPTY;
  nodes_.erase(it);
  mirror_remove(path);
  return 0;
}

int SimFs::rename(const std::string& from, const std::string& to) {
  std::lock_guard lk(m_);
  auto it = nodes_.find(from);
  if (it == nodes_.end() || from.empty()) return ENOENT;
  auto parent = nodes_.find(parent_of(to));
  if (parent == nodes_.end() || !parent->second.dir) return ENOENT;
  if (to == from) return 0;
  std::string prefix = from + "/";
  if (to.compare(0, prefix.size(), prefix) == 0) return EINVAL;
  if (auto dst = nodes_.find(to); dst != nodes_.end()) {
    if (dst->second.dir) return EEXIST;
    nodes_.erase(dst);
  }
  std::vector<std::pair<std::string, Node>> moved;
  for (auto i = nodes_.begin(); i != nodes_.end();) {
    if (i->first == from || i->first.compare(0, prefix.size(), prefix) == 0) {
      moved.emplace_back(to + i->first.substr(from.size()), i->second);
      i = nodes_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& [k, v] : moved) nodes_[k] = v;
  if (!backing_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(backing_ / to, ec);
    std::filesystem::rename(backing_ / from, backing_ / to, ec);
  }
  return 0;
}

int SimFs::listdir(const std::string& path, std::vector<std::string>* names) const {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (!it->second.dir) return ENOTDIR;
  std::string prefix = path.empty() ? "" : path + "/";
  names->clear();
  for (const auto& [k, v] : nodes_) {
    if (k.empty() || k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = k.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) names->push_back(rest);
  }
  return 0;
}

bool SimFs::exists(const std::string& path) const {
  std::lock_guard lk(m_);
  return nodes_.count(path) != 0;
}

bool SimFs::is_dir(const std::string& path) const {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  return it != nodes_.end() && it->second.dir;
}

std::size_t SimFs::file_size(const std::string& path) const {
  std::lock_guard lk(m_);
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second.data.size();
}

void SimFs::format() {
  std::lock_guard lk(m_);
  nodes_.clear();
  nodes_[""] = Node{true, {}};
  if (!backing_.empty()) {
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(backing_, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      std::filesystem::remove_all(it->path(), ec);
  }
}

std::size_t SimFs::entry_count() const {
  std::lock_guard lk(m_);
  return nodes_.size() - 1;
}

}  // namespace bootrig::sim
