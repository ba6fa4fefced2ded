// GELU through a table of every fp16 input, as llama.cpp evaluates it: the same values as
// detail::gelu (fp16 in, tanh formula, fp16 out) without a tanh per element, which
// dominates an encoder's FFN (BERT runs GELU on 4 x n_embd values per token per layer).
#pragma once

#include <cstdint>

namespace inkling::detail {

class GeluTable {
 public:
  GeluTable();  // 65536 evaluations of detail::gelu, about a millisecond
  // x[i] = gelu(x[i]), bit for bit what detail::gelu returns.
  void apply(float* x, std::int64_t n) const noexcept;
  // The 65536 values, indexed by the fp16 bits of the input (kernels::bias_gelu's table).
  const float* data() const noexcept { return values_; }

 private:
  float values_[1 << 16];
};

// The table, built on first use (immutable afterwards; safe from any thread).
const GeluTable& gelu_table();

}  // namespace inkling::detail
