// ink_embed and ink_rerank: results equal the C++ API's, every knob is honoured, and
// every misuse gives a status and a message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bert_variant.hpp"
#include "inkling.h"
#include "inkling/embedder.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

namespace {

struct Loaded {
  ink_model* m = nullptr;
  ~Loaded() { ink_model_free(m); }
};

bool load(const std::string& relative, Loaded& out) {
  const auto p = inkling::test::require_shared(relative);
  if (!p) return false;
  REQUIRE(ink_model_load(p->string().c_str(), nullptr, &out.m) == INK_OK);
  return true;
}

bool error_mentions(const char* needle) { return std::string(ink_last_error()).find(needle) != std::string::npos; }

std::vector<float> c_embed(ink_model* m, const ink_embed_params& p, const std::vector<const char*>& texts,
                           int32_t* dim = nullptr) {
  size_t need = 0;
  REQUIRE(ink_embed(m, &p, texts.data(), nullptr, texts.size(), nullptr, 0, &need, dim) == INK_OK);
  std::vector<float> out(need);
  size_t n = 0;
  REQUIRE(ink_embed(m, &p, texts.data(), nullptr, texts.size(), out.data(), out.size(), &n, nullptr) == INK_OK);
  CHECK(n == need);
  return out;
}

}  // namespace

TEST_CASE("ink_embed: size query, vectors as the C++ API gives them, knobs") {
  Loaded m;
  if (!load("models/synth-bert.gguf", m)) return;
  auto model = inkling::Model::load(*inkling::test::require_shared("models/synth-bert.gguf"));
  const std::vector<const char*> texts = {"Once upon a time", "", "The little dog"};
  const std::vector<std::string> cpp_texts(texts.begin(), texts.end());
  ink_embed_params p = ink_embed_params_default();
  int32_t dim = 0;
  const auto v = c_embed(m.m, p, texts, &dim);
  CHECK(dim == 64);
  REQUIRE(v.size() == 3 * 64);
  const auto ref = inkling::Embedder(model).embed(cpp_texts);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 64; ++k) CHECK(v[i * 64 + k] == doctest::Approx(ref.vectors[i][k]).epsilon(1e-6));

  // Each knob changes the result as the C++ option does.
  struct Knob {
    const char* name;
    void (*set)(ink_embed_params&);
    inkling::EmbedOptions options;
  };
  const Knob knobs[] = {
      {"pooling mean", [](ink_embed_params& q) { q.pooling = INK_POOLING_MEAN; }, {.pooling = inkling::Pooling::Mean}},
      {"pooling none", [](ink_embed_params& q) { q.pooling = INK_POOLING_NONE; }, {.pooling = inkling::Pooling::None}},
      {"pooling last", [](ink_embed_params& q) { q.pooling = INK_POOLING_LAST; }, {.pooling = inkling::Pooling::Last}},
      {"no normalize", [](ink_embed_params& q) { q.normalize = 0; }, {.normalize = false}},
  };
  for (const Knob& k : knobs) {
    CAPTURE(k.name);
    ink_embed_params q = ink_embed_params_default();
    k.set(q);
    const auto got = c_embed(m.m, q, texts);
    const auto want = inkling::Embedder(model, k.options).embed(cpp_texts);
    std::vector<float> flat;
    for (const auto& row : want.vectors) flat.insert(flat.end(), row.begin(), row.end());
    REQUIRE(got.size() == flat.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(flat[i]).epsilon(1e-5));
  }
  // truncate: refused without, cut with.
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  const char* long_ptr = long_text.c_str();
  size_t need = 0;
  std::vector<float> out(64);
  CHECK(ink_embed(m.m, &p, &long_ptr, nullptr, 1, out.data(), out.size(), &need, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("input 0 has 602 tokens"));
  ink_embed_params t = ink_embed_params_default();
  t.truncate = 1;
  CHECK(ink_embed(m.m, &t, &long_ptr, nullptr, 1, out.data(), out.size(), &need, nullptr) == INK_OK);
  // Explicit lengths: only the first 4 bytes of "Once upon a time" ("Once").
  const size_t len = 4;
  std::vector<float> once(64);
  CHECK(ink_embed(m.m, &p, texts.data(), &len, 1, once.data(), once.size(), &need, nullptr) == INK_OK);
  const auto once_ref = inkling::Embedder(model).embed("Once");
  for (std::size_t k = 0; k < 64; ++k) CHECK(once[k] == doctest::Approx(once_ref[k]).epsilon(1e-6));
}

