// Tests for the ensure logic: the rig's images loaded and refused, bootrig's record on the board, reading the
// board's firmware from the simulated module, and the plan (what is flashed, how, and nothing when it fits).
#include "bootrig/flash/ensure.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "support/scenario_rig.hpp"
#include "sim/sim_test_util.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

RigImage rig_image(const std::string& name, const std::string& version) {
  RigImage i;
  i.name = name;
  i.path = name + ".bin";
  i.version = version;
  i.board = "FiPy";
  i.sha256 = std::string(64, version.back());
  return i;
}

const std::map<std::string, RigImage> kImages{{"previous", rig_image("previous", "1.20.2.r4")},
                                             {"current", rig_image("current", "1.20.2.r6")}};
const Arrangement kWindow2{"current", "previous"};

BoardFirmware board_running(const std::string& version, Slot active) {
  BoardFirmware b;
  b.running.version = version;
  b.running.board = "FiPy";
  b.active = active;
  b.record_note = "no bootrig record on the board";
  return b;
}

// The board as bootrig leaves it for window 2: current in ota_0 running, previous in factory behind it.
BoardFirmware arranged_board() {
  BoardFirmware b = board_running("1.20.2.r6", Slot::ota0);
  FirmwareRecord r;
  r.active = Slot::ota0;
  r.prev = Slot::factory;
  r.slots[Slot::ota0] = {"1.20.2.r6", kImages.at("current").sha256};
  r.slots[Slot::factory] = {"1.20.2.r4", kImages.at("previous").sha256};
  b.record = r;
  return b;
}

std::string plan_text(const std::vector<PlannedFlash>& plan) {
  std::string s;
  for (const auto& p : plan) s += p.image + " by " + to_string(p.method) + "; ";
  return s;
}

