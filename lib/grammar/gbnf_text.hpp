// Writing GBNF text from code.
#pragma once

#include <string>
#include <string_view>

namespace inkling::detail {

// A GBNF string literal matching exactly `text` (UTF-8 passes through; quotes,
// backslashes and control characters are escaped).
inline std::string gbnf_literal(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace inkling::detail
