// GgufWriter: writes GGUF v3 (or v2) files that inkling and llama.cpp both load: the
// metadata, a tensor directory, and tensor data padded to the alignment. Used by
// `inkling synth`, the benchmarks and the tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/gguf.hpp"
#include "inkling/tensor.hpp"

namespace inkling {

class GgufWriter {
 public:
  // Fills a tensor's bytes when the file is written, so big files are streamed rather
  // than held in memory.
  using Fill = std::function<void(std::span<std::byte>)>;

  void set_version(std::uint32_t version) { version_ = version; }  // 2 or 3
  void set_alignment(std::uint32_t alignment);  // also written as general.alignment

  void set_u8(std::string_view key, std::uint8_t v);
  void set_i8(std::string_view key, std::int8_t v);
  void set_u16(std::string_view key, std::uint16_t v);
  void set_i16(std::string_view key, std::int16_t v);
  void set_u32(std::string_view key, std::uint32_t v);
  void set_i32(std::string_view key, std::int32_t v);
  void set_u64(std::string_view key, std::uint64_t v);
  void set_i64(std::string_view key, std::int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_string_array(std::string_view key, const std::vector<std::string>& v);
  void set_f32_array(std::string_view key, const std::vector<float>& v);
  void set_i32_array(std::string_view key, const std::vector<std::int32_t>& v);
  void set_u32_array(std::string_view key, const std::vector<std::uint32_t>& v);
  // Any value read from another file, arrays (nested too) included.
  void set_value(std::string_view key, const GgufValue& v);
  // A value given as its encoded bytes (type id first): for tests of odd files.
  void set_raw(std::string_view key, std::vector<std::byte> encoded_type_and_value);

  // shape is {ne0, ne1, ...}, ne0 innermost; data must hold exactly the tensor's bytes.
  void add_tensor(std::string_view name, DType type, std::vector<std::int64_t> shape, std::vector<std::byte> data);
  void add_tensor(std::string_view name, DType type, std::vector<std::int64_t> shape, Fill fill);

  std::vector<std::byte> to_bytes() const;
  void write(const std::filesystem::path& path) const;  // Error(Io) on failure

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<std::int64_t> shape;
    std::size_t bytes;
    Fill fill;
  };
  void put(std::string_view key, std::vector<std::byte> encoded);
  void emit(const std::function<void(const void*, std::size_t)>& out) const;

  std::uint32_t version_ = 3;
  std::uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, std::vector<std::byte>>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace inkling
