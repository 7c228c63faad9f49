// Tests for the run timeline: JSON Lines events, serial log, concurrency and crash tolerance.
#include "bootrig/observe/timeline.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"

namespace bootrig {
namespace {

std::filesystem::path timeline_dir(const std::string& name) {
  auto d =
      std::filesystem::path(::testing::TempDir()) / ("timeline_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d;
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> v;
  std::string l;
  while (std::getline(in, l)) v.push_back(l);
  return v;
}

TEST(Timeline, EventsCarryTimeSequenceKindAndFields) {
  auto dir = timeline_dir("fields");
  TimePoint t = now();
  {
    Timeline tl(dir);
    tl.output_change("safeboot", Level::active, t, t + microseconds(40));
    tl.led_edge("led", {Edge::rising, t + milliseconds(1)});
    tl.step_start("hold P12", t + milliseconds(2));
    tl.step_end("hold P12", "pass", t + milliseconds(3), {{"held_ms", 3100}});
    tl.note("hello", t + milliseconds(4));
    EXPECT_EQ(tl.events_written(), 5u);
  }
  auto ev = read_events(dir / "events.jsonl");
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0]["kind"], "output");
  EXPECT_EQ(ev[0]["line"], "safeboot");
  EXPECT_EQ(ev[0]["level"], 1);
  EXPECT_EQ(ev[0]["requested"], to_ns(t));
  EXPECT_EQ(ev[0]["t"], to_ns(t + microseconds(40)));
  EXPECT_EQ(ev[1]["edge"], "rising");
  EXPECT_EQ(ev[3]["outcome"], "pass");
  EXPECT_EQ(ev[3]["detail"]["held_ms"], 3100);
  for (std::size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i]["seq"], i);
  // "t", "seq" and "kind" lead each line so it reads well in a pager.
  auto raw = lines_of(dir / "events.jsonl");
  EXPECT_EQ(raw[4].rfind("{\"t\":", 0), 0u);
  EXPECT_NE(raw[4].find("\"seq\":4,\"kind\":\"note\""), std::string::npos);
}

TEST(Timeline, SerialChunksGoToBothFilesEscaped) {
  auto dir = timeline_dir("serial");
  TimePoint t = from_ns(12'000'000'345);
  std::string bytes("OK\x04\xff\r\n>>> \"q\"\\", 14);
  {
    Timeline tl(dir);
    tl.serial(SerialDirection::rx, "/dev/ttyUSB0", t, bytes);
    tl.serial(SerialDirection::tx, "/dev/ttyUSB0", t + milliseconds(1), "\x03\x03");
  }
  auto log = lines_of(dir / "serial.log");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "12.000000345 rx /dev/ttyUSB0 \"OK\\x04\\xff\\r\\n>>> \\\"q\\\"\\\\\"");
  EXPECT_EQ(log[1], "12.001000345 tx /dev/ttyUSB0 \"\\x03\\x03\"");
  auto ev = read_events(dir / "events.jsonl");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["dir"], "rx");
  EXPECT_EQ(ev[0]["n"], bytes.size());
  EXPECT_EQ(unescape_bytes(ev[0]["data"].get<std::string>()), bytes);
}

TEST(Timeline, ManyThreadsNeverInterleaveLines) {
  auto dir = timeline_dir("threads");
  constexpr int kThreads = 4, kEach = 400;
  {
    Timeline tl(dir);
    std::vector<std::thread> ts;
    for (int k = 0; k < kThreads; ++k) {
      ts.emplace_back([&tl, k] {
        for (int i = 0; i < kEach; ++i) {
          tl.record(EventKind::note, now(), {{"thread", k}, {"i", i}, {"pad", std::string(200, 'x')}});
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  auto ev = read_events(dir / "events.jsonl");
  ASSERT_EQ(ev.size(), static_cast<std::size_t>(kThreads * kEach));
  std::vector<int> next(kThreads, 0);
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i]["seq"], i);  // file order is sequence order
    int k = ev[i]["thread"];
    EXPECT_EQ(ev[i]["i"], next[k]++);  // each thread's events in its own order
  }
}

TEST(Timeline, SurvivesSigkillLosingNothingWritten) {
  auto dir = timeline_dir("sigkill");
  std::filesystem::create_directories(dir);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: record, then die the hard way without any destructor or flush running.
    Timeline tl(dir);
    for (int i = 0; i < 100; ++i) tl.note("event " + std::to_string(i));
    tl.serial(SerialDirection::rx, "pty", now(), "last words\r\n");
    ::raise(SIGKILL);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto ev = read_events(dir / "events.jsonl");
  ASSERT_EQ(ev.size(), 101u);
  EXPECT_EQ(ev[99]["text"], "event 99");
  EXPECT_EQ(lines_of(dir / "serial.log").size(), 1u);
}

TEST(Timeline, ReadingSkipsALastLineCutShortButNotDamageElsewhere) {
  auto dir = timeline_dir("cut");
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "events.jsonl", std::ios::binary);
    out << "{\"t\":1,\"seq\":0,\"kind\":\"note\"}\n{\"t\":2,\"seq\":1,\"ki";
  }
  auto ev = read_events(dir / "events.jsonl");
  EXPECT_EQ(ev.size(), 1u);
  {
    std::ofstream out(dir / "events.jsonl", std::ios::binary);
    out << "{\"t\":1,\"seq\":0,\"kind\":\"note\"}\nnot json\n{\"t\":2,\"seq\":1,\"kind\":\"note\"}\n";
  }
  try {
    read_events(dir / "events.jsonl");
    FAIL() << "a damaged line in the middle must be reported";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("events.jsonl:2"), std::string::npos);
  }
}

