// Tokenizer and parser for the simulator's small Python: source text to a syntax tree, or a located error.
#pragma once

#include <string>
#include <string_view>

#include "sim/python/ast.hpp"

namespace bootrig::sim::py {

// A source problem, turned by the interpreter into SyntaxError/IndentationError (or NotImplementedError when
// the construct is valid Python that the simulator does not understand).
struct ParseError {
  enum class Type { syntax, indentation, unsupported };
  Type type;
  int line;
  std::string message;
};

// Parses a whole file (or a raw-REPL/paste-mode chunk). Throws ParseError.
Block parse_module(std::string_view source);

// True when the friendly REPL should ask for a continuation line (MicroPython's
// mp_repl_continue_with_input: open brackets or triple quotes, a trailing backslash, or a compound statement
// whose last line is not empty).
bool repl_needs_more(std::string_view input);

}  // namespace bootrig::sim::py
