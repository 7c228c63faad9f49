// Test support: the simulated module driven like a rig drives a board: GPIO objects, LED edges, a tty.
#include "support/sim_fixture.hpp"

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig::test {

TimingProfile fast_timing() {
  TimingProfile t;
  t.safeboot_recheck = milliseconds(20);
  t.window1_toggle = milliseconds(100);
  t.window2_toggle = milliseconds(50);
  t.final_toggle = milliseconds(20);
  t.final_duration = milliseconds(300);
  t.heartbeat_on = milliseconds(16);
  t.heartbeat_off = milliseconds(784);
  t.error_toggle = milliseconds(10);
  t.error_duration = milliseconds(240);
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  t.reset_pulse = milliseconds(20);
  t.boot_timeout = milliseconds(5000);
  t.prompt_timeout = milliseconds(2000);
  return t;
}

FirmwareTiming fast_firmware() {
  FirmwareTiming t;
  t.safeboot_recheck = milliseconds(20);
  t.window1_toggle = milliseconds(100);
  t.window2_toggle = milliseconds(50);
  t.final_toggle = milliseconds(20);
  t.final_duration = milliseconds(300);
  t.heartbeat_on = milliseconds(16);
  t.heartbeat_off = milliseconds(784);
  t.error_toggle = milliseconds(10);
  t.error_duration = milliseconds(240);
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  return t;
}

SimConfig fast_sim(SimConfig c) {
  c.timing = fast_firmware();
  return c;
}

SimRig::SimRig(SimConfig config, TimingProfile timing, unsigned baud, bool start_now)
    : timing_(timing), baud_(baud) {
  if (config.timing == FirmwareTiming{}) config.timing = fast_firmware();
  module_ = std::make_unique<SimModule>(std::move(config), baud);
  safeboot_ = module_->make_output(LineRole::safeboot, Level::inactive);
  reset_ = module_->make_output(LineRole::reset, Level::inactive);
  bootloader_ = module_->make_output(LineRole::bootloader, Level::inactive);
  power_ = module_->make_output(LineRole::power, Level::active);
  led_ = module_->make_led_input();
  if (start_now) start();
}

SimRig::~SimRig() {
  uart_.reset();
  module_->stop();
}

void SimRig::start() {
  module_->start();
  SerialSettings s;
  s.baud = baud_;
  // With the port-vanishes fault the pty goes away at power-up too: a first open can catch it half gone.
  Deadline d = Deadline::after(seconds(10));
  for (;;) {
    try {
      uart_ = open_termios(module_->uart_path(), s);
      return;
    } catch (const RigError&) {
      if (d.expired()) throw;
      wait_for(milliseconds(20));
    }
  }
}

void SimRig::send(std::string_view bytes) { uart_->write(bytes, Deadline::after(seconds(5))); }

bool SimRig::fill(Deadline d) {
  auto chunk = uart_->read(d);
  if (!chunk) return false;
  buf_ += chunk->bytes;
  return true;
}

std::optional<std::string> SimRig::read_until(std::string_view needle, Duration timeout) {
  Deadline d = Deadline::after(timeout);
  for (;;) {
    auto at = buf_.find(needle, pos_);
    if (at != std::string::npos) {
      std::string out = buf_.substr(pos_, at + needle.size() - pos_);
      pos_ = at + needle.size();
      return out;
    }
    if (d.expired() || !fill(d)) {
      if (buf_.find(needle, pos_) != std::string::npos) continue;
      return std::nullopt;
    }
  }
}

std::string SimRig::read_quiet(Duration quiet, Duration timeout) {
  Deadline d = Deadline::after(timeout);
  while (!d.expired()) {
    if (!fill(Deadline::after(quiet).min(d))) break;
  }
  std::string out = buf_.substr(pos_);
  pos_ = buf_.size();
  return out;
}

void SimRig::skip_unread() {
  // Take in whatever is already waiting, without blocking.
  while (fill(Deadline::after(milliseconds(0)))) {
  }
  pos_ = buf_.size();
}

bool SimRig::wait_banner(Duration timeout) {
  Deadline d = Deadline::after(timeout);
  if (!read_until("Type \"help()\" for more information.\r\n", d.remaining())) return false;
  return read_until(">>> ", d.remaining()).has_value();
}

bool SimRig::interrupt_to_prompt(Duration timeout) {
  Deadline d = Deadline::after(timeout);
  while (!d.expired()) {
    skip_unread();
    send("\x03\x03\r");
    if (read_until(">>> ", std::min<Duration>(d.remaining(), milliseconds(500)))) {
      read_quiet(milliseconds(50), milliseconds(500));
      return true;
    }
  }
  return false;
}

RawResult SimRig::exec_raw(const std::string& code, Duration timeout) {
  Deadline d = Deadline::after(timeout);
  RawResult r;
  skip_unread();
  send("\r\x01");
  if (!read_until("raw REPL; CTRL-B to exit\r\n>", d.remaining())) return r;
  send(code);
  send("\x04");
  if (!read_until("OK", d.remaining())) return r;
  auto out = read_until("\x04", d.remaining());
  if (!out) return r;
  auto err = read_until("\x04", d.remaining());
  if (!err) return r;
  if (!read_until(">", d.remaining())) return r;
  r.ok = true;
  r.output = out->substr(0, out->size() - 1);
  r.error = err->substr(0, err->size() - 1);
  send("\x02");
  read_until(">>> ", d.remaining());
  return r;
}

std::optional<std::string> SimRig::eval_line(const std::string& line, Duration timeout) {
  Deadline d = Deadline::after(timeout);
  skip_unread();
  send_line(line);
  if (!read_until(line + "\r\n", d.remaining())) return std::nullopt;
  auto out = read_until(">>> ", d.remaining());
  if (!out) return std::nullopt;
  return out->substr(0, out->size() - 4);
}

void SimRig::press_reset() {
  reset_->set(Level::active);
  wait_for(timing_.reset_pulse);
  reset_->set(Level::inactive);
}

std::optional<LedEdge> SimRig::next_led_edge(Duration timeout) {
  auto e = led_->wait_event(Deadline::after(timeout));
  if (!e) return std::nullopt;
  return LedEdge{e->edge, e->time};
}

std::vector<LedEdge> SimRig::led_edges(std::size_t count, Duration timeout) {
  Deadline d = Deadline::after(timeout);
  std::vector<LedEdge> out;
  while (out.size() < count) {
    auto e = led_->wait_event(d);
    if (!e) break;
    out.push_back(LedEdge{e->edge, e->time});
  }
  return out;
}

}  // namespace bootrig::test
