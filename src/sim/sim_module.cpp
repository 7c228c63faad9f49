// The simulated module with in-process wires: rig-side GPIO objects, the LED photodiode, the pty UART.
#include "bootrig/sim/sim_module.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "sim/gpio_sim_wires.hpp"
#include "sim/pty_uart.hpp"
#include "sim/pycom_board.hpp"

namespace bootrig {

const char* to_string(ModulePin p) {
  switch (p) {
    case ModulePin::p12:
      return "P12";
    case ModulePin::en:
      return "EN";
    case ModulePin::p2:
      return "P2";
    case ModulePin::power:
      return "power";
  }
  return "?";
}

const char* to_string(SimPhase p) {
  switch (p) {
    case SimPhase::off:
      return "off";
    case SimPhase::in_reset:
      return "in-reset";
    case SimPhase::rom:
      return "rom";
    case SimPhase::download:
      return "download";
    case SimPhase::bootloader:
      return "bootloader";
    case SimPhase::safeboot_window1:
      return "safeboot-window1";
    case SimPhase::safeboot_window2:
      return "safeboot-window2";
    case SimPhase::safeboot_factory:
      return "safeboot-factory";
    case SimPhase::app_start:
      return "app-start";
    case SimPhase::boot_py:
      return "boot.py";
    case SimPhase::main_py:
      return "main.py";
    case SimPhase::repl:
      return "repl";
    case SimPhase::raw_repl:
      return "raw-repl";
    case SimPhase::halted:
      return "halted";
    case SimPhase::deep_sleep:
      return "deep-sleep";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------------
// Fault names

namespace {

struct FaultAccess {
  SimFaultField field;
  bool SimFaults::*flag = nullptr;
  double SimFaults::*ratio = nullptr;
  milliseconds SimFaults::*ms = nullptr;
  std::uint64_t SimFaults::*count = nullptr;
  int SimFaults::*percent = nullptr;
  std::string SimFaults::*choice = nullptr;
  std::vector<std::string> choices{};
};

const std::vector<FaultAccess>& fault_table() {
  static const std::vector<FaultAccess> t = {
      {{"hang_in_boot", "bool",
        "boot.py never returns and Ctrl-C cannot stop it: no prompt unless safe boot"},
       &SimFaults::hang_in_boot,
       nullptr,
       nullptr},
      {{"uart_disabled", "bool",
        "the REPL leaves UART0 before boot.py (os.dupterm(None)): silent unless safe boot"},
       &SimFaults::uart_disabled,
       nullptr,
       nullptr},
      {{"garbage_rate", "ratio", "fraction of bytes (both ways) replaced by random bytes, 0..1"},
       nullptr,
       &SimFaults::garbage_rate,
       nullptr},
      {{"drop_rate", "ratio", "fraction of bytes (both ways) lost, 0..1"},
       nullptr,
       &SimFaults::drop_rate,
       nullptr},
      {{"boot_delay_ms", "ms", "extra time from the bootloader to the app (slow boot)"},
       nullptr,
       nullptr,
       &SimFaults::boot_delay},
      {{"boot_jitter_ms", "ms", "random extra boot time, up to this"},
       nullptr,
       nullptr,
       &SimFaults::boot_jitter},
      {{"port_vanishes", "bool",
        "the UART pty goes away at every hard reset and comes back (USB-serial re-enumerating)"},
       &SimFaults::port_vanishes,
       nullptr,
       nullptr},
      {{"port_gone_ms", "ms", "how long the UART stays away when port_vanishes is on"},
       nullptr,
       nullptr,
       &SimFaults::port_gone},
      {{"scripts_in_safeboot", "bool", "rule break: boot.py and main.py run during a safe boot"},
       &SimFaults::scripts_in_safeboot,
       nullptr,
       nullptr},
      {{"window2_keeps_image", "bool", "rule break: releasing P12 in window 2 keeps the current image"},
       &SimFaults::window2_keeps_image,
       nullptr,
       nullptr},
      {{"safeboot_persists", "bool",
        "rule break: the safe-boot flag is never cleared (every later boot is safe)"},
       &SimFaults::safeboot_persists,
       nullptr,
       nullptr},
      {{"soft_reset_keeps_names", "bool", "rule break: Ctrl-D keeps the interpreter's names"},
       &SimFaults::soft_reset_keeps_names,
       nullptr,
       nullptr},
      {{"format_keeps_files", "bool", "rule break: os.fsformat('/flash') leaves the files in place"},
       &SimFaults::format_keeps_files,
       nullptr,
       nullptr},
      {{"rollback_silent", "bool",
        "rule break: the bootloader rolls back an image that fails verification without printing why"},
       &SimFaults::rollback_silent,
       nullptr,
       nullptr},
      {{"brownout_after_bytes", "bytes",
        "a brown-out once this many bytes of an OTA update or a cable write are written (0: never; "
        "clears itself after firing)"},
       nullptr,
       nullptr,
       nullptr,
       &SimFaults::brownout_after_bytes},
      {{"led_period_percent", "percent",
        "the safe-boot blinks run this much slower (positive) or faster (negative), -50..200"},
       nullptr, nullptr, nullptr, nullptr, &SimFaults::led_period_percent},
      {{"led_missing_blink", "bool", "window 1's second blink never lights the LED"},
       &SimFaults::led_missing_blink},
      {{"release_seen_late", "bool",
        "rule break: the bootloader sees a P12 release one check late (a slow or debounced pin read)"},
       &SimFaults::release_seen_late},
      {{"led_stuck", "choice", "the LED is stuck: on, off, or none (works)"},
       nullptr, nullptr, nullptr, nullptr, nullptr, &SimFaults::led_stuck, {"on", "off", "none"}},
      {{"photodiode_miss_rate", "ratio", "fraction of blinks the photodiode does not see, 0..1"},
       nullptr, &SimFaults::photodiode_miss_rate},
      {{"wire_safeboot", "choice", "the P12 wire: disconnected, inverted, stuck (high), or none (intact)"},
       nullptr, nullptr, nullptr, nullptr, nullptr, &SimFaults::wire_safeboot, {"disconnected", "inverted", "stuck", "none"}},
      {{"wire_reset", "choice", "the RESET wire: disconnected, inverted, stuck (held low), or none (intact)"},
       nullptr, nullptr, nullptr, nullptr, nullptr, &SimFaults::wire_reset, {"disconnected", "inverted", "stuck", "none"}},
      {{"wire_bootloader", "choice", "the P2 wire: disconnected, inverted, stuck (low), or none (intact)"},
       nullptr, nullptr, nullptr, nullptr, nullptr, &SimFaults::wire_bootloader, {"disconnected", "inverted", "stuck", "none"}},
      {{"wire_photodiode", "choice", "the photodiode's wire: disconnected, inverted, stuck (lit), or none (intact)"},
       nullptr, nullptr, nullptr, nullptr, nullptr, &SimFaults::wire_photodiode, {"disconnected", "inverted", "stuck", "none"}},
  };
  return t;
}

}  // namespace

const std::vector<SimFaultField>& sim_fault_fields() {
  static const std::vector<SimFaultField> v = [] {
    std::vector<SimFaultField> out;
    for (const auto& a : fault_table()) out.push_back(a.field);
    return out;
  }();
  return v;
}

std::string set_sim_fault(SimFaults& f, std::string_view name, std::string_view value) {
  for (const auto& a : fault_table()) {
    if (name != a.field.name) continue;
    std::string v(value);
    if (a.flag) {
      if (v == "true" || v == "1" || v == "on" || v == "yes")
        f.*a.flag = true;
      else if (v == "false" || v == "0" || v == "off" || v == "no")
        f.*a.flag = false;
      else
        return std::string(a.field.name) + " takes true or false, not '" + v + "'";
      return {};
    }
    if (a.ratio) {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(d >= 0.0 && d <= 1.0))
        return std::string(a.field.name) + " takes a fraction from 0 to 1, not '" + v + "'";
      f.*a.ratio = d;
      return {};
    }
    if (a.percent) {
      int n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < -50 || n > 200)
        return std::string(a.field.name) + " takes a percentage from -50 to 200, not '" + v + "'";
      f.*a.percent = n;
      return {};
    }
    if (a.choice) {
      if (std::find(a.choices.begin(), a.choices.end(), v) == a.choices.end()) {
        std::string list;
        for (const auto& c : a.choices) list += (list.empty() ? "" : ", ") + c;
        return std::string(a.field.name) + " takes one of " + list + ", not '" + v + "'";
      }
      f.*a.choice = v == "none" ? "" : v;
      return {};
    }
    if (a.count) {
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size())
        return std::string(a.field.name) + " takes a byte count, not '" + v + "'";
      f.*a.count = n;
      return {};
    }
    long long ms = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
    if (ec != std::errc() || p != v.data() + v.size() || ms < 0 || ms > 600000)
      return std::string(a.field.name) + " takes milliseconds from 0 to 600000, not '" + v + "'";
    f.*a.ms = milliseconds(ms);
    return {};
  }
  std::string known;
  for (const auto& a : fault_table()) known += (known.empty() ? "" : ", ") + std::string(a.field.name);
  return "no fault named '" + std::string(name) + "' (faults: " + known + ")";
}

