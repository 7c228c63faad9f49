// Tests for parsing MicroPython tracebacks into structured exceptions.
#include "bootrig/repl/py_exception.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

TEST(PyException, ParsesATracebackWithSeveralFrames) {
  auto ex = parse_exception(
      "Traceback (most recent call last):\r\n"
      "  File \"main.py\", line 12, in <module>\r\n"
      "  File \"lib/sensor.py\", line 40, in read\r\n"
      "OSError: [Errno 110] ETIMEDOUT\r\n");
  ASSERT_TRUE(ex);
  EXPECT_EQ(ex->type, "OSError");
  EXPECT_EQ(ex->message, "[Errno 110] ETIMEDOUT");
  ASSERT_EQ(ex->traceback.size(), 2u);
  EXPECT_EQ(ex->traceback[0], (TracebackFrame{"main.py", 12, "<module>"}));
  EXPECT_EQ(ex->traceback[1], (TracebackFrame{"lib/sensor.py", 40, "read"}));
  EXPECT_EQ(ex->text.find('\r'), std::string::npos);
}

TEST(PyException, BareExceptionAndSyntaxErrorFrame) {
  auto k = parse_exception(
      "Traceback (most recent call last):\n  File \"boot.py\", line 3, in <module>\nKeyboardInterrupt: \n");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->type, "KeyboardInterrupt");
  EXPECT_EQ(k->message, "");
  auto s = parse_exception(
      "Traceback (most recent call last):\n  File \"<stdin>\", line 1\nSyntaxError: invalid syntax\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "SyntaxError");
  ASSERT_EQ(s->traceback.size(), 1u);
  EXPECT_EQ(s->traceback[0].function, "");
}

TEST(PyException, DottedTypeAndColonsInTheMessage) {
  auto ex = parse_exception(
      "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nussl.SSLError: (-1, 'a: b')\n");
  ASSERT_TRUE(ex);
  EXPECT_EQ(ex->type, "ussl.SSLError");
  EXPECT_EQ(ex->message, "(-1, 'a: b')");
}

TEST(PyException, WithoutHeaderOrWithoutException) {
  auto a = parse_exception("ValueError: bad value\r\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, "ValueError");
  EXPECT_FALSE(parse_exception("hello world\r\n"));
  EXPECT_FALSE(parse_exception(""));
  // A traceback cut off before its exception line still tells where it was.
  auto cut = parse_exception("Traceback (most recent call last):\n  File \"boot.py\", line 2, in <module>\n");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->type, "");
  EXPECT_EQ(cut->traceback.size(), 1u);
}

TEST(PyException, LineHelpers) {
  EXPECT_TRUE(is_traceback_header("\x04Traceback (most recent call last):\r"));
  EXPECT_FALSE(parse_frame_line("File \"x\", line 1"));  // frames are indented
  EXPECT_FALSE(parse_frame_line("  File \"x\", line one"));
  EXPECT_FALSE(parse_exception_line("not an exception line"));
  EXPECT_FALSE(parse_exception_line("Type."));
}

}  // namespace
}  // namespace bootrig
