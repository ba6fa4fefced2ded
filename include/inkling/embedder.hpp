// Embedder: text -> vectors (sentence embeddings) with an encoder model (bert,
// nomic-bert: BGE, MiniLM, E5, nomic-embed) or a decoder model (llama, qwen2, qwen3:
// Qwen3-Embedding style, last-token or mean pooling); many inputs per call packed into
// one forward pass. Reranker: a relevance score for (query, document) pairs.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling {

// How one vector is made from the final hidden states of an input's tokens, as
// llama.cpp's pooling types (GGUF <arch>.pooling_type 0-4).
enum class Pooling {
  Default,  // the model's own (<arch>.pooling_type); an error if it declares none
  None,     // no pooling: one vector per token
  Mean,     // the average over all tokens (special tokens included)
  Cls,      // the first token's ([CLS])
  Last,     // the last token's (decoder embedders: Qwen3-Embedding)
  Rank,     // a reranker's classification head on the first token (scores, not a vector)
};
std::string_view pooling_name(Pooling pooling) noexcept;  // "default", "none", "mean", ...
// Parses "none", "mean", "cls", "last", "rank" (and "default"); nullopt otherwise.
std::optional<Pooling> parse_pooling(std::string_view name) noexcept;
// The pooling a model's GGUF declares, or nullopt when it declares none (key absent or
// pooling_type 0). Throws Error(Format) for a value outside 0-4.
std::optional<Pooling> model_pooling(const Model& model);

// Whether the model only embeds and reranks (an encoder: bert, nomic-bert); such a
// model has no KV cache and cannot generate.
bool is_embedding_only(const Model& model) noexcept;

struct EmbedOptions {
  Pooling pooling = Pooling::Default;
  bool normalize = true;   // L2-normalise each vector (each token's with Pooling::None); never rank scores
  bool truncate = false;   // inputs longer than the context: cut (keeping a trailing [SEP]/EOS) instead of failing
  int batch_tokens = 0;    // tokens packed into one pass; 0 = the model's context length
                           // (encoders) or 512 (decoders, whose passes fill a KV cache)
};

struct Embeddings {
  int dim = 0;  // floats per vector: n_embd, or the classifier's outputs for Pooling::Rank
  // One entry per input, in input order: dim floats, or tokens[i] * dim with Pooling::None.
  std::vector<std::vector<float>> vectors;
  std::vector<int> tokens;  // tokens each input ran with (after truncation)
  int passes = 0;           // forward passes the inputs were packed into
  int total_tokens() const noexcept;
};

// Owns the activation buffers of its passes: one thread at a time per Embedder (make
// one per thread; they share the immutable Model).
class Embedder {
 public:
  // Resolves the pooling against the model: Error(InvalidArgument) for Pooling::Default
  // on a model that declares none, and for Rank on a model without a classification
  // head (cls.weight); Error(InvalidArgument) for batch_tokens < 0.
  explicit Embedder(std::shared_ptr<const Model> model, EmbedOptions options = {});
  ~Embedder();
  Embedder(Embedder&&) noexcept;
  Embedder& operator=(Embedder&&) noexcept;

  const Model& model() const noexcept;
  Pooling pooling() const noexcept;  // resolved: never Default
  int dim() const noexcept;

  // Tokenizes each text with the model's special tokens (BERT: [CLS] text [SEP]; an
  // empty text is [CLS] [SEP], as llama.cpp embeds it) and embeds all of them.
  // Error(InvalidArgument) naming the input's index for: an empty list, invalid UTF-8,
  // an input with no tokens at all (an empty text for a model that adds none), an input
  // longer than the context without `truncate`.
  Embeddings embed(std::span<const std::string> texts);
  Embeddings embed_tokens(std::span<const std::vector<TokenId>> inputs);
  std::vector<float> embed(std::string_view text);  // one input, one vector

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RerankOptions {
  // Decoder rerankers (Qwen3-Reranker style) answer "yes"/"no" after a chat prompt;
  // the instruction is the prompt's task line.
  std::string instruction = "Given a web search query, retrieve relevant passages that answer the query";
  bool truncate = false;  // as EmbedOptions::truncate (the document side is cut)
};

// Scores documents against a query: for BERT rerankers the classification head
// (cls.weight / cls.output.weight) on "[CLS] query [SEP] document [SEP]", every token
// with token type 0, the document's too: llama.cpp's BERT graph adds type 0 to every
// token (rank pooling included), and scores are meant to match it; a cross-encoder
// trained with segment ids (type 1 for the second text, as Hugging Face feeds it)
// therefore scores a little differently from its original; for decoder
// models logit("yes") - logit("no") at the end of the reranking prompt. Higher is more
// relevant. One thread at a time per Reranker.
class Reranker {
 public:
  // Error(InvalidArgument) for an encoder without a classification head, or a decoder
  // whose vocabulary has no single "yes" / "no" tokens.
  explicit Reranker(std::shared_ptr<const Model> model, RerankOptions options = {});
  ~Reranker();
  Reranker(Reranker&&) noexcept;
  Reranker& operator=(Reranker&&) noexcept;

  // One score per document, in order. Error(InvalidArgument) for no documents, invalid
  // UTF-8 (naming "query" or the document's index), a pair too long without truncate.
  std::vector<float> score(std::string_view query, std::span<const std::string> documents);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