std::string get_sim_fault(const SimFaults& f, std::string_view name) {
  for (const auto& a : fault_table()) {
    if (name != a.field.name) continue;
    if (a.flag) return f.*a.flag ? "true" : "false";
    if (a.ratio) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", f.*a.ratio);
      return b;
    }
    if (a.count) return std::to_string(f.*a.count);
    if (a.percent) return std::to_string(f.*a.percent);
    if (a.choice) return (f.*a.choice).empty() ? "none" : f.*a.choice;
    return std::to_string((f.*a.ms).count());
  }
  return {};
}

// ---------------------------------------------------------------------------------------------------
// Wires

namespace {

// One LED input's queue of edges, with an eventfd so that waits block in ppoll alongside the interrupt fd.
struct LedQueue {
  LedQueue() : fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~LedQueue() {
    if (fd >= 0) ::close(fd);
  }
  LedQueue(const LedQueue&) = delete;
  LedQueue& operator=(const LedQueue&) = delete;
  void push(LineEvent e) {
    {
      std::lock_guard lk(m);
      if (q.size() < 65536) q.push_back(e);
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  }
  std::mutex m;
  std::deque<LineEvent> q;
  int fd;
};

bool pin_high_for(LineRole role, Level level) {
  switch (role) {
    case LineRole::safeboot:
      return is_active(level);  // P12 high = safe-boot request
    case LineRole::reset:
      return !is_active(level);  // EN low = held in reset
    case LineRole::bootloader:
      return !is_active(level);  // P2 low = download mode
    case LineRole::power:
      return is_active(level);
    case LineRole::led:
      break;
  }
  return false;
}

ModulePin pin_for(LineRole role) {
  switch (role) {
    case LineRole::safeboot:
      return ModulePin::p12;
    case LineRole::reset:
      return ModulePin::en;
    case LineRole::bootloader:
      return ModulePin::p2;
    default:
      return ModulePin::power;
  }
}

std::filesystem::path private_link_dir() {
  const char* base = std::getenv("XDG_RUNTIME_DIR");
  std::string tmpl =
      std::string(base && *base && ::access(base, W_OK) == 0 ? base : "/tmp") + "/bootrig-sim-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw RigError("simulated UART: cannot create a folder for its link (" + tmpl +
                   "): " + std::strerror(errno));
  return std::filesystem::path(buf.data());
}

}  // namespace

struct SimModule::Impl final : SimWires, std::enable_shared_from_this<Impl> {
  Impl(SimConfig c, unsigned b) : config(std::move(c)), timing(config.timing), baud(b) {
    miss_rate = config.faults.photodiode_miss_rate;
    wires = config.faults;
    miss_rng.seed(config.fault_seed);
    lines[LineRole::safeboot] = Level::inactive;
    lines[LineRole::reset] = Level::inactive;
    lines[LineRole::bootloader] = Level::inactive;
    lines[LineRole::power] = Level::active;
    board = std::make_unique<sim::PycomBoard>(config, timing, baud, *this);
  }
  ~Impl() override { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void start() {
    std::lock_guard lk(life_m);
    if (started) return;
    auto receive = [this](std::string_view b, TimePoint t) { board->uart_rx(b, t); };
    if (config.wires.kind == SimWiresKind::gpio_sim) {
      start_on_gpio_sim(receive);
      return;
    }
    if (link.empty()) {
      link_dir = private_link_dir();
      link = link_dir / "tty";
    }
    uart = std::make_unique<sim::PtyUart>(baud, link, receive);
    uart->start();
    Level power, reset, safeboot, boot;
    {
      std::lock_guard l2(m);
      power = lines[LineRole::power];
      reset = at_pin(LineRole::reset, lines[LineRole::reset]);
      safeboot = at_pin(LineRole::safeboot, lines[LineRole::safeboot]);
      boot = at_pin(LineRole::bootloader, lines[LineRole::bootloader]);
    }
    started = true;
    first_boot = true;
    board->start(pin_high_for(LineRole::power, power), pin_high_for(LineRole::reset, reset),
                 pin_high_for(LineRole::safeboot, safeboot), !pin_high_for(LineRole::bootloader, boot));
  }

  // The pins are gpio-sim lines that another process drives, the UART a real tty: see gpio_sim_wires.hpp.
  void start_on_gpio_sim(const sim::PtyUart::Receiver& receive) {
    gpio = std::make_unique<sim::GpioSimPins>(config.wires);
    uart = std::make_unique<sim::PtyUart>(baud, sim::PtyUart::Tty{config.wires.uart}, receive);
    uart->start();
    started = true;
    first_boot = true;
    board->start(true, gpio->high(ModulePin::en), gpio->high(ModulePin::p12), !gpio->high(ModulePin::p2));
    gpio->start(*board);
  }

  void stop() {
    std::lock_guard lk(life_m);
    if (!started) return;
    if (gpio) gpio->stop();
    board->stop();
    if (uart) uart->stop();
    started = false;
    if (!link_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(link_dir, ec);
      link_dir.clear();
      link.clear();
    }
  }

  void set_line(LineRole role, Level level) {
    if (role == LineRole::led) throw RigError("the simulated LED line is an input; it cannot be driven");
    if (config.wires.kind == SimWiresKind::gpio_sim)
      throw RigError(std::string("the simulated module's pins are gpio-sim lines here; drive ") +
                     to_string(role) + " through its line (" +
                     (gpio ? gpio->describe() : std::string("see [sim.wires]")) + ")");
    Level at;
    {
      std::lock_guard lk(m);
      lines[role] = level;
      at = at_pin(role, level);
    }
    board->pin_changed(pin_for(role), pin_high_for(role, at), now());
  }

  // What the module's pin sees of the rig's level through its wire (the wire_* faults). Under m.
  Level at_pin(LineRole role, Level level) {
    if (role == LineRole::power) return level;
    const std::string& w = wires.wire(role);
    if (w == "disconnected") return released_level(role);
    if (w == "inverted") return level == Level::active ? Level::inactive : Level::active;
    if (w == "stuck") return Level::active;
    return level;
  }
  // The wire faults changed: every pin sees the rig's levels through the new wires at once.
  void rewire(const SimFaults& f) {
    if (config.wires.kind == SimWiresKind::gpio_sim) return;
    std::vector<std::pair<LineRole, Level>> now_at;
    {
      std::lock_guard lk(m);
      wires = f;
      for (LineRole r : {LineRole::safeboot, LineRole::reset, LineRole::bootloader})
        now_at.emplace_back(r, at_pin(r, lines[r]));
    }
    std::lock_guard lk(life_m);
    if (!started) return;
    for (auto [r, l] : now_at) board->pin_changed(pin_for(r), pin_high_for(r, l), now());
  }

  // ---- SimWires ----
  void led(LedColour c, TimePoint scheduled) override {
    TimePoint t = now();
    std::vector<std::function<void(LedColour, TimePoint)>> call;
    std::vector<std::function<void(bool, TimePoint)>> seen_by;  // photodiode watchers, when it saw an edge
    bool edge_lit = false;
    TimePoint stamp;
    {
      std::lock_guard lk(m);
      bool was_lit = colour != 0;
      colour = c;
      history.push_back(LedChange{c, scheduled, t});
      if (history.size() > 4096) history.pop_front();
      // The photodiode's edge carries the time the firmware switched the LED, as a kernel's interrupt
      // timestamp would on a Pi: the real module's LED runs on its own timer, and this host thread waking
      // late (a loaded machine) must not move it. Edges stay in order whichever thread switched the LED.
      stamp = std::max(std::min(scheduled, t), last_stamp);
      last_stamp = stamp;
      // The photodiode_miss_rate fault: a blink too dim or short for the comparator is neither edge.
      bool seen = true;
      if ((c != 0) != was_lit) {
        if (c != 0 && miss_rate > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(miss_rng) < miss_rate)
          missing_blink = true;
        seen = !missing_blink;
        if (c == 0) missing_blink = false;
      }
      // A photodiode wire that is cut or stuck carries no edges; an inverted one the opposite edge.
      const std::string& pd = wires.wire_photodiode;
      if (pd == "disconnected" || pd == "stuck") seen = false;
      if ((c != 0) != was_lit && seen) {
        LineEvent e{(c != 0) != (pd == "inverted") ? Edge::rising : Edge::falling, stamp};
        edge_lit = e.edge == Edge::rising;
        for (auto& [id, fn] : photodiode_watchers) seen_by.push_back(fn);
        for (auto it = subscribers.begin(); it != subscribers.end();) {
          if (auto q = it->lock()) {
            q->push(e);
            ++it;
          } else {
            it = subscribers.erase(it);
          }
        }
      }
      for (auto& [id, fn] : watchers) call.push_back(fn);
    }
    if (gpio) gpio->led(c != 0);
    for (auto& fn : call) fn(c, stamp);
    for (auto& fn : seen_by) fn(edge_lit, stamp);
  }
  void uart_tx(std::string_view bytes) override {
    if (uart) uart->send(bytes);
  }
  std::size_t uart_tx_pending() const override { return uart ? uart->pending() : 0; }
  void uart_tx_discard() override {
    if (uart) uart->discard();
  }
  void uart_set_baud(unsigned b) override {
    if (uart) uart->set_baud(b);
  }
  void hard_reset_started() override {
    // The port appears with start(); it is every later hard reset that makes it go away, so that a rig
    // opening it right after start() does not race the first boot.
    if (first_boot.exchange(false)) return;
    SimFaults f = board->faults();
    if (f.port_vanishes && uart) uart->vanish(f.port_gone);
  }

  SimConfig config;
  FirmwareTiming timing;
  unsigned baud;
  std::mutex life_m;
  bool started = false;
  std::atomic<bool> first_boot{true};
  std::filesystem::path link, link_dir;
  std::unique_ptr<sim::PtyUart> uart;
  std::unique_ptr<sim::GpioSimPins> gpio;  // the gpio-sim wires, when [sim.wires] kind = "gpio-sim"
  std::unique_ptr<sim::PycomBoard> board;

  mutable std::mutex m;
  std::map<LineRole, Level> lines;
  LedColour colour = 0;
  TimePoint last_stamp{};
  double miss_rate = 0;      // SimFaults::photodiode_miss_rate, under m
  SimFaults wires;           // the wire_* faults, under m
  bool missing_blink = false;
  std::mt19937 miss_rng{1};
  std::vector<std::weak_ptr<LedQueue>> subscribers;
  std::deque<LedChange> history;
  std::map<int, std::function<void(LedColour, TimePoint)>> watchers;
  std::map<int, std::function<void(bool, TimePoint)>> photodiode_watchers;
  // What the photodiode reads now, through its wire (m held): in-process input and the socket alike.
  bool photodiode_lit_locked() const {
    const std::string& pd = wires.wire_photodiode;
    if (pd == "disconnected") return false;
    if (pd == "stuck") return true;
    return (colour != 0) != (pd == "inverted");
  }
  int next_watch = 1;
};

namespace {

class SimOutput final : public DigitalOutput {
 public:
  SimOutput(std::shared_ptr<SimModule::Impl> impl, LineRole role, Level initial)
      : impl_(std::move(impl)), role_(role), level_(initial) {
    impl_->set_line(role_, level_);
  }
  ~SimOutput() override {
    try {
      impl_->set_line(role_, released_level(role_));
    } catch (...) {
    }
  }
  SimOutput(const SimOutput&) = delete;
  SimOutput& operator=(const SimOutput&) = delete;
  void set(Level level) override {
    level_ = level;
    impl_->set_line(role_, level);
  }
  Level get() const override { return level_; }
  std::string describe() const override {
    switch (role_) {
      case LineRole::safeboot:
        return "safeboot (simulated P12)";
      case LineRole::reset:
        return "reset (simulated EN)";
      case LineRole::bootloader:
        return "bootloader (simulated P2)";
      case LineRole::power:
        return "power (simulated supply)";
      default:
        return "simulated line";
    }
  }

