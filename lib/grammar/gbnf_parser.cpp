// GBNF text -> GrammarData. A recursive-descent parser over the source bytes; every
// error carries the line and column where it was found.
#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "grammar/grammar_data.hpp"
#include "inkling/grammar.hpp"

namespace inkling::detail {
namespace {

constexpr int kMaxRepeat = 10000;

// An item of a sequence before flattening: a character set or a reference by rule index.
struct Item {
  bool is_ref;
  std::uint32_t value;
};
using Seq = std::vector<Item>;

struct RuleDef {
  std::string name;
  std::vector<Seq> alts;
  bool defined = false;
  std::size_t first_use = std::string::npos;  // offset of the first reference (for errors)
  std::size_t def_at = 0;                     // offset of the definition
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
 public:
  Parser(std::string_view text) : src_(text) {}

  GrammarData run(std::string_view root);

 private:
  std::string_view src_;
  std::size_t pos_ = 0;
  std::vector<RuleDef> rules_;
  std::map<std::string, std::uint32_t, std::less<>> by_name_;
  std::vector<CharSet> sets_;

  [[noreturn]] void fail(std::size_t at, const std::string& msg) const;
  bool eof() const { return pos_ >= src_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  void skip_space();
  bool at_rule_start() const;
  std::string parse_name();
  std::uint32_t rule_index(std::string_view name, std::size_t at);
  std::uint32_t new_helper(const std::string& base, std::vector<Seq> alts);
  std::uint32_t char_set(std::vector<CharRange> ranges, bool negate);
  std::uint32_t decode_char(std::size_t& p) const;
  std::uint32_t parse_char(std::size_t& p) const;
  void parse_rule();
  std::vector<Seq> parse_alternates(const std::string& rule, bool nested);
  Seq parse_sequence(const std::string& rule, bool nested);
  void parse_literal(Seq& out);
  void parse_class(Seq& out);
  void apply_repeat(const std::string& rule, Seq& seq, std::size_t unit_start, int min, int max);
  std::pair<int, int> parse_braces();
  GrammarData flatten(std::uint32_t root) const;
  void check_left_recursion() const;
};

void Parser::fail(std::size_t at, const std::string& msg) const {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < at && i < src_.size(); ++i) {
    const auto c = static_cast<unsigned char>(src_[i]);
    if (c == '\n') {
      ++line;
      col = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++col;
    }
  }
  throw GrammarError(line, col, msg);
}

// Spaces, newlines and comments. Rules may span lines: the end of a rule is found by
// at_rule_start(), not by a newline.
void Parser::skip_space() {
  while (!eof()) {
    const char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos_;
    } else if (c == '#') {
      while (!eof() && peek() != '\n') ++pos_;
    } else {
      break;
    }
  }
}

bool Parser::at_rule_start() const {
  std::size_t p = pos_;
  while (p < src_.size() && is_name_char(src_[p])) ++p;
  if (p == pos_) return false;
  while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t')) ++p;
  return src_.substr(p, 3) == "::=";
}

std::string Parser::parse_name() {
  const std::size_t start = pos_;
  while (!eof() && is_name_char(peek())) ++pos_;
  if (pos_ == start) fail(start, "expected a rule name");
  return std::string(src_.substr(start, pos_ - start));
}

std::uint32_t Parser::rule_index(std::string_view name, std::size_t at) {
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  const auto idx = static_cast<std::uint32_t>(rules_.size());
  rules_.push_back(RuleDef{std::string(name), {}, false, at});
  by_name_.emplace(std::string(name), idx);
  return idx;
}

std::uint32_t Parser::new_helper(const std::string& base, std::vector<Seq> alts) {
  std::string name;
  for (int n = static_cast<int>(rules_.size());; ++n) {
    name = base + "_" + std::to_string(n);
    if (!by_name_.count(name)) break;
  }
  const std::uint32_t idx = rule_index(name, pos_);
  rules_[idx].alts = std::move(alts);
  rules_[idx].defined = true;
  rules_[idx].def_at = pos_;
  return idx;
}

std::uint32_t Parser::char_set(std::vector<CharRange> ranges, bool negate) {
  sets_.push_back(CharSet::make(std::move(ranges), negate));
  return static_cast<std::uint32_t>(sets_.size() - 1);
}

// One UTF-8 character of the source at p (advancing p); invalid UTF-8 is an error.
std::uint32_t Parser::decode_char(std::size_t& p) const {
  const auto b0 = static_cast<unsigned char>(src_[p]);
  int n = b0 < 0x80 ? 0 : (b0 & 0xE0) == 0xC0 ? 1 : (b0 & 0xF0) == 0xE0 ? 2 : (b0 & 0xF8) == 0xF0 ? 3 : -1;
  if (n < 0) fail(p, "invalid UTF-8 in the grammar");
  std::uint32_t cp = n == 0 ? b0 : n == 1 ? (b0 & 0x1Fu) : n == 2 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  const std::size_t start = p++;
  for (int i = 0; i < n; ++i, ++p) {
    if (p >= src_.size() || (static_cast<unsigned char>(src_[p]) & 0xC0) != 0x80) fail(start, "invalid UTF-8 in the grammar");
    cp = (cp << 6) | (static_cast<unsigned char>(src_[p]) & 0x3Fu);
  }
  static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) fail(start, "invalid UTF-8 in the grammar");
  return cp;
}

