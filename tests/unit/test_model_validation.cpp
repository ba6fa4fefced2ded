// Files that are valid GGUF but not a valid model: each gives a typed error naming the
// problem, before any weight is used.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/model.hpp"

using inkling::DType;
using inkling::ErrorCode;
using inkling::GgufWriter;

namespace {

std::vector<std::byte> floats(std::size_t n, float v = 0.5f) {
  std::vector<float> f(n, v);
  std::vector<std::byte> b(n * 4);
  std::memcpy(b.data(), f.data(), b.size());
  return b;
}

struct Tiny {
  int dim = 8, heads = 2, kv_heads = 2, vocab = 4, ff = 16;
  float eps = 1e-5f;
  float norm_value = 1.0f;
  std::string arch = "llama";
  DType q_type = DType::F32;
  bool skip_wo = false;
  int wq_rows = 0;  // 0: dim
};

GgufWriter tiny(const Tiny& t) {
  GgufWriter w;
  const std::string a = t.arch + ".";
  w.set_string("general.architecture", t.arch);
  w.set_u32(a + "context_length", 16);
  w.set_u32(a + "embedding_length", static_cast<std::uint32_t>(t.dim));
  w.set_u32(a + "block_count", 1);
  w.set_u32(a + "feed_forward_length", static_cast<std::uint32_t>(t.ff));
  w.set_u32(a + "attention.head_count", static_cast<std::uint32_t>(t.heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<std::uint32_t>(t.kv_heads));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", t.eps);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"});
  const auto d = static_cast<std::int64_t>(t.dim);
  const std::int64_t kv = d / t.heads * t.kv_heads;
  w.add_tensor("token_embd.weight", DType::F32, {d, t.vocab}, floats(static_cast<std::size_t>(d * t.vocab)));
  w.add_tensor("output_norm.weight", DType::F32, {d}, floats(static_cast<std::size_t>(d), t.norm_value));
  w.add_tensor("blk.0.attn_norm.weight", DType::F32, {d}, floats(static_cast<std::size_t>(d), t.norm_value));
  w.add_tensor("blk.0.ffn_norm.weight", DType::F32, {d}, floats(static_cast<std::size_t>(d)));
  const std::int64_t q_rows = t.wq_rows ? t.wq_rows : d;
  if (t.q_type == DType::F32)
    w.add_tensor("blk.0.attn_q.weight", DType::F32, {d, q_rows}, floats(static_cast<std::size_t>(d * q_rows)));
  else
    w.add_tensor("blk.0.attn_q.weight", t.q_type, {256, 1}, std::vector<std::byte>(66));
  w.add_tensor("blk.0.attn_k.weight", DType::F32, {d, kv}, floats(static_cast<std::size_t>(d * kv)));
  w.add_tensor("blk.0.attn_v.weight", DType::F32, {d, kv}, floats(static_cast<std::size_t>(d * kv)));
  if (!t.skip_wo) w.add_tensor("blk.0.attn_output.weight", DType::F32, {d, d}, floats(static_cast<std::size_t>(d * d)));
  w.add_tensor("blk.0.ffn_gate.weight", DType::F32, {d, t.ff}, floats(static_cast<std::size_t>(d * t.ff)));
  w.add_tensor("blk.0.ffn_up.weight", DType::F32, {d, t.ff}, floats(static_cast<std::size_t>(d * t.ff)));
  w.add_tensor("blk.0.ffn_down.weight", DType::F32, {t.ff, d}, floats(static_cast<std::size_t>(d * t.ff)));
  return w;
}

