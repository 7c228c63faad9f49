// The safe-boot scenarios: P12 released in window 1, in window 2, held to the factory phase, and the
// choice not persisting across the next reset.
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

const char* kSlotFactory = "Factory";
// The image window 2 goes back to must differ from the running one, and it is what the factory slot holds
// after bootrig's arrangement (a cable flash of it, then an OTA of the current image).
const Arrangement kWithPrevious{"current", "previous"};

// The version window 2 must boot, when bootrig knows it (its record of what it flashed): the previous slot's,
// never the running one's.
std::optional<std::string> known_previous(Session& s) {
  if (!s.firmware() || !s.firmware()->record) return std::nullopt;
  const BoardFirmware& f = *s.firmware();
  if (f.record->prev == f.active) return std::nullopt;
  auto p = f.previous();
  return p ? std::optional<std::string>(p->version) : std::nullopt;
}

// The common start: evidence scripts, and what runs now (the REPL was reached by the known-state step).
BoardFacts prepare(Session& s, Board& board) {
  board.install_evidence();
  BoardFacts f = board.facts();
  s.note("before the safe boot the board runs " + f.describe());
  return f;
}

class SafeBootWindow1 : public BootCheck {
 public:
  SafeBootWindow1()
      : BootCheck({"safeboot-window1",
                   "P12 held through reset, released in the slow blink: scripts skipped, current image runs",
                   {"reach the REPL; install evidence scripts; read the running version",
                    "ask the board what it reads on P12, held and released (a cut wire is the rig's error)",
                    "hold P12 high and pulse RESET",
                    "watch the LED for window 1 (500 ms on / 500 ms off) and release P12 in it",
                    "wait for the prompt; read the version and /flash",
                    "restore the board's scripts and reset it"},
                   {"the LED blinks slowly (window 1) while P12 is held",
                    "neither boot.py nor main.py runs", "the REPL answers",
                    "the same image as before runs (version and slot unchanged)"},
                   {"a REPL reachable on the serial port", "P12 and RESET wired"},
                   "about 5 s"}) {
    holds_p12();
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    BoardFacts before = prepare(s, board);
    BootRecord r = boot.safe_boot(SafeBootWindow::window1);
    require_prompt(s, r, "a safe boot released in window 1");
    BoardFacts after = board.facts();
    const bool image_changed = after.release != before.release || after.slot != before.slot;
    // The previous image after a release past window 1's nominal end: the board was in window 2 by then, so
    // what broke the rule is the LED's window 1 (a blink missing or too slow kept it from being proven in
    // time), not the bootloader's choice, which was right for window 2.
    if (image_changed && r.released_past_window && s.led())
      s.failed("LED shows window 1 (slow blink)",
               "expected the LED to show window 1 (slow blink) in time to release P12 in it, but it proved the "
               "window only late (a blink missing or too slow): P12 was released " +
                   std::to_string(static_cast<long long>(to_ms(*r.released_past_window))) +
                   " ms after the window's nominal end, and the board ran " + after.describe() +
                   " as it does for a release in window 2");
    require_window_seen(s, r, "window 1 (slow blink)");
    measure_window(s, r, "window1", s.timing().window1_toggle);
    measure_boot(s, r, "boot");
    require_scripts_skipped(s, after, "in a safe boot released in window 1");
    if (image_changed)
      s.fail("expected the current image (" + before.describe() + ") after a window-1 safe boot, saw " +
             after.describe());
  }
};

