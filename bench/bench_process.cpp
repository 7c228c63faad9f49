// Benchmark: bootrig as a process: start-up of `bootrig --version` and `bootrig check`; CPU per second of
// waiting and peak RSS of `bootrig run --all` against a simulated module in another process (`bootrig sim`),
// so that the figures are bootrig's alone; how CPU and memory grow with a serial log ten times longer (what
// bootrig records and parses of arriving bytes, in a child process) and with 4 simulated boards run by 4
// bootrig processes at once (each simulating its own module) against the same run alone.
// Every figure from wait4()'s rusage of the child, at normal priority.
//
//   bench_process --bootrig PATH [--rounds N]     (markdown on stdout)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "bootrig/observe/boot_log.hpp"
#include "bootrig/observe/recording.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Usage {
  double wall = 0, cpu = 0;  // seconds
  double rss_mb = 0;         // peak resident set, MiB
  int status = -1;
};

double tv(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

pid_t spawn_quiet(const std::vector<std::string>& args, const fs::path& child_log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(child_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, STDIN_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

Usage reap(pid_t pid, Clock::time_point started) {
  Usage u;
  rusage ru{};
  int st = 0;
  while (::wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  u.wall = std::chrono::duration<double>(Clock::now() - started).count();
  u.cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
  u.rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  u.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return u;
}

Usage run(const std::vector<std::string>& args, const fs::path& child_log) {
  auto t0 = Clock::now();
  return reap(spawn_quiet(args, child_log), t0);
}

void require(const Usage& u, const std::string& what, const fs::path& output, bool any_exit = false) {
  if (u.status == 0 || (any_exit && u.status < 128)) return;
  std::fprintf(stderr, "bench_process: %s exited with %d; its output is in %s\n", what.c_str(), u.status,
               output.c_str());
  std::exit(2);
}

// `bootrig sim RIG --dir DIR` in its own process, ended by closing its input.
class SimProcess {
 public:
  SimProcess(const std::string& bootrig, const fs::path& rig, const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    int p[2];
    if (::pipe(p) != 0) std::exit(2);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(p[0], STDIN_FILENO);
      ::close(p[1]);
      int fd = ::open((dir / "sim.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::execl(bootrig.c_str(), bootrig.c_str(), "sim", rig.c_str(), "--dir", (dir / "run").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[0]);
    stdin_ = p[1];
    for (int i = 0; i < 800 && !fs::exists(socket()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (!fs::exists(socket())) {
      std::fprintf(stderr, "bench_process: bootrig sim did not start (%s)\n", (dir / "sim.log").c_str());
      std::exit(2);
    }
  }
  ~SimProcess() {
    ::close(stdin_);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;
  fs::path socket() const { return dir_ / "run" / "control.sock"; }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

// A port that delivers `total` bytes of what a module prints (ROM lines, banner, program output; a boot every
// 40 lines) in 64-byte chunks, as fast as it is read.
class TalkativeBoard : public bootrig::SerialLink {
 public:
  explicit TalkativeBoard(std::uint64_t total) : left_(total) {
    const std::string boot =
        "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
        "entry 0x4009f6c4\r\nPycom MicroPython 1.20.2.r6 [v1.11-a5aa0b8] on 2021-01-01; FiPy with ESP32\r\n"
        "Type \"help()\" for more information.\r\n>>> ";
    text_ = boot;
    for (int i = 0; i < 40; ++i)
      text_ += "sensor reading " + std::to_string(i * 37) + " ok, free heap 112640\r\n";
  }
  void write(std::string_view, bootrig::Deadline) override {}
  std::optional<bootrig::SerialChunk> read(bootrig::Deadline) override {
    if (left_ == 0) return std::nullopt;
    std::string out;
    while (out.size() < 64 && left_ > 0) {
      out += text_[at_];
      at_ = (at_ + 1) % text_.size();
      --left_;
    }
    return bootrig::SerialChunk{bootrig::now(), std::move(out)};
  }
  void drain(bootrig::Deadline) override {}
  void discard_input() override {}
  void set_baud(unsigned) override {}
  unsigned baud() const override { return 115200; }
  std::string describe() const override { return "talkative board"; }

 private:
  std::uint64_t left_;
  std::string text_;
  std::size_t at_ = 0;
};

// The child's side of the log growth figure: everything bootrig does with arriving bytes (serial.log and
// events.jsonl through the timeline, the boot log's events), for `bytes` bytes.
int log_child(std::uint64_t bytes, const fs::path& dir) {
  bootrig::Timeline tl(dir);
  bootrig::BootLogRecorder boot_log(&tl);
  TalkativeBoard board(bytes);
  bootrig::RecordingSerialLink link(board, tl, &boot_log);
  while (link.read(bootrig::Deadline::after(bootrig::milliseconds(0)))) {
  }
  return boot_log.size() > 0 || bytes == 0 ? 0 : 1;
}

std::uint64_t serial_log_bytes(const fs::path& run) {
  std::uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(run))
    if (e.path().filename() == "serial.log") n += e.file_size();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && !std::strcmp(argv[1], "--log-child"))
    return log_child(std::strtoull(argv[2], nullptr, 10), argv[3]);
  std::string bootrig;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--bootrig")) bootrig = argv[i + 1];
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  if (bootrig.empty()) {
    std::fprintf(stderr, "usage: bench_process --bootrig PATH [--rounds N]\n");
    return 2;
  }
  const fs::path src = BOOTRIG_BENCH_SOURCE_DIR;
  const fs::path sim_rig = src / "rigs/sim.toml";
  const fs::path dir = fs::temp_directory_path() / ("bootrig-bench-process-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path child_log = dir / "child.log";

  // Start-up, interleaved.
  bootrig::bench::Spread version_ms, check_ms;
  for (int r = 0; r < rounds * 4; ++r) {
    Usage v = run({bootrig, "--version"}, child_log);
    require(v, "bootrig --version", child_log);
    version_ms.add(v.wall * 1000);
    Usage c = run({bootrig, "--rig", sim_rig.string(), "check"}, child_log);
    require(c, "bootrig check", child_log, true);
    check_ms.add(c.wall * 1000);
  }
  std::printf("| start-up, process start to exit | ms, median (min-max) |\n|---|---|\n");
  std::printf("| `bootrig --version` | %s |\n", version_ms.text(1).c_str());
  std::printf("| `bootrig --rig rigs/sim.toml check` | %s |\n\n", check_ms.text(1).c_str());
  std::fflush(stdout);

  // run --all against `bootrig sim` in its own process: bootrig's own CPU and memory.
  std::uint64_t log_base = 0;
  {
    SimProcess sim(bootrig, sim_rig, dir / "sim");
    const fs::path rig = dir / "remote.toml";
    std::ofstream(rig)
        << "[rig]\nname = \"bench: the simulated module in a bootrig sim process\"\nkind = \"sim\"\n"
        << "[serial]\nbaud = 115200\n[firmware]\nprevious = \""
        << (src / "rigs/images/fipy-1.20.2.r4.bin").string() << "\"\ncurrent = \""
        << (src / "rigs/images/fipy-1.20.2.r6.bin").string() << "\"\n[sim]\nremote = \""
        << sim.socket().string() << "\"\n";
    Usage u =
        run({bootrig, "--rig", rig.string(), "run", "--all", "--out", (dir / "run-all").string()}, child_log);
    require(u, "bootrig run --all (against bootrig sim)", child_log, true);
    std::printf(
        "| `bootrig run --all`, the module simulated in another process | measured | target "
        "|\n|---|---|---|\n");
    std::printf("| wall time | %.1f s (exit status %d) | - |\n", u.wall, u.status);
    std::printf("| CPU per second of the run (user + system) | %.2f %% of a core | under 1 %%: %s |\n",
                100 * u.cpu / u.wall, bootrig::bench::verdict(100 * u.cpu / u.wall < 1.0));
    std::printf("| peak RSS (maxrss) | %.1f MiB | under 10 MB: %s |\n\n", u.rss_mb,
                bootrig::bench::verdict(u.rss_mb * 1.048576 < 10.0));
    std::fflush(stdout);
    log_base = std::max<std::uint64_t>(serial_log_bytes(dir / "run-all"), 64 * 1024);
  }

  // Growth with the serial log: the bytes bootrig records and parses, as long as run --all's serial.log and
  // ten times longer, each in a child process of its own (no log: the process's floor).
  {
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    std::printf(
        "| serial traffic recorded (serial.log, events.jsonl, boot log) | bytes | CPU s | peak RSS MiB |\n"
        "|---|---|---|---|\n");
    Usage base_usage;
    for (std::uint64_t n : {std::uint64_t{0}, log_base, log_base * 10}) {
      const fs::path d = dir / ("log-" + std::to_string(n));
      Usage u = run({self, "--log-child", std::to_string(n), d.string()}, child_log);
      require(u, "the serial log child", child_log);
      std::printf("| %s | %llu | %.3f | %.1f |\n",
                  n == 0          ? "none (the process's floor)"
                  : n == log_base ? "as much as run --all's serial.log"
                                  : "ten times that",
                  static_cast<unsigned long long>(n), u.cpu, u.rss_mb);
      if (n == log_base) base_usage = u;
      if (n == log_base * 10)
        std::printf("\nTen times the log: CPU x%.1f, peak RSS x%.2f.\n\n",
                    u.cpu / std::max(base_usage.cpu, 1e-3), u.rss_mb / base_usage.rss_mb);
      fs::remove_all(d);
    }
    std::fflush(stdout);
  }

  // Growth: one board alone, then 4 boards in 4 processes at once (each its own simulated module, in
  // process).
  const std::vector<std::string> one = {"hard-reset-pin", "soft-reset-ctrl-d"};
  auto args_for = [&](int i) {
    std::vector<std::string> a{bootrig, "--rig", sim_rig.string(), "run"};
    a.insert(a.end(), one.begin(), one.end());
    a.insert(a.end(), {"--out", (dir / ("board-" + std::to_string(i))).string()});
    return a;
  };
  Usage alone = run(args_for(0), child_log);
  require(alone, "bootrig run (one board)", child_log, true);
  std::vector<pid_t> pids;
  std::vector<Clock::time_point> starts;
  for (int i = 1; i <= 4; ++i) {
    starts.push_back(Clock::now());
    pids.push_back(spawn_quiet(args_for(i), dir / ("board-" + std::to_string(i) + ".log")));
  }
  bootrig::bench::Spread wall4, cpu4, rss4;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    Usage u = reap(pids[i], starts[i]);
    require(u, "bootrig run (one of 4 at once)", dir / ("board-" + std::to_string(i + 1) + ".log"), true);
    wall4.add(u.wall);
    cpu4.add(u.cpu);
    rss4.add(u.rss_mb);
  }
  std::printf(
      "| `bootrig run hard-reset-pin soft-reset-ctrl-d`, simulator in process | one alone | each of 4 at "
      "once, "
      "median (min-max) | growth (median / alone) |\n|---|---|---|---|\n");
  std::printf("| wall s | %.2f | %s | %.2f |\n", alone.wall, wall4.text(2).c_str(),
              wall4.median() / alone.wall);
  std::printf("| CPU s (user + system) | %.3f | %s | %.2f |\n", alone.cpu, cpu4.text(3).c_str(),
              cpu4.median() / alone.cpu);
  std::printf("| peak RSS MiB | %.1f | %s | %.2f |\n", alone.rss_mb, rss4.text(1).c_str(),
              rss4.median() / alone.rss_mb);
  fs::remove_all(dir);
  return 0;
}