void expect(const GgufWriter& w, ErrorCode code, const std::string& needle) {
  try {
    inkling::Model::from_file(inkling::GgufFile::from_bytes(w.to_bytes(), "bad.gguf"));
    FAIL("expected an error containing '" << needle << "'");
  } catch (const inkling::Error& e) {
    CHECK_MESSAGE(e.code() == code, e.what());
    CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_CASE("a tiny well-formed model loads and runs") {
  auto m = inkling::Model::from_file(inkling::GgufFile::from_bytes(tiny({}).to_bytes()));
  CHECK(m->config().n_vocab == 4);
}

TEST_CASE("model-level corruption catalogue") {
  Tiny t;
  t.vocab = 5;  // 5 embedding rows, 4 tokens
  expect(tiny(t), ErrorCode::Format, "the vocabulary has 4 tokens but token_embd.weight has 5 rows");
  t = {};
  t.heads = 3;  // 8 is not a multiple of 3
  t.kv_heads = 3;
  expect(tiny(t), ErrorCode::Format, "not a multiple of attention.head_count");
  t = {};
  t.kv_heads = 3;  // 2 heads, 3 kv heads
  expect(tiny(t), ErrorCode::Format, "head_count_kv");
  t = {};
  t.norm_value = NAN;
  expect(tiny(t), ErrorCode::Format, "non-finite value");
  t = {};
  t.norm_value = INFINITY;
  expect(tiny(t), ErrorCode::Format, "non-finite value");
  t = {};
  t.eps = NAN;
  expect(tiny(t), ErrorCode::Format, "layer_norm_rms_epsilon");
  t = {};
  t.eps = -1.0f;
  expect(tiny(t), ErrorCode::Format, "layer_norm_rms_epsilon");
  t = {};
  t.skip_wo = true;
  expect(tiny(t), ErrorCode::Format, "missing tensor 'blk.0.attn_output.weight'");
  t = {};
  t.wq_rows = 4;
  expect(tiny(t), ErrorCode::Format, "tensor 'blk.0.attn_q.weight' has shape {8, 4}");
  t = {};
  t.arch = "mamba";
  expect(tiny(t), ErrorCode::Unsupported, "architecture 'mamba' is not supported (supported: llama");
  t = {};
  t.q_type = DType::IQ2_XXS;
  expect(tiny(t), ErrorCode::Format, "attn_q.weight' has shape");
  auto w = tiny({});
  w.set_u32("llama.block_count", 0);
  expect(w, ErrorCode::Format, "block_count' = 0 is out of range");
  w = tiny({});
  w.set_string("llama.embedding_length", "eight");
  expect(w, ErrorCode::Format, "llama.embedding_length");
  w = tiny({});
  w.set_u32("llama.attention.head_count", 1u << 30);
  expect(w, ErrorCode::Format, "out of range");
  w = tiny({});
  w.set_string("tokenizer.ggml.model", "rwkv");
  expect(w, ErrorCode::Unsupported, "tokenizer model 'rwkv'");
  w = tiny({});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0});
  expect(w, ErrorCode::Format, "tokenizer.ggml.scores' has 2 entries for 4 tokens");
}

TEST_CASE("a tensor type without kernels is refused by name") {
  // A model wide enough for 256-element blocks, then the same with attn_q as IQ2_XXS.
  Tiny t;
  t.dim = 256;
  t.ff = 256;
  const auto bytes = tiny(t).to_bytes();
  const auto file = inkling::GgufFile::from_bytes(bytes);
  CHECK(inkling::Model::from_file(file)->config().n_embd == 256);
  GgufWriter iq;
  for (const auto& kv : file->metadata()) iq.set_value(kv.key, kv.value);
  for (const auto& tensor : file->tensors()) {
    std::vector<std::int64_t> shape(tensor.shape.begin(), tensor.shape.begin() + std::max(tensor.n_dims, 1));
    if (tensor.name == "blk.0.attn_q.weight")
      iq.add_tensor(tensor.name, DType::IQ2_XXS, shape, std::vector<std::byte>(66 * 256));
    else
      iq.add_tensor(tensor.name, tensor.type, shape, std::vector<std::byte>(tensor.data, tensor.data + tensor.bytes));
  }
  expect(iq, ErrorCode::Unsupported, "tensor 'blk.0.attn_q.weight' has type IQ2_XXS");
}
