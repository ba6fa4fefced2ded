// A small command-line flag reader shared by the subcommands: every value is checked
// and a bad one is an Error(InvalidArgument) naming the flag.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "inkling/error.hpp"
#include "inkling/tensor.hpp"

class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}

  bool next() { return ++i_ < argc_; }
  std::string_view flag() const { return argv_[i_]; }
  bool is(std::string_view a, std::string_view b = {}) const { return flag() == a || (!b.empty() && flag() == b); }

  std::string value() {
    if (i_ + 1 >= argc_) fail(std::string(flag()) + " needs a value");
    return argv_[++i_];
  }
  long long integer(long long lo, long long hi) {
    const std::string f(flag());
    const std::string v = value();
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno == ERANGE || x < lo || x > hi)
      fail(f + ": '" + v + "' is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  // A 64-bit unsigned value (seeds), the whole range.
  std::uint64_t unsigned64() {
    const std::string f(flag());
    const std::string v = value();
    char* end = nullptr;
    errno = 0;
    const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end || errno == ERANGE)
      fail(f + ": '" + v + "' is not an integer in [0, 18446744073709551615]");
    return x;
  }
  float real() {
    const std::string f(flag());
    const std::string v = value();
    char* end = nullptr;
    const float x = std::strtof(v.c_str(), &end);
    if (v.empty() || *end) fail(f + ": '" + v + "' is not a number");
    return x;
  }
  // --kv-type's value: f32, f16 or q8_0.
  inkling::DType kv_type() {
    const std::string t = value();
    if (t == "f32" || t == "F32") return inkling::DType::F32;
    if (t == "f16" || t == "F16") return inkling::DType::F16;
    if (t == "q8_0" || t == "Q8_0") return inkling::DType::Q8_0;
    fail("--kv-type: expected f32, f16 or q8_0, got '" + t + "'");
  }
  [[noreturn]] static void fail(const std::string& what) {
    throw inkling::Error(inkling::ErrorCode::InvalidArgument, what);
  }
  [[noreturn]] void unknown() const { fail("unknown option '" + std::string(flag()) + "' (see --help)"); }

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
};
