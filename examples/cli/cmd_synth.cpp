// `inkling synth`: a GGUF file with random weights of any Llama shape and type and a
// real vocabulary, so benchmarks need no multi-gigabyte download. Other GGUF runtimes
// (llama.cpp) load these files too.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "kernels/fp16.hpp"

namespace {

struct Shape {
  const char* name;
  int dim, layers, heads, kv_heads, ff, ctx;
};

constexpr Shape kShapes[] = {
    {"stories15m", 288, 6, 6, 6, 768, 256},         {"tinyllama-1.1b", 2048, 22, 32, 4, 5632, 2048},
    {"smollm-135m", 576, 30, 9, 3, 1536, 2048},     {"llama2-7b", 4096, 32, 32, 32, 11008, 4096},
    {"llama3-8b", 4096, 32, 32, 8, 14336, 8192},    {"mistral-7b", 4096, 32, 32, 8, 14336, 32768},
};

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

// Offsets of the fp16 scale fields in each quantized block (lib/kernels/formats/ layouts), and
// the scale that makes random quants come out with roughly the wanted spread.
struct QuantFields {
  std::vector<std::size_t> scale_offsets;
  float scale_per_std;
};

QuantFields quant_fields(inkling::DType t) {
  using inkling::DType;
  switch (t) {
    case DType::Q4_0: return {{0}, 1.0f / 4.6f};
    case DType::Q4_1: return {{0, 2}, 1.0f / 4.6f};
    case DType::Q5_0: return {{0}, 1.0f / 9.2f};
    case DType::Q5_1: return {{0, 2}, 1.0f / 9.2f};
    case DType::Q8_0: return {{0}, 1.0f / 73.0f};
    case DType::Q2_K: return {{80, 82}, 1.0f / 8.0f};
    case DType::Q3_K: return {{108}, 1.0f / 40.0f};
    case DType::Q4_K: return {{0, 2}, 1.0f / 140.0f};
    case DType::Q5_K: return {{0, 2}, 1.0f / 280.0f};
    case DType::Q6_K: return {{208}, 1.0f / 1200.0f};
    default: return {{}, 0};
  }
}

inkling::GgufWriter::Fill random_fill(inkling::DType type, float stddev, std::uint64_t seed) {
  return [type, stddev, seed](std::span<std::byte> out) {
    Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
    using inkling::DType;
    if (type == DType::F32) {
      auto* f = reinterpret_cast<float*>(out.data());
      for (std::size_t i = 0; i < out.size() / 4; ++i) f[i] = rng.normal() * stddev;
      return;
    }
    if (type == DType::F16 || type == DType::BF16) {
      auto* h = reinterpret_cast<std::uint16_t*>(out.data());
      for (std::size_t i = 0; i < out.size() / 2; ++i)
        h[i] = type == DType::F16 ? inkling::kernels::f32_to_fp16(rng.normal() * stddev)
                                  : inkling::kernels::f32_to_bf16(rng.normal() * stddev);
      return;
    }
    for (std::size_t i = 0; i + 8 <= out.size(); i += 8) {
      const std::uint64_t r = rng.next();
      std::memcpy(out.data() + i, &r, 8);
    }
    for (std::size_t i = out.size() / 8 * 8; i < out.size(); ++i) out[i] = static_cast<std::byte>(rng.next());
    const QuantFields q = quant_fields(type);
    const std::size_t block = static_cast<std::size_t>(inkling::dtype_traits(type).block_bytes);
    for (std::size_t b = 0; b + block <= out.size(); b += block)
      for (std::size_t off : q.scale_offsets) {
        const std::uint16_t h = inkling::kernels::f32_to_fp16(stddev * q.scale_per_std * (0.8f + 0.4f * rng.uniform()));
        std::memcpy(out.data() + b + off, &h, 2);
      }
  };
}

// llama.cpp's Q4_K_M / Q5_K_M mix: more bits for the first and last eighth of the
// layers and every third one between, for attn_v and ffn_down; Q6_K output.
bool more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

}  // namespace

