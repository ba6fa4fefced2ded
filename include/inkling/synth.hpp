// Synthetic models: a Llama-architecture GGUF file with random weights of any shape and
// weight type and a real vocabulary, so benchmarks and tests need no multi-gigabyte
// download. Other GGUF runtimes (llama.cpp) load these files too. The weights are random
// but shaped like a trained model's (per-matrix spread 1/sqrt(fan-in), norms near 1), so
// speed measured on them is speed on a real model of that shape and type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace inkling {

struct SynthShape {
  std::string_view name;  // for the file's general.name ("custom" when hand-made)
  int dim = 288, layers = 6, heads = 6, kv_heads = 6, ff = 768, ctx = 256;
};

// Named shapes of well-known models: stories15m, tinyllama-1.1b, smollm-135m, llama2-7b,
// llama3-8b, mistral-7b.
std::span<const SynthShape> synth_shapes() noexcept;
// The named shape, or Error(InvalidArgument) listing the names.
SynthShape synth_shape(std::string_view name);

struct SynthOptions {
  SynthShape shape;
  // A weight type name (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k) or
  // one of llama.cpp's mixes q4_k_m / q5_k_m (Q6_K output, attn_v and ffn_down in more
  // layers). Norm weights are always F32.
  std::string type = "q4_0";
  // A GGUF file whose tokenizer.* keys (the vocabulary) are copied.
  std::filesystem::path vocab;
  std::uint64_t seed = 42;  // same seed, shape and type: the same bytes
};

struct SynthReport {
  std::int64_t n_vocab = 0;
  std::uintmax_t file_bytes = 0;
};

// Writes the model to `out`. Types the library encodes (F32, F16, BF16, Q8_0, Q4_0) are
// quantized from normal samples with the library's own encoders; for the other
// quantized types the packed quants are uniform random bits and each block's scales set
// so that values come out with roughly the wanted spread.
// Error(InvalidArgument) for a shape that does not split into heads (dim % heads, odd head
// size, heads % kv_heads), dim or ff not a multiple of the type's block size, or an
// unknown type; Error(Io)/Error(Format) for a vocabulary file it cannot read or an output
// it cannot write.
SynthReport write_synth_model(const SynthOptions& options, const std::filesystem::path& out);

}  // namespace inkling
