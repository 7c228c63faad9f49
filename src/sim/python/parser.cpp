// Tokenizer and recursive-descent parser for the subset of Python the simulator understands.
#include "sim/python/parser.hpp"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

namespace bootrig::sim::py {

namespace {

enum class Tok : std::uint8_t { name, number, string, op, newline, indent, dedent, end };

struct Token {
  Tok type;
  std::string text;  // name, operator, or the literal's source
  Value value;       // number and string literals
  int line;
};

[[noreturn]] void syntax(int line, std::string msg = "invalid syntax") {
  throw ParseError{ParseError::Type::syntax, line, std::move(msg)};
}
[[noreturn]] void unsupported(int line, const std::string& what) {
  throw ParseError{ParseError::Type::unsupported, line, what + " is not supported by the bootrig simulator"};
}

const std::set<std::string>& keywords() {
  static const std::set<std::string> k = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return k;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

class Lexer {
 public:
  explicit Lexer(std::string_view source) {
    // Files written on a PC (and the firmware's own default boot.py) end lines with \r\n.
    src_.reserve(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) {
      char c = source[i];
      if (c == '\r') {
        src_ += '\n';
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_ += c;
      }
    }
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      if (line_start_ && paren_ == 0) {
        if (!indentation()) continue;
      }
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\f') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (c == '\\') {
        if (pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n') {
          pos_ += 2;
          ++line_;
        } else {
          syntax(line_, "unexpected character after line continuation character");
        }
      } else if (c == '\n') {
        if (paren_ == 0) {
          if (!out_.empty() && out_.back().type != Tok::newline) push(Tok::newline, "");
          line_start_ = true;
        }
        ++pos_;
        ++line_;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                 static_cast<unsigned char>(c) >= 0x80) {
        identifier_or_prefixed_string();
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && pos_ + 1 < src_.size() &&
                  std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
        number();
      } else if (c == '\'' || c == '"') {
        string_literal(false, false);
      } else {
        op();
      }
    }
    if (!out_.empty() && out_.back().type != Tok::newline) push(Tok::newline, "");
    while (indents_.size() > 1) {
      indents_.pop_back();
      push(Tok::dedent, "");
    }
    push(Tok::end, "");
    return std::move(out_);
  }

 private:
  void push(Tok t, std::string text, Value v = nullptr) {
    out_.push_back(Token{t, std::move(text), std::move(v), line_});
  }

  // Returns false when the line was blank or a comment (consumed entirely).
  bool indentation() {
    int col = 0;
    std::size_t p = pos_;
    while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t' || src_[p] == '\f')) {
      col = src_[p] == '\t' ? (col / 8 + 1) * 8 : col + 1;
      ++p;
    }
    if (p >= src_.size() || src_[p] == '\n' || src_[p] == '#') {
      while (p < src_.size() && src_[p] != '\n') ++p;
      if (p < src_.size()) {
        ++p;
        ++line_;
      }
      pos_ = p;
      return false;
    }
    pos_ = p;
    line_start_ = false;
    if (col > indents_.back()) {
      if (out_.empty()) throw ParseError{ParseError::Type::indentation, line_, "unexpected indent"};
      indents_.push_back(col);
      push(Tok::indent, "");
    } else {
      while (col < indents_.back()) {
        indents_.pop_back();
        push(Tok::dedent, "");
      }
      if (col != indents_.back())
        throw ParseError{ParseError::Type::indentation, line_,
                         "unindent doesn't match any outer indent level"};
    }
    return true;
  }

