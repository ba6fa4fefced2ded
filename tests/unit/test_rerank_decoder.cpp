// Decoder rerankers (Qwen3-Reranker style): the score is logit("yes") - logit("no") at the
// end of the judging prompt, on synth-qwen2 (GPT-2 vocabulary, which has both words).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

namespace {

// The prompt of Qwen3-Reranker's model card, written out independently of the library's.
std::string prompt(const std::string& instruction, const std::string& q, const std::string& d) {
  return "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
         "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n<Instruct>: " +
         instruction + "\n<Query>: " + q + "\n<Document>: " + d +
         "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
}

float yes_minus_no(const inkling::Model& model, const std::string& text) {
  const auto& tok = model.tokenizer();
  const auto ids = tok.encode(text, true, true);
  inkling::KVCache cache(model, {.n_ctx = static_cast<int>(ids.size())});
  inkling::Batch batch;
  for (std::size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int>(i), 0, i + 1 == ids.size());
  std::vector<float> logits(static_cast<std::size_t>(model.config().n_vocab));
  model.forward(batch, cache, logits);
  return logits[static_cast<std::size_t>(tok.find("yes"))] - logits[static_cast<std::size_t>(tok.find("no"))];
}

}  // namespace

TEST_CASE("decoder reranker: logit(yes) - logit(no) after the judging prompt; instruction and truncation honoured") {
  const auto path = inkling::test::require_shared("models/synth-qwen2.gguf");
  if (!path) return;
  const auto model = inkling::Model::load(*path, {.threads = 2});
  REQUIRE(model->tokenizer().find("yes") != inkling::kNoToken);
  const std::string query = "what is the capital of France";
  const std::vector<std::string> docs = {"Paris is the capital of France.", "Bananas are yellow.", ""};
  const inkling::RerankOptions defaults;
  inkling::Reranker reranker(model);
  const auto scores = reranker.score(query, docs);
  REQUIRE(scores.size() == 3);
  for (std::size_t i = 0; i < docs.size(); ++i)
    CHECK(scores[i] == doctest::Approx(yes_minus_no(*model, prompt(defaults.instruction, query, docs[i]))).epsilon(1e-4));
  CHECK(scores[0] != scores[1]);

  inkling::Reranker other(model, {.instruction = "Judge whether the passage is about fruit"});
  const auto s2 = other.score(query, docs);
  CHECK(s2[1] == doctest::Approx(yes_minus_no(*model, prompt("Judge whether the passage is about fruit", query, docs[1]))).epsilon(1e-4));
  CHECK(s2[1] != doctest::Approx(scores[1]).epsilon(1e-6));

  // synth-qwen2's context is 256 tokens: a long document is refused, or its middle cut.
  std::string long_doc;
  for (int i = 0; i < 300; ++i) long_doc += "word ";
  try {
    reranker.score(query, std::vector<std::string>{long_doc});
    FAIL("a prompt longer than the context was accepted");
  } catch (const inkling::Error& e) {
    CHECK(e.code() == inkling::ErrorCode::InvalidArgument);
    CHECK(std::string(e.what()).find("document 0") != std::string::npos);
  }
  inkling::Reranker cut(model, {.truncate = true});
  const auto s3 = cut.score(query, std::vector<std::string>{long_doc});
  CHECK(std::isfinite(s3[0]));
}
