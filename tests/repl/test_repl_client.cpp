// Tests for the REPL client against scripted byte streams: prompts, friendly/raw/raw-paste, resets.
#include "bootrig/repl/repl_client.hpp"

#include <gtest/gtest.h>

#include "support/fake_serial.hpp"

namespace bootrig {
namespace {

using testing::FakeSerial;
using testing::noise;

constexpr const char* kPycomBanner =
    "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n"
    "Type \"help()\" for more information.\r\n>>> ";

ReplOptions fast() {
  ReplOptions o;
  o.interrupt_interval = milliseconds(40);
  o.raw_paste_min_bytes = 0;  // the scripts below show the raw-paste exchange even for short code
  return o;
}

// A client already at a live friendly prompt.
void to_prompt(FakeSerial& fake, ReplClient& repl) {
  fake.expect("\x03\x03").reply("\r\n>>> \r\n>>> ").expect("#bootrig 1\r").reply("#bootrig 1\r\n>>> ");
  auto p = repl.get_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
}

// A client in the raw REPL of a board without raw-paste (Pycom): the first exec learns that.
void to_raw_pycom(FakeSerial& fake, ReplClient& repl) {
  to_prompt(fake, repl);
  fake.expect("\x01").reply("\r\nraw REPL; CTRL-B to exit\r\n>");
  ASSERT_TRUE(repl.enter_raw(Deadline::after(seconds(5))).ok());
}

TEST(ReplPrompt, FindsPromptThroughBootOutputTracebackAndNoise) {
  FakeSerial fake;
  fake.reply("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
  fake.expect("\x03\x03")
      .reply(
          "Traceback (most recent call last):\r\n  File \"boot.py\", line 4, in "
          "<module>\r\nKeyboardInterrupt: \r\n" +
          noise(40) + "\r\n" + kPycomBanner)
      .expect("#bootrig 1\r")
      .reply("#bootrig 1\r\n>>> ");
  ReplClient repl(fake, fast());
  auto p = repl.get_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->interrupts_sent, 1);
  EXPECT_NE(p->transcript.find("KeyboardInterrupt"), std::string::npos);
  EXPECT_NE(p->transcript.find("POWERON_RESET"), std::string::npos);
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplPrompt, WorksWithOneByteChunks) {
  FakeSerial fake;
  fake.max_chunk(1);
  fake.expect("\x03\x03")
      .reply(std::string("\r\nKeyboardInterrupt: \r\n") + kPycomBanner)
      .expect("#bootrig 1\r")
      .reply("#bootrig 1\r\n>>> ");
  ReplClient repl(fake, fast());
  auto p = repl.get_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplPrompt, StalePromptIsNotTrusted) {
  // A prompt that more boot output follows is not live: the probe line gets no answer, so the client
  // interrupts again; and the second Ctrl-C's prompt is not taken for the probe's answer.
  FakeSerial fake;
  fake.expect("\x03\x03")
      .reply("\r\n>>> ")
      .expect("#bootrig 1\r")
      .reply("main.py still talking\r\n")
      .expect("\x03\x03")
      .reply("\r\nKeyboardInterrupt: \r\n>>> ")
      .expect("#bootrig 2\r")
      .reply("\r\n>>> ")
      .reply_after(milliseconds(10), "#bootrig 2\r\n>>> ");
  ReplClient repl(fake, fast());
  auto p = repl.get_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->interrupts_sent, 2);
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplPrompt, LeavesALeftoverRawReplWithCtrlB) {
  FakeSerial fake;
  fake.expect("\x03\x03")
      .expect("\x03\x03")
      .expect("\x03\x03\x02")
      .reply(std::string("\r\n") + kPycomBanner)
      .expect("#bootrig 1\r")
      .reply("#bootrig 1\r\n>>> ");
  ReplClient repl(fake, fast());
  auto p = repl.get_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->interrupts_sent, 3);
}