// A character of a literal or class, with escapes.
std::uint32_t Parser::parse_char(std::size_t& p) const {
  if (src_[p] != '\\') return decode_char(p);
  const std::size_t start = p;
  if (p + 1 >= src_.size()) fail(start, "unfinished escape at the end of the grammar");
  const char e = src_[p + 1];
  p += 2;
  switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '\\': case '"': case '[': case ']': case '-': case '\'': case '/': return static_cast<unsigned char>(e);
    case 'x': case 'u': case 'U': {
      const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      std::uint32_t v = 0;
      for (int i = 0; i < digits; ++i, ++p) {
        const char h = p < src_.size() ? src_[p] : '\0';
        const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) fail(start, std::string("escape \\") + e + " needs " + std::to_string(digits) + " hex digits");
        v = v * 16 + static_cast<std::uint32_t>(d);
      }
      if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) fail(start, "escape is not a Unicode scalar value");
      return v;
    }
    default: fail(start, std::string("unknown escape \\") + e);
  }
}

void Parser::parse_literal(Seq& out) {
  const std::size_t start = pos_++;
  while (true) {
    if (eof()) fail(start, "unterminated string literal");
    if (peek() == '"') break;
    const std::uint32_t cp = parse_char(pos_);
    out.push_back({false, char_set({{cp, cp}}, false)});
  }
  ++pos_;
}

void Parser::parse_class(Seq& out) {
  const std::size_t start = pos_++;
  const bool negate = peek() == '^';
  if (negate) ++pos_;
  std::vector<CharRange> ranges;
  while (true) {
    if (eof()) fail(start, "unterminated character class");
    if (peek() == ']') break;
    const std::size_t at = pos_;
    const std::uint32_t lo = parse_char(pos_);
    std::uint32_t hi = lo;
    if (peek() == '-' && peek(1) != ']' && pos_ + 1 < src_.size()) {
      ++pos_;
      hi = parse_char(pos_);
      if (hi < lo) fail(at, "character range is reversed");
    }
    ranges.push_back({lo, hi});
  }
  ++pos_;
  out.push_back({false, char_set(std::move(ranges), negate)});
}

std::pair<int, int> Parser::parse_braces() {
  const std::size_t start = pos_++;
  auto number = [&]() -> std::optional<int> {
    skip_space();
    if (!(peek() >= '0' && peek() <= '9')) return std::nullopt;
    long v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepeat) fail(start, "repetition count above " + std::to_string(kMaxRepeat));
      ++pos_;
    }
    skip_space();
    return static_cast<int>(v);
  };
  const auto lo = number();
  if (!lo) fail(start, "expected a number after '{'");
  int hi = *lo;
  if (peek() == ',') {
    ++pos_;
    const auto h = number();
    hi = h ? *h : -1;
  }
  if (peek() != '}') fail(start, "expected '}' to close the repetition");
  ++pos_;
  if (hi >= 0 && hi < *lo) fail(start, "repetition {m,n} needs m <= n");
  return {*lo, hi};
}

