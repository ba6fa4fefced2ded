// A bounds-checked reader over the bytes of a GGUF file: every read is checked against
// the end first, and every failure names the file and the offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "inkling/error.hpp"

namespace inkling::detail {

class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, const std::string& file_name)
      : bytes_(bytes), name_(file_name) {}

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& what, ErrorCode code = ErrorCode::Format) const {
    throw Error(code, name_ + ": " + what + " (at offset " + std::to_string(pos_) + ")");
  }

  template <typename T>
  T read(std::string_view what) {
    if (remaining() < sizeof(T))
      fail("file truncated while reading " + std::string(what) + ": " +
           std::to_string(sizeof(T)) + " bytes needed, " + std::to_string(remaining()) + " left");
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  // `n` bytes viewed in place (numeric arrays); returns where they start.
  const std::byte* skip(std::size_t n, std::string_view what) {
    if (n > remaining())
      fail("file truncated while reading " + std::string(what) + ": " + std::to_string(n) + " bytes needed, " +
           std::to_string(remaining()) + " left");
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

  // A u64 length followed by that many bytes, viewed in place.
  std::string_view read_string(std::string_view what) {
    const auto len = read<std::uint64_t>(std::string("the length of ") + std::string(what));
    if (len > remaining())
      fail("length " + std::to_string(len) + " of " + std::string(what) + " runs past the end of the file (" +
           std::to_string(remaining()) + " bytes left)");
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(len));
    pos_ += static_cast<std::size_t>(len);
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

}  // namespace inkling::detail