TEST(ReplPrompt, MissingPromptFailsByTheDeadlineSayingWhatWasSeen) {
  FakeSerial fake;
  fake.reply("rst:0x7 (TG0WDT_SYS_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nhanging in boot.py");
  ReplClient repl(fake, fast());
  auto start = now();
  auto p = repl.get_prompt(Deadline::after(milliseconds(300)));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().fault, ReplFault::no_prompt);
  EXPECT_NE(p.error().last_seen.find("hanging in boot.py"), std::string::npos);
  EXPECT_NE(p.error().describe().find("last seen"), std::string::npos);
  EXPECT_GE(now() - start, milliseconds(300));
  EXPECT_LT(now() - start, seconds(10));  // generous: only proves it did not hang
  // It kept knocking, and added Ctrl-B once Ctrl-C alone did not help.
  EXPECT_NE(fake.written().find("\x03\x03\x02"), std::string::npos);
}

TEST(ReplPrompt, NothingReceivedIsSaid) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  auto p = repl.get_prompt(Deadline::after(milliseconds(100)));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().last_seen.empty());
  EXPECT_NE(p.error().describe().find("nothing received"), std::string::npos);
}

TEST(ReplPrompt, AwaitPromptSendsNothingAndReturnsTheBootTranscript) {
  FakeSerial fake;
  fake.max_chunk(7);
  fake.reply("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nboot.py ran\r\n" +
             std::string(kPycomBanner));
  ReplClient repl(fake, fast());
  auto p = repl.await_prompt(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_NE(p->transcript.find("boot.py ran"), std::string::npos);
  EXPECT_TRUE(fake.written().empty());
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
}

TEST(ReplFriendly, OneLineOutputWithoutEcho) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  // Typed first, Enter only once the echo came back exactly.
  fake.expect("print(1+1)").reply("print(1+1)").expect("\r").reply("\r\n2\r\n>>> ");
  auto r = repl.exec_friendly("print(1+1)", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "2\n");
  EXPECT_FALSE(r->exception);
  EXPECT_EQ(r->mode, TransferMode::friendly);
}

// A byte garbled on the way to the board shows in its echo: the line is cleared with Ctrl-C and typed again,
// so the board never runs what it did not receive intact.
TEST(ReplFriendly, AGarbledEchoIsClearedAndTypedAgain) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("machine.reset()")
      .reply("machine.reswt()")
      .expect("\x03")
      .reply("\r\n>>> ")
      .expect("machine.reset()")
      .reply("machine.reset()")
      .expect("\r")
      .reply("\r\n>>> ");
  auto r = repl.exec_friendly("machine.reset()", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(fake.script_done());
}

// An Enter the line lost leaves the board waiting with the line typed and nothing comes back: it is sent
// again, not left to the deadline (after which a Ctrl-C cleared the line unrun: in the fault matrix
// sys.exit() at 1 % dropped bytes never ran, and the check blamed the board).
TEST(ReplFriendly, ALostEnterIsSentAgain) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("print(1+1)").reply("print(1+1)").expect("\r").expect("\r").reply("\r\n2\r\n>>> ");
  auto r = repl.exec_friendly("print(1+1)", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "2\n");
  EXPECT_TRUE(fake.script_done());
}

// A line whose echo never comes back intact was never run: a fault of its own (not_sent), which the
// scenarios report as the line's ERROR, never as the board's FAIL.
TEST(ReplFriendly, AnEchoGarbledEveryTimeIsNotSentAndNothingRan) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.echo_attempts = 3;
  ReplClient repl(fake, o);
  to_prompt(fake, repl);
  for (int i = 0; i < 3; ++i)
    fake.expect("machine.reset()").reply("machine.reswt()").expect("\x03").reply("\r\n>>> ");
  auto r = repl.exec_friendly("machine.reset()", Deadline::after(seconds(5)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::not_sent);
  EXPECT_NE(r.error().describe().find("the line was not run"), std::string::npos) << r.error().describe();
  EXPECT_TRUE(fake.script_done()) << "no Enter was ever sent";
}

