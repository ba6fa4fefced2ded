// A trie of the excluded names over code points, one rule per trie node: at each node
// the key may end (unless a name ends there), continue with a character no name
// continues with (then anything may follow), or follow one of the names further.
#include "grammar/json_key_except.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "grammar/gbnf_text.hpp"

namespace inkling::detail {
namespace {

struct Node {
  bool terminal = false;
  std::map<std::uint32_t, std::unique_ptr<Node>> children;
};

std::vector<std::uint32_t> code_points(const std::string& s) {  // s is valid UTF-8 (a parsed JSON key)
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? b : b & (0x7Fu >> len);
    for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string hex_escape(std::uint32_t cp) {  // for a GBNF character class
  char buf[16];
  std::snprintf(buf, sizeof buf, cp <= 0xFFFF ? "\\u%04X" : "\\U%08X", cp);
  return buf;
}

// The canonical JSON text of one character, as a GBNF literal.
std::string unit(std::uint32_t cp) {
  static const std::map<std::uint32_t, const char*> kShort{{'"', "\\\""}, {'\\', "\\\\"}, {8, "\\b"}, {12, "\\f"},
                                                           {10, "\\n"}, {13, "\\r"}, {9, "\\t"}};
  if (auto it = kShort.find(cp); it != kShort.end()) return gbnf_literal(it->second);
  if (cp < 0x20) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    return gbnf_literal(buf);
  }
  std::string utf8;
  if (cp < 0x80) {
    utf8 += static_cast<char>(cp);
  } else if (cp < 0x800) {
    utf8 += static_cast<char>(0xC0 | (cp >> 6));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    utf8 += static_cast<char>(0xE0 | (cp >> 12));
    utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    utf8 += static_cast<char>(0xF0 | (cp >> 18));
    utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return gbnf_literal(utf8);
}

// Any canonical character except those in `except`.
std::string unit_except(const std::set<std::uint32_t>& except) {
  std::string plain = "[^\"\\\\\\x00-\\x1F";
  for (std::uint32_t cp : except)
    if (cp >= 0x20 && cp != '"' && cp != '\\') plain += hex_escape(cp);
  plain += "]";
  std::string alts = plain;
  std::string shorts;
  for (auto [cp, c] : {std::pair<std::uint32_t, const char*>{'"', "\\\""}, {'\\', "\\\\"}, {8, "b"}, {12, "f"}, {10, "n"}, {13, "r"}, {9, "t"}})
    if (!except.count(cp)) shorts += c;
  if (!shorts.empty()) alts += " | \"\\\\\" [" + shorts + "]";
  bool control_excluded = false;
  for (std::uint32_t cp : except) control_excluded |= cp < 0x20;
  if (!control_excluded) {
    alts += " | \"\\\\u00\" (\"0\" [0-7bef] | \"1\" [0-9a-f])";
  } else {
    for (std::uint32_t cp = 0; cp < 0x20; ++cp)
      if (cp != 8 && cp != 9 && cp != 10 && cp != 12 && cp != 13 && !except.count(cp)) alts += " | " + unit(cp);
  }
  return "(" + alts + ")";
}

}  // namespace

std::string json_key_except(const std::vector<std::string>& names,
                            const std::function<std::string(const std::string&, std::string)>& add_rule) {
  Node root;
  for (const std::string& name : names) {
    Node* at = &root;
    for (std::uint32_t cp : code_points(name)) {
      auto& child = at->children[cp];
      if (!child) child = std::make_unique<Node>();
      at = child.get();
    }
    at->terminal = true;
  }
  const std::string any_char = add_rule("key-char", unit_except({}));
  const std::string rest = any_char + "* \"\\\"\"";
  // Post-order: a node's rule refers to its children's.
  std::function<std::string(const Node&)> build = [&](const Node& n) {
    std::set<std::uint32_t> next;
    std::string body;
    if (!n.terminal) body = "\"\\\"\"";
    for (const auto& [cp, child] : n.children) next.insert(cp);
    body += (body.empty() ? "" : " | ") + unit_except(next) + " " + rest;
    for (const auto& [cp, child] : n.children) body += " | " + unit(cp) + " " + build(*child);
    return add_rule("key", body);
  };
  return "\"\\\"\" " + build(root);
}

}  // namespace inkling::detail