 private:
  std::shared_ptr<SimModule::Impl> impl_;
  LineRole role_;
  Level level_;
};

class SimLedInput final : public DigitalInput {
 public:
  explicit SimLedInput(std::shared_ptr<SimModule::Impl> impl)
      : impl_(std::move(impl)), q_(std::make_shared<LedQueue>()) {
    if (q_->fd < 0) throw RigError(std::string("simulated LED input: eventfd: ") + std::strerror(errno));
    std::lock_guard lk(impl_->m);
    impl_->subscribers.push_back(q_);
  }
  Level get() override {
    std::lock_guard lk(impl_->m);
    return level_of(impl_->photodiode_lit_locked());
  }
  std::optional<LineEvent> wait_event(Deadline deadline) override {
    for (;;) {
      {
        std::lock_guard lk(q_->m);
        if (!q_->q.empty()) {
          LineEvent e = q_->q.front();
          q_->q.pop_front();
          return e;
        }
      }
      interrupt::throw_if_requested();
      if (deadline.expired()) return std::nullopt;
      pollfd p[2] = {{q_->fd, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
      timespec ts = deadline.remaining_timespec();
      int r = ::ppoll(p, 2, deadline.is_never() ? nullptr : &ts, nullptr);
      if (r > 0 && (p[0].revents & POLLIN)) {
        std::uint64_t v;
        [[maybe_unused]] auto n = ::read(q_->fd, &v, sizeof v);
      }
    }
  }
  std::string describe() const override { return "led (simulated photodiode on the RGB LED)"; }

 private:
  std::shared_ptr<SimModule::Impl> impl_;
  std::shared_ptr<LedQueue> q_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------

SimModule::SimModule(SimConfig config, unsigned baud)
    : impl_(std::make_shared<Impl>(std::move(config), baud)) {}

SimModule::~SimModule() { impl_->stop(); }

void SimModule::start() { impl_->start(); }
void SimModule::stop() { impl_->stop(); }

void SimModule::set_uart_link(std::filesystem::path link) {
  std::lock_guard lk(impl_->life_m);
  if (impl_->started) throw RigError("simulated UART: set the link before starting the module");
  impl_->link = std::move(link);
}

std::string SimModule::uart_path() const {
  std::lock_guard lk(impl_->life_m);
  if (impl_->config.wires.kind == SimWiresKind::gpio_sim) return impl_->config.wires.uart;
  return impl_->link.string();
}

std::string SimModule::uart_device() const {
  std::lock_guard lk(impl_->life_m);
  return impl_->uart ? impl_->uart->device() : std::string();
}

std::unique_ptr<DigitalOutput> SimModule::make_output(LineRole role, Level initial) {
  if (role == LineRole::led) throw RigError("the simulated LED line is an input; ask for make_led_input()");
  return std::make_unique<SimOutput>(impl_, role, initial);
}

std::unique_ptr<DigitalInput> SimModule::make_led_input() { return std::make_unique<SimLedInput>(impl_); }

void SimModule::set_line(LineRole role, Level level) { impl_->set_line(role, level); }

Level SimModule::line(LineRole role) const {
  std::lock_guard lk(impl_->m);
  auto it = impl_->lines.find(role);
  return it == impl_->lines.end() ? Level::inactive : it->second;
}

void SimModule::press_reset(Duration pulse) {
  impl_->set_line(LineRole::reset, Level::active);
  try {
    wait_for(pulse);
  } catch (...) {
    impl_->set_line(LineRole::reset, Level::inactive);
    throw;
  }
  impl_->set_line(LineRole::reset, Level::inactive);
}

SimStatus SimModule::status() const {
  SimStatus s = impl_->board->status();
  s.uart_path = uart_path();
  return s;
}

LedColour SimModule::led() const {
  std::lock_guard lk(impl_->m);
  return impl_->colour;
}

SimFaults SimModule::faults() const { return impl_->board->faults(); }
void SimModule::set_faults(const SimFaults& f) {
  impl_->board->set_faults(f);
  {
    std::lock_guard lk(impl_->m);
    impl_->miss_rate = f.photodiode_miss_rate;
  }
  impl_->rewire(f);
}
void SimModule::set_download_handler(std::shared_ptr<SimDownloadHandler> h) {
  impl_->board->set_download_handler(std::move(h));
}
const SimConfig& SimModule::config() const { return impl_->config; }
const FirmwareTiming& SimModule::timing() const { return impl_->timing; }
unsigned SimModule::baud() const { return impl_->baud; }

std::vector<SimModule::LedChange> SimModule::led_history() const {
  std::lock_guard lk(impl_->m);
  return {impl_->history.begin(), impl_->history.end()};
}

void SimModule::clear_led_history() {
  std::lock_guard lk(impl_->m);
  impl_->history.clear();
}

int SimModule::watch_led(std::function<void(LedColour, TimePoint)> fn) {
  std::lock_guard lk(impl_->m);
  int id = impl_->next_watch++;
  impl_->watchers[id] = std::move(fn);
  return id;
}

int SimModule::watch_photodiode(std::function<void(bool lit, TimePoint)> fn) {
  std::lock_guard lk(impl_->m);
  int id = impl_->next_watch++;
  impl_->photodiode_watchers[id] = std::move(fn);
  return id;
}

bool SimModule::photodiode_lit() const {
  std::lock_guard lk(impl_->m);
  return impl_->photodiode_lit_locked();
}

void SimModule::unwatch_led(int id) {
  std::lock_guard lk(impl_->m);
  impl_->watchers.erase(id);
  impl_->photodiode_watchers.erase(id);
}

}  // namespace bootrig
