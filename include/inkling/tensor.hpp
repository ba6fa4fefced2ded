// DType (ggml tensor types as stored in GGUF) and TensorView, a non-owning view of
// a weight tensor inside a loaded file.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace inkling {

// Values are the ggml_type ids written in GGUF files.
enum class DType : std::uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

// Layout facts of a type: how many elements one block holds and its size in bytes.
struct DTypeTraits {
  std::string_view name;
  std::int64_t block_elems;  // elements per block (1 for plain types)
  std::int64_t block_bytes;  // bytes per block
};

// Traits for a raw ggml_type id, or nullopt for ids that are unknown or removed.
std::optional<DTypeTraits> dtype_traits(std::uint32_t raw_type) noexcept;
// Traits for a known DType (never fails for the enumerators above).
DTypeTraits dtype_traits(DType type) noexcept;
std::string_view dtype_name(DType type) noexcept;
// Bytes of one row of `elems` elements (elems must be a multiple of the block size).
std::int64_t dtype_row_bytes(DType type, std::int64_t elems) noexcept;
// Parses a name such as "q4_0" or "F16" (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name) noexcept;

inline constexpr int kMaxDims = 4;

// A tensor as described in a GGUF file, viewing bytes owned by the file's mapping.
// shape[0] is the innermost, contiguous dimension (ggml's ne[0]): a weight matrix of
// shape {K, M} has M rows of K elements. Unused dimensions are 1.
struct TensorView {
  std::string_view name;
  DType type = DType::F32;
  int n_dims = 0;
  std::array<std::int64_t, kMaxDims> shape{1, 1, 1, 1};
  const std::byte* data = nullptr;
  std::size_t bytes = 0;
  // 0: the bytes are laid out as in the file. Otherwise the model repacked them at load
  // into a layout of its kernels (row() then does not address single rows).
  std::uint32_t layout = 0;

  std::int64_t elements() const noexcept { return shape[0] * shape[1] * shape[2] * shape[3]; }
  std::int64_t row_elems() const noexcept { return shape[0]; }
  std::int64_t rows() const noexcept { return shape[1] * shape[2] * shape[3]; }
  std::size_t row_bytes() const noexcept {
    return static_cast<std::size_t>(dtype_row_bytes(type, shape[0]));
  }
  const std::byte* row(std::int64_t i) const noexcept {
    return data + static_cast<std::size_t>(i) * row_bytes();
  }
};

}  // namespace inkling
