// Kernel throughput at the matrix shapes of a 1B model (TinyLlama: 2048 x 2048,
// 2048 x 5632, 5632 x 2048), decode (1 token) and prefill (64, 512 tokens), 1 and 2
// threads, reported as GB/s of weights streamed and GOP/s, beside a STREAM-style triad
// that measures this machine's memory bandwidth.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "inkling/tensor.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernels.hpp"

using namespace inkling;

namespace {

struct Weights {
  std::vector<std::byte> data;
  TensorView view;
};

Weights make(DType type, std::int64_t k, std::int64_t m) {
  Weights w;
  w.data.resize(static_cast<std::size_t>(dtype_row_bytes(type, k) * m));
  std::mt19937_64 rng(1);
  for (std::size_t i = 0; i + 8 <= w.data.size(); i += 8) {
    const std::uint64_t r = rng();
    std::memcpy(w.data.data() + i, &r, 8);
  }
  // Keep every fp16 field finite: rewrite halves as small values for the float types,
  // and the scale fields of quantized blocks.
  if (type == DType::F16 || type == DType::BF16) {
    auto* h = reinterpret_cast<std::uint16_t*>(w.data.data());
    for (std::size_t i = 0; i < w.data.size() / 2; ++i) h[i] = kernels::f32_to_fp16(0.01f * static_cast<float>(i % 7));
  } else if (type == DType::F32) {
    auto* f = reinterpret_cast<float*>(w.data.data());
    for (std::size_t i = 0; i < w.data.size() / 4; ++i) f[i] = 0.01f * static_cast<float>(i % 7);
  } else {
    const auto block = static_cast<std::size_t>(dtype_traits(type).block_bytes);
    const std::size_t off = type == DType::Q6_K ? 208 : type == DType::Q3_K ? 108 : type == DType::Q2_K ? 80 : 0;
    for (std::size_t b = 0; b < w.data.size(); b += block) {
      const std::uint16_t h = kernels::f32_to_fp16(0.01f);
      std::memcpy(w.data.data() + b + off, &h, 2);
      if (type == DType::Q4_K || type == DType::Q5_K || type == DType::Q4_1 || type == DType::Q5_1)
        std::memcpy(w.data.data() + b + 2, &h, 2);
      if (type == DType::Q2_K) std::memcpy(w.data.data() + b + 82, &h, 2);
    }
  }
  w.view.name = "bench";
  w.view.type = type;
  w.view.n_dims = 2;
  w.view.shape = {k, m, 1, 1};
  w.view.data = w.data.data();
  w.view.bytes = w.data.size();
  // As a model does at load: weights in the layout this CPU's kernels read fastest.
  if (const std::uint32_t layout = kernels::repack_layout(kernels::detect_isa(), type)) {
    kernels::repack(kernels::detect_isa(), w.view, w.data.data());
    w.view.layout = layout;
  }
  return w;
}

// The machine's triad bandwidth per thread count, measured once per run (0 in the short
// CI mode, where the ratio is not worth the time).
double triad_for(int threads) {
  static std::map<int, double> measured;
  if (std::getenv("INKLING_BENCH_NO_PROBE")) return 0;
  auto it = measured.find(threads);
  if (it == measured.end()) it = measured.emplace(threads, kernels::triad_bandwidth(threads)).first;
  return it->second;
}

// args: type, k, m, tokens, threads
void BM_matmul(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const std::int64_t k = state.range(1), m = state.range(2);
  const int n = static_cast<int>(state.range(3)), threads = static_cast<int>(state.range(4));
  const Weights w = make(type, k, m);
  std::vector<float> x(static_cast<std::size_t>(k * n), 0.5f), y(static_cast<std::size_t>(m * n));
  kernels::Workspace ws;
  const kernels::Isa isa = kernels::detect_isa();
  const auto t0 = std::chrono::steady_clock::now();
  inkling::detail::ThreadTeam team;
  for (auto _ : state) {
    team.run(threads, [&](inkling::detail::TeamMember& member) { kernels::matmul(isa, w.view, x.data(), n, y.data(), ws, member); });
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.data.size()) * iters / 1e9, benchmark::Counter::kIsRate);
  // Decode (tokens = 1) streams the weights once: its share of the triad bandwidth is how
  // close the kernel gets to the memory limit.
  if (n == 1) {
    if (const double triad = triad_for(threads); triad > 0 && seconds > 0)
      state.counters["of_triad"] = static_cast<double>(w.data.size()) * iters / seconds / 1e9 / triad;
  }
  state.counters["GOP/s"] = benchmark::Counter(2.0 * k * m * n * iters / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(dtype_name(type)) + " " + std::string(kernels::isa_name(isa)));
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::F16, DType::F32})
    for (auto [k, m] : {std::pair<int, int>{2048, 2048}, {2048, 5632}, {5632, 2048}})
      for (int n : {1, 64, 512})
        for (int threads : {1, 2}) {
          if (n == 512 && (t == DType::F32 || m != 2048 || k != 2048)) continue;  // keep the full run short
          b->Args({static_cast<long>(t), k, m, n, threads});
        }
  // The other types at one 1B decode shape: enough to see each kernel's GB/s.
  for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q5_K, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::BF16})
    for (int threads : {1, 2}) b->Args({static_cast<long>(t), 2048, 5632, 1, threads});
  b->ArgNames({"type", "k", "m", "tokens", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_matmul)->Apply(matmul_args);

// STREAM triad over 3 x 64 MB (kernels::triad_bandwidth, which `inkling bench` uses too):
// the memory bandwidth decode is bound by.
void BM_bandwidth_triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  double gbs = 0;
  for (auto _ : state) gbs = kernels::triad_bandwidth(threads, 64u << 20, 1);
  state.counters["GB/s"] = gbs;
}
BENCHMARK(BM_bandwidth_triad)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
