// The simulator's text command language and the owner-only Unix socket that serves it.
#include "bootrig/sim/sim_control.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

// RESET from the control socket or stdin: a person's press of the reset button.
constexpr milliseconds kButtonPress{100};

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream ss{std::string(line)};
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

std::string hex_colour(LedColour c) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%06x", c & 0xFFFFFFu);
  return b;
}

SimCommandReply ok(std::string text = {}) {
  return SimCommandReply{true, text.empty() ? "ok" : "ok " + text};
}
SimCommandReply error(const std::string& text) { return SimCommandReply{false, "error " + text}; }

std::optional<LineRole> role_named(const std::string& s) {
  for (LineRole r : kAllLineRoles)
    if (s == to_string(r)) return r;
  return std::nullopt;
}

}  // namespace

std::string sim_command_summary() {
  return "commands: p12 high|low, reset [ms] | reset hold|release, p2 hold|release, power on|off, led, "
         "status, "
         "uart, faults, fault NAME VALUE, watch [photodiode], help, quit";
}

std::string sim_led_event_line(LedColour colour, bool was_lit, TimePoint t) {
  bool lit = colour != 0;
  const char* what = lit == was_lit ? "colour" : lit ? "rising" : "falling";
  return std::string("event led ") + what + " " + std::to_string(to_ns(t)) + " " + hex_colour(colour);
}

SimCommandReply run_sim_command(SimModule& m, std::string_view line) {
  auto w = words(line);
  if (w.empty()) return SimCommandReply{true, ""};
  const std::string& cmd = w[0];
  auto arg = [&](std::size_t i) { return i < w.size() ? w[i] : std::string(); };
  auto want_args = [&](std::size_t n) { return w.size() == n + 1; };
  try {
    if (cmd == "help") return ok(sim_command_summary());
    if (cmd == "quit" || cmd == "exit") {
      SimCommandReply r = ok("bye");
      r.quit = true;
      return r;
    }
    if (cmd == "p12" && want_args(1) && (arg(1) == "high" || arg(1) == "low")) {
      m.set_line(LineRole::safeboot, level_of(arg(1) == "high"));
      return ok();
    }
    if (cmd == "reset") {
      if (want_args(0)) {
        m.press_reset(kButtonPress);
        return ok();
      }
      if (want_args(1) && (arg(1) == "hold" || arg(1) == "release")) {
        m.set_line(LineRole::reset, level_of(arg(1) == "hold"));
        return ok();
      }
      long long ms = 0;
      const std::string& a = arg(1);
      auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), ms);
      if (want_args(1) && ec == std::errc() && p == a.data() + a.size() && ms > 0 && ms <= 60000) {
        m.press_reset(milliseconds(ms));
        return ok();
      }
      return error("usage: reset [MS] | reset hold | reset release");
    }
    if (cmd == "p2" && want_args(1) && (arg(1) == "hold" || arg(1) == "release")) {
      m.set_line(LineRole::bootloader, level_of(arg(1) == "hold"));
      return ok();
    }
    if (cmd == "power" && want_args(1) && (arg(1) == "on" || arg(1) == "off")) {
      m.set_line(LineRole::power, level_of(arg(1) == "on"));
      return ok();
    }
    if (cmd == "line" && want_args(2)) {
      auto role = role_named(arg(1));
      if (!role || *role == LineRole::led)
        return error("line: no output role '" + arg(1) + "' (safeboot, reset, bootloader, power)");
      if (arg(2) != "active" && arg(2) != "inactive") return error("line: level must be active or inactive");
      m.set_line(*role, level_of(arg(2) == "active"));
      return ok();
    }
    if (cmd == "led" && want_args(0)) {
      LedColour c = m.led();
      return ok(std::string(c ? "on " : "off ") + hex_colour(c));
    }
    if (cmd == "status" && want_args(0)) {
      SimStatus s = m.status();
      std::ostringstream o;
      o << "powered=" << s.powered << " in_reset=" << s.in_reset << " p12=" << (s.p12_high ? "high" : "low")
        << " p2=" << (s.p2_low ? "low" : "high") << " led=" << hex_colour(s.led)
        << " phase=" << to_string(s.phase) << " slot=" << (s.running_slot.empty() ? "-" : s.running_slot)
        << " version=" << (s.running_version.empty() ? "-" : s.running_version)
        << " safe_boot=" << s.safe_boot << " repl_attached=" << s.repl_attached
        << " hard_boots=" << s.hard_boots << " soft_boots=" << s.soft_boots << " uart=" << s.uart_path;
      return ok(o.str());
    }
    if (cmd == "uart" && want_args(0)) return ok(m.uart_path());
    if (cmd == "faults" && want_args(0)) {
      SimFaults f = m.faults();
      std::string out;
      for (const auto& field : sim_fault_fields())
        out += (out.empty() ? "" : " ") + std::string(field.name) + "=" + get_sim_fault(f, field.name);
      return ok(out);
    }
    if (cmd == "fault" && want_args(2)) {
      SimFaults f = m.faults();
      std::string err = set_sim_fault(f, arg(1), arg(2));
      if (!err.empty()) return error(err);
      m.set_faults(f);
      return ok();
    }
    if (cmd == "watch" && want_args(0)) {
      SimCommandReply r = ok(std::string("watching ") + (m.led() ? "on " : "off ") + hex_colour(m.led()));
      r.watch = true;
      return r;
    }
    if (cmd == "watch" && want_args(1) && arg(1) == "photodiode") {
      SimCommandReply r = ok(std::string("watching ") + (m.photodiode_lit() ? "lit" : "dark"));
      r.watch = true;
      r.photodiode = true;
      return r;
    }
  } catch (const std::exception& e) {
    // RigError, or Interrupted while a reset pulse was being held: the session lives on.
    return error(e.what());
  }
  return error("cannot do '" + std::string(line) + "'; " + sim_command_summary());
}