class SafeBootWindow2 : public BootCheck {
 public:
  SafeBootWindow2()
      : BootCheck({"safeboot-window2",
                   "released in the fast blink: scripts skipped and the previous OTA image runs",
                   {"reach the REPL; install evidence scripts; read the running version and slot",
                    "ask the board what it reads on P12, held and released (a cut wire is the rig's error)",
                    "hold P12 high and pulse RESET",
                    "watch the LED through window 1 into window 2 (250 ms on / 250 ms off); release P12 there",
                    "wait for the prompt; read the version, slot and /flash",
                    "restore the board's scripts and reset it (the latest image runs again)"},
                   {"the LED switches from the slow to the fast blink while P12 is held",
                    "neither boot.py nor main.py runs",
                    "the previous OTA image runs: another version than before (boot_info still names the active slot: the choice does not persist)"},
                   {"a previous OTA image that differs from the running one: the board runs ota_0 after an OTA "
                    "update (a cable flash resets the OTA record, so window 2 then has nothing to go back to)"},
                   "about 8 s"},
                  kWithPrevious) {
    holds_p12();
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    BoardFacts before = prepare(s, board);
    BootRecord r = boot.safe_boot(SafeBootWindow::window2);
    require_prompt(s, r, "a safe boot released in window 2");
    require_window_seen(s, r, "window 2 (fast blink)");
    measure_window(s, r, "window2", s.timing().window2_toggle);
    measure_boot(s, r, "boot");
    BoardFacts after = board.facts();
    require_scripts_skipped(s, after, "in a safe boot released in window 2");
    // The bootloader picks the previous image without writing boot_info (the choice must not persist), so
    // pycom.bootmgr() still names the active slot: the running version is the evidence.
    if (auto expected = known_previous(s)) {
      if (after.release != *expected)
        s.fail("expected the previous OTA image " + *expected + " after a window-2 safe boot, saw " + after.describe());
      s.note("window 2 booted the previous image " + after.release + " (was " + before.release + ")");
      return;
    }
    if (after.release != before.release) {
      s.note("window 2 booted the previous image " + after.release + " (was " + before.release + ")");
      return;
    }
    if (before.slot == kSlotFactory) {
      // Running the factory slot, the previous image is the factory one itself unless a later OTA went
      // back to it; nothing on the board says which, and both look the same from here.
      s.skip("window 2 had no different previous image to boot: the board runs the factory slot (" +
             before.describe() + ") and still did after window 2; name [firmware] previous and current in the rig "
             "file and bootrig puts them on (or put an OTA image on it with bootrig flash --ota)");
    }
    s.fail("expected the previous OTA image (the factory slot's) after a window-2 safe boot, but " + after.release +
           " runs, the same version as before (" + before.describe() + ")");
  }
};

class SafeBootFactory : public BootCheck {
 public:
  SafeBootFactory()
      : BootCheck({"safeboot-factory",
                   "P12 held past both windows: the factory slot runs after the final fast blink",
                   {"reach the REPL; install evidence scripts; read the running slot",
                    "ask the board what it reads on P12, held and released (a cut wire is the rig's error)",
                    "hold P12 high and pulse RESET",
                    "watch the LED through windows 1 and 2 into the final phase (100 ms blink for 1.5 s)",
                    "release P12; wait for the prompt; read the slot and /flash",
                    "restore the board's scripts and reset it"},
                   {"the LED shows the final 100 ms blink after window 2", "neither boot.py nor main.py runs",
                    "the factory slot runs"},
                   {"a REPL reachable on the serial port; meaningful when the board normally runs ota_0"},
                   "about 10 s"},
                  kWithPrevious) {
    holds_p12();
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    BoardFacts before = prepare(s, board);
    if (before.slot == kSlotFactory)
      s.note("the board already runs the factory slot: the factory boot cannot be told apart by its slot here");
    BootRecord r = boot.safe_boot(SafeBootWindow::factory);
    require_prompt(s, r, "a safe boot held past window 2");
    require_window_seen(s, r, "the final fast blink (100 ms) after window 2");
    measure_window(s, r, "final", s.timing().final_toggle);
    measure_boot(s, r, "boot");
    BoardFacts after = board.facts();
    require_scripts_skipped(s, after, "in a safe boot held past window 2");
    // As in window 2, boot_info keeps naming the active slot; the version tells which image ran.
    if (s.firmware()) {
      if (auto factory = s.firmware()->slot(Slot::factory)) {
        if (after.release != factory->version)
          s.fail("expected the factory slot's image " + factory->version + " after P12 was held past window 2, saw " +
                 after.describe());
        s.note("the factory boot ran the factory slot's image " + after.release);
        return;
      }
    }
    if (before.slot != kSlotFactory && after.release == before.release)
      s.fail("expected the factory slot's image after P12 was held past window 2, but the active image " +
             before.describe() + " ran again");
    if (before.slot == kSlotFactory && after.release != before.release)
      s.fail("expected the factory slot's image " + before.release + " after P12 was held past window 2, saw " +
             after.release);
  }
};