TEST(ReplFriendly, ExceptionBecomesStructured) {
  FakeSerial fake;
  fake.random_chunks(3, 5);
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("1/0").reply("1/0").expect("\r").reply(
      "\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
      "ZeroDivisionError: divide by zero\r\n>>> ");
  auto r = repl.exec_friendly("1/0", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE(r->exception);
  EXPECT_EQ(r->exception->type, "ZeroDivisionError");
  EXPECT_EQ(r->exception->message, "divide by zero");
  ASSERT_EQ(r->exception->traceback.size(), 1u);
  EXPECT_EQ(r->exception->traceback[0], (TracebackFrame{"<stdin>", 1, "<module>"}));
  EXPECT_EQ(r->output, "");
}

TEST(ReplFriendly, CompoundOneLinerIsFinishedWithAnEmptyLine) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("for i in range(2): print(i)")
      .reply("for i in range(2): print(i)")
      .expect("\r")
      .reply("\r\n... ")
      .expect("\r")
      .reply("\r\n0\r\n1\r\n>>> ");
  auto r = repl.exec_friendly("for i in range(2): print(i)", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "0\n1\n");
}

TEST(ReplFriendly, IncompleteStatementIsReportedNotHung) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("print((1")
      .reply("print((1")
      .expect("\r")
      .reply("\r\n... ")
      .expect("\r")
      .reply("\r\n... ")
      .expect("\x03")
      .reply("\r\n>>> ");
  auto r = repl.exec_friendly("print((1", Deadline::after(seconds(5)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::protocol);
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplFriendly, SeveralLinesGoThroughPasteMode) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x05")
      .reply("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
      .expect("def f(x):\r    return x * 2\rprint(f(21))\r")
      .reply("def f(x):\r\n===     return x * 2\r\n=== print(f(21))\r\n=== ")
      .expect("\x04")
      .reply("\r\n42\r\n>>> ");
  auto r = repl.exec_friendly("def f(x):\n    return x * 2\nprint(f(21))\n", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "42\n");
  EXPECT_EQ(r->mode, TransferMode::paste);
}

TEST(ReplFriendly, TimesOutWhileCodeRuns) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("while True: pass")
      .reply("while True: pass")
      .expect("\r")
      .reply("\r\n... ")
      .expect("\r")
      .reply("\r\n");
  auto r = repl.exec_friendly("while True: pass", Deadline::after(milliseconds(200)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::timeout);
  EXPECT_EQ(repl.mode(), ReplMode::unknown);
}

TEST(ReplRaw, PycomRefusesRawPasteAndTheClientFallsBackToChunks) {
  FakeSerial fake;
  fake.random_chunks(11, 3);
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  // Firmware 1.20 knows nothing of raw-paste: the \x01 resets its raw REPL, which says so again.
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>")
      .expect("print('hi')")
      .expect("\x04")
      .reply("OKhi\r\n\x04\x04>");
  auto r = repl.exec_raw("print('hi')", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "hi\n");
  EXPECT_FALSE(r->exception);
  EXPECT_EQ(r->mode, TransferMode::raw_chunked);
  EXPECT_EQ(repl.raw_paste(), RawPasteSupport::unsupported);
  // The next exec does not ask again.
  fake.expect("x=1").expect("\x04").reply("OK\x04\x04>");
  auto r2 = repl.exec_raw("x=1", Deadline::after(seconds(5)));
  ASSERT_TRUE(r2.ok()) << r2.error().describe();
  EXPECT_EQ(r2->output, "");
  EXPECT_TRUE(fake.script_done());
}

// Sends 306 bytes of code in chunked raw mode with 64-byte blocks; returns how many writes carried code, each
// checked to fit a block.
std::size_t chunked_code_writes_of(ReplOptions o) {
  FakeSerial fake(921600);
  o.try_raw_paste = false;
  o.chunk_bytes = 64;
  ReplClient repl(fake, o);
  to_prompt(fake, repl);
  fake.expect("\x01").reply("raw REPL; CTRL-B to exit\r\n>");
  std::string code = "x = '" + std::string(300, 'a') + "'";
  fake.expect(code).expect("\x04").reply("OK\x04\x04>");
  auto r = repl.exec_raw(code, Deadline::after(seconds(5)));
  EXPECT_TRUE(r.ok()) << r.error().describe();
  std::size_t code_writes = 0;
  for (const auto& w : fake.writes()) {
    if (w.find('a') != std::string::npos) {
      ++code_writes;
      EXPECT_LE(w.size(), 64u);
    }
  }
  return code_writes;
}

