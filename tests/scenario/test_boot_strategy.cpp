// Tests for BootRecord's reading of a boot's transcript: exact and nearly exact messages.
#include "bootrig/scenario/boot_strategy.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

const std::string kLine =
    "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition";

BootRecord with(std::string transcript) {
  BootRecord r;
  r.transcript = std::move(transcript);
  return r;
}

TEST(BootRecordTranscript, AMessageTheLineGarbledALittleIsStillFound) {
  std::string garbled = kLine;
  garbled[3] = '\xb4';            // a byte changed
  garbled.erase(20, 1);           // one lost
  garbled.insert(40, "\x01", 1);  // one added
  const BootRecord r =
      with("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET)\r\n" + garbled + "\r\nI (12)");
  EXPECT_FALSE(r.printed(kLine));
  EXPECT_TRUE(r.printed_nearly(kLine, 3));
  EXPECT_FALSE(r.printed_nearly(kLine, 2)) << "three edits are not two";
}

TEST(BootRecordTranscript, OtherBootOutputIsNotNearlyTheMessage) {
  const BootRecord r = with(
      "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
      "I (470) boot: Loaded app from partition at offset 0x10000\r\nPycom MicroPython 1.20.2.r6 "
      "[v1.11-a5aa0b8]"
      " on 2021-01-12; FiPy with ESP32\r\n>>> ");
  EXPECT_FALSE(r.printed_nearly(kLine, kLine.size() / 10));
  EXPECT_TRUE(with(kLine).printed_nearly(kLine, 0));
  EXPECT_FALSE(with("").printed_nearly(kLine, 5));
}

}  // namespace
}  // namespace bootrig
