// factory-reset: os.fsformat('/flash') removes the user's files, leaves the SD card alone, and the next boot
// recreates the firmware's default files.
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

constexpr const char* kUserFile = "bootrig_user.txt";
constexpr const char* kSdFile = "/sd/bootrig_sd.txt";

class FactoryReset : public BootCheck {
 public:
  FactoryReset()
      : BootCheck(
            {"factory-reset",
             "os.fsformat('/flash') removes user files; the SD card is untouched; the next boot recreates "
             "the defaults",
             {"reach the REPL; save boot.py and main.py; write a user file (and one on /sd when a card is "
              "in)",
              "run os.fsformat('/flash')", "list /flash (and check the /sd file)",
              "pulse RESET and wait for the prompt",
              "check the default boot.py, main.py and the sys, lib and cert folders",
              "put the saved boot.py and main.py back and reset"},
             {"after the format /flash holds none of the user's files",
              "the file on the SD card is still there",
              "the next boot recreates boot.py and main.py with the firmware's default contents and the "
              "sys, lib and cert folders"},
             {"DESTRUCTIVE: erases every file in /flash; bootrig puts back only boot.py and main.py"},
             "about 4 s"}) {
    mark_destructive("erases /flash");
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    board.write_file(std::string("/flash/") + kUserFile, "user data");
    ChannelAnswer sd = board.exec("import os\n_r = 'SD' if 'sd' in os.listdir('/') else 'NOSD'\n", "looking for /sd");
    bool has_sd = sd.value == "SD";
    if (has_sd) {
      board.write_file(kSdFile, "sd data");
    } else {
      s.unchecked("SD card untouched", "no SD card mounted at /sd");
    }

    {
      auto step = s.step("os.fsformat('/flash')");
      // What the board answers is the thing judged here: an exception from the format is the board's.
      ChannelAnswer a = board.exec("import os\nos.fsformat('/flash')\n", "os.fsformat('/flash')", true, seconds(20));
      if (a.raised()) s.fail("os.fsformat('/flash') raised " + *a.exc_type + ": " + a.exc_message);
      step.ok();
    }
    BoardFacts f = board.facts();
    std::string left;
    for (const auto& n : f.flash_files)
      if (n == kUserFile || n == "boot.py" || n == "main.py") left += (left.empty() ? "" : ", ") + n;
    if (!left.empty()) s.fail("expected os.fsformat('/flash') to remove every file, but /flash still holds " + left);
    if (has_sd) {
      auto content = board.read_file(kSdFile);
      if (!content)
        s.failed("SD card untouched",
                 std::string("expected the SD card to be untouched, but ") + kSdFile + " is gone");
      s.checked("SD card untouched");
      board.exec(std::string("import os\nos.remove('") + kSdFile + "')\n", "removing the SD test file");
    }

    BootRecord r = boot.hard_reset();
    require_prompt(s, r, "the reset after the format");
    BoardFacts after = board.facts();
    for (const char* d : {"boot.py", "main.py", "sys", "lib", "cert"})
      if (!after.has(d)) s.fail(std::string("expected the boot after the format to recreate /flash/") + d + ", it is missing");
    if (after.has(kUserFile)) s.fail("the user file came back after the format");
    auto boot_py = board.read_file("/flash/boot.py");
    auto main_py = board.read_file("/flash/main.py");
    if (boot_py != std::optional<std::string>(kDefaultBootPy))
      s.fail("expected the default boot.py after the format, saw " + (boot_py ? "'" + *boot_py + "'" : "an unreadable file"));
    if (main_py != std::optional<std::string>(kDefaultMainPy))
      s.fail("expected the default main.py after the format, saw " + (main_py ? "'" + *main_py + "'" : "an unreadable file"));
  }
};

}  // namespace

std::unique_ptr<Scenario> make_factory_reset() { return std::make_unique<FactoryReset>(); }

}  // namespace bootrig::scenarios
