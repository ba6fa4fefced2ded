// Embedding throughput: 64 inputs of 128 tokens per call, packed into passes, at 1 and 2
// threads, on shared/models/synth-bert.gguf and on a bge-small-shaped file with random
// F16 weights (384 wide, 12 layers, 12 heads, FFN 1536, the bge vocabulary) written once
// to $TMPDIR/inkling-bench-bge-small.gguf, so that llama.cpp's llama-bench can run on the
// same file:  llama-bench -m FILE -embd 1 -p 128 -n 0 -t 1,2   (its pp128 is tokens/s).
// Each file runs twice: inputs packed 4 to a pass, and one input per pass (pp128's shape).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "inkling/embedder.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/model.hpp"

namespace {

namespace fs = std::filesystem;

fs::path shared_model() {
  const char* env = std::getenv("INKLING_SHARED");
  return fs::path(env ? env : "../shared") / "models" / "synth-bert.gguf";
}

std::vector<std::byte> random_bytes(inkling::DType type, std::size_t n, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> f(n);
  for (float& x : f) x = d(rng);
  if (type == inkling::DType::F32) {
    std::vector<std::byte> b(n * 4);
    std::memcpy(b.data(), f.data(), b.size());
    return b;
  }
  std::vector<std::uint16_t> h(n);
  for (std::size_t i = 0; i < n; ++i) {  // f32 -> f16, round to nearest (values are small and normal)
    std::uint32_t u;
    std::memcpy(&u, &f[i], 4);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const int exp = static_cast<int>((u >> 23) & 0xFF) - 127 + 15;
    std::uint32_t mant = u & 0x7FFFFFu;
    if (exp <= 0) { h[i] = static_cast<std::uint16_t>(sign); continue; }
    std::uint32_t v = (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
    if ((mant >> 12) & 1u) ++v;
    h[i] = static_cast<std::uint16_t>(sign | v);
  }
  std::vector<std::byte> b(n * 2);
  std::memcpy(b.data(), h.data(), b.size());
  return b;
}

// A bge-small-en-v1.5-shaped BERT with synth-bert's vocabulary and random weights.
fs::path bge_small_file() {
  const fs::path out = fs::temp_directory_path() / "inkling-bench-bge-small.gguf";
  if (fs::exists(out)) return out;
  const auto src = inkling::GgufFile::open(shared_model());
  inkling::GgufWriter w;
  const std::int64_t d = 384, ff = 1536, layers = 12, ctx = 512;
  for (const auto& kv : src->metadata()) {
    const std::string key(kv.key);
    if (key.rfind("tokenizer.", 0) == 0 || key == "general.architecture") w.set_value(key, kv.value);
  }
  w.set_string("general.name", "bench-bge-small-shape");
  w.set_u32("bert.context_length", ctx);
  w.set_u32("bert.embedding_length", d);
  w.set_u32("bert.block_count", layers);
  w.set_u32("bert.feed_forward_length", ff);
  w.set_u32("bert.attention.head_count", 12);
  w.set_f32("bert.attention.layer_norm_epsilon", 1e-12f);
  w.set_bool("bert.attention.causal", false);
  w.set_u32("bert.pooling_type", 2);
  w.set_u32("general.file_type", 1);
  std::mt19937 rng(7);
  using inkling::DType;
  const auto vec = [&](const std::string& name, std::int64_t n, float mean) {
    auto b = random_bytes(DType::F32, static_cast<std::size_t>(n), 0.05f, rng);
    auto* f = reinterpret_cast<float*>(b.data());
    for (std::int64_t i = 0; i < n; ++i) f[i] += mean;
    w.add_tensor(name, DType::F32, {n}, std::move(b));
  };
  const auto mat = [&](const std::string& name, std::int64_t k, std::int64_t m) {
    w.add_tensor(name, DType::F16, {k, m}, random_bytes(DType::F16, static_cast<std::size_t>(k * m), 1.0f / std::sqrt(static_cast<float>(k)), rng));
  };
  mat("token_embd.weight", d, 30522);
  w.add_tensor("token_types.weight", DType::F32, {d, 2}, random_bytes(DType::F32, static_cast<std::size_t>(d * 2), 0.1f, rng));
  w.add_tensor("position_embd.weight", DType::F32, {d, ctx}, random_bytes(DType::F32, static_cast<std::size_t>(d * ctx), 0.1f, rng));
  vec("token_embd_norm.weight", d, 1.0f);
  vec("token_embd_norm.bias", d, 0.0f);
  for (int i = 0; i < layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    for (const char* t : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      mat(p + t + ".weight", d, d);
      vec(p + t + ".bias", d, 0.0f);
    }
    vec(p + "attn_output_norm.weight", d, 1.0f);
    vec(p + "attn_output_norm.bias", d, 0.0f);
    mat(p + "ffn_up.weight", d, ff);
    vec(p + "ffn_up.bias", ff, 0.0f);
    mat(p + "ffn_down.weight", ff, d);
    vec(p + "ffn_down.bias", d, 0.0f);
    vec(p + "layer_output_norm.weight", d, 1.0f);
    vec(p + "layer_output_norm.bias", d, 0.0f);
  }
  w.write(out);
  return out;
}

// 64 inputs of 128 tokens: [CLS], 126 seeded word-piece ids, [SEP].
std::vector<std::vector<inkling::TokenId>> inputs() {
  std::mt19937 rng(42);
  std::uniform_int_distribution<inkling::TokenId> id(1000, 29000);
  std::vector<std::vector<inkling::TokenId>> v(64);
  for (auto& in : v) {
    in.push_back(101);
    for (int i = 0; i < 126; ++i) in.push_back(id(rng));
    in.push_back(102);
  }
  return v;
}

// bge_shape: the bge-small-shaped file, else synth-bert. one_per_pass: each input its own
// pass of 128 tokens (EmbedOptions::batch_tokens = 128), the shape of llama-bench's pp128;
// else inputs packed up to the context (4 to a pass).
void BM_embed(benchmark::State& state, bool bge_shape, bool one_per_pass) {
  if (!fs::exists(shared_model())) {
    state.SkipWithError(("missing " + shared_model().string() + " (set INKLING_SHARED)").c_str());
    return;
  }
  const auto model = inkling::Model::load(bge_shape ? bge_small_file() : shared_model(),
                                          {.threads = static_cast<int>(state.range(0))});
  inkling::Embedder embedder(model, {.batch_tokens = one_per_pass ? 128 : 0});
  const auto in = inputs();
  for (auto _ : state) {
    const auto e = embedder.embed_tokens(in);
    benchmark::DoNotOptimize(e.vectors.data());
  }
  state.counters["embd/s"] = benchmark::Counter(64, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tok/s"] = benchmark::Counter(64 * 128, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(BM_embed, synth_bert, false, false)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_embed, synth_bert_one_per_pass, false, true)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_embed, bge_small_shape, true, false)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_embed, bge_small_shape_one_per_pass, true, true)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