TEST(FirmwareRecord, RoundTripsThroughItsText) {
  FirmwareRecord r = *arranged_board().record;
  std::string text = r.encode();
  EXPECT_NE(text.find("active ota_0\n"), std::string::npos) << text;
  auto back = FirmwareRecord::decode(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  // As the board prints it back: CRLF line ends.
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(FirmwareRecord::decode(crlf), r);
}

TEST(FirmwareRecord, UnknownDigestIsWrittenAsADash) {
  FirmwareRecord r;
  r.slots[Slot::factory] = {"1.20.2.r4", ""};
  EXPECT_NE(r.encode().find("slot factory 1.20.2.r4 -\n"), std::string::npos);
  EXPECT_EQ(FirmwareRecord::decode(r.encode())->slots.at(Slot::factory).sha256, "");
}

TEST(FirmwareRecord, RefusesTextThatIsNotARecord) {
  std::string good = arranged_board().record->encode();
  EXPECT_FALSE(FirmwareRecord::decode(""));
  EXPECT_FALSE(FirmwareRecord::decode("hello\n"));
  EXPECT_FALSE(FirmwareRecord::decode(good.substr(0, good.size() - 4))) << "truncated: no end line";
  EXPECT_FALSE(FirmwareRecord::decode("active ota_1\nprev factory\nslot factory 1 -\nend\n"));
  EXPECT_FALSE(FirmwareRecord::decode("active ota_0\nprev factory\nslot factory 1 -\nend\n")) << "active slot undescribed";
  EXPECT_FALSE(FirmwareRecord::decode(good + "active factory\n")) << "text after the end";
}

TEST(PlanFlashes, NothingWhenTheBoardAlreadyMatches) {
  EXPECT_TRUE(plan_flashes(arranged_board(), kWindow2, kImages, true).empty());
  EXPECT_TRUE(plan_flashes(arranged_board(), Arrangement{"current", ""}, kImages, true).empty());
  EXPECT_TRUE(plan_flashes(board_running("1.0", Slot::factory), Arrangement{}, kImages, true).empty());
}

TEST(PlanFlashes, AnUnknownPreviousImageIsPutOnByCableThenCurrentByOta) {
  BoardFirmware b = board_running("1.20.2.r6", Slot::ota0);
  auto plan = plan_flashes(b, kWindow2, kImages, true);
  EXPECT_EQ(plan_text(plan), "previous by cable; current by OTA; ");
  EXPECT_NE(plan[0].why.find("nothing proves it is this build"), std::string::npos) << plan[0].why;
  EXPECT_EQ(plan_text(plan_flashes(b, kWindow2, kImages, false)), "previous by OTA; current by OTA; ")
      << "without a P2 line the previous image goes on by OTA too";
}

TEST(PlanFlashes, WhenThePreviousImageRunsOnlyCurrentIsFlashed) {
  BoardFirmware b = board_running("1.20.2.r4", Slot::factory);
  FirmwareRecord r;
  r.active = Slot::factory;
  r.prev = Slot::factory;
  r.slots[Slot::factory] = {"1.20.2.r4", kImages.at("previous").sha256};
  b.record = r;
  EXPECT_EQ(plan_text(plan_flashes(b, kWindow2, kImages, true)), "current by OTA; ");
}

// The version string is not the firmware: without bootrig's record of what it flashed, a board that reports
// the right version may hold another build of it, so bootrig flashes again.
TEST(PlanFlashes, TheRightVersionWithoutProofOfItsContentIsFlashedAgain) {
  BoardFirmware b = board_running("1.20.2.r6", Slot::ota0);
  auto plan = plan_flashes(b, Arrangement{"current", ""}, kImages, true);
  EXPECT_EQ(plan_text(plan), "current by OTA; ");
  EXPECT_NE(plan[0].why.find("nothing proves it is this build"), std::string::npos) << plan[0].why;
  std::string why;
  EXPECT_FALSE(runs_image(b, kImages.at("current"), &why));
  // The running build differs from the image's: said in those words.
  RigImage built = kImages.at("current");
  built.build = "v1.11-a5aa0b8 on 2021-01-12";
  b = arranged_board();
  b.build = "v1.11-ffffff0 on 2021-02-01";
  EXPECT_FALSE(runs_image(b, built, &why));
  EXPECT_NE(why.find("another build of the same version"), std::string::npos) << why;
  b.build = built.build;
  EXPECT_TRUE(runs_image(b, built, &why)) << why;
  EXPECT_NE(why.find("SHA-256"), std::string::npos) << why;
}

TEST(PlanFlashes, AfterACableFlashWindow2WouldBootTheSameImage) {
  // A cable flash resets boot_info: PrevImg = ActiveImg = factory, so the previous image must be redone.
  BoardFirmware b = board_running("1.20.2.r6", Slot::factory);
  FirmwareRecord r;
  r.active = Slot::factory;
  r.prev = Slot::factory;
  r.slots[Slot::factory] = {"1.20.2.r6", kImages.at("current").sha256};
  r.slots[Slot::ota0] = {"1.20.2.r4", kImages.at("previous").sha256};
  b.record = r;
  EXPECT_EQ(plan_text(plan_flashes(b, kWindow2, kImages, true)), "previous by cable; current by OTA; ");
}

TEST(PlanFlashes, SameVersionButAnotherBuildIsReflashed) {
  BoardFirmware b = arranged_board();
  b.record->slots[Slot::factory].sha256 = std::string(64, 'f');
  EXPECT_EQ(plan_text(plan_flashes(b, kWindow2, kImages, true)), "previous by cable; current by OTA; ");
  b = arranged_board();
  b.record->slots[Slot::ota0].sha256 = std::string(64, 'f');
  EXPECT_EQ(plan_text(plan_flashes(b, Arrangement{"current", ""}, kImages, true)), "current by OTA; ");
}

TEST(PlanFlashes, AnotherVersionRunningGetsCurrentByOta) {
  auto plan = plan_flashes(board_running("1.18.0", Slot::factory), Arrangement{"current", ""}, kImages, true);
  EXPECT_EQ(plan_text(plan), "current by OTA; ");
  EXPECT_NE(plan[0].why.find("runs 1.18.0, not 1.20.2.r6"), std::string::npos) << plan[0].why;
}

TEST(Records, FollowTheFirmwaresOwnSlotRules) {
  BoardFirmware b = board_running("1.20.2.r6", Slot::ota0);
  FirmwareRecord cable = record_after_cable(&b, kImages.at("previous"));
  EXPECT_EQ(cable.active, Slot::factory);
  EXPECT_EQ(cable.prev, Slot::factory);
  EXPECT_EQ(cable.slots.at(Slot::factory).version, "1.20.2.r4");
  EXPECT_EQ(cable.slots.at(Slot::ota0).version, "1.20.2.r6") << "a cable flash leaves ota_0 as it was";

  BoardFirmware after_cable = board_running("1.20.2.r4", Slot::factory);
  after_cable.record = cable;
  FirmwareRecord ota = record_after_ota(after_cable, kImages.at("current"));
  EXPECT_EQ(ota.active, Slot::ota0);
  EXPECT_EQ(ota.prev, Slot::factory);
  EXPECT_EQ(ota.slots.at(Slot::ota0).sha256, kImages.at("current").sha256);
  after_cable.record = ota;
  after_cable.active = Slot::ota0;
  after_cable.running.version = "1.20.2.r6";
  EXPECT_TRUE(plan_flashes(after_cable, kWindow2, kImages, true).empty());
}

TEST(ResolveArrangement, DropsWhatTheRigDoesNotNameAndSaysSo) {
  std::vector<std::string> dropped;
  std::map<std::string, RigImage> only_current{{"current", kImages.at("current")}};
  Arrangement a = resolve_arrangement(kWindow2, only_current, &dropped);
  EXPECT_EQ(a.running, "current");
  EXPECT_EQ(a.previous, "");
  EXPECT_EQ(dropped, std::vector<std::string>{"previous"});
  dropped.clear();
  std::map<std::string, RigImage> only_previous{{"previous", kImages.at("previous")}};
  a = resolve_arrangement(kWindow2, only_previous, &dropped);
  EXPECT_TRUE(a.any()) << "a previous image is only made by an OTA on top of it";
  EXPECT_EQ(dropped, (std::vector<std::string>{"current", "previous"}));
}

TEST(ResolveArrangement, RefusesTwoImagesOfTheSameVersion) {
  auto same = kImages;
  same["previous"].version = "1.20.2.r6";
  try {
    resolve_arrangement(kWindow2, same, nullptr);
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(),
                 "[firmware] previous and current are both version 1.20.2.r6: window 2 could not tell them apart; "
                 "give previous an older release");
  }
}

