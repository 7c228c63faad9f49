// The REPL client against the simulated module, in its Pycom (no raw-paste) and upstream profiles.
#include <gtest/gtest.h>

#include "bootrig/repl/repl_client.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

using test::SimRig;

SimConfig client_profile(const std::string& name) {
  SimConfig c;
  c.profile = name;
  return c;
}

Deadline client_soon() { return Deadline::after(seconds(20)); }

class ReplSim : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplSim, BootThenFriendlyAndRawExecution) {
  SimRig rig(client_profile(GetParam()));
  ReplClient repl(rig.uart());
  // The module is booting: wait for its prompt without interrupting boot.py.
  auto boot = repl.await_prompt(client_soon());
  ASSERT_TRUE(boot.ok()) << boot.error().describe();
  EXPECT_NE(boot->transcript.find("Type \"help()\" for more information."), std::string::npos);

  auto p = repl.get_prompt(client_soon());
  ASSERT_TRUE(p.ok()) << p.error().describe();

  auto one = repl.exec_friendly("print(6*7)", client_soon());
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->output, "42\n");

  auto expr = repl.exec_friendly("1+1", client_soon());
  ASSERT_TRUE(expr.ok()) << expr.error().describe();
  EXPECT_EQ(expr->output, "2\n");

  auto loop = repl.exec_friendly("for i in range(3): print(i)", client_soon());
  ASSERT_TRUE(loop.ok()) << loop.error().describe();
  EXPECT_EQ(loop->output, "0\n1\n2\n");

  auto pasted = repl.exec_friendly(
      "def f(x):\n    if x:\n        return x * 2\n    return -1\nprint(f(4), f(0))", client_soon());
  ASSERT_TRUE(pasted.ok()) << pasted.error().describe();
  EXPECT_EQ(pasted->output, "8 -1\n");
  EXPECT_EQ(pasted->mode, TransferMode::paste);

  auto boom = repl.exec_friendly("1/0", client_soon());
  ASSERT_TRUE(boom.ok()) << boom.error().describe();
  ASSERT_TRUE(boom->exception);
  EXPECT_EQ(boom->exception->type, "ZeroDivisionError");

  auto raw = repl.exec_raw("import os\nprint('raw', 1)\nx = [i * i for i in range(4)]\nprint(x)", client_soon());
  ASSERT_TRUE(raw.ok()) << raw.error().describe();
  EXPECT_EQ(raw->output, "raw 1\n[0, 1, 4, 9]\n");
  EXPECT_FALSE(raw->exception);
  EXPECT_EQ(raw->mode, TransferMode::raw_chunked);  // short code: plain raw mode, one block

  auto err = repl.exec_raw("def g():\n    raise ValueError('bad value')\ng()", client_soon());
  ASSERT_TRUE(err.ok()) << err.error().describe();
  ASSERT_TRUE(err->exception);
  EXPECT_EQ(err->exception->type, "ValueError");
  EXPECT_EQ(err->exception->message, "bad value");
  ASSERT_FALSE(err->exception->traceback.empty());
  EXPECT_EQ(err->exception->traceback.back().function, "g");

  auto back = repl.leave_raw(client_soon());
  ASSERT_TRUE(back.ok()) << back.error().describe();
  auto again = repl.exec_friendly("print('friendly again')", client_soon());
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->output, "friendly again\n");
}

TEST_P(ReplSim, BulkCodeAndBinaryFileRoundTrip) {
  SimRig rig(client_profile(GetParam()));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(client_soon()).ok());
  // 8 KiB of code, far beyond any window or chunk.
  std::string code = "s = 0\n";
  while (code.size() < 8192) code += "s = s + 1\n";
  code += "print(s)";
  auto big = repl.exec_raw(code, client_soon());
  ASSERT_TRUE(big.ok()) << big.error().describe();
  EXPECT_EQ(big->output, std::to_string((code.size() - 6 - 8) / 10) + "\n");
  EXPECT_LT(big->sent, big->accepted);
  if (GetParam() == "pycom") {
    EXPECT_EQ(big->mode, TransferMode::raw_chunked);
    EXPECT_EQ(repl.raw_paste(), RawPasteSupport::unsupported);
  } else {
    EXPECT_EQ(big->mode, TransferMode::raw_paste);
    EXPECT_EQ(repl.raw_paste(), RawPasteSupport::supported);
  }

  std::string data;
  for (int i = 0; i < 3000; ++i) data += static_cast<char>((i * 37) & 0xFF);
  auto w = repl.write_file("/flash/blob.bin", data, client_soon());
  ASSERT_TRUE(w.ok()) << w.error().describe();
  EXPECT_FALSE(w->exception) << w->exception->describe();
  EXPECT_EQ(w->bytes, data.size());
  auto check =
      repl.exec_raw("f = open('/flash/blob.bin', 'rb')\nd = f.read()\nf.close()\nprint(len(d), d == " +
                        py_bytes_literal(data) + ")",
                    client_soon());
  ASSERT_TRUE(check.ok()) << check.error().describe();
  EXPECT_EQ(check->output, "3000 True\n");
}