  void identifier_or_prefixed_string() {
    std::size_t start = pos_;
    while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_' ||
                                  static_cast<unsigned char>(src_[pos_]) >= 0x80))
      ++pos_;
    std::string word = src_.substr(start, pos_ - start);
    if (pos_ < src_.size() && (src_[pos_] == '\'' || src_[pos_] == '"') && word.size() <= 2) {
      std::string lower;
      for (char ch : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower == "b" || lower == "r" || lower == "br" || lower == "rb" || lower == "u") {
        string_literal(lower.find('b') != std::string::npos, lower.find('r') != std::string::npos);
        return;
      }
      if (lower == "f" || lower == "fr" || lower == "rf") unsupported(line_, "f-string");
    }
    push(Tok::name, word);
  }

  void number() {
    std::size_t start = pos_;
    auto digits = [&](auto pred) {
      while (pos_ < src_.size() && (pred(src_[pos_]) || src_[pos_] == '_')) ++pos_;
    };
    auto dec = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    bool is_float = false;
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() && std::strchr("xXoObB", src_[pos_ + 1]) &&
        src_[pos_ + 1] != 0) {
      char kind = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[pos_ + 1])));
      pos_ += 2;
      std::size_t dstart = pos_;
      if (kind == 'x')
        digits(is_hex);
      else if (kind == 'o')
        digits([](char c) { return c >= '0' && c <= '7'; });
      else
        digits([](char c) { return c == '0' || c == '1'; });
      std::string d;
      for (std::size_t i = dstart; i < pos_; ++i)
        if (src_[i] != '_') d += src_[i];
      if (d.empty()) syntax(line_);
      errno = 0;
      unsigned long long v = std::strtoull(d.c_str(), nullptr, kind == 'x' ? 16 : kind == 'o' ? 8 : 2);
      if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
        unsupported(line_, "an integer literal this large");
      push(Tok::number, src_.substr(start, pos_ - start), integer(static_cast<std::int64_t>(v)));
      return;
    }
    digits(dec);
    if (pos_ < src_.size() && src_[pos_] == '.') {
      is_float = true;
      ++pos_;
      digits(dec);
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t save = pos_;
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
      if (pos_ < src_.size() && dec(src_[pos_])) {
        is_float = true;
        digits(dec);
      } else {
        pos_ = save;
      }
    }
    if (pos_ < src_.size() && (src_[pos_] == 'j' || src_[pos_] == 'J'))
      unsupported(line_, "a complex number");
    std::string text;
    for (std::size_t i = start; i < pos_; ++i)
      if (src_[i] != '_') text += src_[i];
    if (is_float) {
      push(Tok::number, text, floating(std::strtod(text.c_str(), nullptr)));
    } else {
      errno = 0;
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) unsupported(line_, "an integer literal this large");
      if (text.size() > 1 && text[0] == '0' && v != 0) syntax(line_);
      push(Tok::number, text, integer(v));
    }
  }

  void string_literal(bool is_bytes, bool raw) {
    char q = src_[pos_];
    bool triple = pos_ + 2 < src_.size() && src_[pos_ + 1] == q && src_[pos_ + 2] == q;
    pos_ += triple ? 3 : 1;
    int start_line = line_;
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) syntax(start_line);
      char c = src_[pos_];
      if (c == q) {
        if (!triple) {
          ++pos_;
          break;
        }
        if (pos_ + 2 < src_.size() && src_[pos_ + 1] == q && src_[pos_ + 2] == q) {
          pos_ += 3;
          break;
        }
      }
      if (c == '\n') {
        if (!triple) syntax(start_line);
        ++line_;
      }
      if (c == '\\' && pos_ + 1 < src_.size()) {
        char e = src_[pos_ + 1];
        if (raw) {
          out += c;
          out += e;
          if (e == '\n') ++line_;
          pos_ += 2;
          continue;
        }
        pos_ += 2;
        switch (e) {
          case '\n':
            ++line_;
            break;
          case '\\':
            out += '\\';
            break;
          case '\'':
            out += '\'';
            break;
          case '"':
            out += '"';
            break;
          case 'a':
            out += '\a';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'v':
            out += '\v';
            break;
          case 'x': {
            if (pos_ + 1 >= src_.size() || !is_hex(src_[pos_]) || !is_hex(src_[pos_ + 1]))
              syntax(line_, "invalid \\x escape");
            unsigned long v = std::strtoul(src_.substr(pos_, 2).c_str(), nullptr, 16);
            pos_ += 2;
            if (is_bytes)
              out += static_cast<char>(v);
            else
              append_utf8(out, v);
            break;
          }
          case 'u':
          case 'U': {
            if (is_bytes) {
              out += '\\';
              out += e;
              break;
            }
            std::size_t n = e == 'u' ? 4 : 8;
            if (pos_ + n > src_.size()) syntax(line_);
            for (std::size_t k = 0; k < n; ++k)
              if (!is_hex(src_[pos_ + k])) syntax(line_);
            append_utf8(out, std::strtoul(src_.substr(pos_, n).c_str(), nullptr, 16));
            pos_ += n;
            break;
          }
          default:
            if (e >= '0' && e <= '7') {
              unsigned v = static_cast<unsigned>(e - '0');
              for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++k)
                v = v * 8 + static_cast<unsigned>(src_[pos_++] - '0');
              if (is_bytes)
                out += static_cast<char>(v & 0xFF);
              else
                append_utf8(out, v);
            } else {
              // Unknown escapes stay as written, as in Python.
              out += '\\';
              out += e;
            }
        }
        continue;
      }
      if (is_bytes && static_cast<unsigned char>(c) >= 0x80)
        syntax(line_, "bytes can only contain ASCII literal characters");
      out += c;
      ++pos_;
    }
    push(Tok::string, is_bytes ? "b" : "s", is_bytes ? bytes(out) : str(out));
  }

  void op() {
    static const char* three[] = {"**=", "//=", ">>=", "<<=", "..."};
    static const char* two[] = {"**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+=",
                                "-=", "*=", "/=", "%=", "&=", "|=", "^=", "->", "@="};
    for (const char* t : three)
      if (src_.compare(pos_, 3, t) == 0) {
        push(Tok::op, t);
        pos_ += 3;
        return;
      }
    for (const char* t : two)
      if (src_.compare(pos_, 2, t) == 0) {
        push(Tok::op, t);
        pos_ += 2;
        return;
      }
    char c = src_[pos_];
    if (std::strchr("+-*/%<>=()[]{},:.;@&|^~", c) == nullptr || c == 0) syntax(line_);
    if (c == '(' || c == '[' || c == '{') ++paren_;
    if (c == ')' || c == ']' || c == '}') {
      if (paren_ == 0) syntax(line_);
      --paren_;
    }
    push(Tok::op, std::string(1, c));
    ++pos_;
  }

  std::string src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int paren_ = 0;
  bool line_start_ = true;
  std::vector<int> indents_{0};
  std::vector<Token> out_;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Block file_input() {
    Block out;
    while (peek().type != Tok::end) {
      if (peek().type == Tok::newline) {
        ++i_;
        continue;
      }
      if (peek().type == Tok::indent)
        throw ParseError{ParseError::Type::indentation, peek().line, "unexpected indent"};
      statement(out);
    }
    return out;
  }

 private:
  const Token& peek(std::size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  int line() const { return peek().line; }
  bool is_op(const char* s, std::size_t k = 0) const { return peek(k).type == Tok::op && peek(k).text == s; }
  bool is_kw(const char* s, std::size_t k = 0) const {
    return peek(k).type == Tok::name && peek(k).text == s;
  }
  bool accept_op(const char* s) {
    if (!is_op(s)) return false;
    ++i_;
    return true;
  }
  bool accept_kw(const char* s) {
    if (!is_kw(s)) return false;
    ++i_;
    return true;
  }
  void expect_op(const char* s) {
    if (!accept_op(s)) syntax(line());
  }
  void expect_kw(const char* s) {
    if (!accept_kw(s)) syntax(line());
  }
  std::string expect_name() {
    if (peek().type != Tok::name || keywords().count(peek().text)) syntax(line());
    return t_[i_++].text;
  }
  void expect_newline() {
    if (peek().type == Tok::newline) {
      ++i_;
      return;
    }
    if (peek().type == Tok::end) return;
    syntax(line());
  }

  static ExprP make(ExprKind k, int line) { return std::make_unique<Expr>(k, line); }
  static StmtP make_stmt(StmtKind k, int line) { return std::make_unique<Stmt>(k, line); }

  // ---- statements ----
  void statement(Block& out) {
    Nest guard(*this);
    const Token& tk = peek();
    if (tk.type == Tok::name) {
      const std::string& w = tk.text;
      if (w == "if") return out.push_back(if_stmt());
      if (w == "while") return out.push_back(while_stmt());
      if (w == "for") return out.push_back(for_stmt());
      if (w == "try") return out.push_back(try_stmt());
      if (w == "with") return out.push_back(with_stmt());
      if (w == "def") return out.push_back(def_stmt());
      if (w == "class") unsupported(tk.line, "'class'");
      if (w == "async") unsupported(tk.line, "'async'");
    }
    if (is_op("@")) unsupported(tk.line, "a decorator");
    simple_stmt(out);
  }

  void simple_stmt(Block& out) {
    out.push_back(small_stmt());
    while (accept_op(";")) {
      if (peek().type == Tok::newline || peek().type == Tok::end) break;
      out.push_back(small_stmt());
    }
    expect_newline();
  }

  Block suite() {
    Block body;
    if (peek().type == Tok::newline) {
      ++i_;
      if (peek().type != Tok::indent)
        throw ParseError{ParseError::Type::indentation, line(), "expected an indented block"};
      ++i_;
      while (peek().type != Tok::dedent && peek().type != Tok::end) {
        if (peek().type == Tok::newline) {
          ++i_;
          continue;
        }
        statement(body);
      }
      if (peek().type == Tok::dedent) ++i_;
    } else {
      simple_stmt(body);
    }
    return body;
  }

  StmtP small_stmt() {
    int ln = line();
    const Token& tk = peek();
    if (tk.type == Tok::name) {
      const std::string& w = tk.text;
      if (w == "pass") return ++i_, make_stmt(StmtKind::pass, ln);
      if (w == "break" || w == "continue") {
        if (loop_depth_ == 0) syntax(ln, "'" + w + "' outside loop");
        ++i_;
        return make_stmt(w == "break" ? StmtKind::break_ : StmtKind::continue_, ln);
      }
      if (w == "return") {
        if (fn_depth_ == 0) syntax(ln, "'return' outside function");
        ++i_;
        auto s = make_stmt(StmtKind::return_, ln);
        if (!at_stmt_end()) s->expr = testlist();
        return s;
      }
      if (w == "raise") {
        ++i_;
        auto s = make_stmt(StmtKind::raise, ln);
        if (!at_stmt_end()) s->expr = test();
        if (is_kw("from")) unsupported(ln, "'raise ... from'");
        return s;
      }
      if (w == "global") {
        ++i_;
        auto s = make_stmt(StmtKind::global, ln);
        do s->names.push_back({expect_name(), ""});
        while (accept_op(","));
        return s;
      }
      if (w == "nonlocal") unsupported(ln, "'nonlocal'");
      if (w == "yield") unsupported(ln, "'yield'");
      if (w == "import") return import_stmt();
      if (w == "from") return from_stmt();
      if (w == "del") {
        ++i_;
        auto s = make_stmt(StmtKind::del, ln);
        do {
          auto e = expr();
          check_target(*e);
          s->targets.push_back(std::move(e));
        } while (accept_op(",") && !at_stmt_end());
        return s;
      }
      if (w == "assert") {
        ++i_;
        auto s = make_stmt(StmtKind::assert_, ln);
        s->expr = test();
        if (accept_op(",")) s->msg = test();
        return s;
      }
    }
    return expr_stmt();
  }

  bool at_stmt_end() const { return peek().type == Tok::newline || peek().type == Tok::end || is_op(";"); }

  StmtP expr_stmt() {
    int ln = line();
    auto first = testlist();
    static const std::set<std::string> aug = {
        "+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**="};
    if (peek().type == Tok::op && aug.count(peek().text)) {
      std::string op = t_[i_++].text;
      if (first->kind != ExprKind::name && first->kind != ExprKind::attribute &&
          first->kind != ExprKind::subscript)
        syntax(ln, "illegal expression for augmented assignment");
      auto s = make_stmt(StmtKind::augassign, ln);
      s->op = op.substr(0, op.size() - 1);
      s->targets.push_back(std::move(first));
      s->expr = testlist();
      return s;
    }
    if (is_op("=")) {
      auto s = make_stmt(StmtKind::assign, ln);
      check_target(*first);
      s->targets.push_back(std::move(first));
      while (accept_op("=")) {
        auto next = testlist();
        if (is_op("=")) {
          check_target(*next);
          s->targets.push_back(std::move(next));
        } else {
          s->expr = std::move(next);
        }
      }
      if (!s->expr) syntax(ln);
      return s;
    }
    if (is_op(":")) unsupported(ln, "a variable annotation");
    auto s = make_stmt(StmtKind::expr, ln);
    s->expr = std::move(first);
    return s;
  }

  void check_target(const Expr& e) {
    switch (e.kind) {
      case ExprKind::name:
      case ExprKind::attribute:
      case ExprKind::subscript:
        return;
      case ExprKind::tuple:
      case ExprKind::list:
        for (const auto& x : e.items) check_target(*x);
        return;
      default:
        syntax(e.line, "can't assign to expression");
    }
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (accept_op(".")) n += "." + expect_name();
    return n;
  }

  StmtP import_stmt() {
    auto s = make_stmt(StmtKind::import, line());
    ++i_;
    do {
      ImportName in;
      in.name = dotted_name();
      if (accept_kw("as")) in.as = expect_name();
      s->names.push_back(std::move(in));
    } while (accept_op(","));
    return s;
  }

  StmtP from_stmt() {
    auto s = make_stmt(StmtKind::import_from, line());
    ++i_;
    if (is_op(".")) unsupported(s->line, "a relative import");
    s->op = dotted_name();
    expect_kw("import");
    if (accept_op("*")) {
      s->names.push_back({"*", ""});
      return s;
    }
    bool paren = accept_op("(");
    do {
      if (paren && is_op(")")) break;
      ImportName in;
      in.name = expect_name();
      if (accept_kw("as")) in.as = expect_name();
      s->names.push_back(std::move(in));
    } while (accept_op(","));
    if (paren) expect_op(")");
    return s;
  }

  StmtP if_stmt() {
    auto s = make_stmt(StmtKind::if_, line());
    ++i_;
    s->expr = test();
    expect_op(":");
    s->body = suite();
    if (is_kw("elif")) {
      s->orelse.push_back(if_stmt());  // `elif` parses as a nested if in the else branch
    } else if (accept_kw("else")) {
      expect_op(":");
      s->orelse = suite();
    }
    return s;
  }

  StmtP while_stmt() {
    auto s = make_stmt(StmtKind::while_, line());
    ++i_;
    s->expr = test();
    expect_op(":");
    ++loop_depth_;
    s->body = suite();
    --loop_depth_;
    if (accept_kw("else")) {
      expect_op(":");
      s->orelse = suite();
    }
    return s;
  }

  StmtP for_stmt() {
    auto s = make_stmt(StmtKind::for_, line());
    ++i_;
    auto target = exprlist();
    check_target(*target);
    s->targets.push_back(std::move(target));
    expect_kw("in");
    s->expr = testlist();
    expect_op(":");
    ++loop_depth_;
    s->body = suite();
    --loop_depth_;
    if (accept_kw("else")) {
      expect_op(":");
      s->orelse = suite();
    }
    return s;
  }

  StmtP try_stmt() {
    auto s = make_stmt(StmtKind::try_, line());
    ++i_;
    expect_op(":");
    s->body = suite();
    while (is_kw("except")) {
      Handler h;
      h.line = line();
      ++i_;
      if (!is_op(":")) {
        h.type = test();
        if (accept_kw("as")) h.name = expect_name();
      }
      expect_op(":");
      h.body = suite();
      s->handlers.push_back(std::move(h));
    }
    if (accept_kw("else")) {
      if (s->handlers.empty()) syntax(line());
      expect_op(":");
      s->orelse = suite();
    }
    if (accept_kw("finally")) {
      expect_op(":");
      s->finalbody = suite();
    }
    if (s->handlers.empty() && s->finalbody.empty()) syntax(s->line);
    return s;
  }

  StmtP with_stmt() {
    auto s = make_stmt(StmtKind::with, line());
    ++i_;
    s->expr = test();
    if (accept_kw("as")) {
      s->op = expect_name();
    }
    if (is_op(",")) unsupported(s->line, "a 'with' statement with several context managers");
    expect_op(":");
    s->body = suite();
    return s;
  }

  StmtP def_stmt() {
    auto s = make_stmt(StmtKind::def, line());
    ++i_;
    s->op = expect_name();
    expect_op("(");
    bool seen_default = false;
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) unsupported(s->line, "'*args' or '**kwargs'");
      Param p;
      p.name = expect_name();
      if (accept_op(":")) unsupported(s->line, "an annotation");
      if (accept_op("=")) {
        p.default_value = test();
        seen_default = true;
      } else if (seen_default) {
        syntax(s->line, "non-default argument follows default argument");
      }
      s->params.push_back(std::move(p));
      if (!accept_op(",")) break;
    }
    expect_op(")");
    if (is_op("->")) unsupported(s->line, "an annotation");
    expect_op(":");
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    ++fn_depth_;
    s->body = suite();
    --fn_depth_;
    loop_depth_ = saved_loops;
    return s;
  }

  // ---- expressions ----
  ExprP testlist() {
    int ln = line();
    auto first = test();
    if (!is_op(",")) return first;
    auto t = make(ExprKind::tuple, ln);
    t->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_expr_end()) break;
      t->items.push_back(test());
    }
    return t;
  }

  // A comma list of plain expressions (no comparisons): `for` targets, where `in` must stay a keyword.
  ExprP exprlist() {
    int ln = line();
    auto first = expr();
    if (!is_op(",")) return first;
    auto t = make(ExprKind::tuple, ln);
    t->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (is_kw("in")) break;
      t->items.push_back(expr());
    }
    return t;
  }

  bool at_expr_end() const {
    const Token& tk = peek();
    if (tk.type == Tok::newline || tk.type == Tok::end) return true;
    if (tk.type == Tok::op && (tk.text == ")" || tk.text == "]" || tk.text == "}" || tk.text == "=" ||
                               tk.text == ":" || tk.text == ";"))
      return true;
    return false;
  }

  ExprP test() {
    Nest guard(*this);
    if (is_kw("lambda")) unsupported(line(), "'lambda'");
    int ln = line();
    auto a = or_test();
    if (accept_kw("if")) {
      auto e = make(ExprKind::ifexp, ln);
      e->b = or_test();
      expect_kw("else");
      e->c = test();
      e->a = std::move(a);
      return e;
    }
    return a;
  }

  ExprP or_test() {
    auto a = and_test();
    while (is_kw("or")) {
      auto e = make(ExprKind::boolop, line());
      ++i_;
      e->name = "or";
      e->a = std::move(a);
      e->b = and_test();
      a = std::move(e);
    }
    return a;
  }

  ExprP and_test() {
    auto a = not_test();
    while (is_kw("and")) {
      auto e = make(ExprKind::boolop, line());
      ++i_;
      e->name = "and";
      e->a = std::move(a);
      e->b = not_test();
      a = std::move(e);
    }
    return a;
  }

  ExprP not_test() {
    Nest guard(*this);
    if (is_kw("not")) {
      auto e = make(ExprKind::unary, line());
      ++i_;
      e->name = "not";
      e->a = not_test();
      return e;
    }
    return comparison();
  }

  ExprP comparison() {
    int ln = line();
    auto first = expr();
    std::vector<std::string> ops;
    std::vector<ExprP> operands;
    for (;;) {
      std::string op;
      if (peek().type == Tok::op && (peek().text == "<" || peek().text == ">" || peek().text == "==" ||
                                     peek().text == ">=" || peek().text == "<=" || peek().text == "!=")) {
        op = t_[i_++].text;
      } else if (is_kw("in")) {
        ++i_;
        op = "in";
      } else if (is_kw("not") && is_kw("in", 1)) {
        i_ += 2;
        op = "not in";
      } else if (is_kw("is")) {
        ++i_;
        op = accept_kw("not") ? "is not" : "is";
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(expr());
    }
    if (ops.empty()) return first;
    auto e = make(ExprKind::compare, ln);
    e->items.push_back(std::move(first));
    for (auto& o : operands) e->items.push_back(std::move(o));
    e->ops = std::move(ops);
    return e;
  }

  ExprP binary_level(int level) {
    static const std::vector<std::vector<std::string>> levels = {
        {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
    if (level >= static_cast<int>(levels.size())) return factor();
    auto a = binary_level(level + 1);
    for (;;) {
      const Token& tk = peek();
      bool match = false;
      if (tk.type == Tok::op)
        for (const auto& o : levels[static_cast<std::size_t>(level)])
          if (tk.text == o) match = true;
      if (!match) break;
      if (tk.text == "@") unsupported(tk.line, "the '@' operator");
      auto e = make(ExprKind::binop, tk.line);
      e->name = tk.text;
      ++i_;
      e->a = std::move(a);
      e->b = binary_level(level + 1);
      a = std::move(e);
    }
    return a;
  }

  ExprP expr() { return binary_level(0); }

  ExprP factor() {
    Nest guard(*this);
    if (is_op("-") || is_op("+") || is_op("~")) {
      auto e = make(ExprKind::unary, line());
      e->name = t_[i_++].text;
      e->a = factor();
      return e;
    }
    return power();
  }

  ExprP power() {
    auto a = atom_expr();
    if (is_op("**")) {
      auto e = make(ExprKind::binop, line());
      ++i_;
      e->name = "**";
      e->a = std::move(a);
      e->b = factor();
      return e;
    }
    return a;
  }

  ExprP atom_expr() {
    if (is_kw("await")) unsupported(line(), "'await'");
    auto a = atom();
    for (;;) {
      if (is_op("(")) {
        auto e = make(ExprKind::call, line());
        ++i_;
        e->a = std::move(a);
        arguments(*e);
        expect_op(")");
        a = std::move(e);
      } else if (is_op("[")) {
        int ln = line();
        ++i_;
        auto e = make(ExprKind::subscript, ln);
        e->a = std::move(a);
        e->b = subscript();
        expect_op("]");
        a = std::move(e);
      } else if (is_op(".")) {
        int ln = line();
        ++i_;
        auto e = make(ExprKind::attribute, ln);
        e->a = std::move(a);
        e->name = expect_name();
        a = std::move(e);
      } else {
        return a;
      }
    }
  }

  void arguments(Expr& call) {
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) unsupported(line(), "'*' or '**' in a call");
      if (peek().type == Tok::name && is_op("=", 1)) {
        call.kwnames.push_back(t_[i_].text);
        i_ += 2;
        call.values.push_back(test());
      } else {
        if (!call.kwnames.empty()) syntax(line(), "positional argument follows keyword argument");
        call.items.push_back(test());
        if (is_kw("for")) unsupported(line(), "a generator expression");
      }
      if (!accept_op(",")) break;
    }
  }

  ExprP subscript() {
    int ln = line();
    ExprP lower;
    if (!is_op(":")) {
      lower = test();
      if (!is_op(":")) {
        if (is_op(",")) unsupported(ln, "a multi-dimensional subscript");
        return lower;
      }
    }
    auto s = make(ExprKind::slice, ln);
    s->a = std::move(lower);
    expect_op(":");
    if (!is_op("]") && !is_op(":")) s->b = test();
    if (accept_op(":")) {
      if (!is_op("]")) s->c = test();
    }
    return s;
  }

  ExprP atom() {
    const Token& tk = peek();
    int ln = tk.line;
    if (tk.type == Tok::number) {
      auto e = make(ExprKind::constant, ln);
      e->value = tk.value;
      ++i_;
      return e;
    }
    if (tk.type == Tok::string) {
      bool is_bytes = tk.text == "b";
      std::string s;
      while (peek().type == Tok::string) {
        if ((peek().text == "b") != is_bytes) syntax(line(), "cannot mix bytes and nonbytes literals");
        s += is_bytes ? as<BytesObj>(peek().value)->value : as<StrObj>(peek().value)->value;
        ++i_;
      }
      auto e = make(ExprKind::constant, ln);
      e->value = is_bytes ? bytes(s) : str(s);
      return e;
    }
    if (tk.type == Tok::name) {
      if (tk.text == "None" || tk.text == "True" || tk.text == "False") {
        auto e = make(ExprKind::constant, ln);
        e->value = tk.text == "None" ? none() : boolean(tk.text == "True");
        ++i_;
        return e;
      }
      if (keywords().count(tk.text)) syntax(ln);
      auto e = make(ExprKind::name, ln);
      e->name = tk.text;
      ++i_;
      return e;
    }
    if (accept_op("(")) {
      if (accept_op(")")) return make(ExprKind::tuple, ln);
      auto first = test();
      if (is_kw("for")) unsupported(ln, "a generator expression");
      if (accept_op(")")) return first;
      auto t = make(ExprKind::tuple, ln);
      t->items.push_back(std::move(first));
      while (accept_op(",")) {
        if (is_op(")")) break;
        t->items.push_back(test());
      }
      expect_op(")");
      return t;
    }
    if (accept_op("[")) {
      auto l = make(ExprKind::list, ln);
      if (accept_op("]")) return l;
      auto first = test();
      if (accept_kw("for")) {
        // [element for target in iterable (if condition)*]
        auto c = make(ExprKind::listcomp, ln);
        c->a = std::move(first);
        auto target = exprlist();
        check_target(*target);
        c->b = std::move(target);
        expect_kw("in");
        c->c = or_test();
        while (accept_kw("if")) c->items.push_back(or_test());
        if (is_kw("for")) unsupported(ln, "a nested comprehension");
        expect_op("]");
        return c;
      }
      l->items.push_back(std::move(first));
      while (accept_op(",")) {
        if (is_op("]")) break;
        l->items.push_back(test());
      }
      expect_op("]");
      return l;
    }
    if (accept_op("{")) {
      auto d = make(ExprKind::dict, ln);
      while (!is_op("}")) {
        d->items.push_back(test());
        if (!accept_op(":")) unsupported(ln, "a set");
        d->values.push_back(test());
        if (is_kw("for")) unsupported(ln, "a dict comprehension");
        if (!accept_op(",")) break;
      }
      expect_op("}");
      return d;
    }
    if (is_op("...")) unsupported(ln, "Ellipsis");
    syntax(ln);
  }

  // Recursion guard: hostile input (thousands of nested brackets) must not overflow the host's stack.
  struct Nest {
    explicit Nest(Parser& p) : p_(p) {
      if (++p_.nest_ > 150) unsupported(p_.line(), "nesting this deep");
    }
    ~Nest() { --p_.nest_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    Parser& p_;
  };

  std::vector<Token> t_;
  std::size_t i_ = 0;
  int fn_depth_ = 0;
  int loop_depth_ = 0;
  int nest_ = 0;
};

}  // namespace