TEST(ReplRaw, ChunkedModeSendsPacedBlocks) {
  // 306 bytes in 64-byte blocks: five writes of code, none larger than a block.
  EXPECT_EQ(chunked_code_writes_of(fast()), 5u);
}

// mpremote's way as an option: blocks with a fixed pause after each, even with the line-fraction pacing off.
TEST(ReplRaw, ChunkPauseSendsBlocksWithAFixedPause) {
  ReplOptions o = fast();
  o.chunk_line_fraction = 0.0;
  o.chunk_pause = milliseconds(1);
  EXPECT_EQ(chunked_code_writes_of(o), 5u);
}

TEST(ReplRaw, DeadlineWhileSendingChunksStopsSending) {
  FakeSerial fake(9600);  // 256-byte blocks take 267 ms each at 9600 baud
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  std::string code = "x = '" + std::string(2000, 'a') + "'";
  auto r = repl.exec_raw(code, Deadline::after(milliseconds(300)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::timeout);
  // Two blocks went out, then the client stopped and cleared the raw line with Ctrl-C.
  std::string sent = fake.extra_writes();
  EXPECT_LT(sent.size(), 600u);
  EXPECT_EQ(sent.back(), '\x03');
  EXPECT_EQ(sent.find('\x04'), std::string::npos);
}

TEST(ReplRaw, StartedCodePrintsLinesTakesStdinAndFinishesLikeExecRaw) {
  FakeSerial fake;
  fake.max_chunk(3);  // lines and markers arrive split
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("loop()")
      .expect("\x04")
      .reply("OKOTA> 0 0\r\n")
      .expect(std::string("\x01\x03\x04\r\x00", 5))
      .reply("OTA> 4 20\r\npart")
      .reply(
          "ial\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 3, in <module>\r\n"
          "OSError: [Errno 5] EIO\r\n\x04>");
  auto started = repl.start_raw("loop()", Deadline::after(seconds(5)));
  ASSERT_TRUE(started.ok()) << started.error().describe();
  EXPECT_NE(started->accepted, TimePoint{});
  auto first = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->text, "OTA> 0 0");
  EXPECT_FALSE(first->ended);
  repl.send_stdin(std::string("\x01\x03\x04\r\x00", 5), Deadline::after(seconds(5)));
  auto ack = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(ack.ok()) << ack.error().describe();
  EXPECT_EQ(ack->text, "OTA> 4 20");
  auto last = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(last.ok()) << last.error().describe();
  EXPECT_TRUE(last->ended);
  EXPECT_EQ(last->text, "partial");
  auto end = repl.finish_raw(std::move(started).value(), Deadline::after(seconds(5)));
  ASSERT_TRUE(end.ok()) << end.error().describe();
  ASSERT_TRUE(end->exception);
  EXPECT_EQ(end->exception->type, "OSError");
  EXPECT_EQ(repl.mode(), ReplMode::raw);
  EXPECT_TRUE(fake.script_done()) << fake.mismatch();
}

// The end of a running program's output is \x04 followed by the error channel and its own \x04; a lone \x04
// is a byte the line garbled, dropped, and the program's lines go on.
TEST(ReplRaw, AnEndOfOutputWithoutTheErrorChannelIsAGarbledByte) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("loop()").expect("\x04").reply("OKOTA> 0 0\r\nOTA\x04> 4 20\r\n");
  auto started = repl.start_raw("loop()", Deadline::after(seconds(5)));
  ASSERT_TRUE(started.ok()) << started.error().describe();
  auto first = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->text, "OTA> 0 0");
  auto stray = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(stray.ok()) << stray.error().describe();
  ASSERT_TRUE(stray->ended);
  EXPECT_FALSE(repl.confirm_output_end(Deadline::after(milliseconds(200))));
  auto rest = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(rest.ok()) << rest.error().describe();
  EXPECT_FALSE(rest->ended);
  EXPECT_EQ(rest->text, "> 4 20");
}

