// ModelConfig (hyper-parameters read from <arch>.* metadata) and Model: a loaded,
// immutable model whose weights are views into the memory-mapped GGUF file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "inkling/tensor.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling {

class GgufFile;
class KVCache;

struct ModelOptions {
  int threads = 0;       // 0 = number of physical cores
  // false: read the file into memory. Either way, weights whose layout the CPU's kernels
  // change at load (Q4_0/Q4_1/Q5_0/Q5_1 on x86: rows interleaved in groups of 8; Q4_K and
  // Q6_K with AVX-512 VNNI: quants reordered within each block) are rewritten in place;
  // with use_mmap their pages then become private memory instead of file-backed pages
  // (still one copy, but not shared with other processes nor reloadable from the file).
  bool use_mmap = true;
};

struct ModelConfig {
  std::string architecture;  // general.architecture, e.g. "llama"
  std::string name;          // general.name, may be empty
  int n_vocab = 0;
  int n_ctx_train = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;  // per-head size of Q and K (and V)
  int n_ff = 0;
  int n_rot = 0;     // rotary dimensions per head
  float norm_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  bool tied_output = false;      // logits use token_embd.weight
  int sliding_window = 0;        // > 0: layers that use it attend to this many positions
  float attn_logit_softcap = 0;  // > 0: scores become cap * tanh(score / cap) (Gemma 2)
  float final_logit_softcap = 0; // > 0: the same on the output logits
  // Variants, each at its neutral value unless the architecture and file set it.
  float rope_freq_base_swa = 0;  // RoPE base of sliding-window layers (Gemma 3); 0: rope_freq_base
  float rope_attn_factor = 1;    // multiplies RoPE's cos and sin (LongRoPE, YaRN)
  int rope_n_ctx_orig = 0;       // original training context (LongRoPE factor choice, YaRN)
  float yarn_ext_factor = 0;     // > 0: YaRN mixes extrapolated and interpolated angles
  float yarn_beta_fast = 32, yarn_beta_slow = 1;
  float embedding_scale = 1;     // token embeddings are multiplied by it (Gemma, Granite)
  float attention_scale = 0;     // attention scores multiplier; 0: 1/sqrt(head_dim)
  float residual_scale = 1;      // each block's output is multiplied by it before the residual add
  float logit_scale = 1;         // logits are divided by it (Granite)
  int n_expert = 0;              // > 0: mixture-of-experts FFN with this many experts
  int n_expert_used = 0;         // experts each token uses
  int n_ff_expert = 0;           // hidden size of one expert

  int q_dim() const noexcept { return n_head * head_dim; }
  int kv_dim() const noexcept { return n_head_kv * head_dim; }
};

// Tokens to run through the model in one pass: each entry has a token, its position in
// its sequence, the sequence it belongs to, and whether its logits are wanted.
struct Batch {
  std::vector<TokenId> tokens;
  std::vector<int> positions;
  std::vector<int> seq_ids;
  std::vector<std::uint8_t> want_logits;

  void add(TokenId token, int position, int seq_id = 0, bool logits = false) {
    tokens.push_back(token);
    positions.push_back(position);
    seq_ids.push_back(seq_id);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() { tokens.clear(); positions.clear(); seq_ids.clear(); want_logits.clear(); }
  int size() const noexcept { return static_cast<int>(tokens.size()); }
  int n_logits() const noexcept;
};

class Model {
 public:
  // Loads and validates a GGUF model. Throws Error(Io) if the file cannot be read,
  // Error(Format) for a corrupt or inconsistent file, Error(Unsupported) for an
  // architecture or tensor type this version does not run.
  static std::shared_ptr<const Model> load(const std::filesystem::path& path,
                                           ModelOptions options = {});
  static std::shared_ptr<const Model> from_file(std::shared_ptr<const GgufFile> file,
                                                ModelOptions options = {});
  ~Model();

  // The thread count used when ModelOptions::threads is 0: the physical cores (SMT
  // siblings add little to bandwidth-bound decoding).
  static int default_threads() noexcept;

  const ModelConfig& config() const noexcept;
  const Tokenizer& tokenizer() const noexcept;
  const GgufFile& file() const noexcept;
  int threads() const noexcept;
  std::size_t weight_bytes() const noexcept;  // bytes of all tensors in the file
  std::string isa() const;                    // the kernel level chosen at load

  // Runs a batch through the model, storing K/V in `cache`, and writes n_vocab logits
  // for each entry marked want_logits, in batch order, into logits_out (which must hold
  // batch.n_logits() * n_vocab floats). Validates tokens, positions and sequence ids
  // (Error(InvalidArgument)) and cache room (Error(ContextFull)) before computing.
  // Thread safety: a Model may be used by many threads at once, each with its own cache.
  void forward(const Batch& batch, KVCache& cache, std::span<float> logits_out) const;
  // The same pass, but for each entry marked want_logits it writes the final normed
  // hidden state (n_embd floats: what the output matrix would multiply) instead of
  // logits; hidden_out holds batch.n_logits() * n_embd floats. Decoder embedding models
  // (Qwen3-Embedding) pool these.
  void forward_hidden(const Batch& batch, KVCache& cache, std::span<float> hidden_out) const;

  struct Impl;
  // The internals, for the library's own passes outside this class (the encoder).
  const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
