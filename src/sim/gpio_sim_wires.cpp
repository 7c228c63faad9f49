// The simulated module's pins on gpio-sim lines (sysfs) and its UART on a real tty.
#include "sim/gpio_sim_wires.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "drivers/termios2_speed.hpp"

namespace bootrig::sim {

namespace fs = std::filesystem;

namespace {

constexpr auto kPollPeriod = milliseconds(1);

// gpio-sim's per-line folder for a chip's line: /sys/devices/platform/gpio-sim.N/<chip>/sim_gpio<offset>.
std::optional<fs::path> sim_line_dir(const std::string& chip_name, unsigned offset) {
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator("/sys/devices/platform", ec)) {
    if (dev.path().filename().string().rfind("gpio-sim.", 0) != 0) continue;
    fs::path p = dev.path() / chip_name / ("sim_gpio" + std::to_string(offset));
    if (fs::exists(p / "value", ec)) return p;
  }
  return std::nullopt;
}

}  // namespace

GpioSimPins::GpioSimPins(const SimWiresConfig& w) {
  try {
    attach(w);
  } catch (...) {
    for (Line& l : lines_)
      if (l.value_fd >= 0) ::close(l.value_fd);
    throw;
  }
}

void GpioSimPins::attach(const SimWiresConfig& w) {
  const std::vector<ChipInfo> chips = make_gpiod_backend()->chips();
  const std::pair<Index, const std::string*> wanted[] = {
      {p12, &w.safeboot}, {en, &w.reset}, {p2, &w.bootloader}, {photodiode, &w.led}};
  for (auto [i, name] : wanted) {
    ResolvedLine r = resolve_line(chips, LineLocator{*name, "", std::nullopt});
    const std::string chip_name = fs::path(r.chip_path).filename().string();
    auto dir = sim_line_dir(chip_name, r.offset);
    if (!dir)
      throw RigError(
          "simulator wires: line '" + *name + "' is " + r.describe() +
          ", which is not a gpio-sim chip; the simulated module can only be wired to gpio-sim lines");
    Line& l = lines_[i];
    l.name = *name;
    l.dir = *dir;
    l.value_fd = ::open((l.dir / "value").c_str(), O_RDONLY | O_CLOEXEC);
    if (l.value_fd < 0)
      throw RigError("simulator wires: cannot read " + (l.dir / "value").string() + ": " +
                     std::strerror(errno));
  }
  // The resistors on the bench: the rig's pull-down on P12, the module's pull-ups on EN and P2, and the
  // comparator's output high while the LED is dark.
  pull(lines_[p12], false);
  pull(lines_[en], true);
  pull(lines_[p2], true);
  pull(lines_[photodiode], true);
}

GpioSimPins::~GpioSimPins() {
  stop();
  for (Line& l : lines_)
    if (l.value_fd >= 0) ::close(l.value_fd);
}

std::string GpioSimPins::describe() const {
  return "P12 on " + lines_[p12].name + ", EN on " + lines_[en].name + ", P2 on " + lines_[p2].name +
         ", photodiode on " + lines_[photodiode].name + " (gpio-sim " +
         lines_[p12].dir.parent_path().string() + ")";
}

bool GpioSimPins::read(Line& l) {
  char c = '0';
  if (::pread(l.value_fd, &c, 1, 0) != 1)
    throw RigError("simulator wires: cannot read " + (l.dir / "value").string() + ": " +
                   std::strerror(errno));
  return c == '1';
}

void GpioSimPins::pull(Line& l, bool up) {
  // A fresh open per write: sysfs takes a store per write(2), and writes are rare (LED changes).
  int fd = ::open((l.dir / "pull").c_str(), O_WRONLY | O_CLOEXEC);
  const char* v = up ? "pull-up" : "pull-down";
  bool ok = fd >= 0 && ::write(fd, v, std::strlen(v)) == static_cast<ssize_t>(std::strlen(v));
  int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok)
    throw RigError("simulator wires: cannot write " + (l.dir / "pull").string() + ": " + std::strerror(err));
}

bool GpioSimPins::high(ModulePin pin) {
  Index i = p12;
  switch (pin) {
    case ModulePin::p12:
      i = p12;
      break;
    case ModulePin::en:
      i = en;
      break;
    case ModulePin::p2:
      i = p2;
      break;
    case ModulePin::power:
      return true;  // no supply switch on these wires: powered throughout, as on most benches
  }
  const bool v = read(lines_[i]);
  told_[i] = v;
  return v;
}

void GpioSimPins::led(bool lit) {
  std::lock_guard lk(led_m_);
  if (lit == led_lit_) return;
  led_lit_ = lit;
  try {
    pull(lines_[photodiode], !lit);
  } catch (const RigError& e) {
    spdlog::warn("{}", e.what());  // the board's thread must not unwind; the rig sees a stuck LED
  }
}

void GpioSimPins::start(ModuleInputs& board) {
  if (thread_.joinable()) return;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw RigError(std::string("simulator wires: eventfd: ") + std::strerror(errno));
  stop_ = false;
  // The baseline is taken here, not on the new thread: a change made right after start() returns must be
  // reported, however late the thread gets going.
  for (Index i : {p12, en, p2})
    if (!told_[i]) told_[i] = read(lines_[i]);
  thread_ = std::thread([this, &board] { run(board); });
}

void GpioSimPins::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(wake_fd_);
  wake_fd_ = -1;
}

void GpioSimPins::run(ModuleInputs& board) {
  const std::pair<Index, ModulePin> watched[] = {
      {p12, ModulePin::p12}, {en, ModulePin::en}, {p2, ModulePin::p2}};
  bool last[count] = {};
  for (auto [i, pin] : watched) last[i] = *told_[i];
  while (!stop_) {
    try {
      for (auto [i, pin] : watched) {
        bool v = read(lines_[i]);
        if (v == last[i]) continue;
        last[i] = v;
        board.pin_changed(pin, v, now());
      }
      // The comparator drives its output; a bias the rig asks for when it requests the line cannot move it.
      std::lock_guard lk(led_m_);
      if (read(lines_[photodiode]) == led_lit_) pull(lines_[photodiode], !led_lit_);
    } catch (const RigError& e) {
      spdlog::error("{}; the simulated module no longer follows its pins", e.what());
      return;
    }
    pollfd p{wake_fd_, POLLIN, 0};
    timespec ts{0, std::chrono::duration_cast<nanoseconds>(kPollPeriod).count()};
    ::ppoll(&p, 1, &ts, nullptr);
  }
}

Pty open_raw_tty(const std::string& path, unsigned baud) {
  int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw RigError("simulated UART: cannot open " + path + ": " + std::strerror(errno));
  Pty p;
  p.master_fd = fd;
  p.slave_path = path;
  termios t{};
  if (::tcgetattr(fd, &t) != 0)
    throw RigError("simulated UART: " + path + " is not a tty: " + std::strerror(errno));
  ::cfmakeraw(&t);
  t.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS | HUPCL);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &t) != 0)
    throw RigError("simulated UART: cannot configure " + path + ": " + std::strerror(errno));
  set_raw_tty_baud(fd, baud);
  return p;
}

void set_raw_tty_baud(int fd, unsigned baud) {
  if (bootrig::detail::set_custom_baud(fd, baud) != 0)
    spdlog::warn("simulated UART: cannot set {} baud: {}", baud, std::strerror(errno));
}

}  // namespace bootrig::sim