// ---------------------------------------------------------------------------------------------------
// Files of a standalone simulator

std::filesystem::path ensure_private_dir(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw RigError("cannot create the simulator's folder " + dir.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw RigError("the simulator's folder " + dir.string() + " is not a folder; remove it");
  if (st.st_uid != ::getuid())
    throw RigError("the simulator's folder " + dir.string() +
                   " belongs to someone else; remove it or pick another");
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    throw RigError("the simulator's folder " + dir.string() +
                   " is open to others and cannot be closed: " + std::strerror(errno));
  return dir;
}

std::filesystem::path default_sim_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg && ::access(xdg, W_OK) == 0) return std::filesystem::path(xdg) / "bootrig-sim";
  return std::filesystem::path("/tmp") / ("bootrig-sim-" + std::to_string(::getuid()));
}

// ---------------------------------------------------------------------------------------------------
// Server

namespace {

struct Client {
  int fd = -1;
  std::string in;
  std::mutex out_m;
  std::string out;
  int watch_id = 0;
  bool closing = false;
};

}  // namespace

struct SimControlServer::Impl {
  Impl(SimModule& mod, std::filesystem::path p) : module(mod), path(std::move(p)) {}
  SimModule& module;
  std::filesystem::path path;
  int listen_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::mutex m;
  bool stop = false;
  std::map<int, std::shared_ptr<Client>> clients;

  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void drop(const std::shared_ptr<Client>& c) {
    if (c->watch_id) module.unwatch_led(c->watch_id);
    ::close(c->fd);
    clients.erase(c->fd);
  }

  void handle_input(const std::shared_ptr<Client>& c) {
    char buf[1024];
    for (;;) {
      ssize_t n = ::read(c->fd, buf, sizeof buf);
      if (n > 0) {
        c->in.append(buf, static_cast<std::size_t>(n));
        if (c->in.size() > 65536) {
          c->closing = true;
          return;
        }
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) c->closing = true;
      break;
    }
    std::size_t nl;
    while ((nl = c->in.find('\n')) != std::string::npos) {
      std::string line = c->in.substr(0, nl);
      c->in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      SimCommandReply r = run_sim_command(module, line);
      if (r.text.empty()) continue;
      {
        std::lock_guard lk(c->out_m);
        c->out += r.text + "\n";
      }
      if (r.watch && r.photodiode && !c->watch_id) {
        std::weak_ptr<Client> weak = c;
        c->watch_id = module.watch_photodiode([this, weak](bool lit, TimePoint t) {
          auto cl = weak.lock();
          if (!cl) return;
          {
            std::lock_guard lk(cl->out_m);
            if (cl->out.size() < (1u << 20))
              cl->out += std::string("event led ") + (lit ? "rising " : "falling ") + std::to_string(to_ns(t)) +
                         " photodiode\n";
          }
          wake();
        });
      }
      if (r.watch && !c->watch_id) {
        std::weak_ptr<Client> weak = c;
        auto lit = std::make_shared<bool>(module.led() != 0);
        c->watch_id = module.watch_led([this, weak, lit](LedColour colour, TimePoint t) {
          auto cl = weak.lock();
          if (!cl) return;
          {
            std::lock_guard lk(cl->out_m);
            if (cl->out.size() < (1u << 20)) cl->out += sim_led_event_line(colour, *lit, t) + "\n";
            *lit = colour != 0;
          }
          wake();
        });
      }
      if (r.quit) c->closing = true;
    }
  }

