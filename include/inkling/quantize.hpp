// Converting a model file to another weight type (as llama-quantize does for the simple
// types): every weight matrix is dequantized row by row and re-encoded, the rest of the
// file (metadata, vocabulary, norms) is copied. Used to make a small draft model from a
// large one, or an F16 file into Q8_0 / Q4_0.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "inkling/tensor.hpp"

namespace inkling {

struct QuantizeOptions {
  DType type = DType::Q4_0;  // F32, F16, BF16, Q8_0 or Q4_0
  // Called after each tensor is written (name, index, count), for progress output.
  std::function<void(std::string_view, int, int)> on_tensor;
};

struct QuantizeReport {
  int converted = 0;     // matrices re-encoded to the target type
  int kept = 0;          // tensors copied as they were (1-D ones, rows not a multiple of the block)
  std::size_t bytes_in = 0, bytes_out = 0;  // tensor data
};

// Whether quantize_model can write `type`.
bool can_quantize_to(DType type) noexcept;

// Reads `in` (any type inkling loads) and writes `out`. Throws Error(Unsupported) for a
// target type it cannot write, Error(Io)/Error(Format) for files it cannot read or write,
// Error(InvalidArgument) if in and out are the same file.
QuantizeReport quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options = {});

}  // namespace inkling
