// A run folder that fills up mid-run, through the built binary against a simulated module that outlives it:
// one clear ERROR naming the file, exit 2, the module's pins released (its own wires, not bootrig's
// timeline), and every JSON report whole. Two real write failures from the kernel: a tmpfs that is full
// (ENOSPC, in a private mount namespace; needs root) and a file size limit (EFBIG, `ulimit -f`; any user).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bootrig/sim/sim_control.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("fulldisk");
    std::filesystem::create_directories(dir);
    sock_dir = ensure_private_dir(dir / "sim");
    module = std::make_unique<SimModule>(testing::half_speed_sim_rig().sim, 921600);
    module->set_uart_link(sock_dir / "tty");
    module->start();
    server = std::make_unique<SimControlServer>(*module, sock_dir / "control.sock");
    rig = dir / "rig.toml";
    std::string toml = testing::half_speed_sim_rig_toml();
    std::ofstream(rig) << toml.substr(0, toml.find("[sim]\n")) << "[sim]\nremote = \""
                       << (sock_dir / "control.sock").string() << "\"\n";
  }
  void TearDown() override {
    server.reset();
    module.reset();
    std::filesystem::remove_all(dir);
  }

  // After the run: exit 2 with one ERROR line naming a run-folder file and the kernel's reason, the
  // simulated pins released, and every JSON report in the folder parses.
  // `out` is the folder bootrig was given, `files` where its content can be read now.
  void expect_clean_failure(const testing::CliResult& r, const std::filesystem::path& out,
                            const std::filesystem::path& files, const std::string& reason) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("attempt ERROR: cannot append to " + out.string()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(reason + "; check free space in the run folder"), std::string::npos) << r.out;
    SimStatus s = module->status();
    EXPECT_FALSE(s.p12_high) << "P12 left asserted";
    EXPECT_FALSE(s.in_reset) << "RESET left asserted";
    EXPECT_FALSE(s.p2_low) << "P2 left asserted";
    ASSERT_TRUE(std::filesystem::exists(files / "results.json"));
    auto j = nlohmann::json::parse(slurp_file(files / "results.json"), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "results.json truncated";
    EXPECT_TRUE(std::filesystem::exists(files / "01-normal-boot/attempt-1/events.jsonl"))
        << "the disk filled before the scenario began: the test's sizes need adjusting";
    for (const auto& e : std::filesystem::recursive_directory_iterator(files))
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos)
          << "a half-written temporary file was left: " << e.path();
  }

  std::filesystem::path dir, sock_dir, rig;
  std::unique_ptr<SimModule> module;
  std::unique_ptr<SimControlServer> server;
};

TEST_F(FullDisk, ATmpfsThatFillsMidRunIsAClearErrorWithThePinsReleased) {
  if (::geteuid() != 0) {
    // Mounting needs root; the same failure as EFBIG is tested below for any user.
    GTEST_SKIP() << "mounting a small tmpfs in a private mount namespace needs root";
  }
  auto mnt = dir / "mnt";
  std::filesystem::create_directories(mnt);
  auto out = mnt / "run";
  // The run folder's space reserve and 96 KiB: the first reports fit, the scenario's serial log and timeline
  // do not; the reserve, given up, takes the final reports.
  // The tmpfs is gone with the namespace: the run folder is copied out first.
  auto copied = dir / "copied";
  auto r =
      testing::run_command("unshare -m --propagation private sh -c 'mount -t tmpfs -o size=" +
                           std::to_string(RunFolder::kSpaceReserveBytes / 1024 + 96) + "k tmpfs " +
                           mnt.string() + " && \"$0\" \"$@\"; rc=$?; cp -a " + out.string() + " " +
                           copied.string() + "; exit $rc' '" + BOOTRIG_BINARY + "' --rig " + rig.string() +
                           " run normal-boot --no-progress --out " + out.string() + " 2>&1");
  expect_clean_failure(r, out, copied, "No space left on device");
}

TEST_F(FullDisk, AFileSizeLimitMidRunIsAClearErrorWithThePinsReleased) {
  auto out = dir / "run";
  // 32 KiB a file: results.json fits, the scenario's serial log and timeline outgrow it. bootrig ignores
  // SIGXFSZ, which would otherwise kill it with the pins asserted.
  auto r = testing::run_command("sh -c 'ulimit -f 64; exec \"$0\" \"$@\"' '" + std::string(BOOTRIG_BINARY) +
                                "' --rig " + rig.string() + " run normal-boot --no-progress --out " +
                                out.string() + " 2>&1");
  expect_clean_failure(r, out, out, "File too large");
}

}  // namespace
}  // namespace bootrig
