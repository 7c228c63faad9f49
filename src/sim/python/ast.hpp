// Syntax tree of the simulator's small Python, produced by the parser and walked by the interpreter.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/python/value.hpp"

namespace bootrig::sim::py {

struct Expr;
struct Stmt;
using ExprP = std::unique_ptr<Expr>;
using StmtP = std::unique_ptr<Stmt>;
using Block = std::vector<StmtP>;

enum class ExprKind : std::uint8_t {
  constant,
  name,
  attribute,
  call,
  binop,
  unary,
  boolop,
  compare,
  subscript,
  slice,
  tuple,
  list,
  dict,
  ifexp,
  listcomp,
};

struct Expr {
  Expr(ExprKind k, int l) : kind(k), line(l) {}
  ExprKind kind;
  int line;
  // Fields used by the kinds (unused ones stay empty); a flat struct keeps the walker simple.
  Value value;                   // constant
  std::string name;              // name, attribute, binop/unary/boolop operator, compare unused
  std::vector<std::string> ops;  // compare operators
  ExprP a, b, c;  // operands: attribute(a), binop(a,b), ifexp(a if b else c), slice(a:b:c), subscript(a[b])
  std::vector<ExprP> items;          // call args, tuple/list elements, compare operands, dict keys
  std::vector<ExprP> values;         // dict values
  std::vector<std::string> kwnames;  // call: names of the trailing keyword arguments in `values`
  // listcomp: [a for targets(b) in c if items...]
};

enum class StmtKind : std::uint8_t {
  expr,
  assign,
  augassign,
  import,
  import_from,
  if_,
  while_,
  for_,
  break_,
  continue_,
  pass,
  raise,
  try_,
  with,
  def,
  return_,
  global,
  del,
  assert_,
};

struct Handler {
  ExprP type;        // null: bare except
  std::string name;  // `as NAME`
  Block body;
  int line = 0;
};

struct ImportName {
  std::string name;  // dotted module or attribute
  std::string as;
};

struct Param {
  std::string name;
  ExprP default_value;
};

struct Stmt {
  Stmt(StmtKind k, int l) : kind(k), line(l) {}
  StmtKind kind;
  int line;
  ExprP expr;  // expr, assign value, augassign value, if/while test, for iter, raise, with ctx, return
  std::vector<ExprP> targets;     // assign targets (chained), augassign target, for target, del targets
  std::string op;                 // augassign operator; with `as` name; def name; import_from module
  std::vector<ImportName> names;  // import, import_from, global
  Block body, orelse, finalbody;
  std::vector<Handler> handlers;
  std::vector<Param> params;
  ExprP msg;  // assert message
};

}  // namespace bootrig::sim::py
