// Kernel test data shared by the kernel tests: random but well-formed weights of any
// type, a tensor view over them, and a matmul run on a thread team of a given size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "inkling/tensor.hpp"
#include "kernels/kernels.hpp"

namespace inkling::test {

// Random quant bits with finite fp16 scales (every scale and min field of the block
// type), or normal(0, 0.5) values for F32/F16/BF16: k values per row, m rows.
std::vector<std::byte> random_weights(DType type, std::int64_t k, std::int64_t m, std::mt19937& rng);

// A k x m view named "w" over `data`.
TensorView weight_view(DType type, std::int64_t k, std::int64_t m, const std::vector<std::byte>& data);

// y = W x for n tokens at level `isa`, on a thread team of `threads`.
std::vector<float> run_matmul(kernels::Isa isa, const TensorView& w, const std::vector<float>& x, int n, int threads);

}  // namespace inkling::test