class RigImages : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  RigConfig rig_with(const std::string& key, const std::filesystem::path& p) {
    RigConfig rig;
    rig.source = "rig.toml";
    rig.firmware[key] = FirmwareImage{key, p};
    return rig;
  }
  std::filesystem::path dir_ = testing::fresh_run_dir("rig-images");
};

TEST_F(RigImages, LoadsVersionBoardAndDigest) {
  ImageSpec spec;
  spec.version = "1.20.2.r6";
  auto bytes = build_esp32_image(spec);
  auto images = load_rig_images(rig_with("current", write("cur.bin", bytes)));
  const RigImage& i = images.at("current");
  EXPECT_EQ(i.version, "1.20.2.r6");
  EXPECT_EQ(i.board, "FiPy");
  EXPECT_EQ(i.sha256, to_hex(sha256(std::span<const std::uint8_t>(bytes))));
  EXPECT_EQ(i.bytes, bytes);
}

TEST_F(RigImages, EveryCorruptionIsAnErrorNamingTheKeyAndFile) {
  for (ImageCorruption c : all_corruptions()) {
    auto p = write("bad.bin", build_esp32_image(ImageSpec{}, c));
    try {
      load_rig_images(rig_with("previous", p));
      ADD_FAILURE() << "accepted " << to_string(c);
    } catch (const RigError& e) {
      std::string m = e.what();
      EXPECT_EQ(m.rfind("rig.toml: [firmware] previous = " + p.string() + ": ", 0), 0u) << m;
      EXPECT_NE(m.find("nothing was written"), std::string::npos) << to_string(c) << ": " << m;
    }
  }
}

TEST_F(RigImages, AMissingFileIsAnErrorNamingIt) {
  try {
    load_rig_images(rig_with("current", dir_ / "nope.bin"));
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("[firmware] current = " + (dir_ / "nope.bin").string()), std::string::npos)
        << e.what();
  }
}

// Every way of not knowing window 2's image says which: never an empty "()".
TEST(BoardFirmwareNotes, ThePreviousImageIsUnknownForANamedReason) {
  BoardFirmware b = arranged_board();
  b.record->prev.reset();
  std::string why;
  EXPECT_FALSE(previous_is(b, kImages.at("previous"), &why));
  EXPECT_EQ(why, "the previous image is unknown (bootrig's record was written from the slots' MD5, not from an "
                 "OTA)");
  b = arranged_board();
  b.record->slots.erase(Slot::factory);
  EXPECT_FALSE(previous_is(b, kImages.at("previous"), &why));
  EXPECT_EQ(why, "the previous image is unknown (bootrig's record names no image in the factory slot, window 2's)");
  EXPECT_EQ(b.describe(), "ota_0 runs FiPy 1.20.2.r6; the previous image is unknown (bootrig's record names no "
                          "image in the factory slot, window 2's)");
  b = board_running("1.20.2.r6", Slot::ota0);
  EXPECT_FALSE(previous_is(b, kImages.at("previous"), &why));
  EXPECT_EQ(why, "the previous image is unknown (no bootrig record on the board)");
}

