// The model-family variants beyond the golden files: the strict loader (unused tensors,
// unimplemented keys), bad expert and RoPE-factor input, YaRN angles, experts in every
// weight type with batched prefill equal to token-by-token decoding, mixture-of-experts
// models in the batched generator, and per-layer RoPE when the cache removes positions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "inkling/batch_generator.hpp"
#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "kernels/formats/all.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quantize_row.hpp"
#include "model/rope.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

// Deterministic values in [-scale, scale).
std::vector<float> values(std::size_t n, std::uint64_t seed, float scale = 0.5f) {
  std::vector<float> v(n);
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = scale * (static_cast<float>(s >> 40) / static_cast<float>(1ULL << 24) * 2.0f - 1.0f);
  }
  return v;
}

// K-quant rows the library has no encoder for: random quants and 6-bit sub-scales, each
// block's fp16 scales set so that values come out around +-0.3 (as `inkling synth`
// writes them).
std::vector<std::byte> random_k_quant(DType type, std::size_t n, std::uint64_t seed) {
  const auto block = static_cast<std::size_t>(dtype_traits(type).block_bytes);
  std::vector<std::byte> out(n / 256 * block);
  const auto bits = values(out.size(), seed, 1.0f);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::byte>(static_cast<int>((bits[i] + 1.0f) * 127.99f));
  const bool q4 = type == DType::Q4_K;
  const float d_f = q4 ? 0.3f / 140.0f : 0.3f / 1200.0f;
  std::uint16_t d = 0, dmin = 0;
  kernels::quantize_row(DType::F16, &d_f, reinterpret_cast<std::byte*>(&d), 1);
  const float dmin_f = d_f * 3.0f;
  kernels::quantize_row(DType::F16, &dmin_f, reinterpret_cast<std::byte*>(&dmin), 1);
  for (std::size_t b = 0; b < out.size(); b += block) {
    if (q4) {
      std::memcpy(&out[b + offsetof(kernels::BlockQ4_K, d)], &d, 2);
      std::memcpy(&out[b + offsetof(kernels::BlockQ4_K, dmin)], &dmin, 2);
    } else {
      std::memcpy(&out[b + offsetof(kernels::BlockQ6_K, d)], &d, 2);
    }
  }
  return out;
}

std::vector<std::byte> encode(const std::vector<float>& f, DType type, std::int64_t row) {
  std::vector<std::byte> out(static_cast<std::size_t>(dtype_row_bytes(type, row)) * (f.size() / static_cast<std::size_t>(row)));
  const std::size_t rb = static_cast<std::size_t>(dtype_row_bytes(type, row));
  for (std::size_t r = 0; r * static_cast<std::size_t>(row) < f.size(); ++r)
    kernels::quantize_row(type, f.data() + r * static_cast<std::size_t>(row), out.data() + r * rb, row);
  return out;
}

struct Spec {
  std::string arch = "llama";
  int dim = 32, ff = 32, vocab = 4;
  int n_expert = 4, used = 2;      // 0 experts: a dense model
  int tensor_experts = -1;         // the expert tensors' third dimension (-1: n_expert)
  DType expert_type = DType::F32;
  bool write_expert_keys = true;
  bool decode_experts = false;     // store the experts as F32 after rounding them to expert_type
  std::uint64_t seed = 10;         // of the expert values
  bool post_norms = false;         // Gemma 2's post_attention_norm / post_ffw_norm
};

