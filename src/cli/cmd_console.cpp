// `bootrig console`: an interactive terminal to the board (every key goes to it, as with tio), with a local
// prefix key (Ctrl-T by default) for what only the rig can do: RESET, safe boot released in a window the LED
// proves, P2 download mode, the LED pattern live, a timestamped session log, quit.
#include <poll.h>
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/drivers/serialport.hpp"
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/observe/recording.hpp"
#include "cli/board_access.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct ConsoleOptions {
  BoardOptions board;
  char prefix = 't';  // Ctrl-T, as tio users expect
  std::string log;    // session log from the start
};

// The terminal in raw mode while the console runs (every key to the board), restored however it ends.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);  // the board's own \r\n reach the screen unchanged; bootrig's lines end in \r\n too
      ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
      active_ = true;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::string wall_clock() {
  auto t = std::chrono::system_clock::now();
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char b[40];
  std::tm tm{};
  ::localtime_r(&s, &tm);
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lld", b, static_cast<long long>(ms));
  return out;
}

class Console {
 public:
  Console(Target& t, const ConsoleOptions& o) : t_(t), o_(o) {
    if (!o.log.empty()) open_log(o.log);
    if (DigitalInput* led = t_.led()) {
      decoder_ = std::make_unique<LedDecoder>(t_.rig().timing);
      decoder_->set_listener([this](const LedMeasurement& m, bool started) {
        if (started && show_led_.load() && m.pattern != LedPattern::unknown)
          say("LED: " + std::string(to_string(m.pattern)));
      });
      watcher_ = std::make_unique<LedWatcher>(*led, *decoder_, nullptr);
    }
  }
  ~Console() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    watcher_.reset();
    t_.release_lines();
  }

  int run() {
    const char prefix_byte = static_cast<char>(o_.prefix & 0x1F);
    say(std::string("connected to ") + t_.serial().describe() + " at " + std::to_string(t_.serial().baud()) +
        " baud; Ctrl-" + static_cast<char>(o_.prefix - 'a' + 'A') + " h for help, Ctrl-" +
        static_cast<char>(o_.prefix - 'a' + 'A') + " q quits");
    reader_ = std::thread([this] { read_loop(); });
    bool prefixed = false;
    for (;;) {
      pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
      int r = ::poll(p, 2, 200);
      if (r < 0 && errno != EINTR) break;
      if (interrupt::requested()) break;
      if (r <= 0 || !(p[0].revents & (POLLIN | POLLHUP))) continue;
      char buf[256];
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) break;  // end of input: as quit
      std::string to_board;
      for (ssize_t i = 0; i < n; ++i) {
        char c = buf[i];
        if (prefixed) {
          prefixed = false;
          if (c == prefix_byte) {
            to_board += c;  // the prefix twice sends it once
            continue;
          }
          flush(to_board);
          if (!command(c)) return 0;
          continue;
        }
        if (c == prefix_byte)
          prefixed = true;
        else
          to_board += c;
      }
      flush(to_board);
    }
    return 0;
  }

 private:
  // A line of bootrig's own, on its own line of the screen and in the log.
  void say(const std::string& text) {
    std::lock_guard lk(out_m_);
    std::string s = "\r\n[bootrig] " + text + "\r\n";
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    if (log_) *log_ << wall_clock() << " # " << text << "\n" << std::flush;
  }

  void open_log(const std::string& path) {
    auto f = std::make_unique<std::ofstream>(path, std::ios::app);
    if (!*f) throw RigError(path + ": cannot open the session log for writing");
    std::lock_guard lk(out_m_);
    log_ = std::move(f);
    log_path_ = path;
  }

  void flush(std::string& bytes) {
    if (bytes.empty()) return;
    try {
      std::lock_guard lk(link_m_);
      t_.serial().write(bytes, Deadline::after(seconds(2)));
    } catch (const RigError& e) {
      say(std::string("could not send: ") + e.what());
    }
    bytes.clear();
  }

  // The board's output to the screen (as it comes) and to the log (a timestamp per line). A port that goes
  // away (a reset through USB, a pulled cable) is said so, and the link reopens it when the adapter is back.
  void read_loop() {
    const std::string path = t_.serial_path();
    bool gone = false;
    std::string line;
    while (!stop_) {
      std::optional<SerialChunk> c;
      try {
        c = t_.serial().read(Deadline::after(milliseconds(100)));
      } catch (const Interrupted&) {
        return;
      } catch (const RigError& e) {
        say(e.what());
        wait_for(milliseconds(200));
        continue;
      }
      std::error_code ec;
      bool present = std::filesystem::exists(path, ec);
      if (!present && !gone) {
        gone = true;
        say("the port " + path +
            " went away (board reset through USB, cable pulled?); waiting for the same "
            "adapter to come back");
      } else if (present && gone) {
        gone = false;
        say("the port " + path + " is back");
      }
      if (!c) continue;
      std::lock_guard lk(out_m_);
      std::fwrite(c->bytes.data(), 1, c->bytes.size(), stdout);
      std::fflush(stdout);
      if (log_) {
        for (char ch : c->bytes) {
          if (ch == '\n') {
            *log_ << wall_clock() << " < " << line << "\n";
            line.clear();
          } else if (ch != '\r') {
            line += ch;
          }
        }
        log_->flush();
      }
    }
  }

  void help() {
    const char k = static_cast<char>(o_.prefix - 'a' + 'A');
    std::string p = std::string("Ctrl-") + k;
    say(p +
        " then: r RESET pulse | 1 safe boot, release in window 1 | 2 window 2 | f hold to factory | "
        "d P2 download mode on/off | l LED pattern live on/off | g session log on/off | q quit | " +
        p + " again sends " + p);
  }

  bool need(LineRole role, const char* what) {
    if (t_.has_line(role)) return true;
    say(std::string("this rig has no ") + to_string(role) + " line: " + what + " needs it");
    return false;
  }

  void pulse_reset() { pulse(t_.reset(), t_.rig().timing.reset_pulse); }

  void safe_boot(LedPattern wanted, const char* name) {
    if (!need(LineRole::safeboot, "safe boot") || !need(LineRole::reset, "safe boot")) return;
    const TimingProfile& t = t_.rig().timing;
    t_.safeboot().set(Level::active);
    say(std::string("safe boot: P12 held, RESET pulsed; P12 is released once the LED shows ") + name);
    pulse_reset();
    const TimePoint released = now();
    const TimePoint w1 = released + t.rom_boot + t.safeboot_recheck;
    TimePoint nominal = wanted == LedPattern::safeboot_window1 ? w1
                        : wanted == LedPattern::safeboot_window2
                            ? w1 + t.window1_length()
                            : w1 + t.window1_length() + t.window2_length();
    Duration length = wanted == LedPattern::safeboot_window1   ? Duration(t.window1_length())
                      : wanted == LedPattern::safeboot_window2 ? Duration(t.window2_length())
                                                               : Duration(t.final_duration);
    if (decoder_) {
      auto seen = decoder_->wait_for_pattern(wanted, Deadline::at(nominal + length + t.boot_timeout / 4));
      t_.safeboot().set(Level::inactive);
      if (seen)
        say(std::string("P12 released in ") + name + " (on " +
            std::to_string(static_cast<int>(to_ms(seen->current.on_mean))) + " ms / off " +
            std::to_string(static_cast<int>(to_ms(seen->current.off_mean))) + " ms)");
      else
        say(std::string("the LED never showed ") + name + " (" + seen.error().describe() + "); P12 released");
    } else {
      wait_until(Deadline::at(nominal + length / 2));
      t_.safeboot().set(Level::inactive);
      say(std::string("P12 released at the nominal middle of ") + name + " (no photodiode on this rig)");
    }
  }

  // One local command after the prefix key; false: quit.
  bool command(char c) {
    switch (c) {
      case 'q':
      case 'Q':
      case 'x':
        say("bye (P12, RESET and P2 released)");
        return false;
      case 'h':
      case '?':
        help();
        break;
      case 'r':
        if (need(LineRole::reset, "a RESET pulse")) {
          say("RESET pulse (" + std::to_string(t_.rig().timing.reset_pulse.count()) + " ms)");
          pulse_reset();
        }
        break;
      case '1':
        safe_boot(LedPattern::safeboot_window1, "window 1 (slow blink)");
        break;
      case '2':
        safe_boot(LedPattern::safeboot_window2, "window 2 (fast blink)");
        break;
      case 'f':
        safe_boot(LedPattern::safeboot_final, "the final phase (held to factory)");
        break;
      case 'd':
        if (DigitalOutput* p2 = t_.bootloader()) {
          download_ = !download_;
          p2->set(download_ ? Level::active : Level::inactive);
          say(download_ ? "P2 held low and RESET pulsed: download mode (the ROM loader)"
                        : "P2 released and RESET pulsed: normal boot");
          if (t_.has_line(LineRole::reset)) pulse_reset();
        } else {
          say("this rig has no bootloader (P2) line: download mode needs it");
        }
        break;
      case 'l':
        if (!decoder_) {
          say("no photodiode on this rig: no LED pattern to show");
        } else {
          show_led_ = !show_led_;
          say(show_led_
                  ? "LED: " + std::string(to_string(decoder_->current().pattern)) + " (changes shown live)"
                  : "LED pattern off");
        }
        break;
      case 'g':
        if (log_) {
          say("session log " + log_path_ + " closed");
          std::lock_guard lk(out_m_);
          log_.reset();
        } else {
          std::string p = "bootrig-console-" + std::to_string(::getpid()) + ".log";
          open_log(p);
          say("session log to " + std::filesystem::absolute(p).string());
        }
        break;
      default:
        say(std::string("unknown command key; ") + "h lists them");
    }
    return true;
  }

  Target& t_;
  const ConsoleOptions& o_;
  std::unique_ptr<LedDecoder> decoder_;
  std::unique_ptr<LedWatcher> watcher_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> show_led_{false};
  bool download_ = false;
  std::mutex out_m_, link_m_;
  std::unique_ptr<std::ofstream> log_;
  std::string log_path_;
};

