// The simulated module's wires over a standalone simulator's control socket, and choosing local or remote.
#include "bootrig/sim/remote_sim.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig {

struct RemoteSim::Connection {
  Connection(int f, std::string p) : fd(f), path(std::move(p)) {}
  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static std::shared_ptr<Connection> open(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
      throw RigError("simulator control socket path " + path + " is too long");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw RigError(std::string("simulator control socket: socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      ::close(fd);
      throw RigError("no simulator answers on " + path + " (" + std::strerror(err) +
                     "); start one with `bootrig sim`");
    }
    return std::make_shared<Connection>(fd, path);
  }

  [[noreturn]] void gone() const {
    throw RigError("the simulator on " + path + " went away; restart `bootrig sim`");
  }

  // One line from the simulator, or nullopt at the deadline. Interruptible.
  std::optional<std::string> read_line(Deadline d) {
    for (;;) {
      if (auto nl = buf.find('\n'); nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return line;
      }
      interrupt::throw_if_requested();
      if (d.expired() && !d.is_never()) {
        // One non-blocking look even at an expired deadline, so that draining works.
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) return std::nullopt;
      } else {
        pollfd p[2] = {{fd, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
        timespec ts = d.remaining_timespec();
        int r = ::ppoll(p, 2, d.is_never() ? nullptr : &ts, nullptr);
        if (r <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      }
      char tmp[1024];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n > 0)
        buf.append(tmp, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        gone();
    }
  }

  std::string request(std::string_view line, Deadline d, std::deque<std::string>* events = nullptr) {
    std::lock_guard lk(m);
    std::string out = std::string(line) + "\n";
    if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) gone();
    for (;;) {
      auto reply = read_line(d);
      if (!reply)
        throw RigError("the simulator on " + path + " did not answer '" + std::string(line) + "' in time");
      if (reply->rfind("event ", 0) == 0) {
        if (events) events->push_back(*reply);
        continue;
      }
      if (reply->rfind("ok", 0) == 0) return reply->size() > 3 ? reply->substr(3) : std::string();
      throw RigError("simulator on " + path + ": " +
                     (reply->rfind("error ", 0) == 0 ? reply->substr(6) : *reply));
    }
  }

  int fd;
  std::string path;
  std::string buf;
  std::mutex m;
};

namespace {

class RemoteOutput final : public DigitalOutput {
 public:
  RemoteOutput(std::shared_ptr<RemoteSim::Connection> c, LineRole role, Level initial)
      : c_(std::move(c)), role_(role), level_(initial) {
    send(initial);
  }
  ~RemoteOutput() override {
    try {
      send(released_level(role_));
    } catch (...) {
    }
  }
  RemoteOutput(const RemoteOutput&) = delete;
  RemoteOutput& operator=(const RemoteOutput&) = delete;
  void set(Level level) override {
    send(level);
    level_ = level;
  }
  Level get() const override { return level_; }
  std::string describe() const override {
    return std::string(to_string(role_)) + " (simulated, via " + c_->path + ")";
  }

 private:
  void send(Level l) {
    c_->request(std::string("line ") + to_string(role_) + (is_active(l) ? " active" : " inactive"),
                Deadline::after(seconds(5)));
  }
  std::shared_ptr<RemoteSim::Connection> c_;
  LineRole role_;
  Level level_;
};

class RemoteLedInput final : public DigitalInput {
 public:
  explicit RemoteLedInput(const std::string& path) : c_(RemoteSim::Connection::open(path)) {
    // The photodiode's view, not the LED's: its faults (missed blinks, a cut or inverted wire) apply here as
    // they do in-process (the plain "watch" stream made the fault matrix's photodiode cases vacuous).
    std::string r = c_->request("watch photodiode", Deadline::after(seconds(5)));
    lit_ = r.rfind("watching lit", 0) == 0;
  }
  Level get() override {
    pump(Deadline::after(milliseconds(0)));
    return level_of(lit_);
  }
  std::optional<LineEvent> wait_event(Deadline deadline) override {
    for (;;) {
      if (!q_.empty()) {
        LineEvent e = q_.front();
        q_.pop_front();
        return e;
      }
      if (!pump(deadline)) return std::nullopt;
    }
  }
  std::string describe() const override { return "led (simulated photodiode, via " + c_->path + ")"; }

 private:
  // Reads one event line (or what is there, at an expired deadline); false when nothing came.
  bool pump(Deadline d) {
    bool any = false;
    for (;;) {
      auto line = c_->read_line(any ? Deadline::after(milliseconds(0)) : d);
      if (!line) return any;
      any = true;
      std::istringstream ss(*line);
      std::string ev, led, what, colour;
      long long ns = 0;
      ss >> ev >> led >> what >> ns >> colour;
      if (ev != "event" || led != "led") continue;
      if (what == "rising" || what == "falling") {
        lit_ = what == "rising";
        q_.push_back(LineEvent{lit_ ? Edge::rising : Edge::falling, from_ns(ns)});
      }
    }
  }
  std::shared_ptr<RemoteSim::Connection> c_;
  std::deque<LineEvent> q_;
  bool lit_ = false;
};

class LocalSim final : public SimRigWires {
 public:
  explicit LocalSim(const RigConfig& rig) : m_(rig.sim, rig.serial.settings.baud) { m_.start(); }
  std::unique_ptr<DigitalOutput> make_output(LineRole role, Level initial) override {
    return m_.make_output(role, initial);
  }
  std::unique_ptr<DigitalInput> make_led_input() override { return m_.make_led_input(); }
  std::string uart_path() override { return m_.uart_path(); }
  std::string describe() override { return "simulated " + m_.config().board + " (in-process)"; }
  SimModule& module() { return m_; }

 private:
  SimModule m_;
};

}  // namespace

RemoteSim::RemoteSim(std::filesystem::path socket)
    : socket_(std::move(socket)), conn_(Connection::open(socket_.string())) {}
RemoteSim::~RemoteSim() = default;

std::unique_ptr<DigitalOutput> RemoteSim::make_output(LineRole role, Level initial) {
  if (role == LineRole::led) throw RigError("the simulated LED line is an input; ask for make_led_input()");
  return std::make_unique<RemoteOutput>(conn_, role, initial);
}

std::unique_ptr<DigitalInput> RemoteSim::make_led_input() {
  return std::make_unique<RemoteLedInput>(socket_.string());
}

std::string RemoteSim::uart_path() { return command("uart"); }

std::string RemoteSim::describe() {
  return "simulated module served by `bootrig sim` on " + socket_.string();
}

std::string RemoteSim::command(std::string_view line, Deadline deadline) {
  return conn_->request(line, deadline);
}

std::unique_ptr<SimRigWires> open_sim_wires(const RigConfig& rig) {
  if (rig.kind != RigKind::sim) throw RigError("rig " + rig.source.string() + " is not a simulated rig");
  if (!rig.sim.remote.empty()) return std::make_unique<RemoteSim>(rig.sim.remote);
  return std::make_unique<LocalSim>(rig);
}

}  // namespace bootrig