// One layer, 2 heads; experts (when n_expert > 0) or a dense SwiGLU FFN.
GgufWriter model(const Spec& s) {
  GgufWriter w;
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_u32(a + "context_length", 64);
  w.set_u32(a + "embedding_length", static_cast<std::uint32_t>(s.dim));
  w.set_u32(a + "block_count", 1);
  w.set_u32(a + "feed_forward_length", static_cast<std::uint32_t>(s.ff));
  w.set_u32(a + "attention.head_count", 2);
  w.set_u32(a + "attention.head_count_kv", 2);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  if (s.n_expert > 0 || s.write_expert_keys) {
    w.set_u32(a + "expert_count", static_cast<std::uint32_t>(s.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<std::uint32_t>(s.used));
  }
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"});
  const std::int64_t d = s.dim, ff = s.ff;
  auto f32 = [&](const std::string& name, std::vector<std::int64_t> shape, std::uint64_t seed, float scale = 0.5f) {
    std::size_t n = 1;
    for (auto x : shape) n *= static_cast<std::size_t>(x);
    const auto v = values(n, seed, scale);
    std::vector<std::byte> b(n * 4);
    std::memcpy(b.data(), v.data(), b.size());
    w.add_tensor(name, DType::F32, shape, b);
  };
  auto ones = [&](const std::string& name) {
    std::vector<float> v(static_cast<std::size_t>(d), 1.0f);
    std::vector<std::byte> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    w.add_tensor(name, DType::F32, {d}, b);
  };
  f32("token_embd.weight", {d, s.vocab}, 1, 1.0f);
  ones("output_norm.weight");
  ones("blk.0.attn_norm.weight");
  ones("blk.0.ffn_norm.weight");
  if (s.post_norms) {
    ones("blk.0.post_attention_norm.weight");
    ones("blk.0.post_ffw_norm.weight");
  }
  f32("blk.0.attn_q.weight", {d, d}, 2);
  f32("blk.0.attn_k.weight", {d, d}, 3);
  f32("blk.0.attn_v.weight", {d, d}, 4);
  f32("blk.0.attn_output.weight", {d, d}, 5);
  if (s.n_expert == 0) {
    f32("blk.0.ffn_gate.weight", {d, ff}, 6);
    f32("blk.0.ffn_up.weight", {d, ff}, 7);
    f32("blk.0.ffn_down.weight", {ff, d}, 8);
    return w;
  }
  const std::int64_t ne = s.tensor_experts >= 0 ? s.tensor_experts : s.n_expert;
  f32("blk.0.ffn_gate_inp.weight", {d, std::max<std::int64_t>(s.n_expert, 1)}, 9, 2.0f);
  auto experts = [&](const std::string& name, std::int64_t k, std::int64_t m, std::uint64_t seed) {
    auto v = values(static_cast<std::size_t>(k * m * ne), seed);
    const bool k_quant = s.expert_type == DType::Q4_K || s.expert_type == DType::Q6_K;
    auto bytes = k_quant ? random_k_quant(s.expert_type, v.size(), seed) : encode(v, s.expert_type, k);
    if (!s.decode_experts) {
      w.add_tensor(name, s.expert_type, {k, m, ne}, bytes);
      return;
    }
    const std::size_t rb = static_cast<std::size_t>(dtype_row_bytes(s.expert_type, k));
    for (std::size_t r = 0; r < static_cast<std::size_t>(m * ne); ++r)
      kernels::dequantize_row(s.expert_type, bytes.data() + r * rb, v.data() + r * static_cast<std::size_t>(k), k);
    w.add_tensor(name, DType::F32, {k, m, ne}, encode(v, DType::F32, k));
  };
  experts("blk.0.ffn_gate_exps.weight", d, ff, s.seed);
  experts("blk.0.ffn_up_exps.weight", d, ff, s.seed + 1);
  experts("blk.0.ffn_down_exps.weight", ff, d, s.seed + 2);
  return w;
}

std::shared_ptr<const Model> load(const GgufWriter& w) {
  return Model::from_file(GgufFile::from_bytes(w.to_bytes(), "tiny.gguf"), {.threads = 2});
}

void expect(const GgufWriter& w, ErrorCode code, const std::string& needle) {
  try {
    load(w);
    FAIL("expected an error containing '" << needle << "'");
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, e.what());
    CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

// Logits of every position of `ids`, in one batch or one token at a time.
std::vector<float> logits_of(const Model& m, const std::vector<TokenId>& ids, bool batched) {
  KVCache cache(m, {.n_ctx = 64});
  const auto nv = static_cast<std::size_t>(m.config().n_vocab);
  std::vector<float> out(ids.size() * nv);
  if (batched) {
    Batch b;
    for (std::size_t i = 0; i < ids.size(); ++i) b.add(ids[i], static_cast<int>(i), 0, true);
    m.forward(b, cache, out);
    return out;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Batch b;
    b.add(ids[i], static_cast<int>(i), 0, true);
    m.forward(b, cache, std::span<float>(out.data() + i * nv, nv));
  }
  return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
  return d;
}

const std::vector<TokenId> kIds{1, 3, 2, 3, 3, 0, 1, 2, 3, 1, 1, 2};

}  // namespace

TEST_CASE("a tensor the architecture does not use, or an unimplemented key, is refused by name") {
  Spec dense{.n_expert = 0, .write_expert_keys = false};
  CHECK(load(model(dense))->config().n_expert == 0);
  auto extra = model(dense);
  extra.add_tensor("blk.0.mystery.weight", DType::F32, {4}, std::vector<std::byte>(16));
  expect(extra, ErrorCode::Unsupported, "tensor 'blk.0.mystery.weight' is not used");
  auto key = model(dense);
  key.set_f32("llama.attention.scale", 0.5f);  // Granite's, not implemented for llama
  expect(key, ErrorCode::Unsupported, "metadata key 'llama.attention.scale'");
  auto rope = model(dense);
  rope.set_string("llama.rope.scaling.type", "su");
  expect(rope, ErrorCode::Unsupported, "rope scaling type 'su'");
  auto swa = model(dense);
  swa.set_u32("llama.attention.sliding_window", 8);  // llama declares windows: fine
  CHECK(load(swa)->config().sliding_window == 8);
  auto qwen = model({.arch = "qwen2", .n_expert = 0, .write_expert_keys = false});
  qwen.set_u32("qwen2.attention.sliding_window", 8);  // qwen2 has no window: refused
  expect(qwen, ErrorCode::Unsupported, "metadata key 'qwen2.attention.sliding_window'");
  // Gemma 2 and 3 must declare their window (llama.cpp requires the key too): without it
  // every layer would attend globally, silently.
  const Spec gemma2{.arch = "gemma2", .n_expert = 0, .write_expert_keys = false, .post_norms = true};
  expect(model(gemma2), ErrorCode::Format, "missing required key 'gemma2.attention.sliding_window'");
  auto windowed = model(gemma2);
  windowed.set_u32("gemma2.attention.sliding_window", 4);
  CHECK(load(windowed)->config().sliding_window == 4);
  auto nope = model(dense);
  nope.set_bool("llama.attention.causal", false);
  expect(nope, ErrorCode::Unsupported, "llama.attention.causal");
}

TEST_CASE("bad expert counts and RoPE factors are format errors at load") {
  expect(model({.tensor_experts = 3}), ErrorCode::Format, "expected {32, 32, 4}");   // 4 declared, 3 stored
  expect(model({.n_expert = 4, .used = 5}), ErrorCode::Format, "expert_used_count (5) exceeds expert_count (4)");
  expect(model({.n_expert = 4, .used = 0}), ErrorCode::Format, "expert_used_count");
  expect(model({.arch = "qwen3moe", .n_expert = 0, .used = 1}), ErrorCode::Format, "expert_count' = 0");
  auto glm = model({});
  glm.set_u32("llama.expert_shared_count", 1);  // an MoE variant we do not compute
  expect(glm, ErrorCode::Unsupported, "llama.expert_shared_count");

  Spec dense{.n_expert = 0, .write_expert_keys = false};
  auto short_f = model(dense);
  short_f.add_tensor("rope_freqs.weight", DType::F32, {4}, std::vector<std::byte>(16));  // 8 pairs needed
  expect(short_f, ErrorCode::Format, "tensor 'rope_freqs.weight' has shape {4}, expected {8}");
  auto nan_f = model(dense);
  std::vector<float> f(8, 1.0f);
  f[3] = NAN;
  std::vector<std::byte> fb(32);
  std::memcpy(fb.data(), f.data(), 32);
  nan_f.add_tensor("rope_freqs.weight", DType::F32, {8}, fb);
  expect(nan_f, ErrorCode::Format, "'rope_freqs.weight' holds a non-finite value at index 3");
  f[3] = -1.0f;
  std::memcpy(fb.data(), f.data(), 32);
  auto neg_f = model(dense);
  neg_f.add_tensor("rope_freqs.weight", DType::F32, {8}, fb);
  expect(neg_f, ErrorCode::Format, "rope_freqs.weight[3] is not a positive frequency factor");
}

TEST_CASE("experts in every weight type: batched prefill equals token-by-token decoding") {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    INFO(dtype_name(type));
    const auto m = load(model({.dim = 256, .ff = 256, .expert_type = type}));
    // Experts are repacked like dense matrices (Q4_0 into rows8 groups on x86), one
    // expert at a time: the file's 3-D tensors say so.
    const std::uint32_t layout = kernels::repack_layout(kernels::detect_isa(), type);
    for (const char* name : {"blk.0.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight", "blk.0.ffn_down_exps.weight"})
      CHECK(m->file().find_tensor(name)->layout == layout);
    const auto batched = logits_of(*m, kIds, true), step = logits_of(*m, kIds, false);
    // Same arithmetic per row whatever the grouping: tokens routed to an expert together
    // or alone get the same result up to the GEMM's summation order.
    CHECK(max_diff(batched, step) < 1e-3);
    for (float x : batched) REQUIRE(std::isfinite(x));
    // The same experts decoded to F32 give the same logits up to the activations' rounding
    // (to Q8_0 blocks for Q8_0/Q4_0 weights, fp16/bf16 for F16/BF16): each expert's slice
    // of the 3-D tensor is the right one.
    const auto ref_model = load(model({.dim = 256, .ff = 256, .expert_type = type, .decode_experts = true}));
    CHECK(ref_model->config().n_expert == 4);
    CHECK(ref_model->config().n_expert_used == 2);
    const double d = max_diff(step, logits_of(*ref_model, kIds, false));
    // A wrong slice (the next expert's rows) would move logits by far more: see the
    // spread between two models that differ only in their experts' values.
    const auto other = load(model({.dim = 256, .ff = 256, .expert_type = type, .decode_experts = true, .seed = 7}));
    const double spread = max_diff(step, logits_of(*other, kIds, false));
    MESSAGE(dtype_name(type) << ": max |dlogit| against the decoded experts " << d << ", against other experts " << spread);
    const bool quantized_activations = type != DType::F32 && type != DType::F16 && type != DType::BF16;
    CHECK(d < (quantized_activations ? 0.4 : 0.05));
    CHECK(spread > 10 * d);
  }
}

