// The tree-walking evaluator: statements, expressions, names, calls, imports and MicroPython-style errors.
#include "sim/python/interp.hpp"

#include <cmath>
#include <cstdint>
#include <set>

#include "sim/python/parser.hpp"

namespace bootrig::sim::py {

namespace {

// What a statement costs on a real ESP32 running MicroPython (a few bytecodes at ~1-2 us each). Loops
// therefore take about as long as on the module, and an endless loop does not eat a host core.
constexpr std::int64_t kStatementCostUs = 8;
constexpr int kMaxDepth = 60;

struct FunctionObj : Obj {
  FunctionObj() : Obj(Kind::function) {}
  std::string name;
  const Stmt* def = nullptr;
  std::vector<Value> defaults;  // one per parameter; null where there is none
  std::map<std::string, Value>* globals = nullptr;
  std::shared_ptr<ModuleObj> module;  // keeps a user module's globals alive
  std::shared_ptr<Block> code;        // keeps the syntax tree alive
  std::string file;
};

bool contains_def(const Block& b) {
  for (const auto& s : b) {
    if (s->kind == StmtKind::def) return true;
    if (contains_def(s->body) || contains_def(s->orelse) || contains_def(s->finalbody)) return true;
    for (const auto& h : s->handlers)
      if (contains_def(h.body)) return true;
  }
  return false;
}

bool add_overflows(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_add_overflow(a, b, r);
}
bool sub_overflows(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_sub_overflow(a, b, r);
}
bool mul_overflows(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_mul_overflow(a, b, r);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  std::int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

struct Interp::Frame {
  std::map<std::string, Value>* globals = nullptr;
  std::map<std::string, Value>* locals = nullptr;  // null at module level
  std::set<std::string> declared_global;
  std::string file;
  std::string block;
  Value ret;
  bool single = false;
  std::shared_ptr<Block> code;
  std::shared_ptr<ModuleObj> module;
  std::vector<std::shared_ptr<ExcObj>> handling;  // exceptions whose handlers are running (bare `raise`)
};

Interp::Interp(Dialect dialect, Hooks hooks) : dialect_(dialect), hooks_(std::move(hooks)) {
  if (!hooks_.write) hooks_.write = [](std::string_view) {};
  if (!hooks_.check) hooks_.check = [] {};
  if (!hooks_.spend) hooks_.spend = [](std::int64_t) {};
  if (!hooks_.hang) hooks_.hang = [this](int) { raise("RuntimeError", "hang without a host"); };
  if (!hooks_.module_source) hooks_.module_source = [](const std::string&) { return std::nullopt; };

  auto add = [this](const std::string& name, const std::string& base) {
    exc_types_[name] = std::make_shared<ExcTypeObj>(name, base.empty() ? nullptr : exc_types_.at(base));
  };
  add("BaseException", "");
  add("Exception", "BaseException");
  add("KeyboardInterrupt", "BaseException");
  add("SystemExit", "BaseException");
  add("GeneratorExit", "BaseException");
  add("ArithmeticError", "Exception");
  add("ZeroDivisionError", "ArithmeticError");
  add("OverflowError", "ArithmeticError");
  add("AssertionError", "Exception");
  add("AttributeError", "Exception");
  add("EOFError", "Exception");
  add("ImportError", "Exception");
  add("LookupError", "Exception");
  add("IndexError", "LookupError");
  add("KeyError", "LookupError");
  add("MemoryError", "Exception");
  add("NameError", "Exception");
  add("OSError", "Exception");
  add("RuntimeError", "Exception");
  add("NotImplementedError", "RuntimeError");
  add("StopIteration", "Exception");
  add("SyntaxError", "Exception");
  add("IndentationError", "SyntaxError");
  add("TypeError", "Exception");
  add("ValueError", "Exception");
  add("UnicodeError", "ValueError");
  for (const auto& [name, t] : exc_types_) builtins_[name] = t;
  install_builtins();
  reset();
}

// User modules and the functions they define refer to each other; reset() breaks those cycles.
Interp::~Interp() { reset(); }

void Interp::reset() {
  // Break the cycles between user modules and the functions they define before dropping them.
  for (auto& [name, m] : modules_)
    if (auto* mod = as<ModuleObj>(m)) mod->attrs.clear();
  modules_.clear();
  globals_.clear();
  code_.clear();
  globals_["__name__"] = str("__main__");
}

void Interp::add_native_module(const std::string& name, ModuleFactory factory) {
  native_modules_[name] = std::move(factory);
}

void Interp::set_builtin(const std::string& name, Value v) { builtins_[name] = std::move(v); }

std::shared_ptr<ExcTypeObj> Interp::exc_type(const std::string& name) const {
  auto it = exc_types_.find(name);
  return it == exc_types_.end() ? exc_types_.at("Exception") : it->second;
}

PyException Interp::make_error(const std::string& type, std::vector<Value> args) const {
  return PyException(std::make_shared<ExcObj>(exc_type(type), std::move(args)));
}

PyException Interp::make_error(const std::string& type, const std::string& msg) const {
  std::vector<Value> args;
  if (!msg.empty()) args.push_back(str(msg));
  return make_error(type, std::move(args));
}

void Interp::raise(const std::string& type, const std::string& msg) const { throw make_error(type, msg); }

void Interp::raise_errno(int err) const { throw make_error("OSError", std::vector<Value>{integer(err)}); }

bool Interp::is_instance(const ExcObj& e, const std::string& type) const {
  auto it = exc_types_.find(type);
  return it != exc_types_.end() && e.type->is_subclass_of(*it->second);
}

PyException Interp::syntax_error(const std::string& file, int line, const std::string& type,
                                 const std::string& msg) const {
  PyException e = make_error(type, msg);
  e.exc->traceback.push_back(TracebackEntry{file, line, ""});
  e.exc->syntax_error_frame = true;
  return e;
}

void Interp::exec_nested(std::string_view source) {
  int depth = depth_;
  struct Restore {
    Interp& in;
    int depth;
    ~Restore() { in.depth_ = depth; }
  } restore{*this, depth};
  exec(source, "<string>", false);
}

void Interp::exec(std::string_view source, const std::string& file, bool single) {
  Block parsed;
  try {
    parsed = parse_module(source);
  } catch (const ParseError& pe) {
    switch (pe.type) {
      case ParseError::Type::syntax:
        throw syntax_error(file, pe.line, "SyntaxError", pe.message);
      case ParseError::Type::indentation:
        throw syntax_error(file, pe.line, "IndentationError", pe.message);
      case ParseError::Type::unsupported: {
        PyException e = make_error("NotImplementedError", pe.message);
        e.exc->traceback.push_back(TracebackEntry{file, pe.line, "<module>"});
        throw e;
      }
    }
  }
  auto code = std::make_shared<Block>(std::move(parsed));
  if (contains_def(*code)) code_.push_back(code);
  Frame f;
  f.globals = &globals_;
  f.file = file;
  f.block = "<module>";
  f.single = single;
  f.code = code;
  depth_ = 0;
  exec_block(*code, f);
}

void Interp::record_traceback(PyException& e, Frame& f, int line) const {
  if (e.recorded_by == &f) return;
  e.recorded_by = &f;
  e.exc->traceback.push_back(TracebackEntry{f.file, line, f.block});
}

std::string Interp::format_exception(const ExcObj& e) const {
  std::string out;
  if (!e.traceback.empty()) {
    out += "Traceback (most recent call last):\n";
    for (auto it = e.traceback.rbegin(); it != e.traceback.rend(); ++it) {
      out += "  File \"" + it->file + "\", line " + std::to_string(it->line);
      out += it->block.empty() ? "\n" : ", in " + it->block + "\n";
    }
  }
  out += e.type->name + ": " + exc_text(e) + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Statements

Interp::Flow Interp::exec_block(const Block& b, Frame& f) {
  for (const auto& s : b) {
    Flow fl = exec_stmt(*s, f);
    if (fl != Flow::normal) return fl;
  }
  return Flow::normal;
}

Interp::Flow Interp::exec_stmt(const Stmt& s, Frame& f) {
  try {
    hooks_.check();
    hooks_.spend(kStatementCostUs);
    return exec_stmt_inner(s, f);
  } catch (PyException& e) {
    record_traceback(e, f, s.line);
    throw;
  }
}

Interp::Flow Interp::exec_stmt_inner(const Stmt& s, Frame& f) {
  switch (s.kind) {
    case StmtKind::expr: {
      Value v = eval(*s.expr, f);
      if (f.single && f.locals == nullptr && !is_none(v)) hooks_.write(repr(v) + "\n");
      return Flow::normal;
    }
    case StmtKind::assign: {
      Value v = eval(*s.expr, f);
      for (const auto& t : s.targets) assign(*t, v, f);
      return Flow::normal;
    }
    case StmtKind::augassign: {
      const Expr& t = *s.targets[0];
      if (t.kind == ExprKind::name) {
        Value cur = lookup(t.name, f, t.line);
        Value rhs = eval(*s.expr, f);
        Value r;
        auto* l = as<ListObj>(cur);
        if (l && s.op == "+") {  // list += extends in place, as in Python
          auto items = to_vector(rhs);
          l->items.insert(l->items.end(), items.begin(), items.end());
          r = cur;
        } else {
          r = binop(s.op, cur, rhs);
        }
        assign(t, r, f);
      } else if (t.kind == ExprKind::attribute) {
        Value obj = eval(*t.a, f);
        Value cur = get_attr(obj, t.name);
        Value r = binop(s.op, cur, eval(*s.expr, f));
        auto* ao = dynamic_cast<AttrObj*>(obj.get());
        if (!ao) raise("AttributeError", "'" + type_name(obj) + "' object has no attribute '" + t.name + "'");
        ao->attrs[t.name] = r;
      } else {
        Value obj = eval(*t.a, f);
        Value idx = eval(*t.b, f);
        Value r = binop(s.op, subscript(obj, idx), eval(*s.expr, f));
        store_subscript(obj, idx, r);
      }
      return Flow::normal;
    }
    case StmtKind::import: {
      for (const auto& in : s.names) {
        Value m = import_module(in.name);
        std::string bind = in.as.empty() ? in.name.substr(0, in.name.find('.')) : in.as;
        Expr target(ExprKind::name, s.line);
        target.name = bind;
        assign(target, m, f);
      }
      return Flow::normal;
    }
    case StmtKind::import_from: {
      Value m = import_module(s.op);
      if (s.names.size() == 1 && s.names[0].name == "*") {
        if (auto* mod = as<ModuleObj>(m)) {
          for (const auto& [k, v] : mod->attrs) {
            if (k.empty() || k[0] == '_') continue;
            Expr target(ExprKind::name, s.line);
            target.name = k;
            assign(target, v, f);
          }
        }
        return Flow::normal;
      }
      for (const auto& in : s.names) {
        Value v;
        try {
          v = get_attr(m, in.name);
        } catch (PyException&) {
          raise("ImportError", "cannot import name " + in.name);
        }
        Expr target(ExprKind::name, s.line);
        target.name = in.as.empty() ? in.name : in.as;
        assign(target, v, f);
      }
      return Flow::normal;
    }
    case StmtKind::if_:
      if (truthy(eval(*s.expr, f))) return exec_block(s.body, f);
      return exec_block(s.orelse, f);
    case StmtKind::while_: {
      // `while True: pass` is the documented way to hang a script; it blocks instead of spinning.
      if (s.body.size() == 1 && s.body[0]->kind == StmtKind::pass && s.expr->kind == ExprKind::constant &&
          truthy(s.expr->value)) {
        hooks_.hang(s.line);
        return Flow::normal;
      }
      for (;;) {
        hooks_.check();
        hooks_.spend(kStatementCostUs);
        if (!truthy(eval(*s.expr, f))) break;
        Flow fl = exec_block(s.body, f);
        if (fl == Flow::brk) return Flow::normal;
        if (fl == Flow::ret) return fl;
      }
      return exec_block(s.orelse, f);
    }
    case StmtKind::for_: {
      Value it = eval(*s.expr, f);
      Flow result = Flow::normal;
      bool broke = false;
      for_each(it, [&](const Value& v) {
        hooks_.check();
        hooks_.spend(kStatementCostUs);
        assign(*s.targets[0], v, f);
        Flow fl = exec_block(s.body, f);
        if (fl == Flow::brk) {
          broke = true;
          return false;
        }
        if (fl == Flow::ret) {
          result = fl;
          return false;
        }
        return true;
      });
      if (result == Flow::ret) return result;
      if (!broke) return exec_block(s.orelse, f);
      return Flow::normal;
    }
    case StmtKind::break_:
      return Flow::brk;
    case StmtKind::continue_:
      return Flow::cont;
    case StmtKind::pass:
      return Flow::normal;
    case StmtKind::return_:
      f.ret = s.expr ? eval(*s.expr, f) : none();
      return Flow::ret;
    case StmtKind::raise: {
      if (!s.expr) {
        if (f.handling.empty()) raise("RuntimeError", "No active exception to reraise");
        throw PyException(f.handling.back());
      }
      Value v = eval(*s.expr, f);
      if (v->kind == Kind::exc_type)
        throw PyException(
            std::make_shared<ExcObj>(std::static_pointer_cast<ExcTypeObj>(v), std::vector<Value>{}));
      if (v->kind == Kind::exception) {
        auto exc = std::static_pointer_cast<ExcObj>(v);
        exc->traceback.clear();
        throw PyException(exc);
      }
      raise("TypeError", "exceptions must derive from BaseException");
    }
    case StmtKind::try_: {
      Flow fl = Flow::normal;
      auto run_finally = [&]() -> Flow { return exec_block(s.finalbody, f); };
      try {
        fl = exec_block(s.body, f);
      } catch (PyException& e) {
        const Handler* match = nullptr;
        for (const auto& h : s.handlers) {
          if (!h.type) {
            match = &h;
            break;
          }
          Value tv = eval(*h.type, f);
          std::vector<Value> types;
          if (auto* tt = as<TupleObj>(tv))
            types = tt->items;
          else
            types.push_back(tv);
          for (const auto& t : types) {
            auto* et = as<ExcTypeObj>(t);
            if (!et)
              raise("TypeError", "catching classes that do not inherit from BaseException is not allowed");
            if (e.exc->type->is_subclass_of(*et)) match = &h;
          }
          if (match) break;
        }
        if (!match) {
          Flow ff = run_finally();
          if (ff != Flow::normal) return ff;
          throw;
        }
        if (!match->name.empty()) {
          Expr target(ExprKind::name, match->line);
          target.name = match->name;
          assign(target, e.exc, f);
        }
        f.handling.push_back(e.exc);
        try {
          fl = exec_block(match->body, f);
        } catch (PyException&) {
          f.handling.pop_back();
          Flow ff = run_finally();
          if (ff != Flow::normal) return ff;
          throw;
        } catch (...) {
          f.handling.pop_back();
          throw;
        }
        f.handling.pop_back();
        Flow ff = run_finally();
        return ff != Flow::normal ? ff : fl;
      }
      if (fl == Flow::normal) {
        try {
          fl = exec_block(s.orelse, f);
        } catch (PyException&) {
          Flow ff = run_finally();
          if (ff != Flow::normal) return ff;
          throw;
        }
      }
      Flow ff = run_finally();
      return ff != Flow::normal ? ff : fl;
    }
    case StmtKind::with: {
      Value ctx = eval(*s.expr, f);
      Value entered = ctx;
      auto* ao = dynamic_cast<AttrObj*>(ctx.get());
      if (!ao || !ao->attrs.count("__exit__"))
        raise("AttributeError", "'" + type_name(ctx) + "' object has no attribute '__exit__'");
      if (ao->attrs.count("__enter__")) {
        Args a;
        entered = call(ao->attrs["__enter__"], a);
      }
      if (!s.op.empty()) {
        Expr target(ExprKind::name, s.line);
        target.name = s.op;
        assign(target, entered, f);
      }
      Flow fl;
      try {
        fl = exec_block(s.body, f);
      } catch (PyException&) {
        Args a;
        call(ao->attrs["__exit__"], a);
        throw;
      }
      Args a;
      call(ao->attrs["__exit__"], a);
      return fl;
    }
    case StmtKind::def: {
      auto fn = std::make_shared<FunctionObj>();
      fn->name = s.op;
      fn->def = &s;
      fn->globals = f.globals;
      fn->module = f.module;
      fn->code = f.code;
      fn->file = f.file;
      for (const auto& p : s.params)
        fn->defaults.push_back(p.default_value ? eval(*p.default_value, f) : nullptr);
      Expr target(ExprKind::name, s.line);
      target.name = s.op;
      assign(target, fn, f);
      return Flow::normal;
    }
    case StmtKind::global:
      for (const auto& n : s.names) f.declared_global.insert(n.name);
      return Flow::normal;
    case StmtKind::del: {
      for (const auto& t : s.targets) {
        if (t->kind == ExprKind::name) {
          auto* scope = (f.locals && !f.declared_global.count(t->name)) ? f.locals : f.globals;
          if (!scope->erase(t->name)) {
            raise("NameError", dialect_ == Dialect::pycom ? "name '" + t->name + "' is not defined"
                                                          : "name '" + t->name + "' isn't defined");
          }
        } else if (t->kind == ExprKind::subscript) {
          Value obj = eval(*t->a, f);
          Value idx = eval(*t->b, f);
          if (auto* d = as<DictObj>(obj)) {
            bool found = false;
            for (auto it = d->items.begin(); it != d->items.end(); ++it)
              if (equal(it->first, idx)) {
                d->items.erase(it);
                found = true;
                break;
              }
            if (!found) throw make_error("KeyError", std::vector<Value>{idx});
          } else if (auto* l = as<ListObj>(obj)) {
            std::int64_t i = as_int(idx);
            auto n = static_cast<std::int64_t>(l->items.size());
            if (i < 0) i += n;
            if (i < 0 || i >= n) raise("IndexError", "list index out of range");
            l->items.erase(l->items.begin() + i);
          } else {
            raise("TypeError", "'" + type_name(obj) + "' object doesn't support item deletion");
          }
        } else if (t->kind == ExprKind::attribute) {
          Value obj = eval(*t->a, f);
          auto* ao = dynamic_cast<AttrObj*>(obj.get());
          if (!ao || !ao->attrs.erase(t->name))
            raise("AttributeError", "'" + type_name(obj) + "' object has no attribute '" + t->name + "'");
        } else {
          raise("NotImplementedError", "this 'del' is not supported by the bootrig simulator");
        }
      }
      return Flow::normal;
    }
    case StmtKind::assert_:
      if (!truthy(eval(*s.expr, f))) {
        if (s.msg) throw make_error("AssertionError", std::vector<Value>{eval(*s.msg, f)});
        raise("AssertionError", "");
      }
      return Flow::normal;
  }
  return Flow::normal;
}

void Interp::assign(const Expr& t, const Value& v, Frame& f) {
  switch (t.kind) {
    case ExprKind::name:
      if (f.locals && !f.declared_global.count(t.name))
        (*f.locals)[t.name] = v;
      else
        (*f.globals)[t.name] = v;
      return;
    case ExprKind::attribute: {
      Value obj = eval(*t.a, f);
      auto* ao = dynamic_cast<AttrObj*>(obj.get());
      if (!ao) raise("AttributeError", "'" + type_name(obj) + "' object has no attribute '" + t.name + "'");
      ao->attrs[t.name] = v;
      return;
    }
    case ExprKind::subscript: {
      Value obj = eval(*t.a, f);
      Value idx = eval(*t.b, f);
      store_subscript(obj, idx, v);
      return;
    }
    case ExprKind::tuple:
    case ExprKind::list: {
      auto items = to_vector(v);
      if (items.size() != t.items.size()) {
        if (items.size() > t.items.size())
          raise("ValueError", "too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
        raise("ValueError", "need more than " + std::to_string(items.size()) + " values to unpack");
      }
      for (std::size_t i = 0; i < items.size(); ++i) assign(*t.items[i], items[i], f);
      return;
    }
    default:
      raise("SyntaxError", "can't assign to expression");
  }
}

Value Interp::lookup(const std::string& name, Frame& f, int line) {
  (void)line;
  if (f.locals && !f.declared_global.count(name)) {
    auto it = f.locals->find(name);
    if (it != f.locals->end()) return it->second;
  }
  auto g = f.globals->find(name);
  if (g != f.globals->end()) return g->second;
  auto b = builtins_.find(name);
  if (b != builtins_.end()) return b->second;
  raise("NameError", dialect_ == Dialect::pycom ? "name '" + name + "' is not defined"
                                                : "name '" + name + "' isn't defined");
}

Value Interp::import_module(const std::string& dotted) {
  auto cached = modules_.find(dotted);
  if (cached != modules_.end()) return cached->second;
  // MicroPython aliases: `uos` is `os`, `utime` is `time`, and the other way round.
  std::string name = dotted;
  auto native = native_modules_.find(name);
  if (native == native_modules_.end() && name.size() > 1 && name[0] == 'u')
    native = native_modules_.find(name.substr(1));
  if (native == native_modules_.end()) native = native_modules_.find("u" + name);
  if (native != native_modules_.end()) {
    auto m = native->second(*this);
    modules_[dotted] = m;
    return m;
  }
  if (dotted.find('.') == std::string::npos) {
    if (auto src = hooks_.module_source(dotted)) {
      auto m = std::make_shared<ModuleObj>(dotted);
      m->attrs["__name__"] = str(dotted);
      modules_[dotted] = m;
      Block parsed;
      std::string file = dotted + ".py";
      try {
        parsed = parse_module(*src);
      } catch (const ParseError& pe) {
        modules_.erase(dotted);
        throw syntax_error(file, pe.line,
                           pe.type == ParseError::Type::indentation ? "IndentationError" : "SyntaxError",
                           pe.message);
      }
      auto code = std::make_shared<Block>(std::move(parsed));
      code_.push_back(code);
      Frame mf;
      mf.globals = &m->attrs;
      mf.file = file;
      mf.block = "<module>";
      mf.code = code;
      mf.module = m;
      if (++depth_ > kMaxDepth) {
        --depth_;
        raise("RuntimeError", "maximum recursion depth exceeded");
      }
      try {
        exec_block(*code, mf);
      } catch (...) {
        --depth_;
        modules_.erase(dotted);
        throw;
      }
      --depth_;
      return m;
    }
  }
  raise("ImportError", "no module named '" + dotted + "'");
}

// ---------------------------------------------------------------------------------------------------
// Expressions

Value Interp::eval(const Expr& e, Frame& f) {
  switch (e.kind) {
    case ExprKind::constant:
      return e.value;
    case ExprKind::name:
      return lookup(e.name, f, e.line);
    case ExprKind::attribute:
      return get_attr(eval(*e.a, f), e.name);
    case ExprKind::call:
      return eval_call(e, f);
    case ExprKind::binop: {
      Value a = eval(*e.a, f);
      Value b = eval(*e.b, f);
      return binop(e.name, a, b);
    }
    case ExprKind::unary: {
      Value a = eval(*e.a, f);
      if (e.name == "not") return boolean(!truthy(a));
      if (auto* i = as<IntObj>(a)) {
        if (e.name == "-") {
          if (i->value == INT64_MIN) raise("OverflowError", "small int overflow");
          return integer(-i->value);
        }
        if (e.name == "+") return a;
        return integer(~i->value);
      }
      if (auto* b = as<BoolObj>(a)) {
        std::int64_t v = b->value ? 1 : 0;
        return integer(e.name == "-" ? -v : e.name == "+" ? v : ~v);
      }
      if (auto* fl = as<FloatObj>(a)) {
        if (e.name == "-") return floating(-fl->value);
        if (e.name == "+") return a;
      }
      raise("TypeError", "unsupported type for __" +
                             std::string(e.name == "-"   ? "neg"
                                         : e.name == "+" ? "pos"
                                                         : "invert") +
                             "__: '" + type_name(a) + "'");
    }
    case ExprKind::boolop: {
      Value a = eval(*e.a, f);
      if (e.name == "and") return truthy(a) ? eval(*e.b, f) : a;
      return truthy(a) ? a : eval(*e.b, f);
    }
    case ExprKind::compare: {
      Value left = eval(*e.items[0], f);
      for (std::size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.items[i + 1], f);
        if (!compare(e.ops[i], left, right)) return boolean(false);
        left = right;
      }
      return boolean(true);
    }
    case ExprKind::subscript: {
      Value obj = eval(*e.a, f);
      Value idx = eval(*e.b, f);
      return subscript(obj, idx);
    }
    case ExprKind::slice: {
      // A slice object, only ever consumed by subscript().
      std::vector<Value> parts{e.a ? eval(*e.a, f) : none(), e.b ? eval(*e.b, f) : none(),
                               e.c ? eval(*e.c, f) : none()};
      return std::make_shared<TupleObj>(std::move(parts), std::vector<std::string>{"<slice>"});
    }
    case ExprKind::tuple: {
      std::vector<Value> v;
      for (const auto& x : e.items) v.push_back(eval(*x, f));
      return tuple(std::move(v));
    }
    case ExprKind::list: {
      std::vector<Value> v;
      for (const auto& x : e.items) v.push_back(eval(*x, f));
      return list(std::move(v));
    }
    case ExprKind::dict: {
      auto d = std::make_shared<DictObj>();
      for (std::size_t i = 0; i < e.items.size(); ++i) {
        Value k = eval(*e.items[i], f);
        Value v = eval(*e.values[i], f);
        bool replaced = false;
        for (auto& kv : d->items)
          if (equal(kv.first, k)) {
            kv.second = v;
            replaced = true;
          }
        if (!replaced) d->items.emplace_back(k, v);
      }
      return d;
    }
    case ExprKind::ifexp:
      return truthy(eval(*e.b, f)) ? eval(*e.a, f) : eval(*e.c, f);
    case ExprKind::listcomp: {
      auto out = std::make_shared<ListObj>();
      Value it = eval(*e.c, f);
      for_each(it, [&](const Value& v) {
        hooks_.check();
        hooks_.spend(kStatementCostUs);
        assign(*e.b, v, f);
        for (const auto& cond : e.items)
          if (!truthy(eval(*cond, f))) return true;
        out->items.push_back(eval(*e.a, f));
        return true;
      });
      return out;
    }
  }
  raise("RuntimeError", "bad expression");
}

Value Interp::eval_call(const Expr& e, Frame& f) {
  Value fn = eval(*e.a, f);
  Args args;
  for (const auto& x : e.items) args.pos.push_back(eval(*x, f));
  for (std::size_t i = 0; i < e.kwnames.size(); ++i)
    args.kw.emplace_back(e.kwnames[i], eval(*e.values[i], f));
  return call(fn, args);
}

Value Interp::call(const Value& fn, Args& args) {
  switch (fn->kind) {
    case Kind::builtin:
      return static_cast<BuiltinObj&>(*fn).fn(*this, args);
    case Kind::function:
      return call_function(fn, args);
    case Kind::exc_type: {
      if (!args.kw.empty()) raise("TypeError", "function doesn't take keyword arguments");
      return std::make_shared<ExcObj>(std::static_pointer_cast<ExcTypeObj>(fn), args.pos);
    }
    default:
      if (auto* ao = dynamic_cast<AttrObj*>(fn.get())) {
        auto it = ao->attrs.find("__call__");
        if (it != ao->attrs.end()) return call(it->second, args);
      }
      raise("TypeError", "'" + type_name(fn) + "' object isn't callable");
  }
}

Value Interp::call_function(const Value& fnv, Args& args) {
  auto& fn = static_cast<FunctionObj&>(*fnv);
  const auto& params = fn.def->params;
  std::map<std::string, Value> locals;
  if (args.pos.size() > params.size())
    raise("TypeError", "function takes " + std::to_string(params.size()) + " positional arguments but " +
                           std::to_string(args.pos.size()) + " were given");
  for (std::size_t i = 0; i < args.pos.size(); ++i) locals[params[i].name] = args.pos[i];
  for (const auto& [k, v] : args.kw) {
    bool known = false;
    for (const auto& p : params)
      if (p.name == k) known = true;
    if (!known) raise("TypeError", "unexpected keyword argument '" + k + "'");
    if (locals.count(k)) raise("TypeError", "function got multiple values for argument '" + k + "'");
    locals[k] = v;
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (locals.count(params[i].name)) continue;
    if (!fn.defaults[i])
      raise("TypeError", "function missing required positional argument #" + std::to_string(i + 1));
    locals[params[i].name] = fn.defaults[i];
  }
  if (++depth_ > kMaxDepth) {
    --depth_;
    raise("RuntimeError", "maximum recursion depth exceeded");
  }
  Frame frame;
  frame.globals = fn.globals;
  frame.locals = &locals;
  frame.file = fn.file;
  frame.block = fn.name;
  frame.code = fn.code;
  frame.module = fn.module;
  // Names assigned anywhere in the body are local unless declared global, as in Python; this simulator
  // resolves them dynamically instead, which differs only for code that reads a global before shadowing it.
  Flow fl;
  try {
    fl = exec_block(fn.def->body, frame);
  } catch (...) {
    --depth_;
    throw;
  }
  --depth_;
  if (fl == Flow::ret && frame.ret) return frame.ret;
  return none();
}

// ---------------------------------------------------------------------------------------------------
// Operators

Value Interp::binop(const std::string& op, const Value& a, const Value& b) {
  auto num = [](const Value& v, std::int64_t* i, double* d) -> int {  // 0 not a number, 1 int, 2 float
    if (auto* x = as<IntObj>(v)) return *i = x->value, 1;
    if (auto* x = as<BoolObj>(v)) return *i = x->value ? 1 : 0, 1;
    if (auto* x = as<FloatObj>(v)) return *d = x->value, 2;
    return 0;
  };
  std::int64_t ia = 0, ib = 0;
  double da = 0, db = 0;
  int ka = num(a, &ia, &da), kb = num(b, &ib, &db);
  if (ka == 1 && kb == 1) {
    std::int64_t r = 0;
    if (op == "+") {
      if (add_overflows(ia, ib, &r)) raise("OverflowError", "small int overflow");
      return integer(r);
    }
    if (op == "-") {
      if (sub_overflows(ia, ib, &r)) raise("OverflowError", "small int overflow");
      return integer(r);
    }
    if (op == "*") {
      if (mul_overflows(ia, ib, &r)) raise("OverflowError", "small int overflow");
      return integer(r);
    }
    if (op == "/") {
      if (ib == 0) raise("ZeroDivisionError", "division by zero");
      return floating(static_cast<double>(ia) / static_cast<double>(ib));
    }
    if (op == "//" || op == "%") {
      if (ib == 0) raise("ZeroDivisionError", "division by zero");
      if (ia == INT64_MIN && ib == -1) raise("OverflowError", "small int overflow");
      return integer(op == "//" ? floor_div(ia, ib) : floor_mod(ia, ib));
    }
    if (op == "**") {
      if (ib < 0) return floating(std::pow(static_cast<double>(ia), static_cast<double>(ib)));
      std::int64_t result = 1, base = ia;
      for (std::int64_t e = ib; e > 0; e >>= 1) {
        if (e & 1)
          if (mul_overflows(result, base, &result)) raise("OverflowError", "small int overflow");
        if (e > 1 && mul_overflows(base, base, &base)) raise("OverflowError", "small int overflow");
      }
      return integer(result);
    }
    if (op == "&") return integer(ia & ib);
    if (op == "|") return integer(ia | ib);
    if (op == "^") return integer(ia ^ ib);
    if (op == "<<" || op == ">>") {
      if (ib < 0) raise("ValueError", "negative shift count");
      if (op == ">>") return integer(ib >= 64 ? (ia < 0 ? -1 : 0) : ia >> ib);
      if (ib >= 63 || (ia != 0 && (ia > (INT64_MAX >> ib) || ia < (INT64_MIN >> ib))))
        raise("OverflowError", "small int overflow");
      return integer(static_cast<std::int64_t>(static_cast<std::uint64_t>(ia) << ib));
    }
  }
  if (ka && kb) {
    double x = ka == 1 ? static_cast<double>(ia) : da;
    double y = kb == 1 ? static_cast<double>(ib) : db;
    if (op == "+") return floating(x + y);
    if (op == "-") return floating(x - y);
    if (op == "*") return floating(x * y);
    if (op == "/") {
      if (y == 0) raise("ZeroDivisionError", "divide by zero");
      return floating(x / y);
    }
    if (op == "//") {
      if (y == 0) raise("ZeroDivisionError", "divide by zero");
      return floating(std::floor(x / y));
    }
    if (op == "%") {
      if (y == 0) raise("ZeroDivisionError", "divide by zero");
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return floating(m);
    }
    if (op == "**") return floating(std::pow(x, y));
  }
  auto repeat = [&](const std::string& s, std::int64_t n) {
    if (n <= 0) return std::string();
    if (static_cast<double>(s.size()) * static_cast<double>(n) > 1e7)
      raise("MemoryError", "memory allocation failed");
    std::string out;
    for (std::int64_t k = 0; k < n; ++k) out += s;
    return out;
  };
  auto* sa = as<StrObj>(a);
  auto* sb = as<StrObj>(b);
  if (sa && sb && op == "+") return str(sa->value + sb->value);
  if (sa && op == "%") return percent_format(sa->value, b);
  if (sa && kb == 1 && op == "*") return str(repeat(sa->value, ib));
  if (sb && ka == 1 && op == "*") return str(repeat(sb->value, ia));
  auto* ba = as<BytesObj>(a);
  auto* bb = as<BytesObj>(b);
  if (ba && bb && op == "+") return std::make_shared<BytesObj>(ba->value + bb->value, ba->is_bytearray);
  if (ba && kb == 1 && op == "*") return bytes(repeat(ba->value, ib));
  auto seq = [&](const Value& v) -> const std::vector<Value>* {
    if (auto* l = as<ListObj>(v)) return &l->items;
    if (auto* t = as<TupleObj>(v)) return &t->items;
    return nullptr;
  };
  if (op == "+" && a->kind == b->kind && (a->kind == Kind::list || a->kind == Kind::tuple)) {
    std::vector<Value> out = *seq(a);
    out.insert(out.end(), seq(b)->begin(), seq(b)->end());
    return a->kind == Kind::list ? list(std::move(out)) : tuple(std::move(out));
  }
  if (op == "*" && (a->kind == Kind::list || a->kind == Kind::tuple) && kb == 1) {
    if (static_cast<double>(seq(a)->size()) * static_cast<double>(ib) > 1e6)
      raise("MemoryError", "memory allocation failed");
    std::vector<Value> out;
    for (std::int64_t k = 0; k < ib; ++k) out.insert(out.end(), seq(a)->begin(), seq(a)->end());
    return a->kind == Kind::list ? list(std::move(out)) : tuple(std::move(out));
  }
  static const std::map<std::string, std::string> names = {
      {"+", "__add__"},       {"-", "__sub__"}, {"*", "__mul__"},     {"/", "__truediv__"},
      {"//", "__floordiv__"}, {"%", "__mod__"}, {"**", "__pow__"},    {"&", "__and__"},
      {"|", "__or__"},        {"^", "__xor__"}, {"<<", "__lshift__"}, {">>", "__rshift__"}};
  auto it = names.find(op);
  raise("TypeError", "unsupported types for " + (it == names.end() ? op : it->second) + ": '" + type_name(a) +
                         "', '" + type_name(b) + "'");
}

bool Interp::compare(const std::string& op, const Value& a, const Value& b) {
  if (++compare_depth_ > 200) {
    compare_depth_ = 0;
    raise("RuntimeError", "maximum recursion depth exceeded");
  }
  struct Leave {
    int& d;
    ~Leave() {
      if (d > 0) --d;
    }
  } leave{compare_depth_};
  if (op == "is") return a.get() == b.get() || (is_none(a) && is_none(b));
  if (op == "is not") return !compare("is", a, b);
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in" || op == "not in") {
    bool found = false;
    if (auto* s = as<StrObj>(b)) {
      auto* needle = as<StrObj>(a);
      if (!needle) raise("TypeError", "can't convert '" + type_name(a) + "' object to str implicitly");
      found = s->value.find(needle->value) != std::string::npos;
    } else if (auto* bs = as<BytesObj>(b)) {
      if (auto* n = as<BytesObj>(a))
        found = bs->value.find(n->value) != std::string::npos;
      else {
        std::int64_t c = as_int(a);
        found = c >= 0 && c < 256 && bs->value.find(static_cast<char>(c)) != std::string::npos;
      }
    } else if (auto* d = as<DictObj>(b)) {
      for (const auto& kv : d->items)
        if (equal(kv.first, a)) found = true;
    } else {
      for_each(b, [&](const Value& v) {
        if (equal(v, a)) {
          found = true;
          return false;
        }
        return true;
      });
    }
    return op == "in" ? found : !found;
  }
  auto num = [](const Value& v, double* d) {
    if (auto* x = as<IntObj>(v)) return *d = static_cast<double>(x->value), true;
    if (auto* x = as<BoolObj>(v)) return *d = x->value ? 1.0 : 0.0, true;
    if (auto* x = as<FloatObj>(v)) return *d = x->value, true;
    return false;
  };
  int c = 0;
  double x, y;
  auto* ia = as<IntObj>(a);
  auto* ib = as<IntObj>(b);
  if (ia && ib) {
    c = ia->value < ib->value ? -1 : ia->value > ib->value ? 1 : 0;
  } else if (num(a, &x) && num(b, &y)) {
    c = x < y ? -1 : x > y ? 1 : 0;
  } else if (as<StrObj>(a) && as<StrObj>(b)) {
    c = as<StrObj>(a)->value.compare(as<StrObj>(b)->value);
  } else if (as<BytesObj>(a) && as<BytesObj>(b)) {
    c = as<BytesObj>(a)->value.compare(as<BytesObj>(b)->value);
  } else if ((a->kind == Kind::list || a->kind == Kind::tuple) && a->kind == b->kind) {
    auto va = to_vector(a), vb = to_vector(b);
    std::size_t i = 0;
    while (i < va.size() && i < vb.size() && equal(va[i], vb[i])) ++i;
    if (i < va.size() && i < vb.size()) return compare(op, va[i], vb[i]);
    c = va.size() < vb.size() ? -1 : va.size() > vb.size() ? 1 : 0;
  } else {
    static const std::map<std::string, std::string> names = {
        {"<", "__lt__"}, {">", "__gt__"}, {"<=", "__le__"}, {">=", "__ge__"}};
    raise("TypeError",
          "unsupported types for " + names.at(op) + ": '" + type_name(a) + "', '" + type_name(b) + "'");
  }
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  return c >= 0;
}

bool Interp::equal(const Value& a, const Value& b) const {
  if (a.get() == b.get()) return true;
  if (++compare_depth_ > 200) {
    compare_depth_ = 0;
    raise("RuntimeError", "maximum recursion depth exceeded");
  }
  struct Leave {
    int& d;
    ~Leave() {
      if (d > 0) --d;
    }
  } leave{compare_depth_};
  auto num = [](const Value& v, double* d, std::int64_t* i) -> int {
    if (auto* x = as<IntObj>(v)) return *i = x->value, *d = static_cast<double>(x->value), 1;
    if (auto* x = as<BoolObj>(v)) return *i = x->value, *d = x->value, 1;
    if (auto* x = as<FloatObj>(v)) return *d = x->value, 2;
    return 0;
  };
  double x = 0, y = 0;
  std::int64_t i = 0, j = 0;
  int ka = num(a, &x, &i), kb = num(b, &y, &j);
  if (ka == 1 && kb == 1) return i == j;
  if (ka && kb) return x == y;
  if (a->kind != b->kind) return false;
  switch (a->kind) {
    case Kind::none:
      return true;
    case Kind::str:
      return as<StrObj>(a)->value == as<StrObj>(b)->value;
    case Kind::bytes:
      return as<BytesObj>(a)->value == as<BytesObj>(b)->value;
    case Kind::tuple:
    case Kind::list: {
      const auto& va = a->kind == Kind::list ? as<ListObj>(a)->items : as<TupleObj>(a)->items;
      const auto& vb = b->kind == Kind::list ? as<ListObj>(b)->items : as<TupleObj>(b)->items;
      if (va.size() != vb.size()) return false;
      for (std::size_t k = 0; k < va.size(); ++k)
        if (!equal(va[k], vb[k])) return false;
      return true;
    }
    case Kind::dict: {
      auto* da = as<DictObj>(a);
      auto* db = as<DictObj>(b);
      if (da->items.size() != db->items.size()) return false;
      for (const auto& [k, v] : da->items) {
        bool ok = false;
        for (const auto& [k2, v2] : db->items)
          if (equal(k, k2) && equal(v, v2)) ok = true;
        if (!ok) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace bootrig::sim::py
