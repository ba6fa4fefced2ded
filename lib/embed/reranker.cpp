// Reranker: cross-encoder scores. BERT rerankers run "[CLS] query [SEP] document [SEP]"
// through the encoder and its classification head (rank pooling, all pairs packed into
// passes like embeddings); decoder rerankers (Qwen3-Reranker) read logit("yes") -
// logit("no") after a judging prompt, one document per pass.
#include <algorithm>
#include <string>

#include "embed/inputs.hpp"
#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "model/model_impl.hpp"

namespace inkling {
namespace {

// The prompt Qwen3-Reranker was trained with (its model card): a system line fixing the
// answer to yes/no, the task, query and document, and an empty thinking block.
std::string judge_prompt(const std::string& instruction, std::string_view query, std::string_view document) {
  std::string p =
      "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
      "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n<Instruct>: ";
  p += instruction;
  p += "\n<Query>: ";
  p += query;
  p += "\n<Document>: ";
  p += document;
  p += "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
  return p;
}

}  // namespace

struct Reranker::Impl {
  std::shared_ptr<const Model> model;
  RerankOptions options;
  std::optional<Embedder> encoder;  // BERT rerankers: rank pooling
  TokenId yes = kNoToken, no = kNoToken;
  std::optional<KVCache> cache;     // decoder rerankers, sized to the longest prompt so far
  std::vector<float> logits;

  std::vector<float> score_encoder(std::string_view query, std::span<const std::string> documents);
  std::vector<float> score_decoder(std::string_view query, std::span<const std::string> documents);
};

Reranker::Reranker(std::shared_ptr<const Model> model, RerankOptions options) : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error(ErrorCode::InvalidArgument, "Reranker: null model");
  const std::string& file = model->file().name();
  if (model->impl().encoder) {
    if (!model->impl().encoder->cls)
      throw Error(ErrorCode::InvalidArgument,
                  file + ": not a reranker: the model has no classification head (cls.weight)");
    impl_->encoder.emplace(model, EmbedOptions{.pooling = Pooling::Rank, .normalize = false, .truncate = false});
  } else {
    impl_->yes = model->tokenizer().find("yes");
    impl_->no = model->tokenizer().find("no");
    if (impl_->yes == kNoToken || impl_->no == kNoToken)
      throw Error(ErrorCode::InvalidArgument,
                  file + ": cannot rerank with this decoder: its vocabulary has no single \"yes\" and \"no\" tokens");
  }
  impl_->options = std::move(options);
  impl_->model = std::move(model);
}

Reranker::~Reranker() = default;
Reranker::Reranker(Reranker&&) noexcept = default;
Reranker& Reranker::operator=(Reranker&&) noexcept = default;

std::vector<float> Reranker::score(std::string_view query, std::span<const std::string> documents) {
  if (documents.empty()) throw Error(ErrorCode::InvalidArgument, "rerank: no documents");
  detail::check_utf8(query, "rerank: the query");
  for (std::size_t i = 0; i < documents.size(); ++i)
    detail::check_utf8(documents[i], "rerank: document " + std::to_string(i));
  return impl_->encoder ? impl_->score_encoder(query, documents) : impl_->score_decoder(query, documents);
}

std::vector<float> Reranker::Impl::score_encoder(std::string_view query, std::span<const std::string> documents) {
  const Tokenizer& tok = model->tokenizer();
  const int limit = model->config().n_ctx_train;
  const TokenId sep = tok.special().sep;
  const std::vector<TokenId> q = tok.encode(query, /*add_special=*/true);  // [CLS] query [SEP]
  const int tail = sep != kNoToken ? 1 : 0;
  if (static_cast<int>(q.size()) + tail >= limit)
    throw Error(ErrorCode::InvalidArgument, "rerank: the query has " + std::to_string(q.size()) +
                                                " tokens, which leaves no room for a document in a context of " +
                                                std::to_string(limit));
  std::vector<std::vector<TokenId>> pairs(documents.size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::vector<TokenId> d = tok.encode(documents[i], /*add_special=*/false);
    const int room = limit - static_cast<int>(q.size()) - tail;
    if (static_cast<int>(d.size()) > room) {
      if (!options.truncate)
        throw Error(ErrorCode::InvalidArgument, "rerank: document " + std::to_string(i) + " with the query has " +
                                                    std::to_string(q.size() + d.size() + tail) +
                                                    " tokens; the model's context is " + std::to_string(limit) +
                                                    " (ask for truncation to cut it)");
      d.resize(static_cast<std::size_t>(room));
    }
    pairs[i] = q;
    pairs[i].insert(pairs[i].end(), d.begin(), d.end());
    if (tail) pairs[i].push_back(sep);
  }
  const Embeddings out = encoder->embed_tokens(pairs);
  std::vector<float> scores(documents.size());
  for (std::size_t i = 0; i < documents.size(); ++i) scores[i] = out.vectors[i].at(0);
  return scores;
}

std::vector<float> Reranker::Impl::score_decoder(std::string_view query, std::span<const std::string> documents) {
  const Tokenizer& tok = model->tokenizer();
  const int n_vocab = model->config().n_vocab;
  std::vector<float> scores(documents.size());
  Batch batch;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::vector<TokenId> ids = tok.encode(judge_prompt(options.instruction, query, documents[i]),
                                          /*add_special=*/true, /*parse_special=*/true);
    // Truncation keeps the prompt's closing lines (the question the logits answer):
    // the document's middle goes.
    const int limit = model->config().n_ctx_train;
    if (static_cast<int>(ids.size()) > limit) {
      if (!options.truncate)
        throw Error(ErrorCode::InvalidArgument, "rerank: document " + std::to_string(i) + " makes a prompt of " +
                                                    std::to_string(ids.size()) + " tokens; the model's context is " +
                                                    std::to_string(limit) + " (ask for truncation to cut it)");
      const std::vector<TokenId> closing =
          tok.encode("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", false, true);
      ids.resize(static_cast<std::size_t>(limit) - closing.size());
      ids.insert(ids.end(), closing.begin(), closing.end());
    }
    const int n = static_cast<int>(ids.size());
    if (!cache || cache->n_ctx() < n) cache.emplace(*model, KVCacheOptions{.n_ctx = std::min(limit, std::max(n, 512))});
    cache->clear();
    batch.clear();
    for (int p = 0; p < n; ++p) batch.add(ids[static_cast<std::size_t>(p)], p, 0, p == n - 1);
    logits.resize(static_cast<std::size_t>(n_vocab));
    model->forward(batch, *cache, logits);
    scores[i] = logits[static_cast<std::size_t>(yes)] - logits[static_cast<std::size_t>(no)];
  }
  return scores;
}

}  // namespace inkling
