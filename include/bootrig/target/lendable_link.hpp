// A serial link that can be handed to an external program for a while (a vendor flasher needs the port
// itself) and taken back, without the readers and writers above it noticing more than a quiet line.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "bootrig/hw/serial.hpp"

namespace bootrig {

class LendableLink : public SerialLink {
 public:
  using Opener = std::function<std::unique_ptr<SerialLink>(unsigned baud)>;
  // Opens the port at once through `open` (RigError as the driver raises it).
  LendableLink(std::string path, unsigned baud, Opener open);

  // Closes the port: waits until no read holds it (readers use short slices), at most `wait`. Meanwhile
  // reads see silence and writes are a RigError naming the port. Throws RigError if a reader never lets go.
  void lend(Duration wait = seconds(2));
  // Opens the port again at the baud rate it had.
  void take_back();
  bool lent() const;
  const std::string& path() const { return path_; }

  void write(std::string_view bytes, Deadline deadline) override;
  std::optional<SerialChunk> read(Deadline deadline) override;
  void drain(Deadline deadline) override;
  void discard_input() override;
  void set_baud(unsigned baud) override;
  unsigned baud() const override;
  std::string describe() const override;

 private:
  std::shared_ptr<SerialLink> current() const;
  std::shared_ptr<SerialLink> require(const char* what) const;

  std::string path_;
  Opener open_;
  mutable std::mutex mu_;
  std::condition_variable back_;
  std::shared_ptr<SerialLink> inner_;
  unsigned baud_;
  std::string description_;
};

}  // namespace bootrig
