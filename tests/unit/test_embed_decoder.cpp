// Decoder embeddings (Qwen3-Embedding style): the final normed hidden state, pooled by
// last token or mean, through Model::forward_hidden; on synth-qwen2.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "kernels/kernels.hpp"
#include "shared_data.hpp"

using inkling::Embedder;
using inkling::Pooling;

namespace {

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("decoder embeddings are the final normed hidden states the output matrix reads") {
  const auto path = inkling::test::require_shared("models/synth-qwen2.gguf");
  if (!path) return;
  const auto model = inkling::Model::load(*path, {.threads = 2});
  const int dim = model->config().n_embd, n_vocab = model->config().n_vocab;
  CHECK_FALSE(inkling::is_embedding_only(*model));
  // No <arch>.pooling_type in this file: the caller must choose.
  try {
    Embedder e{model};
    FAIL("a model without pooling was given a default");
  } catch (const inkling::Error& e) {
    CHECK(std::string(e.what()).find("declares no pooling") != std::string::npos);
  }

  const std::string text = "Once upon a time there was";
  const auto h = Embedder(model, {.pooling = Pooling::Last, .normalize = false}).embed(text);
  REQUIRE(h.size() == static_cast<std::size_t>(dim));
  // The logits of the last token are the output matrix times this state.
  const auto ids = model->tokenizer().encode(text);
  inkling::KVCache cache(*model, {.n_ctx = static_cast<int>(ids.size())});
  inkling::Batch batch;
  for (std::size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int>(i), 0, i + 1 == ids.size());
  std::vector<float> logits(static_cast<std::size_t>(n_vocab));
  model->forward(batch, cache, logits);
  const inkling::TensorView* out = model->file().find_tensor("output.weight");
  if (!out) out = model->file().find_tensor("token_embd.weight");
  std::vector<float> row(static_cast<std::size_t>(dim));
  double worst = 0, scale = 0;
  for (int v = 0; v < n_vocab; v += 97) {
    inkling::kernels::dequantize_row(out->type, out->row(v), row.data(), dim);
    double z = 0;
    for (int k = 0; k < dim; ++k) z += static_cast<double>(row[static_cast<std::size_t>(k)]) * h[static_cast<std::size_t>(k)];
    worst = std::max(worst, std::abs(z - logits[static_cast<std::size_t>(v)]));
    scale = std::max(scale, std::abs(z));
  }
  CHECK(scale > 1.0);
  CHECK(worst < 2e-3 * scale);  // the F16 output matrix reads the state rounded to fp16

  // Per-token states: Last is the final row, Mean their average.
  const auto rows = Embedder(model, {.pooling = Pooling::None, .normalize = false}).embed(text);
  REQUIRE(rows.size() == ids.size() * static_cast<std::size_t>(dim));
  CHECK(max_diff(std::vector<float>(rows.end() - dim, rows.end()), h) < 1e-6);
  std::vector<float> mean(static_cast<std::size_t>(dim), 0.0f);
  for (std::size_t t = 0; t < ids.size(); ++t)
    for (int k = 0; k < dim; ++k) mean[static_cast<std::size_t>(k)] += rows[t * dim + static_cast<std::size_t>(k)] / ids.size();
  CHECK(max_diff(Embedder(model, {.pooling = Pooling::Mean, .normalize = false}).embed(text), mean) < 1e-5);

  // Packed causal sequences equal one by one, whatever the pass size.
  const std::vector<std::string> texts = {"Once upon a time", "The little dog was very sad because", "Hi"};
  for (int batch_tokens : {0, 1, 8}) {  // inputs of 4, 7 and 1 tokens
    CAPTURE(batch_tokens);
    Embedder packed(model, {.pooling = Pooling::Last, .batch_tokens = batch_tokens});
    const auto e = packed.embed(texts);
    CHECK(e.passes == (batch_tokens == 0 ? 1 : batch_tokens == 1 ? 3 : 2));
    for (std::size_t i = 0; i < texts.size(); ++i)
      CHECK(max_diff(e.vectors[i], Embedder(model, {.pooling = Pooling::Last}).embed(texts[i])) < 1e-5);
  }
  // No BOS in this vocabulary: an empty text has no tokens to embed.
  try {
    Embedder(model, {.pooling = Pooling::Last}).embed(std::vector<std::string>{"a", ""});
    FAIL("an empty input without special tokens was embedded");
  } catch (const inkling::Error& e) {
    CHECK(std::string(e.what()).find("input 1 has no tokens") != std::string::npos);
  }
  // Rank pooling needs a classification head, which a decoder lacks.
  CHECK_THROWS_AS(Embedder(model, {.pooling = Pooling::Rank}), inkling::Error);
}
