// Byte-level GGUF construction for tests that need files no writer would produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace inkling::test {

struct RawGguf {
  std::vector<std::byte> bytes;

  template <typename T>
  RawGguf& pod(T v) {
    const std::size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
    return *this;
  }
  RawGguf& u32(std::uint32_t v) { return pod(v); }
  RawGguf& i32(std::int32_t v) { return pod(v); }
  RawGguf& u64(std::uint64_t v) { return pod(v); }
  RawGguf& i64(std::int64_t v) { return pod(v); }
  RawGguf& str(std::string_view s) {
    u64(s.size());
    for (char c : s) bytes.push_back(static_cast<std::byte>(c));
    return *this;
  }
  // magic, version, tensor count, kv count
  RawGguf& header(std::int64_t n_tensors, std::int64_t n_kv, std::uint32_t version = 3) {
    return u32(0x46554747).u32(version).i64(n_tensors).i64(n_kv);
  }
  RawGguf& pad_to(std::size_t alignment) {
    while (bytes.size() % alignment) bytes.push_back(std::byte{0});
    return *this;
  }
  RawGguf& zeros(std::size_t n) {
    bytes.insert(bytes.end(), n, std::byte{0});
    return *this;
  }
};

}  // namespace inkling::test