int run_console(const ConsoleOptions& o, GlobalOptions& g) {
  auto target = open_board(g, o.board);
  // The driver's own notes about a vanished port would land in the middle of the screen: the console says
  // it in its own lines.
  spdlog::set_level(spdlog::level::err);
  RawTerminal raw;
  Console c(*target, o);
  return c.run();
}

}  // namespace

void add_console_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<ConsoleOptions>();
  auto* cmd = app.add_subcommand("console",
                                 "An interactive terminal to the board, with a prefix key (Ctrl-T) for "
                                 "RESET, safe boot, P2, the LED and a session log");
  add_board_options(*cmd, o->board);
  cmd->add_option("--prefix", o->prefix,
                  "The local prefix key, as a letter: t for Ctrl-T (default), a for Ctrl-A")
      ->check([](const std::string& s) {
        return s.size() == 1 && s[0] >= 'a' && s[0] <= 'z' ? std::string() : std::string("a letter a..z");
      });
  cmd->add_option("--log", o->log, "Write a timestamped session log to this file from the start");
  cmd->footer(
      "Keys after the prefix: r RESET, 1/2 safe boot released in window 1/2, f held to factory, d P2 "
      "download mode on/off, l LED pattern live, g session log on/off, h help, q quit.");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_console(*o, g); }; });
}

}  // namespace bootrig
