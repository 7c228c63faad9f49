// Tests for `bootrig ports`, run as the built binary: exit code 0 and well-formed output, ports or none.
#include <stdio.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "support/run_bootrig.hpp"

namespace bootrig {
namespace {

// Four lower-case hex digits, as `lsusb` prints USB IDs. (No std::regex: GCC 12 warns inside it under ASan.)
bool is_hex4(const std::string& s) {
  return s.size() == 4 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(CmdPorts, JsonListsEveryPortWithItsDetails) {
  testing::CliResult r = testing::run_bootrig("ports --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  ASSERT_TRUE(j.contains("ports"));
  ASSERT_TRUE(j["ports"].is_array());
  std::set<std::string> paths;
  for (const auto& p : j["ports"]) {
    ASSERT_TRUE(p["path"].is_string());
    EXPECT_EQ(p["path"].get<std::string>().rfind("/dev/", 0), 0u) << p.dump();
    EXPECT_TRUE(paths.insert(p["path"].get<std::string>()).second) << "listed twice: " << p.dump();
    const std::string transport = p["transport"].get<std::string>();
    EXPECT_TRUE(transport == "usb" || transport == "native" || transport == "bluetooth") << p.dump();
    for (const char* key : {"usb_vid", "usb_pid"}) {
      ASSERT_TRUE(p.contains(key)) << p.dump();
      if (!p[key].is_null()) {
        EXPECT_TRUE(is_hex4(p[key].get<std::string>())) << p.dump();
      }
    }
    for (const char* key : {"usb_serial", "manufacturer", "product", "description"})
      EXPECT_TRUE(p[key].is_string()) << key << " in " << p.dump();
    ASSERT_TRUE(p["by_id"].is_array()) << p.dump();
    for (const auto& link : p["by_id"])
      EXPECT_EQ(link.get<std::string>().rfind("/dev/serial/by-id/", 0), 0u) << p.dump();
  }
}

TEST(CmdPorts, TableListsTheSamePortsOrSaysThereAreNone) {
  testing::CliResult json = testing::run_bootrig("ports --json");
  testing::CliResult table = testing::run_bootrig("ports");
  ASSERT_EQ(table.exit_code, 0) << table.out;
  auto ports = nlohmann::json::parse(json.out)["ports"];
  if (ports.empty()) {
    EXPECT_EQ(table.out.rfind("No serial ports found.", 0), 0u) << table.out;
    return;
  }
  EXPECT_EQ(table.out.rfind("PORT", 0), 0u) << table.out;
  for (const auto& p : ports) {
    const std::string path = p["path"].get<std::string>();
    EXPECT_NE(table.out.find("\n" + path + " "), std::string::npos) << path << " missing from\n" << table.out;
  }
}

TEST(CmdPorts, UnknownOptionIsAUsageError) {
  testing::CliResult r = testing::run_bootrig("ports --no-such-option");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace bootrig
