// Shared helpers of the simulator's behaviour tests: scripts that leave evidence, slot arrangements.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "bootrig/repl/repl_client.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig::test {

inline constexpr const char* kBannerEnd = "Type \"help()\" for more information.\r\n>>> ";
inline constexpr const char* kBootMarker = "BOOTRIG boot.py ran";
inline constexpr const char* kMainMarker = "BOOTRIG main.py ran";

// boot.py and main.py as scenarios write them: a marker line on the UART and a file on /flash.
inline std::string evidence_script(const char* marker, const char* file) {
  return std::string("print('") + marker + "')\nf = open('/flash/" + file +
         "', 'w')\nf.write('1')\nf.close()\n";
}

// Writes a file through the raw REPL, as a rig would.
inline void write_file(SimRig& rig, const std::string& path, const std::string& content) {
  auto r = rig.exec_raw("f = open(" + py_str_literal(path) + ", 'w')\nf.write(" + py_str_literal(content) +
                        ")\nf.close()\n");
  ASSERT_TRUE(r.ok) << rig.transcript();
  ASSERT_EQ(r.error, "");
}

inline void install_evidence_scripts(SimRig& rig) {
  write_file(rig, "/flash/boot.py", evidence_script(kBootMarker, "bootrig_boot.txt"));
  write_file(rig, "/flash/main.py", evidence_script(kMainMarker, "bootrig_main.txt"));
}

// Runs code through the raw REPL and returns what it printed (the test fails on a traceback).
inline std::string run(SimRig& rig, const std::string& code) {
  auto r = rig.exec_raw(code);
  EXPECT_TRUE(r.ok) << rig.transcript();
  EXPECT_EQ(r.error, "") << code;
  return r.output;
}

// factory holds 1.20.2.r4, ota_0 holds 1.20.2.r6 and is active: the previous image is the factory one.
inline SimConfig ota_active() {
  SimConfig c;
  c.factory_version = "1.20.2.r4";
  c.ota0_version = "1.20.2.r6";
  c.active_slot = "ota_0";
  return c;
}

// factory holds 1.20.2.r6 and is active, ota_0 holds 1.20.2.r4: window 2 and the factory phase differ.
inline SimConfig factory_active_prev_ota() {
  SimConfig c;
  c.factory_version = "1.20.2.r6";
  c.ota0_version = "1.20.2.r4";
  c.active_slot = "factory";
  return c;
}

}  // namespace bootrig::test