Block parse_module(std::string_view source) {
  Lexer lx(source);
  Parser p(lx.run());
  return p.file_input();
}

bool repl_needs_more(std::string_view input) {
  if (input.empty()) return false;
  auto starts_with_word = [&](std::string_view w) {
    if (input.substr(0, w.size()) != w) return false;
    return input.size() == w.size() ||
           !(std::isalnum(static_cast<unsigned char>(input[w.size()])) || input[w.size()] == '_');
  };
  bool compound = input[0] == '@';
  for (const char* w : {"if", "while", "for", "try", "with", "def", "class", "async"})
    if (starts_with_word(w)) compound = true;

  enum { none, single1, double1, single3, double3 } quote = none;
  int paren = 0, brack = 0, brace = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    char c = input[i];
    auto triple = [&](char q) { return i + 2 < input.size() && input[i + 1] == q && input[i + 2] == q; };
    if (c == '\'') {
      if (quote == none && triple('\'')) {
        quote = single3;
        i += 2;
      } else if (quote == single3 && triple('\'')) {
        quote = none;
        i += 2;
      } else if (quote == none) {
        quote = single1;
      } else if (quote == single1) {
        quote = none;
      }
    } else if (c == '"') {
      if (quote == none && triple('"')) {
        quote = double3;
        i += 2;
      } else if (quote == double3 && triple('"')) {
        quote = none;
        i += 2;
      } else if (quote == none) {
        quote = double1;
      } else if (quote == double1) {
        quote = none;
      }
    } else if (c == '\\' && i + 1 < input.size() &&
               (input[i + 1] == '\'' || input[i + 1] == '"' || input[i + 1] == '\\')) {
      if (quote != none) ++i;
    } else if (quote == none) {
      if (c == '(') ++paren;
      if (c == ')') --paren;
      if (c == '[') ++brack;
      if (c == ']') --brack;
      if (c == '{') ++brace;
      if (c == '}') --brace;
    }
  }
  if (quote == single3 || quote == double3) return true;
  if ((paren > 0 || brack > 0 || brace > 0) && quote == none) return true;
  char last = input.back();
  if (last == '\\') return true;
  if (compound && last != '\n') return true;
  return false;
}

}  // namespace bootrig::sim::py