TEST_CASE("a mixture-of-experts model generates the same in the batched generator as alone") {
  auto path = test::require_shared("models/synth-qwen3moe.gguf");
  if (!path) return;
  const auto m = Model::load(*path, {.threads = 2});
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.n_ctx = 128;
  c.sampling.temperature = 0;
  const std::vector<std::string> prompts{"Once upon a time", "The little dog was", "Ben had a red ball"};
  std::vector<std::vector<TokenId>> alone;
  for (const auto& p : prompts) alone.push_back(Generator(m, c).run(p).tokens);
  BatchGenerator batch(m, {.max_sequences = 3, .n_ctx = 128});
  std::vector<RequestId> ids;
  for (const auto& p : prompts) ids.push_back(batch.add(p, c));
  for (int i = 0; i < 1000 && !batch.idle(); ++i) batch.step();
  REQUIRE(batch.idle());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(batch.take_result(ids[i]).tokens == alone[i]);
}

TEST_CASE("YaRN: low frequencies interpolated, high ones extrapolated, magnitude scaled") {
  auto w = model({.n_expert = 0, .write_expert_keys = false});
  w.set_string("llama.rope.scaling.type", "yarn");
  w.set_f32("llama.rope.scaling.factor", 4.0f);
  w.set_u32("llama.rope.scaling.original_context_length", 16);
  const auto m = load(w);
  CHECK(m->config().yarn_ext_factor == 1.0f);
  CHECK(m->config().rope_freq_scale == doctest::Approx(0.25f));
  detail::RopeFreqs f{.n_rot = 16, .base = 10000.0f, .freq_scale = 0.25f, .ext_factor = 1.0f, .corr_low = 1.0f,
                      .corr_high = 5.0f};
  std::vector<float> c(8), s(8);
  const int pos = 7;
  detail::rope_angles(pos, f, false, c.data(), s.data());
  const float mscale = 1.0f + 0.1f * std::log(4.0f);
  auto theta = [&](int i) { return pos * std::pow(10000.0f, -2.0f * i / 16.0f); };
  CHECK(c[0] == doctest::Approx(std::cos(theta(0)) * mscale).epsilon(1e-5));  // extrapolated: θ itself
  CHECK(s[7] == doctest::Approx(std::sin(0.25f * theta(7)) * mscale).epsilon(1e-5));  // interpolated: θ / 4
  detail::rope_angles(pos, f, true, c.data(), s.data());  // unit: for re-rotating stored keys
  for (int i = 0; i < 8; ++i) CHECK(c[i] * c[i] + s[i] * s[i] == doctest::Approx(1.0f));
  // And the model computes differently from the unscaled one.
  const auto plain = load(model({.n_expert = 0, .write_expert_keys = false}));
  CHECK(max_diff(logits_of(*m, kIds, true), logits_of(*plain, kIds, true)) > 1e-3);
}

