// The ROM's MD5 of each slot against the rig's images, on the simulated module: which image a slot holds, a
// same-version build that differs, and the record written from the proof.
#include "bootrig/flash/slot_proof.hpp"

#include <gtest/gtest.h>

#include "bootrig/firmware/hash.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig {
namespace {

using test::SimRig;

RigImage proof_image(const std::string& name, const std::string& version, std::size_t payload = 16 * 1024) {
  ImageSpec spec;
  spec.version = version;
  spec.payload_size = payload;
  RigImage img;
  img.name = name;
  img.path = name + ".bin";
  img.bytes = build_esp32_image(spec);
  img.version = version;
  img.board = "FiPy";
  img.sha256 = to_hex(sha256(img.bytes));
  return img;
}

CableFlashOptions proof_quick() {
  CableFlashOptions o;
  o.rom.command = seconds(5);
  o.rom.sync_pause = milliseconds(10);
  o.boot_timeout = seconds(15);
  o.probe_timeout = seconds(3);
  return o;
}

// The simulated module after a cable flash of `img`: the factory slot runs it, ota_0 keeps 1.20.2.r6.
struct Flashed {
  explicit Flashed(const RigImage& img) : rig(test::ota_active()) {
    EXPECT_TRUE(rig.wait_banner());
    ReplClient repl(rig.uart());
    auto r = cable_flash(wires(), repl, img.bytes, img.path, proof_quick());
    EXPECT_TRUE(r) << r.error().step << ": " << r.error().what;
    board.active = Slot::factory;
    board.running.version = img.version;
    board.running.board = "FiPy";
  }
  CableWires wires() { return CableWires{rig.reset(), &rig.bootloader(), rig.uart(), rig.timing().reset_pulse}; }
  SimRig rig;
  BoardFirmware board;
};

TEST(SlotProof, SaysWhichOfTheRigsImagesEachSlotHolds) {
  const RigImage current = proof_image("current", "1.20.2.r5");
  const RigImage previous = proof_image("previous", "1.20.2.r3");
  Flashed f(current);
  auto r = prove_slots(f.wires(), f.board, {{"current", current}, {"previous", previous}}, proof_quick());
  ASSERT_TRUE(r) << r.error().step << ": " << r.error().what;
  ASSERT_TRUE(f.board.proven);
  EXPECT_EQ(f.board.proven->flash_size, 4u << 20);
  EXPECT_EQ(f.board.proven->holds.at(Slot::factory), "current");
  EXPECT_EQ(f.board.proven->holds.at(Slot::ota0), "") << "ota_0 holds the simulator's own 1.20.2.r6";
  EXPECT_EQ(f.board.proven->md5.at(Slot::factory).at("current"), to_hex(md5(current.bytes)));
  EXPECT_EQ(f.board.proven->md5.at(Slot::factory).count("previous"), 0u)
      << "the running slot is compared only with images of the running version";
  EXPECT_EQ(f.rig.module().line(LineRole::bootloader), Level::inactive) << "P2 released";

  std::string why;
  EXPECT_TRUE(runs_image(f.board, current, &why)) << why;
  EXPECT_NE(why.find("the ROM's MD5 of the running factory slot matches current 1.20.2.r5"), std::string::npos)
      << why;
}

TEST(SlotProof, AnotherBuildOfTheSameVersionIsNotTheImage) {
  const RigImage last_night = proof_image("current", "1.20.2.r5");
  const RigImage tonight = proof_image("current", "1.20.2.r5", 20 * 1024);  // same version, another build
  ASSERT_NE(last_night.sha256, tonight.sha256);
  Flashed f(last_night);
  // Even a record that claims tonight's build (another tool flashed since) loses against the ROM.
  FirmwareRecord claim;
  claim.active = claim.prev.emplace(Slot::factory);
  claim.slots[Slot::factory] = SlotContent{tonight.version, tonight.sha256};
  f.board.record = claim;
  ASSERT_TRUE(prove_slots(f.wires(), f.board, {{"current", tonight}}, proof_quick()));
  EXPECT_EQ(f.board.proven->holds.at(Slot::factory), "");
  std::string why;
  EXPECT_FALSE(runs_image(f.board, tonight, &why));
  EXPECT_NE(why.find("the board runs another build of 1.20.2.r5"), std::string::npos) << why;
  const std::string read = f.board.proven->md5.at(Slot::factory).at("current");
  EXPECT_NE(read, to_hex(md5(tonight.bytes)));
  EXPECT_NE(why.find(read.substr(0, 16)), std::string::npos) << "the digest the ROM gave is in the note: " << why;
}

TEST(SlotProof, TheRecordFromAProofLeavesWindow2sImageUnknown) {
  BoardFirmware b;
  b.active = Slot::ota0;
  b.running.version = "1.20.2.r5";
  const RigImage current = proof_image("current", "1.20.2.r5");
  const RigImage previous = proof_image("previous", "1.20.2.r3");
  SlotProof p;
  p.holds[Slot::ota0] = "current";
  p.holds[Slot::factory] = "previous";
  b.proven = p;
  FirmwareRecord r = record_from_proof(b, {{"current", current}, {"previous", previous}});
  EXPECT_EQ(r.active, Slot::ota0);
  EXPECT_FALSE(r.prev) << "no OTA was seen: which slot window 2 boots is not known";
  EXPECT_EQ(r.slots.at(Slot::ota0).sha256, current.sha256);
  EXPECT_EQ(r.slots.at(Slot::factory).sha256, previous.sha256);
  // It survives the board's filesystem: "prev unknown" is a line of its own.
  auto back = FirmwareRecord::decode(r.encode());
  ASSERT_TRUE(back) << r.encode();
  EXPECT_EQ(*back, r);
  b.record = r;
  std::string why;
  EXPECT_FALSE(previous_is(b, previous, &why)) << "the factory slot holds it, but window 2 may boot either";
  EXPECT_NE(b.describe().find("the previous image is unknown"), std::string::npos) << b.describe();
}

}  // namespace
}  // namespace bootrig
