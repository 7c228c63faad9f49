// Tests for the simulator's small Python: what boot-mode scripts need, MicroPython's messages, no crash on
// junk.
#include "sim/python/interp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace bootrig::sim::py {
namespace {

struct Py {
  explicit Py(Dialect d = Dialect::pycom) {
    Hooks h;
    h.write = [this](std::string_view s) { out += s; };
    h.hang = [this](int line) {
      hung_at = line;
      throw make_kbd();
    };
    in = std::make_unique<Interp>(d, h);
  }
  PyException make_kbd() const { return in->make_error("KeyboardInterrupt", std::vector<Value>{}); }
  // Runs code; returns output, plus the traceback when it raised.
  std::string operator()(const std::string& code, bool single = false) {
    out.clear();
    try {
      in->exec(code, "<stdin>", single);
    } catch (PyException& e) {
      out += in->format_exception(*e.exc);
    }
    return out;
  }
  std::unique_ptr<Interp> in;
  std::string out;
  int hung_at = 0;
};

TEST(Interp, PrintsLiteralsLikeMicroPython) {
  Py r;
  EXPECT_EQ(r("print(1, 'a', 2.5, None, True)"), "1 a 2.5 None True\n");
  EXPECT_EQ(r("print(1/3)"), "0.3333333\n");
  EXPECT_EQ(r("print(repr('it\\'s'), b'\\x00\\xffA')"), "\"it's\" b'\\x00\\xffA'\n");
  EXPECT_EQ(r("print((1,), [1, 2], {'a': 1})"), "(1,) [1, 2] {'a': 1}\n");
  EXPECT_EQ(r("print('%d-%s-%05.1f' % (3, 'x', 2.25))"), "3-x-002.2\n");
  EXPECT_EQ(r("print('{}:{:>3}:{name}'.format(1, 'b', name='n'))"), "1:  b:n\n");
}

TEST(Interp, SingleModeEchoesExpressionValues) {
  Py r;
  EXPECT_EQ(r("1 + 1", true), "2\n");
  EXPECT_EQ(r("None", true), "");
  EXPECT_EQ(r("x = 5", true), "");
  EXPECT_EQ(r("x", true), "5\n");
}

TEST(Interp, NamesAndResetClearsThem) {
  Py r;
  r("marker = 42");
  EXPECT_TRUE(r.in->has_global("marker"));
  r.in->reset();
  EXPECT_EQ(r("marker"),
            "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"
            "NameError: name 'marker' is not defined\n");
}

TEST(Interp, UpstreamDialectWordsNameErrorDifferently) {
  Py r(Dialect::upstream);
  EXPECT_NE(r("nope").find("NameError: name 'nope' isn't defined"), std::string::npos);
}

TEST(Interp, MultiStatementFileWithBlocks) {
  Py r;
  std::string code =
      "total = 0\n"
      "for i in range(5):\n"
      "    if i % 2 == 0:\n"
      "        continue\n"
      "    total += i\n"
      "else:\n"
      "    print('loop done')\n"
      "def add(a, b=10):\n"
      "    return a + b\n"
      "print(total, add(1), add(1, b=2))\n"
      "try:\n"
      "    raise ValueError('bad')\n"
      "except ValueError as e:\n"
      "    print('caught', e)\n"
      "finally:\n"
      "    print('finally')\n";
  EXPECT_EQ(r(code), "loop done\n4 11 3\ncaught bad\nfinally\n");
}

TEST(Interp, TracebackNamesFileLineAndFunction) {
  Py r;
  std::string out = r("def f():\n    return 1 / 0\n\nf()\n");
  EXPECT_EQ(out,
            "Traceback (most recent call last):\n"
            "  File \"<stdin>\", line 4, in <module>\n"
            "  File \"<stdin>\", line 2, in f\n"
            "ZeroDivisionError: division by zero\n");
}

TEST(Interp, SyntaxErrorHasNoBlockName) {
  Py r;
  EXPECT_EQ(r("1 +"),
            "Traceback (most recent call last):\n  File \"<stdin>\", line 1\nSyntaxError: invalid syntax\n");
}

TEST(Interp, ExceptionWithoutArgumentsPrintsColonSpace) {
  Py r;
  EXPECT_NE(r("raise KeyboardInterrupt").find("\nKeyboardInterrupt: \n"), std::string::npos);
}

TEST(Interp, OsErrorWithErrnoPrintsItsName) {
  Py r;
  EXPECT_NE(r("raise OSError(2)").find("OSError: [Errno 2] ENOENT\n"), std::string::npos);
}

TEST(Interp, WhileTruePassHangsThroughTheHook) {
  Py r;
  std::string out = r("x = 1\nwhile True:\n    pass\n");
  EXPECT_EQ(r.hung_at, 2);
  EXPECT_NE(out.find("KeyboardInterrupt"), std::string::npos);
}

TEST(Interp, BytesLiteralsAreBinarySafe) {
  Py r;
  EXPECT_EQ(r("b = b'\\x00\\x01\\xfe\\xff' + bytes([7])\nprint(len(b), b[0], b[3], b[4], b.hex())"),
            "5 0 255 7 0001feff07\n");
}

TEST(Interp, UnsupportedConstructsRaiseNotImplementedError) {
  Py r;
  EXPECT_NE(r("class A:\n    pass\n").find("NotImplementedError"), std::string::npos);
  EXPECT_NE(r("f = lambda x: x").find("NotImplementedError"), std::string::npos);
}

TEST(Interp, HostileInputNeverCrashes) {
  Py r;
  EXPECT_NE(r(std::string(100000, '(')).find("Error"), std::string::npos);
  EXPECT_NE(r("def f():\n    f()\nf()").find("RuntimeError: maximum recursion depth exceeded"),
            std::string::npos);
  EXPECT_NE(r("x = 'a' * 100000000").find("MemoryError"), std::string::npos);
  EXPECT_NE(r("9223372036854775807 + 1").find("OverflowError"), std::string::npos);
  EXPECT_NE(r("'\\x").find("SyntaxError"), std::string::npos);
  EXPECT_NE(r("\x01\x02\xff").find("SyntaxError"), std::string::npos);
  EXPECT_NE(r("x = []\nfor i in range(5000):\n    x = [x]\nprint(x)\n")
                .find("RuntimeError: maximum recursion depth"),
            std::string::npos);
  EXPECT_NE(r("a = []\nb = []\nfor i in range(5000):\n    a = [a]\n    b = [b]\nprint(a == b)\n")
                .find("RuntimeError"),
            std::string::npos);
  EXPECT_NE(r("x = list(range(2000000))").find("MemoryError"), std::string::npos);
  r("deep = []\nfor i in range(300000):\n    deep = [deep, {'k': (deep,)}]\n");
  r.in->reset();  // dropping a deeply nested structure must not recurse
}

}  // namespace
}  // namespace bootrig::sim::py
