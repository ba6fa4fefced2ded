#include "model/config.hpp"

#include "model/arch.hpp"

#include <cmath>
#include <set>
#include <string>
#include <string_view>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"

namespace inkling::detail {
namespace {

// Upper bounds that no real model comes near; they stop absurd files before any
// allocation is sized from them.
constexpr std::uint64_t kMaxDim = 1u << 20;
constexpr std::uint64_t kMaxLayers = 4096;
constexpr std::uint64_t kMaxCtx = 1u << 24;

[[noreturn]] void bad(const GgufFile& f, const std::string& what) {
  throw Error(ErrorCode::Format, f.name() + ": " + what);
}

// Reads a u32-like key that may also be stored as a per-layer array whose entries are
// all equal (llama.cpp allows arrays for head counts and FFN sizes).
std::optional<std::uint64_t> get_count(const GgufFile& f, const std::string& key) {
  const GgufValue* value = f.find(key);
  if (value && value->type() == GgufType::Array) {
    const GgufArray* arr = &value->as_array(key);
    if (arr->items.empty()) bad(f, "key '" + key + "' is an empty array");
    const std::uint64_t first = arr->items[0].as_uint(key);
    for (const auto& item : arr->items)
      if (item.as_uint(key) != first)
        throw Error(ErrorCode::Unsupported,
                    f.name() + ": key '" + key + "' varies per layer, which is not supported");
    return first;
  }
  return f.get_uint(key);
}

int checked_count(const GgufFile& f, const std::string& key, std::uint64_t value,
                  std::uint64_t max) {
  if (value == 0 || value > max)
    bad(f, "key '" + key + "' = " + std::to_string(value) + " is out of range [1, " +
               std::to_string(max) + "]");
  return static_cast<int>(value);
}

int require_count(const GgufFile& f, const std::string& key, std::uint64_t max) {
  auto v = get_count(f, key);
  if (!v) bad(f, "missing required key '" + key + "'");
  return checked_count(f, key, *v, max);
}

float checked_float(const GgufFile& f, const std::string& key, double value, bool positive) {
  if (!std::isfinite(value) || (positive && !(value > 0)))
    bad(f, "key '" + key + "' = " + std::to_string(value) + " is not a " +
               (positive ? "positive " : "") + "finite number");
  return static_cast<float>(value);
}

float optional_float(const GgufFile& f, const std::string& key, float fallback, bool positive) {
  const auto v = f.get_float(key);
  return v ? checked_float(f, key, *v, positive) : fallback;
}

void read_dims(const GgufFile& f, const std::string& a, const ArchTraits& arch, ModelConfig& c) {
  c.n_embd = require_count(f, a + "embedding_length", kMaxDim);
  c.n_layer = require_count(f, a + "block_count", kMaxLayers);
  c.n_ctx_train = require_count(f, a + "context_length", kMaxCtx);
  c.n_ff = require_count(f, a + "feed_forward_length", kMaxDim);
  c.n_head = require_count(f, a + "attention.head_count", kMaxDim);
  c.n_head_kv = checked_count(f, a + "attention.head_count_kv",
                              get_count(f, a + "attention.head_count_kv").value_or(c.n_head), kMaxDim);
  if (c.n_head % c.n_head_kv != 0)
    bad(f, "attention.head_count (" + std::to_string(c.n_head) +
               ") is not a multiple of attention.head_count_kv (" + std::to_string(c.n_head_kv) + ")");
  if (auto k = f.get_uint(a + "attention.key_length")) {
    c.head_dim = checked_count(f, a + "attention.key_length", *k, kMaxDim);
    auto v = f.get_uint(a + "attention.value_length");
    if (v && *v != *k)
      throw Error(ErrorCode::Unsupported,
                  f.name() + ": attention.key_length != attention.value_length is not supported");
  } else {
    if (c.n_embd % c.n_head != 0)
      bad(f, "embedding_length (" + std::to_string(c.n_embd) + ") is not a multiple of attention.head_count (" +
                 std::to_string(c.n_head) + ")");
    c.head_dim = c.n_embd / c.n_head;
  }
  if (c.head_dim % 2 != 0) bad(f, "head size " + std::to_string(c.head_dim) + " is odd");
  const std::string eps_key =
      a + (arch.norm == NormKind::Rms ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon");
  auto eps = f.get_float(eps_key);
  if (!eps) bad(f, "missing required key '" + eps_key + "'");
  c.norm_eps = checked_float(f, eps_key, *eps, true);
}

void read_rope(const GgufFile& f, const std::string& a, const ArchTraits& arch, ModelConfig& c) {
  c.n_rot = checked_count(f, a + "rope.dimension_count",
                          f.get_uint(a + "rope.dimension_count").value_or(c.head_dim), kMaxDim);
  if (c.n_rot != c.head_dim && (!arch.partial_rotary || c.n_rot > c.head_dim || c.n_rot % 2))
    throw Error(ErrorCode::Unsupported,
                f.name() + ": rope.dimension_count (" + std::to_string(c.n_rot) + ") differs from the head size (" +
                    std::to_string(c.head_dim) + "); partial rotary embeddings are not supported for " +
                    c.architecture);
  c.rope_freq_base = optional_float(f, a + "rope.freq_base", 10000.0f, true);
  c.rope_freq_base_swa = optional_float(f, a + "rope.freq_base_swa", arch.rope_base_swa, true);
  c.rope_attn_factor = optional_float(f, a + "rope.scaling.attn_factor", 1.0f, true);
  c.rope_n_ctx_orig = checked_count(f, a + "rope.scaling.original_context_length",
                                    f.get_uint(a + "rope.scaling.original_context_length").value_or(c.n_ctx_train),
                                    kMaxCtx);
  const std::string scaling(f.get_string(a + "rope.scaling.type").value_or("linear"));
  if (scaling != "none" && scaling != "linear" && scaling != "yarn")
    throw Error(ErrorCode::Unsupported,
                f.name() + ": rope scaling type '" + scaling + "' is not supported (none, linear, yarn)");
  auto factor = f.get_float(a + "rope.scaling.factor");
  if (!factor) factor = f.get_float(a + "rope.scale_linear");
  if (scaling != "none" && factor && *factor != 0.0)
    c.rope_freq_scale = 1.0f / checked_float(f, a + "rope.scaling.factor", *factor, true);
  if (scaling == "yarn") {  // as llama.cpp: ext_factor 1, betas 32 and 1 unless the file says
    c.yarn_ext_factor = 1.0f;
    c.yarn_beta_fast = optional_float(f, a + "rope.scaling.yarn_beta_fast", 32.0f, true);
    c.yarn_beta_slow = optional_float(f, a + "rope.scaling.yarn_beta_slow", 1.0f, true);
  }
}

void read_variants(const GgufFile& f, const std::string& a, const ArchTraits& arch, ModelConfig& c) {
  if (arch.window != SlidingWindow::None)
    if (auto w = f.get_uint(a + "attention.sliding_window"); w && *w != 0)  // 0: no window (Phi-4)
      c.sliding_window = checked_count(f, a + "attention.sliding_window", *w, kMaxCtx);
  c.attn_logit_softcap = optional_float(f, a + "attn_logit_softcapping", 0.0f, true);
  c.final_logit_softcap = optional_float(f, a + "final_logit_softcapping", 0.0f, true);
  if (arch.scale_embedding) c.embedding_scale = std::sqrt(static_cast<float>(c.n_embd));
  if (arch.query_scale_n_layer == c.n_layer)
    c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
  if (arch.scales) {
    c.embedding_scale = optional_float(f, a + "embedding_scale", 1.0f, true);
    c.attention_scale = optional_float(f, a + "attention.scale", 0.0f, true);
    c.residual_scale = optional_float(f, a + "residual_scale", 1.0f, true);
    c.logit_scale = optional_float(f, a + "logit_scale", 1.0f, true);
  }
  const auto n_expert = f.get_uint(a + "expert_count").value_or(0);
  if (n_expert == 0 && arch.moe != ArchTraits::Moe::Always) return;
  if (arch.moe == ArchTraits::Moe::None)
    throw Error(ErrorCode::Unsupported, f.name() + ": " + c.architecture + " with experts (" + a +
                                            "expert_count) is not supported");
  c.n_expert = checked_count(f, a + "expert_count", n_expert, 4096);
  c.n_expert_used = require_count(f, a + "expert_used_count", 4096);
  if (c.n_expert_used > c.n_expert)
    bad(f, "expert_used_count (" + std::to_string(c.n_expert_used) + ") exceeds expert_count (" +
               std::to_string(c.n_expert) + ")");
  c.n_ff_expert = arch.moe_expert_ff_key ? require_count(f, a + "expert_feed_forward_length", kMaxDim) : c.n_ff;
}

// Every <arch>.* key must be one this version reads (for this architecture) or one that
// only describes the file: an unknown key may change the computation, and running the
// model without it would give subtly wrong text.
void check_keys(const GgufFile& f, const std::string& a, const ArchTraits& arch, const ModelConfig& c) {
  std::set<std::string_view> known{
      "embedding_length", "block_count", "context_length", "feed_forward_length", "attention.head_count",
      "attention.head_count_kv", "attention.key_length", "attention.value_length", "rope.dimension_count",
      "rope.freq_base", "rope.scaling.type", "rope.scaling.factor", "rope.scale_linear",
      "rope.scaling.original_context_length", "rope.scaling.attn_factor", "rope.scaling.finetuned",
      "rope.scaling.yarn_beta_fast", "rope.scaling.yarn_beta_slow", "attn_logit_softcapping",
      "final_logit_softcapping", "vocab_size", "tensor_data_layout", "pooling_type", "expert_count"};
  known.insert(arch.norm == NormKind::Rms ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon");
  if (arch.window != SlidingWindow::None) known.insert("attention.sliding_window");
  if (arch.rope_base_swa > 0) known.insert("rope.freq_base_swa");
  if (arch.scales)
    for (const char* k : {"embedding_scale", "attention.scale", "residual_scale", "logit_scale"}) known.insert(k);
  if (c.n_expert > 0) {
    known.insert("expert_used_count");
    if (arch.moe_expert_ff_key) known.insert("expert_feed_forward_length");
  }
  for (const auto& kv : f.metadata()) {
    if (kv.key.substr(0, a.size()) != a) continue;
    const std::string_view rest = kv.key.substr(a.size());
    if (rest == "attention.causal" && f.get_bool(kv.key).value_or(true)) continue;  // decoders are causal
    if (!known.count(rest))
      throw Error(ErrorCode::Unsupported, f.name() + ": metadata key '" + std::string(kv.key) +
                                              "' is not implemented for " + c.architecture +
                                              " and may change the computation; refusing to run the model wrongly");
  }
}

}  // namespace

ModelConfig read_config(const GgufFile& f) {
  ModelConfig c;
  c.architecture = std::string(f.require_string("general.architecture"));
  const ArchTraits* arch = find_arch(c.architecture);
  if (!arch)
    throw Error(ErrorCode::Unsupported, f.name() + ": architecture '" + c.architecture +
                                            "' is not supported (supported: " + supported_architectures() + ")");
  c.name = std::string(f.get_string("general.name").value_or(""));
  const std::string a = c.architecture + ".";
  read_dims(f, a, *arch, c);
  read_rope(f, a, *arch, c);
  read_variants(f, a, *arch, c);
  check_keys(f, a, *arch, c);
  return c;
}

}  // namespace inkling::detail