  void flush(const std::shared_ptr<Client>& c) {
    std::lock_guard lk(c->out_m);
    while (!c->out.empty()) {
      ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c->out.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      c->closing = true;
      c->out.clear();
      return;
    }
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<std::shared_ptr<Client>> order;
      {
        std::lock_guard lk(m);
        if (stop) break;
      }
      fds.push_back({wake_fd, POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      for (auto& [fd, c] : clients) {
        short ev = POLLIN;
        {
          std::lock_guard lk(c->out_m);
          if (!c->out.empty()) ev |= POLLOUT;
        }
        fds.push_back({fd, ev, 0});
        order.push_back(c);
      }
      int r = ::poll(fds.data(), fds.size(), -1);
      if (r < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) {
        std::uint64_t v;
        [[maybe_unused]] auto n = ::read(wake_fd, &v, sizeof v);
      }
      if (fds[1].revents & POLLIN) accept_clients();
      for (std::size_t i = 0; i < order.size(); ++i) {
        auto& c = order[i];
        short rev = fds[i + 2].revents;
        if (rev & (POLLIN | POLLHUP | POLLERR)) handle_input(c);
        flush(c);
        if (c->closing) drop(c);
      }
      // Pending output of watchers that woke us (their fds were not polled for POLLOUT yet).
      for (auto it = clients.begin(); it != clients.end();) {
        auto c = it->second;
        ++it;
        flush(c);
        if (c->closing) drop(c);
      }
    }
    for (auto it = clients.begin(); it != clients.end();) {
      auto c = it->second;
      ++it;
      drop(c);
    }
  }

  void accept_clients() {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
        ::close(fd);  // the socket's mode already keeps others out; this is the second lock
        continue;
      }
      auto c = std::make_shared<Client>();
      c->fd = fd;
      clients[fd] = c;
    }
  }
};

SimControlServer::SimControlServer(SimModule& module, std::filesystem::path socket_path)
    : impl_(std::make_unique<Impl>(module, std::move(socket_path))) {
  const std::string p = impl_->path.string();
  sockaddr_un addr{};
  if (p.size() >= sizeof addr.sun_path)
    throw RigError("control socket path " + p + " is too long for a Unix socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  // A socket file left by a simulator that died is reused; one with a live simulator behind it is not.
  if (std::filesystem::exists(impl_->path)) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (live)
      throw RigError("a simulator is already running with control socket " + p + "; stop it or use --dir");
    ::unlink(p.c_str());
  }
  impl_->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl_->listen_fd < 0) throw RigError(std::string("control socket: socket: ") + std::strerror(errno));
  mode_t old = ::umask(077);
  int b = ::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_err = errno;
  ::umask(old);
  if (b != 0 || ::chmod(p.c_str(), 0600) != 0 || ::listen(impl_->listen_fd, 8) != 0) {
    int err = b != 0 ? bind_err : errno;
    ::close(impl_->listen_fd);
    throw RigError("cannot create control socket " + p + ": " + std::strerror(err));
  }
  impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wake_fd < 0) {
    ::close(impl_->listen_fd);
    throw RigError(std::string("control socket: eventfd: ") + std::strerror(errno));
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

SimControlServer::~SimControlServer() {
  {
    std::lock_guard lk(impl_->m);
    impl_->stop = true;
  }
  impl_->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->listen_fd);
  ::close(impl_->wake_fd);
  ::unlink(impl_->path.c_str());
}

const std::filesystem::path& SimControlServer::path() const { return impl_->path; }

}  // namespace bootrig
