// How the CLI shows token pieces: quoted, with control characters and stray bytes of
// UTF-8 characters escaped, and padded by terminal columns rather than bytes.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "utf8.hpp"

// '\n' and '\t' as such, other control characters and bytes that are only part of a
// UTF-8 character (byte tokens) as \xNN, so they can neither move the cursor nor garble
// the terminal.
inline std::string visible(const std::string& s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_valid_length(s, i);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.append(s, i, n);
      i += n;
      continue;
    }
    ++i;
  }
  return out + "'";
}

// Terminal columns of valid UTF-8 text (one per character: the pieces and block
// characters printed here are all narrow).
inline int columns(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// printf's %-Ns pads by bytes, which misaligns multi-byte text: pad by columns.
inline std::string pad(const std::string& s, int width) {
  return s + std::string(static_cast<std::size_t>(std::max(0, width - columns(s))), ' ');
}