TEST(ReplRaw, AnEndOfOutputWithTheErrorChannelIsConfirmed) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("loop()").expect("\x04").reply("OKdone\r\n\x04").reply(
      "Traceback (most recent call last):\r\n  File \"<stdin>\", line 3, in <module>\r\n"
      "OSError: [Errno 5] EIO\r\n\x04>");
  auto started = repl.start_raw("loop()", Deadline::after(seconds(5)));
  ASSERT_TRUE(started.ok()) << started.error().describe();
  ASSERT_TRUE(repl.read_program_line(Deadline::after(seconds(5))));
  auto end = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(end.ok()) << end.error().describe();
  ASSERT_TRUE(end->ended);
  EXPECT_TRUE(repl.confirm_output_end(Deadline::after(seconds(5))));
  auto r = repl.finish_raw(std::move(started).value(), Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE(r->exception);
  EXPECT_EQ(r->exception->type, "OSError");
}

// The line lost one of the two \x04 of an end with an empty error channel: "\x04>" and then nothing.
TEST(ReplRaw, AnEndWithOneOfItsTwoMarksLostIsStillAnEnd) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("loop()").expect("\x04").reply("OKdone\r\n\x04>");
  auto started = repl.start_raw("loop()", Deadline::after(seconds(5)));
  ASSERT_TRUE(started.ok()) << started.error().describe();
  auto line = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(line.ok()) << line.error().describe();
  EXPECT_EQ(line->text, "done");
  auto end = repl.read_program_line(Deadline::after(seconds(5)));
  ASSERT_TRUE(end.ok()) << end.error().describe();
  ASSERT_TRUE(end->ended);
  EXPECT_TRUE(repl.confirm_output_end(Deadline::after(milliseconds(200))));
  auto r = repl.finish_raw(std::move(started).value(), Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->exception);
  EXPECT_EQ(repl.mode(), ReplMode::raw);
}

TEST(ReplRaw, StartedCodeThatPrintsNoLineFailsByTheDeadline) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.try_raw_paste = false;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("wait()").expect("\x04").reply("OKhalf a li");
  auto started = repl.start_raw("wait()", Deadline::after(seconds(5)));
  ASSERT_TRUE(started.ok()) << started.error().describe();
  auto line = repl.read_program_line(Deadline::after(milliseconds(200)));
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().fault, ReplFault::timeout);
  EXPECT_NE(line.error().last_seen.find("half a li"), std::string::npos) << line.error().last_seen;
}

TEST(ReplRaw, RawPasteFollowsTheBoardsWindow) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x01").reply("raw REPL; CTRL-B to exit\r\n>");
  std::string code = "print('abcdefghijklm')";  // 22 bytes: windows of 8, 8, 6
  fake.expect(
          "\x05"
          "A\x01")
      .reply(std::string("R\x01\x08\x00", 4))
      .expect(code.substr(0, 8))
      .reply("\x01")
      .expect(code.substr(8, 8))
      .reply("\x01")
      .expect(code.substr(16))
      .expect("\x04")
      .reply(
          "\x04"
          "abcdefghijklm\r\n\x04\x04>");
  auto r = repl.exec_raw(code, Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "abcdefghijklm\n");
  EXPECT_EQ(r->mode, TransferMode::raw_paste);
  EXPECT_EQ(repl.raw_paste(), RawPasteSupport::supported);
  // No write ever exceeded what the window allowed.
  for (const auto& w : fake.writes()) {
    if (code.find(w) != std::string::npos) {
      EXPECT_LE(w.size(), 8u);
    }
  }
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplRaw, RawPasteUnderstoodButNotSupportedFallsBack) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x01").reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect(
          "\x05"
          "A\x01")
      .reply(std::string("R\x00", 2))
      .expect("x=2")
      .expect("\x04")
      .reply("OK\x04\x04>");
  auto r = repl.exec_raw("x=2", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->mode, TransferMode::raw_chunked);
  EXPECT_EQ(repl.raw_paste(), RawPasteSupport::unsupported);
}

