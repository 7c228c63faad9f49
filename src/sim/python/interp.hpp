// The simulator's small Python interpreter: enough of MicroPython for boot-mode checks, never a crash or a
// hang.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/python/ast.hpp"
#include "sim/python/value.hpp"

namespace bootrig::sim::py {

// Which MicroPython the messages imitate: Pycom's 1.11 base or current upstream.
enum class Dialect : std::uint8_t { pycom, upstream };

// What the interpreter needs from the chip around it.
struct Hooks {
  // Program output, as the program wrote it ('\n' line ends; the caller cooks them for the UART).
  std::function<void(std::string_view)> write;
  // Called before every statement and loop iteration: raises KeyboardInterrupt (a PyException) when Ctrl-C
  // arrived, or unwinds a chip reset (any other C++ exception).
  std::function<void()> check;
  // Execution time of the work just done, in microseconds of a real ESP32, so that busy loops take real
  // time instead of a host core.
  std::function<void(std::int64_t us)> spend;
  // `while True: pass`: blocks until interrupted; never returns normally.
  std::function<void(int line)> hang;
  // Source of a user module (`import foo` looks for /flash/foo.py, /flash/lib/foo.py), or nullopt.
  std::function<std::optional<std::string>(const std::string& module)> module_source;
};

class Interp;
using ModuleFactory = std::function<std::shared_ptr<ModuleObj>(Interp&)>;

class Interp {
 public:
  Interp(Dialect dialect, Hooks hooks);
  ~Interp();
  Interp(const Interp&) = delete;
  Interp& operator=(const Interp&) = delete;

  // Forgets every name and imported module: what a soft reset does to the interpreter.
  void reset();
  // Names the interpreter currently holds at module level (for tests and rule checks).
  std::size_t global_count() const { return globals_.size(); }
  bool has_global(const std::string& name) const { return globals_.count(name) != 0; }

  // Native modules are built on first import after each reset.
  void add_native_module(const std::string& name, ModuleFactory factory);
  void set_builtin(const std::string& name, Value v);

  // Runs source text. `single`: the friendly REPL's mode, where a top-level expression statement prints its
  // repr. Throws PyException for any uncaught Python exception, SyntaxError included.
  void exec(std::string_view source, const std::string& file, bool single);
  // The builtin exec(source): runs in the module's globals from inside running code, keeping the caller's
  // recursion depth (MicroPython's exec with no dictionaries).
  void exec_nested(std::string_view source);

  // "Traceback (most recent call last):\n  File ..., line N, in <module>\nType: message\n"
  std::string format_exception(const ExcObj& e) const;
  // True when the exception is of this type or a subclass.
  bool is_instance(const ExcObj& e, const std::string& type) const;

  // ---- for native code ----
  Dialect dialect() const { return dialect_; }
  const Hooks& hooks() const { return hooks_; }
  std::shared_ptr<ExcTypeObj> exc_type(const std::string& name) const;
  PyException make_error(const std::string& type, const std::string& msg) const;
  PyException make_error(const std::string& type, std::vector<Value> args) const;
  [[noreturn]] void raise(const std::string& type, const std::string& msg) const;
  // OSError(errno): prints as "[Errno 2] ENOENT".
  [[noreturn]] void raise_errno(int err) const;

  std::string repr(const Value& v) const;
  // What str() of an exception gives: its message, or "[Errno 2] ENOENT" for OSError(2).
  std::string exc_text(const ExcObj& e) const;
  std::string to_str(const Value& v) const;
  bool truthy(const Value& v) const;
  bool equal(const Value& a, const Value& b) const;
  Value call(const Value& fn, Args& args);
  Value get_attr(const Value& obj, const std::string& name);
  // Iterates any iterable; the callback returns false to stop early.
  void for_each(const Value& iterable, const std::function<bool(const Value&)>& fn);
  std::vector<Value> to_vector(const Value& iterable);
  std::string type_name(const Value& v) const;

  // Argument helpers for native functions: TypeError with MicroPython's wording when they do not fit.
  void check_args(const Args& a, std::size_t min, std::size_t max, const std::string& fn) const;
  std::int64_t as_int(const Value& v) const;
  double as_number(const Value& v) const;
  const std::string& as_text(const Value& v) const;    // str only
  const std::string& as_buffer(const Value& v) const;  // bytes, bytearray or str
  Value make_fn(const std::string& name, NativeFn fn) const;

 private:
  struct Frame;
  enum class Flow : std::uint8_t { normal, brk, cont, ret };

  Flow exec_block(const Block& b, Frame& f);
  Flow exec_stmt(const Stmt& s, Frame& f);
  Flow exec_stmt_inner(const Stmt& s, Frame& f);
  Value eval(const Expr& e, Frame& f);
  Value eval_call(const Expr& e, Frame& f);
  Value binop(const std::string& op, const Value& a, const Value& b);
  bool compare(const std::string& op, const Value& a, const Value& b);
  Value subscript(const Value& obj, const Value& index);
  void assign(const Expr& target, const Value& v, Frame& f);
  void store_subscript(const Value& obj, const Value& index, const Value& v);
  Value lookup(const std::string& name, Frame& f, int line);
  Value import_module(const std::string& name);
  Value call_function(const Value& fn, Args& args);
  Value method(const Value& self, const std::string& name);
  Value percent_format(const std::string& fmt, const Value& args);
  Value str_format(const std::string& fmt, Args& args);
  void record_traceback(PyException& e, Frame& f, int line) const;
  PyException syntax_error(const std::string& file, int line, const std::string& type,
                           const std::string& msg) const;
  void install_builtins();

  Dialect dialect_;
  Hooks hooks_;
  std::map<std::string, Value> builtins_;
  std::map<std::string, Value> globals_;
  std::map<std::string, Value> modules_;  // imported since the last reset
  std::map<std::string, ModuleFactory> native_modules_;
  std::map<std::string, std::shared_ptr<ExcTypeObj>> exc_types_;
  // Parsed code stays alive as long as functions defined in it may be called.
  std::vector<std::shared_ptr<Block>> code_;
  int depth_ = 0;
  mutable int compare_depth_ = 0;  // nesting of == and < on containers
};

// Formats a float the way MicroPython's single-precision ports print it (7 significant digits).
std::string format_float(double v);
// repr() of a str / bytes value.
std::string repr_str(const std::string& s);
std::string repr_bytes(const std::string& s);

}  // namespace bootrig::sim::py