int cmd_synth(int argc, char** argv) {
  Shape shape = kShapes[1];
  std::string type_name = "q4_0", out, vocab;
  std::uint64_t seed = 42;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling synth [--shape NAME] [--dim N --layers N --heads N --kv-heads N --ff N --ctx N]\n"
          "                     --type TYPE --vocab VOCAB.gguf -o OUT.gguf [--seed S]\n"
          "\n"
          "Writes a Llama-architecture GGUF with random weights and a real vocabulary (all tokenizer.*\n"
          "keys copied from VOCAB.gguf, default ../shared/vocab/ggml-vocab-llama-spm.gguf).\n"
          "  --shape NAME   stories15m, tinyllama-1.1b (default), smollm-135m, llama2-7b, llama3-8b, mistral-7b\n"
          "  --type TYPE    f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k, or the mixes\n"
          "                 q4_k_m and q5_k_m (default q4_0); norm weights stay f32");
      return 0;
    }
    if (a.is("--shape")) {
      const std::string n = a.value();
      bool found = false;
      for (const auto& s : kShapes)
        if (n == s.name) shape = s, found = true;
      if (!found) Args::fail("--shape: unknown shape '" + n + "' (see inkling synth --help)");
    } else if (a.is("--dim")) shape.dim = static_cast<int>(a.integer(32, 65536));
    else if (a.is("--layers")) shape.layers = static_cast<int>(a.integer(1, 512));
    else if (a.is("--heads")) shape.heads = static_cast<int>(a.integer(1, 1024));
    else if (a.is("--kv-heads")) shape.kv_heads = static_cast<int>(a.integer(1, 1024));
    else if (a.is("--ff")) shape.ff = static_cast<int>(a.integer(32, 1 << 20));
    else if (a.is("--ctx")) shape.ctx = static_cast<int>(a.integer(1, 1 << 24));
    else if (a.is("--type")) type_name = a.value();
    else if (a.is("--vocab")) vocab = a.value();
    else if (a.is("-o", "--output")) out = a.value();
    else if (a.is("--seed")) seed = static_cast<std::uint64_t>(a.integer(0, INT64_MAX));
    else a.unknown();
  }
  if (out.empty()) Args::fail("synth needs an output file: -o OUT.gguf");
  if (vocab.empty()) {
    const char* env = std::getenv("INKLING_SHARED");
    vocab = std::string(env ? env : "../shared") + "/vocab/ggml-vocab-llama-spm.gguf";
  }
  if (shape.dim % shape.heads || shape.heads % shape.kv_heads || (shape.dim / shape.heads) % 2)
    Args::fail("synth: dim must split into an even head size and heads into kv-heads groups");

  using inkling::DType;
  const bool mix_k = type_name == "q4_k_m" || type_name == "q5_k_m";
  const DType base = type_name == "q4_k_m" ? DType::Q4_K : type_name == "q5_k_m" ? DType::Q5_K : [&] {
    auto t = inkling::dtype_from_name(type_name);
    if (!t) Args::fail("--type: unknown type '" + type_name + "'");
    return *t;
  }();
  const int block = static_cast<int>(inkling::dtype_traits(base).block_elems);
  if (shape.dim % block || shape.ff % block)
    Args::fail("synth: dim and ff must be multiples of the " + std::string(inkling::dtype_name(base)) + " block size " +
               std::to_string(block));

  const auto voc = inkling::GgufFile::open(vocab);
  const auto* tokens = voc->get_array("tokenizer.ggml.tokens");
  if (!tokens) Args::fail("synth: " + vocab + " has no tokenizer.ggml.tokens");
  const std::int64_t n_vocab = static_cast<std::int64_t>(tokens->items.size());

  inkling::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", std::string("inkling synth ") + shape.name + " " + type_name);
  w.set_u32("general.file_type", 0);
  w.set_u32("llama.context_length", static_cast<std::uint32_t>(shape.ctx));
  w.set_u32("llama.embedding_length", static_cast<std::uint32_t>(shape.dim));
  w.set_u32("llama.block_count", static_cast<std::uint32_t>(shape.layers));
  w.set_u32("llama.feed_forward_length", static_cast<std::uint32_t>(shape.ff));
  w.set_u32("llama.attention.head_count", static_cast<std::uint32_t>(shape.heads));
  w.set_u32("llama.attention.head_count_kv", static_cast<std::uint32_t>(shape.kv_heads));
  w.set_u32("llama.rope.dimension_count", static_cast<std::uint32_t>(shape.dim / shape.heads));
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("general.quantization_version", 2);
  for (const auto& kv : voc->metadata())
    if (std::string_view(kv.key).rfind("tokenizer.", 0) == 0) w.set_value(kv.key, kv.value);

  const std::int64_t dim = shape.dim, ff = shape.ff, kv = dim / shape.heads * shape.kv_heads;
  std::uint64_t tensor_seed = seed;
  const DType hi = type_name == "q5_k_m" ? DType::Q6_K : DType::Q6_K;
  auto norm = [&](const std::string& name, std::int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    Rng r{++tensor_seed};
    for (auto& x : v) x = 1.0f + 0.1f * r.normal();
    std::vector<std::byte> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(name, DType::F32, {n}, std::move(bytes));
  };
  auto matrix = [&](const std::string& name, DType t, std::int64_t k, std::int64_t m, float sd) {
    w.add_tensor(name, t, {k, m}, random_fill(t, sd, ++tensor_seed));
  };
  matrix("token_embd.weight", base, dim, n_vocab, 1.0f);
  norm("output_norm.weight", dim);
  matrix("output.weight", mix_k ? hi : base, dim, n_vocab, 1.0f / std::sqrt(static_cast<float>(dim)));
  for (int l = 0; l < shape.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const float sd = 1.0f / std::sqrt(static_cast<float>(dim));
    const DType more = mix_k && more_bits(l, shape.layers) ? hi : base;
    norm(p + "attn_norm.weight", dim);
    matrix(p + "attn_q.weight", base, dim, dim, sd);
    matrix(p + "attn_k.weight", base, dim, kv, sd);
    matrix(p + "attn_v.weight", more, dim, kv, sd);
    matrix(p + "attn_output.weight", base, dim, dim, sd);
    norm(p + "ffn_norm.weight", dim);
    matrix(p + "ffn_gate.weight", base, dim, ff, sd);
    matrix(p + "ffn_up.weight", base, dim, ff, sd);
    matrix(p + "ffn_down.weight", more, ff, dim, 1.0f / std::sqrt(static_cast<float>(ff)));
  }
  w.write(out);
  std::printf("wrote %s: %s shape (dim %d, %d layers, %d heads, %d kv heads, ff %d, ctx %d), %s, vocab %lld, %.1f MiB\n",
              out.c_str(), shape.name, shape.dim, shape.layers, shape.heads, shape.kv_heads, shape.ff, shape.ctx,
              type_name.c_str(), static_cast<long long>(n_vocab),
              static_cast<double>(std::filesystem::file_size(out)) / 1048576.0);
  return 0;
}