TEST_P(ReplSim, SoftResetBothWays) {
  SimRig rig(client_profile(GetParam()));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(client_soon()).ok());
  ASSERT_TRUE(repl.exec_friendly("marker = 5", client_soon()).ok());
  auto s = repl.soft_reset(client_soon());
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->prefix, GetParam() == "pycom" ? "PYB" : "MPY");
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
  // The interpreter was cleared.
  auto gone = repl.exec_friendly("marker", client_soon());
  ASSERT_TRUE(gone.ok()) << gone.error().describe();
  ASSERT_TRUE(gone->exception);
  EXPECT_EQ(gone->exception->type, "NameError");
  // From the raw REPL the board comes back raw.
  ASSERT_TRUE(repl.enter_raw(client_soon()).ok());
  auto r = repl.soft_reset(client_soon());
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(repl.mode(), ReplMode::raw);
  auto after = repl.exec_raw("print('alive')", client_soon());
  ASSERT_TRUE(after.ok()) << after.error().describe();
  EXPECT_EQ(after->output, "alive\n");
}

TEST_P(ReplSim, InterruptsRunningCode) {
  SimRig rig(client_profile(GetParam()));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.get_prompt(client_soon()).ok());
  auto stuck = repl.exec_raw("while True:\n    pass", Deadline::after(milliseconds(300)));
  ASSERT_FALSE(stuck.ok());
  EXPECT_EQ(stuck.error().fault, ReplFault::timeout);
  auto p = repl.get_prompt(client_soon());
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto ok = repl.exec_friendly("print('back')", client_soon());
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(ok->output, "back\n");
}

INSTANTIATE_TEST_SUITE_P(Profiles, ReplSim, ::testing::Values("pycom", "upstream"),
                         [](const auto& p) { return p.param; });

TEST(ReplSimPycom, CtrlFGivesASafeBootResetEvenFromRawMode) {
  SimRig rig(client_profile("pycom"));
  ReplClient repl(rig.uart());
  ASSERT_TRUE(repl.enter_raw(client_soon()).ok());
  ASSERT_TRUE(repl.request_safe_boot(client_soon()).ok());
  auto boot = repl.await_prompt(client_soon());
  ASSERT_TRUE(boot.ok()) << boot.error().describe();
  EXPECT_NE(boot->transcript.find("rst:"), std::string::npos);  // a hard reset, not a soft one
  auto mgr = repl.exec_friendly("import pycom; print(pycom.bootmgr()[2])", client_soon());
  ASSERT_TRUE(mgr.ok()) << mgr.error().describe();
  EXPECT_EQ(mgr->output, "SafeBoot: True\n");
}

TEST(ReplSimPycom, PromptThroughLineNoise) {
  SimConfig c = client_profile("pycom");
  c.faults.garbage_rate = 0.01;
  c.fault_seed = 3;
  SimRig rig(c);
  ReplClient repl(rig.uart());
  auto p = repl.get_prompt(client_soon());
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
}

TEST(ReplSimPycom, HungBootIsReportedWithWhatWasSeen) {
  SimConfig c = client_profile("pycom");
  c.faults.hang_in_boot = true;
  SimRig rig(c);
  ReplClient repl(rig.uart());
  auto p = repl.get_prompt(Deadline::after(milliseconds(1500)));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().fault, ReplFault::no_prompt);
  EXPECT_NE(p.error().last_seen.find("entry 0x"), std::string::npos)
      << p.error().describe();  // the ROM ran, nothing after
}

}  // namespace
}  // namespace bootrig