TEST_CASE("ink_embed misuse: status and message, nothing thrown") {
  Loaded m;
  if (!load("models/synth-bert.gguf", m)) return;
  const char* text = "hello";
  std::vector<float> out(64);
  size_t n = 0;
  CHECK(ink_embed(nullptr, nullptr, &text, nullptr, 1, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("model"));
  CHECK(ink_embed(m.m, nullptr, &text, nullptr, 1, out.data(), 64, nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("n_out"));
  CHECK(ink_embed(m.m, nullptr, nullptr, nullptr, 1, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_embed(m.m, nullptr, &text, nullptr, 0, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("no texts"));
  CHECK(ink_embed(m.m, nullptr, &text, nullptr, 1, nullptr, 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_embed(m.m, nullptr, &text, nullptr, 1, out.data(), 63, &n, nullptr) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(n == 64);
  const char* bad[] = {"ok", "bad \xff"};
  CHECK(ink_embed(m.m, nullptr, bad, nullptr, 2, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("text 1"));
  ink_embed_params p = ink_embed_params_default();
  p.pooling = 42;
  CHECK(ink_embed(m.m, &p, &text, nullptr, 1, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("pooling 42"));
  p = ink_embed_params_default();
  p.pooling = INK_POOLING_RANK;  // synth-bert has no classification head
  CHECK(ink_embed(m.m, &p, &text, nullptr, 1, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("cls.weight"));
  p = ink_embed_params_default();
  p.struct_size = 0;
  CHECK(ink_embed(m.m, &p, &text, nullptr, 1, out.data(), 64, &n, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("struct_size"));
  ink_embed_params small{};
  small.struct_size = sizeof(uint32_t) * 2;  // an older caller: only pooling set
  CHECK(ink_embed_params_init(&small) == INK_OK);
  CHECK(small.pooling == INK_POOLING_DEFAULT);
  CHECK(ink_embed_params_init(nullptr) == INK_ERR_INVALID_ARGUMENT);

  // A generating model's embeddings are refused with a reason, not a crash.
  Loaded s;
  if (!load("models/stories260K-f32.gguf", s)) return;
  CHECK(ink_embed(s.m, nullptr, &text, nullptr, 1, out.data(), 64, &n, nullptr) != INK_OK);
  CHECK(std::string(ink_last_error()).size() > 0);
}

TEST_CASE("ink_rerank: scores as the C++ Reranker, misuse refused") {
  const auto dir = std::filesystem::temp_directory_path() / "inkling-test-capi-embed";
  std::filesystem::create_directories(dir);
  inkling::test::BertVariant v;
  v.add = [](inkling::GgufWriter& w) { inkling::test::add_rerank_head(w, 64, true); };
  if (!inkling::test::write_bert_variant(v, dir / "reranker.gguf")) return;
  Loaded m;
  REQUIRE(ink_model_load((dir / "reranker.gguf").string().c_str(), nullptr, &m.m) == INK_OK);
  auto model = inkling::Model::load(dir / "reranker.gguf");
  const char* docs[] = {"The little dog was very sad", "Once upon a time"};
  const std::string query = "sad dog";
  float scores[2] = {0, 0};
  REQUIRE(ink_rerank(m.m, nullptr, query.data(), query.size(), docs, nullptr, 2, scores, 2) == INK_OK);
  const auto ref = inkling::Reranker(model).score(query, std::vector<std::string>{docs[0], docs[1]});
  CHECK(scores[0] == doctest::Approx(ref[0]).epsilon(1e-6));
  CHECK(scores[1] == doctest::Approx(ref[1]).epsilon(1e-6));

  CHECK(ink_rerank(m.m, nullptr, query.data(), query.size(), docs, nullptr, 2, scores, 1) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(ink_rerank(m.m, nullptr, query.data(), query.size(), docs, nullptr, 0, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_rerank(m.m, nullptr, query.data(), query.size(), nullptr, nullptr, 2, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_rerank(m.m, nullptr, query.data(), query.size(), docs, nullptr, 2, nullptr, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_rerank(nullptr, nullptr, query.data(), query.size(), docs, nullptr, 2, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_rerank(m.m, nullptr, "\xff", 1, docs, nullptr, 2, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  // truncate is honoured: a long document is refused, then cut.
  std::string long_doc;
  for (int i = 0; i < 600; ++i) long_doc += "word ";
  const char* long_ptr = long_doc.c_str();
  CHECK(ink_rerank(m.m, nullptr, query.data(), query.size(), &long_ptr, nullptr, 1, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("document 0"));
  ink_rerank_params p = ink_rerank_params_default();
  p.truncate = 1;
  CHECK(ink_rerank(m.m, &p, query.data(), query.size(), &long_ptr, nullptr, 1, scores, 2) == INK_OK);
  // The plain embedder is not a reranker.
  Loaded plain;
  if (!load("models/synth-bert.gguf", plain)) return;
  CHECK(ink_rerank(plain.m, nullptr, query.data(), query.size(), docs, nullptr, 2, scores, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("classification head"));
  std::filesystem::remove_all(dir);

  // A decoder reranker: the instruction reaches the prompt.
  Loaded q;
  if (!load("models/synth-qwen2.gguf", q)) return;
  auto qwen = inkling::Model::load(*inkling::test::require_shared("models/synth-qwen2.gguf"));
  ink_rerank_params ip = ink_rerank_params_default();
  ip.instruction = "Is the passage about fruit";
  float a = 0, b = 0;
  REQUIRE(ink_rerank(q.m, nullptr, query.data(), query.size(), docs, nullptr, 1, &a, 1) == INK_OK);
  REQUIRE(ink_rerank(q.m, &ip, query.data(), query.size(), docs, nullptr, 1, &b, 1) == INK_OK);
  CHECK(a != b);
  inkling::RerankOptions ro;
  ro.instruction = ip.instruction;
  CHECK(b == doctest::Approx(inkling::Reranker(qwen, ro).score(query, std::vector<std::string>{docs[0]})[0]).epsilon(1e-6));
  ip.instruction = "bad \xff";
  CHECK(ink_rerank(q.m, &ip, query.data(), query.size(), docs, nullptr, 1, &b, 1) == INK_ERR_INVALID_ARGUMENT);
}