// Replaces seq[unit_start..] (the unit) by its repetition min..max times (max < 0: no
// bound), using helper rules: x* -> r ::= x r | (empty); x? -> r ::= x | (empty).
void Parser::apply_repeat(const std::string& rule, Seq& seq, std::size_t unit_start, int min, int max) {
  const Seq unit(seq.begin() + static_cast<std::ptrdiff_t>(unit_start), seq.end());
  seq.resize(unit_start);
  for (int i = 0; i < min; ++i) seq.insert(seq.end(), unit.begin(), unit.end());
  if (max < 0) {
    const std::uint32_t r = new_helper(rule, {});
    Seq loop = unit;
    loop.push_back({true, r});
    rules_[r].alts = {loop, Seq{}};
    seq.push_back({true, r});
    return;
  }
  std::optional<std::uint32_t> inner;
  for (int i = min; i < max; ++i) {
    Seq body = unit;
    if (inner) body.push_back({true, *inner});
    inner = new_helper(rule, {body, Seq{}});
  }
  if (inner) seq.push_back({true, *inner});
}

Seq Parser::parse_sequence(const std::string& rule, bool nested) {
  Seq seq;
  constexpr std::size_t kNone = std::string::npos;
  std::size_t last = kNone;  // start of the last unit, for a postfix operator
  while (true) {
    skip_space();
    if (eof()) break;
    const char c = peek();
    const std::size_t at = pos_;
    if (c == '|' || c == ')') break;
    if (c == '"') {
      last = seq.size();
      parse_literal(seq);
    } else if (c == '[') {
      last = seq.size();
      parse_class(seq);
    } else if (c == '.') {
      ++pos_;
      last = seq.size();
      seq.push_back({false, char_set({{0, kMaxCodePoint}}, false)});
    } else if (c == '(') {
      ++pos_;
      auto alts = parse_alternates(rule, true);
      if (peek() != ')') fail(at, "missing ')' for this '('");
      ++pos_;
      last = seq.size();
      seq.push_back({true, new_helper(rule, std::move(alts))});
    } else if (is_name_char(c)) {
      if (at_rule_start()) {
        if (nested) fail(at, "missing ')' before the next rule");
        break;
      }
      last = seq.size();
      const std::string name = parse_name();
      seq.push_back({true, rule_index(name, at)});
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
      if (last == kNone) fail(at, std::string("'") + c + "' has nothing before it to repeat");
      int min = 0, max = -1;
      if (c == '{') {
        std::tie(min, max) = parse_braces();
      } else {
        ++pos_;
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : -1;
      }
      apply_repeat(rule, seq, last, min, max);
      last = kNone;
    } else {
      fail(at, std::string("unexpected character '") + c + "'");
    }
  }
  return seq;
}

std::vector<Seq> Parser::parse_alternates(const std::string& rule, bool nested) {
  std::vector<Seq> alts{parse_sequence(rule, nested)};
  while (peek() == '|') {
    ++pos_;
    alts.push_back(parse_sequence(rule, nested));
  }
  return alts;
}

void Parser::parse_rule() {
  const std::size_t at = pos_;
  const std::string name = parse_name();
  while (peek() == ' ' || peek() == '\t') ++pos_;
  if (src_.substr(pos_, 3) != "::=") fail(pos_, "expected '::=' after the rule name '" + name + "'");
  pos_ += 3;
  const std::uint32_t idx = rule_index(name, at);
  if (rules_[idx].defined) fail(at, "rule '" + name + "' is defined twice");
  rules_[idx].defined = true;
  rules_[idx].def_at = at;
  auto alts = parse_alternates(name, false);
  if (peek() == ')') fail(pos_, "unexpected ')'");
  rules_[idx].alts = std::move(alts);
}

