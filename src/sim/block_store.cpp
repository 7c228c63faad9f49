// Block devices in memory with an optional image file written through, and the NVS key store.
#include "sim/block_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "bootrig/core/errors.hpp"

namespace bootrig::sim {

BlockStore::BlockStore(std::uint32_t block_size, std::uint32_t block_count, std::uint8_t erased,
                       std::filesystem::path image)
    : block_size_(block_size),
      block_count_(block_count),
      erased_(erased),
      data_(static_cast<std::size_t>(block_size) * block_count, erased),
      image_(std::move(image)) {
  if (image_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(image_.parent_path(), ec);
  fd_ = ::open(image_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw RigError("sim: cannot open the flash image " + image_.string() + ": " + std::strerror(errno) +
                   " (sim.flash_dir)");
  off_t size = ::lseek(fd_, 0, SEEK_END);
  if (size == 0) {
    write_through(0, data_.size());
  } else if (size != static_cast<off_t>(data_.size()) ||
             ::pread(fd_, data_.data(), data_.size(), 0) != static_cast<ssize_t>(data_.size())) {
    ::close(fd_);
    throw RigError("sim: " + image_.string() + " is not a " + std::to_string(data_.size()) +
                   "-byte flash image; delete it to start with an empty /flash (sim.flash_dir)");
  }
}

BlockStore::~BlockStore() {
  if (fd_ >= 0) ::close(fd_);
}

bool BlockStore::in_range(std::uint32_t block, std::uint32_t offset, std::size_t len) const {
  std::size_t at = static_cast<std::size_t>(block) * block_size_ + offset;
  return block < block_count_ && at + len <= data_.size();
}

void BlockStore::write_through(std::size_t at, std::size_t len) {
  if (fd_ < 0) return;
  // The in-memory copy stays authoritative; a failing disk only loses the copy that outlives the process.
  ssize_t n = ::pwrite(fd_, data_.data() + at, len, static_cast<off_t>(at));
  (void)n;
}

int BlockStore::read(std::uint32_t block, std::uint32_t offset, std::uint8_t* buf, std::size_t len) const {
  if (!in_range(block, offset, len)) return -EIO;
  std::memcpy(buf, data_.data() + static_cast<std::size_t>(block) * block_size_ + offset, len);
  return 0;
}

int BlockStore::write(std::uint32_t block, std::uint32_t offset, const std::uint8_t* buf, std::size_t len) {
  if (!in_range(block, offset, len)) return -EIO;
  std::size_t at = static_cast<std::size_t>(block) * block_size_ + offset;
  std::memcpy(data_.data() + at, buf, len);
  write_through(at, len);
  return 0;
}

int BlockStore::erase(std::uint32_t block) {
  if (block >= block_count_) return -EIO;
  std::size_t at = static_cast<std::size_t>(block) * block_size_;
  std::memset(data_.data() + at, erased_, block_size_);
  write_through(at, block_size_);
  return 0;
}

int Nvs::set(const std::string& key, std::uint32_t value) {
  if (key.empty() || key.size() > kMaxKey) return EINVAL;
  std::lock_guard lk(m_);
  if (!values_.count(key) && values_.size() >= kMaxEntries) return ENOSPC;
  values_[key] = value;
  return 0;
}

std::optional<std::uint32_t> Nvs::get(const std::string& key) const {
  std::lock_guard lk(m_);
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool Nvs::erase(const std::string& key) {
  std::lock_guard lk(m_);
  return values_.erase(key) != 0;
}

void Nvs::erase_all() {
  std::lock_guard lk(m_);
  values_.clear();
}

}  // namespace bootrig::sim