TEST_CASE("remove() re-rotates keys with each layer's RoPE (Gemma 3 local/global, SmolLM3 NoPE)") {
  for (const char* name : {"models/synth-gemma3.gguf", "models/synth-smollm3.gguf", "models/synth-phi3-longrope.gguf"}) {
    auto path = test::require_shared(name);
    if (!path) continue;
    INFO(name);
    const auto m = Model::load(*path, {.threads = 2});
    const std::vector<TokenId> ids{10, 200, 300, 400, 500, 600, 700, 800};
    // Removing positions 2..4 and continuing must equal a cache that never saw them,
    // for layer 0 (the only one whose keys depend on nothing else): compare its rows.
    KVCache a(*m, {.n_ctx = 64}), b(*m, {.n_ctx = 64});
    std::vector<float> logits(static_cast<std::size_t>(m->config().n_vocab));
    Batch full, kept;
    for (int i = 0; i < 8; ++i) full.add(ids[static_cast<std::size_t>(i)], i, 0, i == 7);
    m->forward(full, a, logits);
    a.remove(0, 2, 5);
    const std::vector<TokenId> k{ids[0], ids[1], ids[5], ids[6], ids[7]};
    for (int i = 0; i < 5; ++i) kept.add(k[static_cast<std::size_t>(i)], i, 0, i == 4);
    m->forward(kept, b, logits);
    std::vector<std::byte> ra(a.rows_bytes(5)), rb(b.rows_bytes(5));
    a.save_rows(0, 5, ra);
    b.save_rows(0, 5, rb);
    const std::size_t layer0 = 10 * a.row_bytes();  // 5 key rows then 5 value rows
    double worst = 0;
    for (std::size_t i = 0; i < layer0 / 4; ++i) {
      float x, y;
      std::memcpy(&x, ra.data() + 4 * i, 4);
      std::memcpy(&y, rb.data() + 4 * i, 4);
      worst = std::max(worst, static_cast<double>(std::abs(x - y)));
    }
    CHECK(worst < 1e-4);
  }
}
