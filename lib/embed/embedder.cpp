// Embedder: inputs checked and tokenized, packed into passes of up to batch_tokens
// tokens (each input whole, its own attention span), pooled, normalised.
#include <algorithm>
#include <string>

#include "embed/inputs.hpp"
#include "embed/pooling.hpp"
#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "model/encoder.hpp"
#include "model/model_impl.hpp"

namespace inkling {
namespace {
constexpr int kDecoderPassTokens = 512;
}  // namespace

int Embeddings::total_tokens() const noexcept {
  int n = 0;
  for (int t : tokens) n += t;
  return n;
}

bool is_embedding_only(const Model& model) noexcept { return detail::is_encoder(model); }

std::optional<Pooling> model_pooling(const Model& model) {
  const std::string key = model.config().architecture + ".pooling_type";
  const std::optional<std::uint64_t> v = model.file().get_uint(key);
  if (!v || *v == 0) return std::nullopt;
  switch (*v) {
    case 1: return Pooling::Mean;
    case 2: return Pooling::Cls;
    case 3: return Pooling::Last;
    case 4: return Pooling::Rank;
    default:
      throw Error(ErrorCode::Format, model.file().name() + ": key '" + key + "' = " + std::to_string(*v) +
                                         " is not a pooling type (0-4)");
  }
}

struct Embedder::Impl {
  std::shared_ptr<const Model> model;
  EmbedOptions options;
  Pooling pooling = Pooling::Cls;
  int dim = 0;
  detail::EncoderBuffers buffers;
  // Decoders: each input its own causal sequence of one Batch; the cache is sized to the
  // pass and reused while it is large enough.
  std::optional<KVCache> cache;
  Batch batch;
  std::vector<float> hidden;

  // Final (normed) hidden states of sequences packed back to back (detail::encode's contract).
  std::span<const float> run(std::span<const TokenId> tokens, std::span<const int> starts) {
    if (model->impl().encoder) return detail::encode(*model, tokens, starts, buffers);
    const int n_seq = static_cast<int>(starts.size()) - 1;
    int longest = 0;
    batch.clear();
    for (int s = 0; s < n_seq; ++s) {
      const int first = starts[static_cast<std::size_t>(s)], len = starts[static_cast<std::size_t>(s) + 1] - first;
      longest = std::max(longest, len);
      for (int p = 0; p < len; ++p) batch.add(tokens[static_cast<std::size_t>(first + p)], p, s, true);
    }
    if (!cache || cache->n_seq() < n_seq || cache->n_ctx() < longest)
      cache.emplace(*model, KVCacheOptions{.n_ctx = longest, .n_seq = n_seq});
    cache->clear();
    hidden.resize(tokens.size() * static_cast<std::size_t>(model->config().n_embd));
    model->forward_hidden(batch, *cache, hidden);
    return hidden;
  }
  // Pools the input of `n` tokens whose hidden rows start at `hidden`.
  std::vector<float> finish(const float* hidden, int n) {
    std::vector<float> out;
    if (pooling == Pooling::Rank) {
      detail::classify(model->impl().isa, *model->impl().encoder, hidden, model->config().n_embd, buffers.ws, out);
      return out;
    }
    detail::pool(pooling, hidden, n, model->config().n_embd, out);
    if (options.normalize) detail::normalize_rows(out, dim);
    return out;
  }
};

Embedder::Embedder(std::shared_ptr<const Model> model, EmbedOptions options) : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error(ErrorCode::InvalidArgument, "Embedder: null model");
  if (options.batch_tokens < 0)
    throw Error(ErrorCode::InvalidArgument,
                "EmbedOptions::batch_tokens " + std::to_string(options.batch_tokens) + " is negative");
  const Model::Impl& m = model->impl();
  const std::string& file = model->file().name();
  Pooling pooling = options.pooling;
  if (pooling == Pooling::Default) {
    const std::optional<Pooling> declared = model_pooling(*model);
    if (!declared)
      throw Error(ErrorCode::InvalidArgument,
                  file + ": the model declares no pooling (" + model->config().architecture +
                      ".pooling_type is absent or none); choose one (mean, cls, last) or none for per-token vectors");
    pooling = *declared;
  }
  impl_->dim = model->config().n_embd;
  if (pooling == Pooling::Rank) {
    if (!m.encoder || !m.encoder->cls)
      throw Error(ErrorCode::InvalidArgument,
                  file + ": rank pooling needs a reranker's classification head (cls.weight), which this model lacks");
    impl_->dim = m.encoder->n_cls_out;
  }
  impl_->pooling = pooling;
  impl_->options = options;
  impl_->model = std::move(model);
}

