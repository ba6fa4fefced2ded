// Sampler cost per token at real vocabulary sizes (32k Llama, 152k Qwen2), for the
// default chain, greedy, and top-k off (where top-p has to find the nucleus itself).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "inkling/sampler.hpp"

namespace {

// Logits shaped like a model's: a few strong candidates over a long, flat tail.
std::vector<float> make_logits(std::size_t n) {
  std::vector<float> l(n);
  std::uint64_t x = 42;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    l[i] = static_cast<float>(x >> 40) / static_cast<float>(1 << 24) * 8.0f - 4.0f;
  }
  for (std::size_t i = 0; i < 20; ++i) l[(i * 7919) % n] = 18.0f - static_cast<float>(i) * 0.4f;
  return l;
}

void run(benchmark::State& state, inkling::SamplerConfig config) {
  const auto logits = make_logits(static_cast<std::size_t>(state.range(0)));
  std::vector<inkling::TokenId> history;
  for (int i = 0; i < 64; ++i) history.push_back(i * 97);
  inkling::Sampler sampler(config);
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(logits, history));
  state.SetItemsProcessed(state.iterations());  // tokens
  state.counters["logits/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(state.range(0)),
                                                  benchmark::Counter::kIsRate);
}

void BM_SampleDefault(benchmark::State& state) { run(state, {}); }

void BM_SampleGreedy(benchmark::State& state) {
  inkling::SamplerConfig c;
  c.temperature = 0;
  run(state, c);
}

void BM_SampleTopKOff(benchmark::State& state) {
  inkling::SamplerConfig c;
  c.top_k = 0;
  c.repeat_penalty = 1.1f;
  run(state, c);
}

}  // namespace

BENCHMARK(BM_SampleDefault)->Arg(32000)->Arg(151936)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleGreedy)->Arg(32000)->Arg(151936)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SampleTopKOff)->Arg(32000)->Arg(151936)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
