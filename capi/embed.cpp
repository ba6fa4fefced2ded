// The C ABI of embeddings and reranking (inkling::Embedder, inkling::Reranker).
#include <cstring>

#include "capi_support.hpp"

using namespace inkling::capi;

namespace {

ink_embed_params embed_defaults() {
  ink_embed_params p{};
  p.struct_size = sizeof p;
  p.pooling = INK_POOLING_DEFAULT;
  p.normalize = 1;
  return p;
}

ink_rerank_params rerank_defaults() {
  ink_rerank_params p{};
  p.struct_size = sizeof p;
  return p;
}

// The caller's struct over the defaults, honouring its struct_size.
template <typename Params>
ink_status read_params(const char* fn, const Params* in, Params defaults, Params& out) {
  out = defaults;
  if (!in) return INK_OK;
  if (in->struct_size < sizeof(uint32_t))
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": params->struct_size is not set");
  std::memcpy(&out, in, std::min<std::size_t>(in->struct_size, sizeof out));
  return INK_OK;
}

ink_status to_pooling(const char* fn, int32_t v, inkling::Pooling& out) {
  using inkling::Pooling;
  static constexpr Pooling kMap[] = {Pooling::Default, Pooling::None, Pooling::Mean,
                                     Pooling::Cls,     Pooling::Last, Pooling::Rank};
  if (v < 0 || v > INK_POOLING_RANK)
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": pooling " + std::to_string(v) + " is not an ink_pooling");
  out = kMap[v];
  return INK_OK;
}

// Copies the C strings (checked) into `out`; `what` names them in errors.
ink_status read_texts(const char* fn, const char* what, const char* const* texts, const size_t* lens, size_t n,
                      std::vector<std::string>& out) {
  if (!texts && n > 0) return null_arg(fn, what);
  for (size_t i = 0; i < n; ++i) {
    const size_t len = lens ? lens[i] : (texts[i] ? std::strlen(texts[i]) : 0);
    if (ink_status s = check_text(fn, texts[i], len); s != INK_OK)
      return fail(s, ink_last_error() + std::string(" (") + what + " " + std::to_string(i) + ")");
    out.emplace_back(texts[i] ? texts[i] : "", len);
  }
  return INK_OK;
}

}  // namespace

extern "C" {

ink_embed_params ink_embed_params_default(void) { return embed_defaults(); }
ink_status ink_embed_params_init(ink_embed_params* p) {
  return guard([&] { return init_params("ink_embed_params_init", p, embed_defaults()); });
}
ink_rerank_params ink_rerank_params_default(void) { return rerank_defaults(); }
ink_status ink_rerank_params_init(ink_rerank_params* p) {
  return guard([&] { return init_params("ink_rerank_params_init", p, rerank_defaults()); });
}

ink_status ink_embed(const ink_model* model, const ink_embed_params* params, const char* const* texts,
                     const size_t* lens, size_t n_texts, float* out, size_t cap, size_t* n_out, int32_t* dim_out) {
  return guard([&]() -> ink_status {
    constexpr const char* fn = "ink_embed";
    if (!model) return null_arg(fn, "model");
    if (!n_out) return null_arg(fn, "n_out");
    if (!out && cap > 0) return null_arg(fn, "out");
    ink_embed_params p;
    if (ink_status s = read_params(fn, params, embed_defaults(), p); s != INK_OK) return s;
    inkling::EmbedOptions options;
    if (ink_status s = to_pooling(fn, p.pooling, options.pooling); s != INK_OK) return s;
    options.normalize = p.normalize != 0;
    options.truncate = p.truncate != 0;
    std::vector<std::string> inputs;
    if (ink_status s = read_texts(fn, "text", texts, lens, n_texts, inputs); s != INK_OK) return s;
    if (inputs.empty()) return fail(INK_ERR_INVALID_ARGUMENT, "ink_embed: no texts (n_texts = 0)");

    inkling::Embedder embedder(model->model, options);
    const auto dim = static_cast<size_t>(embedder.dim());
    if (dim_out) *dim_out = static_cast<int32_t>(dim);
    // The size without running the model: one vector per input, or one per token.
    size_t need = inputs.size() * dim;
    if (embedder.pooling() == inkling::Pooling::None) {
      need = 0;
      for (const auto& t : inputs) {
        size_t n = model->model->tokenizer().encode(t, true, false).size();
        if (options.truncate) n = std::min(n, static_cast<size_t>(model->model->config().n_ctx_train));
        need += n * dim;
      }
    }
    *n_out = need;
    if (!out) return INK_OK;
    if (cap < need)
      return fail(INK_ERR_BUFFER_TOO_SMALL, "ink_embed: the buffer holds " + std::to_string(cap) + " floats, " +
                                                std::to_string(need) + " needed");
    const inkling::Embeddings e = embedder.embed(inputs);
    size_t at = 0;
    for (const auto& v : e.vectors) {
      std::memcpy(out + at, v.data(), v.size() * sizeof(float));
      at += v.size();
    }
    *n_out = at;
    return INK_OK;
  });
}

ink_status ink_rerank(const ink_model* model, const ink_rerank_params* params, const char* query, size_t query_len,
                      const char* const* docs, const size_t* doc_lens, size_t n_docs, float* scores, size_t cap) {
  return guard([&]() -> ink_status {
    constexpr const char* fn = "ink_rerank";
    if (!model) return null_arg(fn, "model");
    if (!scores) return null_arg(fn, "scores");
    if (ink_status s = check_text(fn, query, query_len); s != INK_OK) return s;
    ink_rerank_params p;
    if (ink_status s = read_params(fn, params, rerank_defaults(), p); s != INK_OK) return s;
    inkling::RerankOptions options;
    options.truncate = p.truncate != 0;
    if (p.instruction) {
      if (ink_status s = check_text(fn, p.instruction, std::strlen(p.instruction)); s != INK_OK) return s;
      options.instruction = p.instruction;
    }
    std::vector<std::string> documents;
    if (ink_status s = read_texts(fn, "document", docs, doc_lens, n_docs, documents); s != INK_OK) return s;
    if (documents.empty()) return fail(INK_ERR_INVALID_ARGUMENT, "ink_rerank: no documents (n_docs = 0)");
    if (cap < documents.size())
      return fail(INK_ERR_BUFFER_TOO_SMALL, "ink_rerank: scores holds " + std::to_string(cap) + " floats, " +
                                                std::to_string(documents.size()) + " needed");
    inkling::Reranker reranker(model->model, options);
    const std::vector<float> v = reranker.score(std::string_view(query ? query : "", query_len), documents);
    std::memcpy(scores, v.data(), v.size() * sizeof(float));
    return INK_OK;
  });
}

}  // extern "C"
