// write_synth_model: random weights shaped like a trained Llama's, a real vocabulary.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/synth.hpp"
#include "inkling/tensor.hpp"
#include "kernels/formats/all.hpp"
#include "kernels/quantize_row.hpp"

namespace inkling {
namespace {

constexpr SynthShape kShapes[] = {
    {"stories15m", 288, 6, 6, 6, 768, 256},         {"tinyllama-1.1b", 2048, 22, 32, 4, 5632, 2048},
    {"smollm-135m", 576, 30, 9, 3, 1536, 2048},     {"llama2-7b", 4096, 32, 32, 32, 11008, 4096},
    {"llama3-8b", 4096, 32, 32, 8, 14336, 8192},    {"mistral-7b", 4096, 32, 32, 8, 14336, 32768},
};

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::InvalidArgument, "synth: " + what); }

// xorshift64: fixed arithmetic, so a seed gives the same file everywhere.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  float normal() {
    const float u1 = std::max(uniform(), 1e-7f), u2 = uniform();
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }
};

std::uint64_t mix(std::uint64_t seed, std::uint64_t row) { return (seed * 0x9E3779B97F4A7C15ull) ^ (row * 0xBF58476D1CE4E5B9ull) ^ 1; }

// Where a block's fp16 scales sit (the block layouts of kernels/formats/) and the scale
// that makes uniform random quants come out with spread ~1: for the types the library
// has no encoder for.
struct ScaleFields {
  std::vector<std::size_t> offsets;
  float per_std = 0;
};

ScaleFields scale_fields(DType t) {
  using namespace kernels;
  switch (t) {
    case DType::Q4_1: return {{offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)}, 1.0f / 4.6f};
    case DType::Q5_0: return {{offsetof(BlockQ5_0, d)}, 1.0f / 9.2f};
    case DType::Q5_1: return {{offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)}, 1.0f / 9.2f};
    case DType::Q2_K: return {{offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)}, 1.0f / 8.0f};
    case DType::Q3_K: return {{offsetof(BlockQ3_K, d)}, 1.0f / 40.0f};
    case DType::Q4_K: return {{offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)}, 1.0f / 140.0f};
    case DType::Q5_K: return {{offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)}, 1.0f / 280.0f};
    case DType::Q6_K: return {{offsetof(BlockQ6_K, d)}, 1.0f / 1200.0f};
    default: return {};
  }
}

bool synthesizable(DType t) { return kernels::can_encode(t) || !scale_fields(t).offsets.empty(); }

// One row of `k` values with standard deviation `sd`, encoded as `type`.
void fill_row(DType type, std::int64_t k, float sd, Rng& rng, std::vector<float>& buf, std::byte* out) {
  if (kernels::can_encode(type)) {
    buf.resize(static_cast<std::size_t>(k));
    for (float& x : buf) x = rng.normal() * sd;
    kernels::quantize_row(type, buf.data(), out, k);
    return;
  }
  const auto bytes = static_cast<std::size_t>(dtype_row_bytes(type, k));
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t r = rng.next();
    std::memcpy(out + i, &r, std::min<std::size_t>(8, bytes - i));
  }
  const ScaleFields f = scale_fields(type);
  const auto block = static_cast<std::size_t>(dtype_traits(type).block_bytes);
  std::vector<float> one(1);
  for (std::size_t b = 0; b + block <= bytes; b += block)
    for (std::size_t off : f.offsets) {
      one[0] = sd * f.per_std * (0.8f + 0.4f * rng.uniform());
      std::uint16_t h = 0;
      kernels::quantize_row(DType::F16, one.data(), reinterpret_cast<std::byte*>(&h), 1);
      std::memcpy(out + b + off, &h, 2);
    }
}

// A k x m matrix (k values per row), rows filled in parallel, each from its own seed.
GgufWriter::Fill matrix_fill(DType type, std::int64_t k, std::int64_t m, float sd, std::uint64_t seed) {
  return [=](std::span<std::byte> out) {
    const auto stride = static_cast<std::size_t>(dtype_row_bytes(type, k));
#pragma omp parallel
    {
      std::vector<float> buf;
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < m; ++r) {
        Rng rng{mix(seed, static_cast<std::uint64_t>(r))};
        fill_row(type, k, sd, rng, buf, out.data() + static_cast<std::size_t>(r) * stride);
      }
    }
  };
}

// llama.cpp's Q4_K_M / Q5_K_M mix: more bits for the first and last eighth of the
// layers and every third one between, for attn_v and ffn_down; Q6_K output.
bool more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

struct TypePlan {
  DType base;
  bool mix = false;  // Q6_K for output, attn_v and ffn_down of the "more bits" layers
};

TypePlan plan_types(const std::string& name) {
  if (name == "q4_k_m") return {DType::Q4_K, true};
  if (name == "q5_k_m") return {DType::Q5_K, true};
  const auto t = dtype_from_name(name);
  if (!t || !synthesizable(*t)) bad("unknown or unsupported weight type '" + name + "'");
  return {*t, false};
}

