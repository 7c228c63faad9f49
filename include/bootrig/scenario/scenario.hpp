// A boot-mode check users name on the command line, and the catalogue of all of them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootrig/flash/ensure.hpp"

namespace bootrig {

class Session;

struct ScenarioInfo {
  std::string name;     // what users type: "safeboot-window2"
  std::string purpose;  // one line for `bootrig list`
  std::vector<std::string> steps;
  std::vector<std::string> expectations;
  std::vector<std::string> preconditions;
  std::string typical_duration;  // with the firmware's own timings, e.g. "about 12 s"
  // The rig's [firmware] images this check needs on the board; put there before it runs when the rig names
  // them. Every check wants "current" running; the window-2 and factory checks also "previous" behind it.
  Arrangement arrangement{"current", ""};
  // What the scenario destroys beyond what restore() puts back, e.g. "erases /flash"; empty: nothing. A
  // destructive scenario runs only with consent: named on the command line, or `run --all --destructive`.
  std::string destructive = {};
  // [firmware] names the check cannot run without (ota-broken-recover: "current", "previous"). `run --all` on
  // a rig that lacks them lists it as SKIP with the reason, without counting it against the exit code (the
  // rig, not the board, leaves it out); named on the command line it SKIPs and counts.
  std::vector<std::string> needs_images = {};
};

// How a scenario body ends other than by returning (PASS):
// the board broke a rule (FAIL); `stops_run` when the broken rule leaves nothing else checkable (its normal
// boot hangs even with bootrig's own scripts): one FAIL, the rest of the run not run,
class CheckFailed : public std::runtime_error {
 public:
  explicit CheckFailed(const std::string& what, bool stops_run = false)
      : std::runtime_error(what), stops_run_(stops_run) {}
  bool stops_run() const { return stops_run_; }

 private:
  bool stops_run_;
};
// or a precondition is unmet, said with its reason (SKIP).
class Skipped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Rig trouble is a RigError (ERROR); a board the recovery ladder could not bring back a BoardLost
// (recovery.hpp); Ctrl-C an Interrupted. A CheckFailed with stops_run or a BoardLost ends the run after this
// scenario: no restore, no retry, the board's state recorded, every later scenario NOT RUN with the reason.

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual const ScenarioInfo& info() const = 0;
  // Acts and judges. Throws CheckFailed, Skipped, RigError; returns on PASS.
  virtual void run(Session& s) = 0;
  // Puts the board back as the scenario found it (scripts, files, a normal boot). Called after run()
  // whatever its outcome; must not throw CheckFailed.
  virtual void restore(Session& s) = 0;
};

// Every scenario, in the order `bootrig list` and `run --all` use.
const std::vector<std::unique_ptr<Scenario>>& all_scenarios();
// nullptr when there is no such scenario.
Scenario* find_scenario(const std::string& name);

}  // namespace bootrig
