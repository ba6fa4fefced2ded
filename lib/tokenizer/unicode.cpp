#include "tokenizer/unicode.hpp"

#include <utf8proc.h>

namespace inkling::unicode {

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    auto cont = [&](std::size_t k) {
      return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    };
    auto at = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    if (b0 < 0x80) {
      out.push_back(b0);
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && cont(1)) {
      out.push_back((static_cast<char32_t>(b0 & 0x1F) << 6) | at(1));
      i += 2;
    } else if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      out.push_back((static_cast<char32_t>(b0 & 0x0F) << 12) | (at(1) << 6) | at(2));
      i += 3;
    } else if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      out.push_back((static_cast<char32_t>(b0 & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3));
      i += 4;
    } else {
      out.push_back(0xFFFD);
      i += 1;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
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

std::string encode_utf8(const std::vector<char32_t>& cps, std::size_t begin, std::size_t end) {
  std::string out;
  out.reserve((end - begin) * 2);
  for (std::size_t i = begin; i < end; ++i) append_utf8(out, cps[i]);
  return out;
}

std::uint32_t flags(char32_t cp) noexcept {
  if (cp > 0x10FFFF) return 0;
  std::uint32_t f = 0;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: f = kLetter; break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: f = kNumber; break;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: f = kPunctuation; break;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: f = kSymbol; break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: f = kMark; break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: f = kSeparator; break;
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: f = kControl; break;
    default: break;
  }
  // The White_Space property (PropList.txt): a short, stable list.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      f |= kWhitespace;
      break;
    default:
      if (cp >= 0x2000 && cp <= 0x200A) f |= kWhitespace;
  }
  return f;
}

char32_t to_lower(char32_t cp) noexcept {
  if (cp > 0x10FFFF) return cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

char32_t strip_accents(char32_t cp) noexcept {
  if (cp < 0x80 || cp > 0x10FFFF) return cp;
  utf8proc_int32_t buf[8];
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 8,
                                                     UTF8PROC_DECOMPOSE, nullptr);
  return n >= 1 ? static_cast<char32_t>(buf[0]) : cp;
}

int decompose_hangul(char32_t cp, char32_t out[3]) noexcept {
  constexpr char32_t kFirst = 0xAC00, kL = 0x1100, kV = 0x1161, kT = 0x11A7;
  constexpr int kVCount = 21, kTCount = 28, kCount = 19 * kVCount * kTCount;
  if (cp < kFirst || cp >= kFirst + kCount) return 0;
  const int s = static_cast<int>(cp - kFirst);
  out[0] = kL + static_cast<char32_t>(s / (kVCount * kTCount));
  out[1] = kV + static_cast<char32_t>(s % (kVCount * kTCount) / kTCount);
  if (s % kTCount == 0) return 2;
  out[2] = kT + static_cast<char32_t>(s % kTCount);
  return 3;
}

}  // namespace inkling::unicode