TEST(Timeline, ReadEventsIsBoundedAndRefusesNonFiles) {
  auto dir = timeline_dir("bounded");
  std::filesystem::create_directories(dir);
  // A link to /dev/zero in place of the log would otherwise be read until memory ran out.
  std::filesystem::create_symlink("/dev/zero", dir / "zero.jsonl");
  try {
    read_events(dir / "zero.jsonl");
    FAIL() << "a character device must be refused";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("is a character device, not a regular file"), std::string::npos)
        << e.what();
  }
  // One byte over the bound, sparse: refused from its size before a byte is read.
  { std::ofstream out(dir / "huge.jsonl", std::ios::binary); }
  std::filesystem::resize_file(dir / "huge.jsonl", 64ull * 1024 * 1024 + 1);
  try {
    read_events(dir / "huge.jsonl");
    FAIL() << "a log over the bound must be refused";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("too large: the bound is 64.0 MiB"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Timeline, AppendsToAnExistingRunFolder) {
  auto dir = timeline_dir("append");
  { Timeline(dir).note("first run"); }
  { Timeline(dir).note("second run"); }
  EXPECT_EQ(read_events(dir / "events.jsonl").size(), 2u);
}

TEST(Timeline, UnusableFolderIsARigErrorNamingIt) {
  auto file = timeline_dir("blocker");
  std::ofstream(file) << "a file, not a folder";
  try {
    Timeline tl(file / "run");
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
  }
}

TEST(Escape, RoundTripsAndStaysOnOneLine) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto e = escape_bytes(all);
  EXPECT_EQ(e.find('\n'), std::string::npos);
  for (char c : e) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  EXPECT_EQ(unescape_bytes(e), all);
  EXPECT_EQ(unescape_bytes("broken \\x4"), "broken \\x4");
  EXPECT_EQ(escaped_tail("abcdef", 3), "...def");
  EXPECT_EQ(escaped_tail("ab", 3), "ab");
}

TEST(Timeline, SerialLinesAreReassembledFromChunksAndTrafficTheOtherWayCutsAnOpenLine) {
  auto ev = [](std::int64_t t, const char* dir, const std::string& bytes) {
    return nlohmann::json{{"t", t}, {"kind", "serial"}, {"dir", dir}, {"data", escape_bytes(bytes)}};
  };
  std::vector<nlohmann::json> events = {ev(1, "rx", "rst:0x1 (POWER"), ev(2, "rx", "ON_RESET)\r"),
                                        ev(3, "rx", "\n>>> "),         ev(4, "tx", "x = 1\r"),
                                        ev(5, "rx", "x = 1\r\n\r\n"),  ev(6, "rx", ">>> ")};
  auto lines = serial_lines(events);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0].bytes, "rst:0x1 (POWERON_RESET)");
  EXPECT_EQ(lines[0].start_ns, 1);
  EXPECT_EQ(lines[0].end_ns, 2);
  EXPECT_TRUE(lines[0].ended);
  // The prompt had no line end when bootrig typed at it.
  EXPECT_EQ(lines[1].bytes, ">>> ");
  EXPECT_FALSE(lines[1].ended);
  EXPECT_EQ(lines[2].dir, SerialDirection::tx);
  EXPECT_EQ(lines[2].bytes, "x = 1");
  EXPECT_EQ(lines[3].bytes, "x = 1");
  EXPECT_EQ(lines[4].bytes, "");
  EXPECT_EQ(lines[5].bytes, ">>> ");
  EXPECT_FALSE(lines[5].ended);
}

}  // namespace
}  // namespace bootrig
