// Tests for the small Python's parser: when the friendly REPL asks for more, and located syntax errors.
#include "sim/python/parser.hpp"

#include <gtest/gtest.h>

namespace bootrig::sim::py {
namespace {

TEST(Parser, ReplNeedsMoreLikeMicroPython) {
  EXPECT_FALSE(repl_needs_more("x = 1"));
  EXPECT_TRUE(repl_needs_more("for i in range(3):"));
  EXPECT_TRUE(repl_needs_more("while True: pass"));  // a compound statement ends only with an empty line
  EXPECT_FALSE(repl_needs_more("while True: pass\n"));
  EXPECT_TRUE(repl_needs_more("print((1,"));
  EXPECT_FALSE(repl_needs_more("print('(')"));
  EXPECT_TRUE(repl_needs_more("s = '''abc"));
  EXPECT_TRUE(repl_needs_more("x = 1 + \\"));
  EXPECT_FALSE(repl_needs_more("iffy = 1"));
  EXPECT_TRUE(repl_needs_more("@decorator"));
}

TEST(Parser, ErrorsCarryTheirLine) {
  try {
    parse_module("x = 1\ny = (\n");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.type, ParseError::Type::syntax);
  }
  try {
    parse_module("if x:\nprint(1)\n");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.type, ParseError::Type::indentation);
    EXPECT_EQ(e.line, 2);
  }
  try {
    parse_module("x = 1\n  y = 2\n");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.message, "unexpected indent");
  }
  try {
    parse_module("break\n");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.message, "'break' outside loop");
  }
}

TEST(Parser, CrLfSourcesAndSemicolons) {
  Block b = parse_module("# boot.py -- run on boot-up\r\nimport os; x = 1\r\nif x:\r\n    y = 2\r\n");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0]->kind, StmtKind::import);
  EXPECT_EQ(b[2]->kind, StmtKind::if_);
  EXPECT_EQ(b[2]->line, 3);
}

}  // namespace
}  // namespace bootrig::sim::py