class SafeBootNotPersistent : public BootCheck {
 public:
  SafeBootNotPersistent()
      : BootCheck({"safeboot-not-persistent",
                   "after a safe boot, the next normal reset runs the latest image and both scripts again",
                   {"reach the REPL; install evidence scripts; read the running version and slot",
                    "safe boot released in window 2 (the image choice is what must not persist)",
                    "pulse RESET without P12 and wait for the prompt", "read the version, slot and /flash",
                    "restore the board's scripts and reset it"},
                   {"the reset after the safe boot runs boot.py and main.py again",
                    "the image that ran before the safe boot runs again (same version and slot)",
                    "the safe-boot flag is off (pycom.bootmgr())"},
                   {"a REPL reachable on the serial port"},
                   "about 10 s"},
                  kWithPrevious) {
    holds_p12();
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    BoardFacts before = prepare(s, board);
    BootRecord safe = boot.safe_boot(SafeBootWindow::window2);
    require_prompt(s, safe, "the safe boot");
    BoardFacts during = board.facts();
    s.note("the safe boot ran " + during.describe());
    // The check proves its own precondition: a safe boot that skipped nothing or chose nothing leaves
    // nothing that could persist, and a PASS would mean nothing.
    require_scripts_skipped(s, during, "in the safe boot whose choice must not persist");
    if (auto previous = known_previous(s)) {
      if (during.release != *previous)
        s.fail("the safe boot released in window 2 booted " + during.describe() + ", not the previous image " +
               *previous + ": it chose no other image, so there is no choice that could persist");
    } else if (during.release == before.release) {
      s.skip("the safe boot in window 2 ran the same version as before (" + before.describe() +
             "): with no different previous image known, the image choice cannot be told apart; name "
             "[firmware] previous and current in the rig file so that bootrig puts them on");
    }
    board.clear_evidence();
    BootRecord r = boot.hard_reset();
    require_prompt(s, r, "the reset after the safe boot");
    measure_boot(s, r, "boot");
    BoardFacts after = board.facts();
    if (after.evidence.empty())
      s.fail("expected boot.py and main.py to run on the reset after a safe boot, but both were skipped: the safe "
             "boot persisted");
    require_scripts_ran(s, after, "on the reset after a safe boot");
    if (after.release != before.release || after.slot != before.slot)
      s.fail("expected the latest image (" + before.describe() + ") on the reset after a safe boot, saw " +
             after.describe() + ": the image choice persisted");
    if (after.safeboot_flag) s.fail("expected the safe-boot flag off after the next reset, pycom.bootmgr() says SafeBoot: True");
  }
};

}  // namespace

std::unique_ptr<Scenario> make_safeboot_window1() { return std::make_unique<SafeBootWindow1>(); }
std::unique_ptr<Scenario> make_safeboot_window2() { return std::make_unique<SafeBootWindow2>(); }
std::unique_ptr<Scenario> make_safeboot_factory() { return std::make_unique<SafeBootFactory>(); }
std::unique_ptr<Scenario> make_safeboot_not_persistent() { return std::make_unique<SafeBootNotPersistent>(); }

}  // namespace bootrig::scenarios