TEST(ReplRaw, ExceptionInTheErrorChannelIsStructured) {
  FakeSerial fake;
  fake.max_chunk(1);
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect("print('a')\nopen('/flash/nope')")
      .expect("\x04")
      .reply(
          "OKa\r\n\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 2, in <module>\r\n"
          "OSError: [Errno 2] ENOENT\r\n\x04>");
  auto r = repl.exec_raw("print('a')\nopen('/flash/nope')", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "a\n");
  ASSERT_TRUE(r->exception);
  EXPECT_EQ(r->exception->type, "OSError");
  EXPECT_EQ(r->exception->message, "[Errno 2] ENOENT");
  ASSERT_EQ(r->exception->traceback.size(), 1u);
  EXPECT_EQ(r->exception->traceback[0].line, 2);
  EXPECT_EQ(r->exception->describe(), "OSError: [Errno 2] ENOENT (at <stdin>:2)");
}

TEST(ReplRaw, ShortCodeSkipsTheRawPasteRequest) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.raw_paste_min_bytes = 256;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("x=1").expect("\x04").reply("OK\x04\x04>");
  auto r = repl.exec_raw("x=1", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->mode, TransferMode::raw_chunked);
  EXPECT_EQ(repl.raw_paste(), RawPasteSupport::untested);
  EXPECT_TRUE(fake.script_done());
}

// The prompt behind a whole result lost on the line: the result stands (both channels ended), and the next
// exchange re-enters the raw REPL instead of trusting a prompt that never came.
TEST(ReplRaw, APromptLostAfterAWholeResultKeepsTheResultAndReentersNextTime) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.raw_paste_min_bytes = 256;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  fake.expect("print(1)").expect("\x04").reply("OK1\r\n\x04\x04");
  auto r = repl.exec_raw("print(1)", Deadline::after(seconds(5)));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->output, "1\n");
  EXPECT_FALSE(r->exception);
  EXPECT_EQ(repl.mode(), ReplMode::unknown);
  fake.expect("\x03\x03\x01").reply("\r\nraw REPL; CTRL-B to exit\r\n>");
  fake.expect("print(2)").expect("\x04").reply("OK2\r\n\x04\x04>");
  auto again = repl.exec_raw("print(2)", Deadline::after(seconds(5)));
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->output, "2\n");
  EXPECT_EQ(repl.mode(), ReplMode::raw);
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplRaw, GarbageInsteadOfOkIsAProtocolFailure) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect("x=1").expect("\x04").reply(
      "\xff\xfe"
      "garbage");
  auto r = repl.exec_raw("x=1", Deadline::after(seconds(5)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::protocol);
  EXPECT_NE(r.error().last_seen.find("garbage"), std::string::npos);
  EXPECT_EQ(repl.mode(), ReplMode::unknown);
}

TEST(ReplRaw, CodeThatNeverEndsTimesOut) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect("while 1: pass").expect("\x04").reply("OK");
  auto r = repl.exec_raw("while 1: pass", Deadline::after(milliseconds(200)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::timeout);
  EXPECT_EQ(repl.mode(), ReplMode::unknown);
}

TEST(ReplRaw, CtrlARefused) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x01").reply("\r\n>>> ");
  auto r = repl.enter_raw(Deadline::after(milliseconds(200)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, ReplFault::raw_repl_refused);
}

TEST(ReplRaw, LeaveRawReturnsToTheFriendlyPrompt) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect("\x02").reply(std::string("\r\n") + kPycomBanner);
  auto p = repl.leave_raw(Deadline::after(seconds(5)));
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
}

TEST(ReplRaw, ControlBytesInCodeAreRejected) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  EXPECT_THROW((void)repl.exec_raw("x='\x04'", Deadline::after(seconds(1))), std::invalid_argument);
  EXPECT_THROW((void)repl.exec_friendly("\x01", Deadline::after(seconds(1))), std::invalid_argument);
  EXPECT_TRUE(fake.written().empty());
}

TEST(ReplReset, SoftRebootPycomFriendly) {
  FakeSerial fake;
  fake.random_chunks(5, 6);
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x04").reply(std::string("\r\nPYB: soft reboot\r\nboot.py ran\r\n") + kPycomBanner);
  auto s = repl.soft_reset(Deadline::after(seconds(5)));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->prefix, "PYB");
  EXPECT_NE(s->transcript.find("boot.py ran"), std::string::npos);
  EXPECT_LE(s->requested, s->seen);
  EXPECT_LE(s->seen, s->prompt);
  EXPECT_EQ(repl.mode(), ReplMode::friendly);
}

