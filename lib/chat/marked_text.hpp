// A chat conversation being rendered: the text, and which spans of it the template wrote
// itself (its markers, role names, BOS/EOS texts). Only those spans may become control
// tokens (ChatTemplate::encode), so a message that types "<|im_end|>" keeps it as text
// and cannot forge a turn. Message contents are the rest. Plus the whitespace trimming
// the reference (Jinja) templates apply to contents.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inkling/tokenizer.hpp"

namespace inkling::detail {

struct MarkedText {
  std::string text;
  std::vector<TextSpan> markup;  // sorted, adjacent marks merged

  void mark(std::string_view s) {
    if (s.empty()) return;
    if (!markup.empty() && markup.back().end == text.size())
      markup.back().end += s.size();
    else
      markup.push_back({text.size(), text.size() + s.size()});
    text += s;
  }
  void content(std::string_view s) { text += s; }
};

// Python's str.strip() / rstrip() (Jinja's trim) on ASCII whitespace, which is what chat
// text contains; the Unicode spaces Python also strips are left alone.
inline constexpr std::string_view kAsciiSpace = " \t\n\r\f\v";
inline std::string_view strip(std::string_view s) {
  const auto b = s.find_first_not_of(kAsciiSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kAsciiSpace) - b + 1);
}
inline std::string_view rstrip(std::string_view s) {
  const auto e = s.find_last_not_of(kAsciiSpace);
  return e == std::string_view::npos ? std::string_view() : s.substr(0, e + 1);
}
// Python's lstrip("\n") / rstrip("\n").
inline std::string_view lstrip_newlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
inline std::string_view rstrip_newlines(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

}  // namespace inkling::detail