// Reading the board over the simulated module's REPL.
class BoardReading : public ::testing::Test {
 protected:
  test::SimRig rig_{test::ota_active()};
  ReplClient repl_{rig_.uart()};
  CheckedChannel channel_{repl_};
  Deadline soon() { return Deadline::after(seconds(20)); }
};

TEST_F(BoardReading, WithoutARecordThePreviousImageIsUnknown) {
  ASSERT_TRUE(repl_.get_prompt(soon()));
  auto b = read_board_firmware(channel_, soon());
  ASSERT_TRUE(b) << b.error().what;
  EXPECT_EQ(b->running.version, "1.20.2.r6");
  EXPECT_EQ(b->active, Slot::ota0);
  EXPECT_FALSE(b->record);
  EXPECT_FALSE(b->previous());
  EXPECT_EQ(b->describe(),
            "ota_0 runs FiPy 1.20.2.r6; the previous image is unknown (no bootrig record on the board "
            "(/flash/bootrig_firmware.txt))");
}

TEST_F(BoardReading, AMatchingRecordIsTrustedAndAStaleOneIsNot) {
  ASSERT_TRUE(repl_.get_prompt(soon()));
  FirmwareRecord r = *arranged_board().record;
  ASSERT_TRUE(write_firmware_record(channel_, r, soon()));
  auto b = read_board_firmware(channel_, soon());
  ASSERT_TRUE(b) << b.error().what;
  ASSERT_TRUE(b->record);
  EXPECT_EQ(*b->record, r);
  EXPECT_EQ(b->previous()->version, "1.20.2.r4");
  EXPECT_EQ(b->describe(), "ota_0 runs FiPy 1.20.2.r6; window 2 boots 1.20.2.r4 (factory slot)");

  // Another tool flashed the board: the record's version for the active slot no longer matches.
  r.slots[Slot::ota0].version = "1.20.2.r5";
  ASSERT_TRUE(write_firmware_record(channel_, r, soon()));
  b = read_board_firmware(channel_, soon());
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->record);
  EXPECT_NE(b->record_note.find("the board was changed since bootrig last flashed it"), std::string::npos)
      << b->record_note;
}

TEST_F(BoardReading, AFileThatIsNotARecordIsIgnored) {
  ASSERT_TRUE(repl_.get_prompt(soon()));
  auto w = channel_.run("f = open('/flash/bootrig_firmware.txt', 'w')\nf.write('my notes\\n')\nf.close()",
                       milliseconds(0), soon());
  ASSERT_TRUE(w);
  auto b = read_board_firmware(channel_, soon());
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->record);
  EXPECT_EQ(b->record_note, "/flash/bootrig_firmware.txt on the board is not a bootrig record");
}

}  // namespace
}  // namespace bootrig

namespace bootrig {
namespace {

std::string check_error(const RigConfig& rig, const std::map<std::string, RigImage>& images) {
  try {
    check_rig_images(rig, images);
  } catch (const RigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(CheckRigImages, RefusesWhatWouldMakeRunTestTheWrongThing) {
  RigConfig rig;
  rig.source = "rig.toml";
  rig.kind = RigKind::hardware;
  EXPECT_EQ(check_error(rig, kImages), "(accepted)");
  auto same = kImages;
  same["previous"] = same["current"];
  same["previous"].name = "previous";
  EXPECT_EQ(check_error(rig, same),
            "rig.toml: [firmware] previous and current are the same build (FiPy 1.20.2.r6, SHA-256 " +
                std::string(64, '6') +
                "): window 2 could not tell them apart; give previous an older release");
  auto boards = kImages;
  boards["previous"].board = "GPy";
  EXPECT_EQ(check_error(rig, boards),
            "rig.toml: [firmware] current is built for FiPy but previous for GPy; one "
            "module runs both, so give images for the same board");
  std::map<std::string, RigImage> only_previous{{"previous", kImages.at("previous")}};
  EXPECT_NE(check_error(rig, only_previous).find("previous is given without current"), std::string::npos);
  rig.kind = RigKind::sim;
  rig.sim.board = "LoPy4";
  EXPECT_EQ(
      check_error(rig, {{"current", kImages.at("current")}}),
      "rig.toml: [firmware] current = current.bin is built for FiPy but [sim] board is LoPy4; give an image "
      "for LoPy4 or change the board");
}

}  // namespace
}  // namespace bootrig
