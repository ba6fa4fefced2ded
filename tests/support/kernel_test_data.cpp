#include "kernel_test_data.hpp"

#include <cstring>

#include "common/thread_team.hpp"
#include "kernels/fp16.hpp"

namespace inkling::test {

using kernels::f32_to_bf16;
using kernels::f32_to_fp16;

std::vector<std::byte> random_weights(DType type, std::int64_t k, std::int64_t m, std::mt19937& rng) {
  const auto bytes = static_cast<std::size_t>(dtype_row_bytes(type, k) * m);
  std::vector<std::byte> w(bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  if (type == DType::F32) {
    for (std::size_t i = 0; i < bytes / 4; ++i) reinterpret_cast<float*>(w.data())[i] = normal(rng);
    return w;
  }
  if (type == DType::F16 || type == DType::BF16) {
    for (std::size_t i = 0; i < bytes / 2; ++i)
      reinterpret_cast<std::uint16_t*>(w.data())[i] = type == DType::F16 ? f32_to_fp16(normal(rng)) : f32_to_bf16(normal(rng));
    return w;
  }
  for (auto& b : w) b = static_cast<std::byte>(byte(rng));
  std::vector<std::size_t> scales;
  switch (type) {
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: scales = {0}; break;
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: scales = {0, 2}; break;
    case DType::Q2_K: scales = {80, 82}; break;
    case DType::Q3_K: scales = {108}; break;
    case DType::Q6_K: scales = {208}; break;
    default: break;
  }
  const auto block = static_cast<std::size_t>(dtype_traits(type).block_bytes);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  for (std::size_t b = 0; b < bytes; b += block)
    for (auto off : scales) {
      const std::uint16_t h = f32_to_fp16(scale(rng));
      std::memcpy(w.data() + b + off, &h, 2);
    }
  return w;
}

TensorView weight_view(DType type, std::int64_t k, std::int64_t m, const std::vector<std::byte>& data) {
  TensorView t;
  t.name = "w";
  t.type = type;
  t.n_dims = 2;
  t.shape = {k, m, 1, 1};
  t.data = data.data();
  t.bytes = data.size();
  return t;
}

std::vector<float> run_matmul(kernels::Isa isa, const TensorView& w, const std::vector<float>& x, int n, int threads) {
  std::vector<float> y(static_cast<std::size_t>(n * w.rows()));
  kernels::Workspace ws;
  inkling::detail::ThreadTeam team;
  team.run(threads, [&](inkling::detail::TeamMember& member) { kernels::matmul(isa, w, x.data(), n, y.data(), ws, member); });
  return y;
}

}  // namespace inkling::test