TEST(ReplReset, SoftRebootUpstreamFromRaw) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect("\x04").reply("OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>");
  auto s = repl.soft_reset(Deadline::after(seconds(5)));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->prefix, "MPY");
  EXPECT_EQ(repl.mode(), ReplMode::raw);
}

TEST(ReplReset, NoSoftRebootLine) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_prompt(fake, repl);
  fake.expect("\x04").reply("\r\n>>> ");
  auto s = repl.soft_reset(Deadline::after(milliseconds(150)));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().fault, ReplFault::no_soft_reboot);
}

TEST(ReplReset, CtrlFRequestsSafeBoot) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect("\x02").reply(std::string("\r\n") + kPycomBanner).expect("\x06");
  auto s = repl.request_safe_boot(Deadline::after(seconds(1)));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(fake.script_done());
  EXPECT_EQ(repl.mode(), ReplMode::unknown);
}

// Decodes a b'...' literal the way Python does (only the escapes py_bytes_literal produces).
std::string decode_bytes_literal(const std::string& lit) {
  EXPECT_EQ(lit.substr(0, 2), "b'");
  EXPECT_EQ(lit.back(), '\'');
  std::string out;
  for (std::size_t i = 2; i + 1 < lit.size(); ++i) {
    if (lit[i] != '\\') {
      out += lit[i];
      continue;
    }
    char e = lit[++i];
    if (e == 'x') {
      out += static_cast<char>(std::stoi(lit.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

TEST(ReplData, BytesLiteralRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string lit = py_bytes_literal(all);
  for (char c : lit) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7f) << "literal holds byte " << int(u);
  }
  EXPECT_EQ(decode_bytes_literal(lit), all);
  EXPECT_EQ(py_bytes_literal("a'b\\"), "b'a\\'b\\\\'");
  EXPECT_EQ(py_str_literal("/flash/it's\n"), "'/flash/it\\'s\\x0a'");
}

TEST(ReplData, WriteFileSendsBinaryBlocks) {
  FakeSerial fake;
  ReplOptions o = fast();
  o.file_block = 4;
  ReplClient repl(fake, o);
  to_raw_pycom(fake, repl);
  std::string data("\x00\x01\x02\x03\xff\x04", 6);
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect("f=open('/flash/bin','wb')\nw=f.write").expect("\x04").reply("OK\x04\x04>");
  fake.expect("w(b'\\x00\\x01\\x02\\x03')").expect("\x04").reply("OK\x04\x04>");
  fake.expect("w(b'\\xff\\x04')").expect("\x04").reply("OK\x04\x04>");
  fake.expect("f.close()").expect("\x04").reply("OK\x04\x04>");
  auto w = repl.write_file("/flash/bin", data, Deadline::after(seconds(5)));
  ASSERT_TRUE(w.ok()) << w.error().describe();
  EXPECT_EQ(w->bytes, 6u);
  EXPECT_EQ(w->blocks, 2u);
  EXPECT_FALSE(w->exception);
  EXPECT_TRUE(fake.script_done());
}

TEST(ReplData, WriteFileReportsTheBoardsRefusal) {
  FakeSerial fake;
  ReplClient repl(fake, fast());
  to_raw_pycom(fake, repl);
  fake.expect(
          "\x05"
          "A\x01")
      .reply("raw REPL; CTRL-B to exit\r\n>");
  fake.expect("f=open('/nope/x','wb')\nw=f.write")
      .expect("\x04")
      .reply(
          "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
          "OSError: [Errno 2] ENOENT\r\n\x04>");
  auto w = repl.write_file("/nope/x", "data", Deadline::after(seconds(5)));
  ASSERT_TRUE(w.ok()) << w.error().describe();
  ASSERT_TRUE(w->exception);
  EXPECT_EQ(w->exception->type, "OSError");
  EXPECT_EQ(w->bytes, 0u);
}

}  // namespace
}  // namespace bootrig
