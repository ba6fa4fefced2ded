// /v1/embeddings (OpenAI's shape: "input" a string, an array of strings, an array of token
// ids or an array of such arrays; encoding_format "float" or "base64") and /v1/rerank (the
// shape llama.cpp's and Jina's servers use: "query", "documents", "top_n",
// "return_documents"; results sorted by relevance_score, highest first).
//
// Per request, beyond OpenAI's fields: "embd_normalize" as llama.cpp's server reads it
// (-1 none, 0 max-abs scaled to int16, 1 taxicab, 2 Euclidean = the default, p > 2 the
// p-norm), and "pooling" ("mean", "cls" or "last"; default: the model's own), which
// llama.cpp only takes per server (--pooling): here a model that declares no pooling (a
// decoder) can still serve embeddings. "none" (a vector per token) is not OpenAI's shape
// and is refused, as llama.cpp refuses it on this endpoint; "rank" is /v1/rerank's.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "inkling/embedder.hpp"

namespace inkling::server {

struct ServingContext;

// Serves both endpoints for one model. An Embedder / Reranker holds one pass's buffers,
// so requests take turns (a mutex); each is built on first use, so a chat model that
// cannot embed still serves completions, and its embedding requests get the reason.
class EmbeddingService {
 public:
  explicit EmbeddingService(std::shared_ptr<const Model> model);
  // Request body -> response JSON. Throws ApiError (400 for bad input, 501 when the
  // model cannot embed / rerank, 404 for another model's name).
  nlohmann::json embeddings(const std::string& body, const ServingContext& ctx);
  nlohmann::json rerank(const std::string& body, const ServingContext& ctx);

 private:
  std::shared_ptr<const Model> model_;
  std::mutex mutex_;
  std::map<std::pair<Pooling, bool>, Embedder> embedders_;  // by pooling and L2 normalisation
  std::optional<Reranker> reranker_;
};

// Float32 little-endian bytes in base64, as OpenAI's encoding_format "base64".
std::string base64_floats(const std::vector<float>& v);

}  // namespace inkling::server