Embedder::~Embedder() = default;
Embedder::Embedder(Embedder&&) noexcept = default;
Embedder& Embedder::operator=(Embedder&&) noexcept = default;

const Model& Embedder::model() const noexcept { return *impl_->model; }
Pooling Embedder::pooling() const noexcept { return impl_->pooling; }
int Embedder::dim() const noexcept { return impl_->dim; }

Embeddings Embedder::embed(std::span<const std::string> texts) {
  if (texts.empty()) throw Error(ErrorCode::InvalidArgument, "embed: no inputs");
  const Tokenizer& tok = impl_->model->tokenizer();
  std::vector<std::vector<TokenId>> inputs(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    detail::check_utf8(texts[i], "embed: " + detail::input_name(i));
    inputs[i] = tok.encode(texts[i], /*add_special=*/true, /*parse_special=*/false);
  }
  return embed_tokens(inputs);
}

Embeddings Embedder::embed_tokens(std::span<const std::vector<TokenId>> inputs) {
  if (inputs.empty()) throw Error(ErrorCode::InvalidArgument, "embed: no inputs");
  Impl& m = *impl_;
  const ModelConfig& c = m.model->config();
  std::vector<std::vector<TokenId>> fitted(inputs.begin(), inputs.end());
  for (std::size_t i = 0; i < fitted.size(); ++i) {
    detail::fit_to_context(fitted[i], c.n_ctx_train, m.options.truncate, m.model->tokenizer(),
                           "embed: " + detail::input_name(i));
    for (TokenId t : fitted[i])
      if (t < 0 || t >= c.n_vocab)
        throw Error(ErrorCode::InvalidArgument, "embed: " + detail::input_name(i) + " holds token id " +
                                                    std::to_string(t) + ", out of range [0, " +
                                                    std::to_string(c.n_vocab) + ")");
  }
  // Decoder passes keep a KV cache of every packed token: bound them by default.
  const int budget = m.options.batch_tokens > 0 ? m.options.batch_tokens
                     : m.model->impl().encoder   ? c.n_ctx_train
                                                 : std::min(c.n_ctx_train, kDecoderPassTokens);

  Embeddings out;
  out.dim = m.dim;
  out.vectors.resize(fitted.size());
  out.tokens.resize(fitted.size());
  std::vector<TokenId> packed;
  std::vector<int> starts;
  for (std::size_t first = 0; first < fitted.size();) {
    // Take inputs while they fit the budget (always at least one).
    packed.clear();
    starts.assign(1, 0);
    std::size_t last = first;
    while (last < fitted.size() &&
           (last == first || static_cast<int>(packed.size() + fitted[last].size()) <= budget)) {
      packed.insert(packed.end(), fitted[last].begin(), fitted[last].end());
      starts.push_back(static_cast<int>(packed.size()));
      ++last;
    }
    const std::span<const float> hidden = m.run(packed, starts);
    ++out.passes;
    for (std::size_t i = first; i < last; ++i) {
      const int n = static_cast<int>(fitted[i].size());
      const float* rows = hidden.data() + static_cast<std::size_t>(starts[i - first]) * c.n_embd;
      out.vectors[i] = m.finish(rows, n);
      out.tokens[i] = n;
    }
    first = last;
  }
  return out;
}

std::vector<float> Embedder::embed(std::string_view text) {
  const std::string one(text);
  return std::move(embed(std::span<const std::string>(&one, 1)).vectors[0]);
}

}  // namespace inkling