GrammarData Parser::flatten(std::uint32_t root) const {
  GrammarData g;
  g.sets = sets_;
  g.root = root;
  g.alts.resize(rules_.size());
  for (std::uint32_t r = 0; r < rules_.size(); ++r) {
    g.names.push_back(rules_[r].name);
    for (const Seq& s : rules_[r].alts) {
      g.alts[r].push_back(static_cast<std::uint32_t>(g.elems.size()));
      for (const Item& it : s) g.elems.push_back({it.is_ref ? ElemKind::Ref : ElemKind::Chars, it.value});
      g.elems.push_back({ElemKind::End, r});
    }
  }
  return g;
}

// A rule that can reach itself without consuming a character would make the matcher
// expand forever; refuse it here, where the position is known.
void Parser::check_left_recursion() const {
  const std::size_t n = rules_.size();
  std::vector<char> nullable(n, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (const Seq& s : rules_[r].alts)
        if (std::all_of(s.begin(), s.end(), [&](const Item& it) { return it.is_ref && nullable[it.value]; })) {
          nullable[r] = 1;
          changed = true;
          break;
        }
    }
  }
  std::vector<std::vector<std::uint32_t>> left(n);  // rules reachable before any character
  for (std::size_t r = 0; r < n; ++r)
    for (const Seq& s : rules_[r].alts)
      for (const Item& it : s) {
        if (!it.is_ref) break;
        left[r].push_back(it.value);
        if (!nullable[it.value]) break;
      }
  std::vector<char> color(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<std::uint32_t, std::size_t>> path;
  for (std::uint32_t start = 0; start < n; ++start) {
    if (color[start]) continue;
    path.push_back({start, 0});
    color[start] = 1;
    while (!path.empty()) {
      auto& [r, i] = path.back();
      if (i == left[r].size()) {
        color[r] = 2;
        path.pop_back();
        continue;
      }
      const std::uint32_t next = left[r][i++];
      if (color[next] == 1)
        fail(rules_[next].def_at, "rule '" + rules_[next].name +
                                      "' is left-recursive (it can reach itself before matching a character, "
                                      "possibly through a repetition of something that can be empty)");
      if (color[next] == 0) {
        color[next] = 1;
        path.push_back({next, 0});
      }
    }
  }
}

GrammarData Parser::run(std::string_view root) {
  skip_space();
  if (eof()) fail(0, "the grammar is empty");
  while (!eof()) {
    parse_rule();
    skip_space();
  }
  for (const RuleDef& r : rules_)
    if (!r.defined) fail(r.first_use, "undefined rule '" + r.name + "'");
  const auto it = by_name_.find(root);
  if (it == by_name_.end()) throw GrammarError(1, 1, "no rule named '" + std::string(root) + "'");
  check_left_recursion();
  return flatten(it->second);
}

}  // namespace

CharSet CharSet::make(std::vector<CharRange> raw, bool negate) {
  std::sort(raw.begin(), raw.end(), [](CharRange a, CharRange b) { return a.lo < b.lo; });
  std::vector<CharRange> merged;
  for (CharRange r : raw) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1)
      merged.back().hi = std::max(merged.back().hi, r.hi);
    else
      merged.push_back(r);
  }
  CharSet s;
  if (negate) {
    std::uint32_t next = 0;
    for (CharRange r : merged) {
      if (r.lo > next) s.ranges.push_back({next, r.lo - 1});
      next = r.hi + 1;
    }
    if (next <= kMaxCodePoint) s.ranges.push_back({next, kMaxCodePoint});
  } else {
    s.ranges = std::move(merged);
  }
  for (CharRange r : s.ranges)
    for (std::uint32_t c = r.lo; c <= std::min<std::uint32_t>(r.hi, 127); ++c) s.ascii[c >> 6] |= std::uint64_t{1} << (c & 63);
  return s;
}

GrammarData parse_gbnf(std::string_view text, std::string_view root) { return Parser(text).run(root); }

}  // namespace inkling::detail
