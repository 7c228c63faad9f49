// What scenarios ask the board and leave on it: facts read through the checked channel as values, evidence
// scripts whose log proves which scripts ran, and putting the board's own scripts back afterwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bootrig/repl/checked_channel.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig {

// machine.reset_cause() values as firmware 1.20 defines them (modmachine.c).
enum class ResetCause : int { pwron = 0, hard = 1, wdt = 2, deepsleep = 3, soft = 4, brown_out = 5 };
const char* reset_cause_name(int cause);  // "PWRON_RESET", ... or "unknown"

struct BoardFacts {
  std::string release;   // os.uname().release, e.g. "1.20.2.r4"
  std::string version;   // os.uname().version, e.g. "v1.11-a5aa0b8 on 2021-01-12" (git tag and build date)
  std::string board;     // os.uname().sysname, e.g. "FiPy"
  std::string slot;      // pycom.bootmgr()[0]: "Factory" or "ota_0"; empty when the board has no pycom module
  bool safeboot_flag = false;
  int reset_cause = -1;
  std::vector<std::string> flash_files;  // os.listdir('/flash')
  std::string unique_id;                 // machine.unique_id() as hex
  // The evidence scripts' log since it was last cleared: 'B' per boot.py run, 'M' per main.py run, in order.
  std::string evidence;
  bool has(const std::string& file) const;
  std::string describe() const;  // "1.20.2.r6 (boot_info active slot ota_0)"
};

// The markers the evidence scripts print (for people reading the serial log), and the log they append to.
inline constexpr const char* kBootMarker = "BOOTRIG:boot.py ran";
inline constexpr const char* kMainMarker = "BOOTRIG:main.py ran";
inline constexpr const char* kEvidenceLog = "bootrig_evidence.txt";
// A flag file that makes the evidence main.py call sys.exit() once.
inline constexpr const char* kExitOnceFile = "bootrig_exit_once";

// The firmware's defaults (pycom-boot-behaviour.md, Filesystem).
inline constexpr const char* kDefaultBootPy = "# boot.py -- run on boot-up\r\n";
inline constexpr const char* kDefaultMainPy = "# main.py -- put your code here!\r\n";

std::string evidence_boot_py();
// `extra` is appended to main.py after its evidence lines (e.g. a sys.exit() under a condition).
std::string evidence_main_py(const std::string& extra = "");

// What the evidence log says about one boot: which scripts ran, in which order.
struct ScriptsSeen {
  bool boot = false;
  bool main = false;
  bool in_order = true;  // boot.py before main.py
  int boots = 0;         // boot.py runs (a soft reset from main.py makes two)
};
ScriptsSeen scripts_seen(const std::string& evidence_log);

// Board operations over the session's checked channel. Everything bootrig asks arrives intact or not at all:
// a line that defeats the channel, or a command of bootrig's that the board refuses, is a RigError (ERROR),
// never a FAIL. A scenario that judges what the board answered (an exception it expects, say) asks for it.
class Board {
 public:
  explicit Board(Session& s) : s_(s) {}

  // A friendly prompt, interrupting whatever runs; the recovery ladder when none comes (RigError when even
  // that fails: the runner then stops the run).
  void need_prompt(const std::string& why);
  BoardFacts facts();
  // Runs bootrig's own code; it answers by assigning a str to `_r`. `work`: how long the code may take.
  // Throws RigError when the board raises, unless `allow_exception` (then the answer says what it raised).
  ChannelAnswer exec(const std::string& code, const std::string& what, bool allow_exception = false,
                     Duration work = milliseconds(0));
  // exec() for a step a reset of the board undoes (an update begun with ota_start()): nullopt when the board
  // was reset before or during the exchange (the channel had to install its helper again, or lost it midway),
  // so that the caller begins the step again; otherwise exec()'s answer and errors.
  std::optional<ChannelAnswer> exec_unless_reset(const std::string& code, const std::string& what, Duration work);
  std::optional<std::string> read_file(const std::string& path);
  void write_file(const std::string& path, const std::string& content);
  void remove_if_present(const std::vector<std::string>& flash_files);

  // Remembers boot.py and main.py and replaces them with the evidence scripts; clears the evidence log.
  void install_evidence(const std::string& main_extra = "");
  // Empties the evidence log so the next boot's entries are its own.
  void clear_evidence();
  // Puts back what install_evidence() found (or the firmware's defaults), and removes the evidence; nothing
  // when install_evidence() never ran.
  void restore_scripts();
  // Defines a name in the interpreter (cleared by any reset) and sets the RTC (a peripheral: kept by a
  // soft reset, cleared by a hard one).
  void plant_state();
  // Whether the planted name still exists, and the RTC's year.
  bool name_survived();
  int rtc_year();
  // Clears a safe-boot flag left set (pycom.bootmgr(safeboot=False)); true when one was set.
  bool clear_safeboot_flag();

  static constexpr const char* kPlantedName = "bootrig_planted";
  static constexpr int kPlantedYear = 2031;

 private:
  Session& s_;
  std::optional<std::string> saved_boot_, saved_main_;
  bool installed_ = false;
};

}  // namespace bootrig