void check_shape(const SynthShape& s, DType base) {
  if (s.dim < 1 || s.layers < 1 || s.heads < 1 || s.kv_heads < 1 || s.ff < 1 || s.ctx < 1)
    bad("every shape field must be >= 1");
  if (s.dim % s.heads || s.heads % s.kv_heads || (s.dim / s.heads) % 2)
    bad("dim must split into an even head size and heads into kv-heads groups");
  const auto block = dtype_traits(base).block_elems;
  if (s.dim % block || s.ff % block)
    bad("dim and ff must be multiples of the " + std::string(dtype_name(base)) + " block size " + std::to_string(block));
}

void write_header(GgufWriter& w, const SynthShape& s, const std::string& type, const GgufFile& voc) {
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "inkling synth " + std::string(s.name.empty() ? "custom" : s.name) + " " + type);
  w.set_u32("general.file_type", 0);
  w.set_u32("llama.context_length", static_cast<std::uint32_t>(s.ctx));
  w.set_u32("llama.embedding_length", static_cast<std::uint32_t>(s.dim));
  w.set_u32("llama.block_count", static_cast<std::uint32_t>(s.layers));
  w.set_u32("llama.feed_forward_length", static_cast<std::uint32_t>(s.ff));
  w.set_u32("llama.attention.head_count", static_cast<std::uint32_t>(s.heads));
  w.set_u32("llama.attention.head_count_kv", static_cast<std::uint32_t>(s.kv_heads));
  w.set_u32("llama.rope.dimension_count", static_cast<std::uint32_t>(s.dim / s.heads));
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("general.quantization_version", 2);
  for (const auto& kv : voc.metadata())
    if (std::string_view(kv.key).rfind("tokenizer.", 0) == 0) w.set_value(kv.key, kv.value);
}

}  // namespace

std::span<const SynthShape> synth_shapes() noexcept { return kShapes; }

SynthShape synth_shape(std::string_view name) {
  std::string names;
  for (const SynthShape& s : kShapes) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + std::string(s.name);
  }
  bad("unknown shape '" + std::string(name) + "' (known: " + names + ")");
}

SynthReport write_synth_model(const SynthOptions& o, const std::filesystem::path& out) {
  const TypePlan plan = plan_types(o.type);
  const SynthShape& shape = o.shape;
  check_shape(shape, plan.base);
  if (o.vocab.empty()) bad("no vocabulary file given");
  const auto voc = GgufFile::open(o.vocab);
  const auto* tokens = voc->get_array("tokenizer.ggml.tokens");
  if (!tokens) throw Error(ErrorCode::Format, "synth: " + o.vocab.string() + " has no tokenizer.ggml.tokens");
  const auto n_vocab = static_cast<std::int64_t>(tokens->items.size());

  GgufWriter w;
  write_header(w, shape, o.type, *voc);
  const std::int64_t dim = shape.dim, ff = shape.ff, kv = dim / shape.heads * shape.kv_heads;
  std::uint64_t tensor_seed = o.seed;
  auto norm = [&](const std::string& name, std::int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    Rng r{mix(++tensor_seed, 0)};
    for (auto& x : v) x = 1.0f + 0.1f * r.normal();
    std::vector<std::byte> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(name, DType::F32, {n}, std::move(bytes));
  };
  auto matrix = [&](const std::string& name, DType t, std::int64_t k, std::int64_t m, float sd) {
    w.add_tensor(name, t, {k, m}, matrix_fill(t, k, m, sd, ++tensor_seed));
  };
  const DType hi = plan.mix ? DType::Q6_K : plan.base;
  const float sd_dim = 1.0f / std::sqrt(static_cast<float>(dim)), sd_ff = 1.0f / std::sqrt(static_cast<float>(ff));
  matrix("token_embd.weight", plan.base, dim, n_vocab, 1.0f);
  norm("output_norm.weight", dim);
  matrix("output.weight", hi, dim, n_vocab, sd_dim);
  for (int l = 0; l < shape.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const DType more = more_bits(l, shape.layers) ? hi : plan.base;
    norm(p + "attn_norm.weight", dim);
    matrix(p + "attn_q.weight", plan.base, dim, dim, sd_dim);
    matrix(p + "attn_k.weight", plan.base, dim, kv, sd_dim);
    matrix(p + "attn_v.weight", more, dim, kv, sd_dim);
    matrix(p + "attn_output.weight", plan.base, dim, dim, sd_dim);
    norm(p + "ffn_norm.weight", dim);
    matrix(p + "ffn_gate.weight", plan.base, dim, ff, sd_dim);
    matrix(p + "ffn_up.weight", plan.base, dim, ff, sd_dim);
    matrix(p + "ffn_down.weight", more, ff, dim, sd_ff);
  }
  w.write(out);
  std::error_code ec;
  const auto size = std::filesystem::file_size(out, ec);
  return {n_vocab, ec ? 0 : size};
}

}  // namespace inkling
