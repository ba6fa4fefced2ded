// Integer ranges as GBNF: the decimal strings of every integer in [lo, hi] and no other,
// without leading zeros, built digit by digit (the classic range-to-pattern split).
#include "grammar/int_range.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "inkling/error.hpp"

namespace inkling::detail {
namespace {

constexpr int kMaxDigits = 18;  // so that every bound fits a signed 64-bit integer

std::string digit_class(char a, char b) {
  if (a == b) return std::string("\"") + a + "\"";
  return std::string("[") + a + "-" + b + "]";
}

std::string any_digits(std::size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Every digit string of lo.size() characters in [lo, hi] (same length, lo <= hi).
std::string same_length(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return "";
  if (lo == hi) return "\"" + lo + "\"";
  if (lo[0] == hi[0]) return digit_class(lo[0], lo[0]) + " " + same_length(lo.substr(1), hi.substr(1));
  const std::size_t rest = lo.size() - 1;
  const std::string nines(rest, '9'), zeros(rest, '0');
  std::vector<std::string> alts;
  char first = static_cast<char>(lo[0] + 1), last = static_cast<char>(hi[0] - 1);
  if (lo.substr(1) == zeros) first = lo[0];
  else alts.push_back(digit_class(lo[0], lo[0]) + " " + same_length(lo.substr(1), nines));
  if (hi.substr(1) == nines) last = hi[0];
  if (first <= last) {
    std::string middle = digit_class(first, last);
    if (rest) {
      middle += ' ';
      middle += any_digits(rest);
    }
    alts.push_back(std::move(middle));
  }
  if (hi.substr(1) != nines) alts.push_back(digit_class(hi[0], hi[0]) + " " + same_length(zeros, hi.substr(1)));
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (std::size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

long long pow10(int n) {
  long long v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// Non-negative integers in [a, b] (b absent: up to kMaxDigits digits).
std::string unsigned_range(long long a, std::optional<long long> b) {
  const int la = static_cast<int>(std::to_string(a).size());
  const int lb = b ? static_cast<int>(std::to_string(*b).size()) : kMaxDigits;
  std::vector<std::string> alts;
  for (int len = la; len <= lb; ++len) {
    if (!b && len > la) {  // every longer length at once
      alts.push_back("[1-9] [0-9]{" + std::to_string(len - 1) + "," + std::to_string(kMaxDigits - 1) + "}");
      break;
    }
    const long long lo = len == la ? a : pow10(len - 1);
    const long long hi = b && len == lb ? *b : pow10(len) - 1;
    alts.push_back(same_length(std::to_string(lo), std::to_string(hi)));
  }
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (std::size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

}  // namespace

std::string int_range_gbnf(std::optional<long long> lo, std::optional<long long> hi) {
  const long long limit = pow10(kMaxDigits) - 1;
  if ((lo && (*lo < -limit || *lo > limit)) || (hi && (*hi < -limit || *hi > limit)))
    throw Error(ErrorCode::Unsupported, "integer bounds beyond " + std::to_string(kMaxDigits) + " digits");
  if (lo && hi && *lo > *hi)
    throw Error(ErrorCode::InvalidArgument, "integer range is empty: minimum " + std::to_string(*lo) + " > maximum " + std::to_string(*hi));
  std::vector<std::string> parts;
  if (!lo || *lo < 0) {  // negative numbers: "-" and a magnitude in [max(1, -hi), -lo]
    const long long mag_lo = hi && *hi < 0 ? -*hi : 1;
    parts.push_back("\"-\" " + unsigned_range(mag_lo, lo ? std::optional<long long>(-*lo) : std::nullopt));
  }
  if (!hi || *hi >= 0) parts.push_back(unsigned_range(lo ? std::max<long long>(*lo, 0) : 0, hi));
  if (parts.size() == 1) return "(" + parts[0] + ")";
  return "(" + parts[0] + " | " + parts[1] + ")";
}

}  // namespace inkling::detail
