// inkling::Embedder and inkling::Reranker through the public API: pooling variants,
// packing, truncation, bad input, rerank heads (synth-bert and variants of it).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bert_variant.hpp"
#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "kernels/fp16.hpp"
#include "model/gelu_table.hpp"
#include "model/layers.hpp"
#include "shared_data.hpp"

using inkling::Embedder;
using inkling::ErrorCode;
using inkling::Pooling;

namespace {

std::shared_ptr<const inkling::Model> bert() {
  static const auto model = [] {
    auto path = inkling::test::require_shared("models/synth-bert.gguf");
    return path ? inkling::Model::load(*path, {.threads = 2}) : nullptr;
  }();
  return model;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

std::vector<float> slice(const std::vector<float>& v, int row, int dim) {
  return {v.begin() + row * dim, v.begin() + (row + 1) * dim};
}

template <typename F>
void check_error(F&& f, ErrorCode code, const std::string& needle) {
  try {
    f();
    FAIL("no error; expected one mentioning '" << needle << "'");
  } catch (const inkling::Error& e) {
    CHECK(e.code() == code);
    CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

inkling::test::BertVariant variant(std::set<std::string> drop, std::function<void(inkling::GgufWriter&)> add = {}) {
  inkling::test::BertVariant v;
  v.drop_keys = std::move(drop);
  v.add = std::move(add);
  return v;
}

const std::vector<std::string> kTexts = {"Once upon a time", "", "The little dog was very sad because",
                                         "Lily and Tom went to the park. They saw"};

}  // namespace

TEST_CASE("pooling variants agree with the per-token hidden states") {
  auto model = bert();
  if (!model) return;
  const int dim = model->config().n_embd;
  Embedder none(model, {.pooling = Pooling::None, .normalize = false});
  const auto tokens = none.embed(kTexts);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    CAPTURE(i);
    const std::vector<float>& rows = tokens.vectors[i];
    const int n = tokens.tokens[i];
    REQUIRE(rows.size() == static_cast<std::size_t>(n * dim));
    std::vector<float> mean(static_cast<std::size_t>(dim), 0.0f);
    for (int t = 0; t < n; ++t)
      for (int k = 0; k < dim; ++k) mean[static_cast<std::size_t>(k)] += rows[static_cast<std::size_t>(t * dim + k)] / n;
    CHECK(max_diff(Embedder(model, {.pooling = Pooling::Mean, .normalize = false}).embed(kTexts[i]), mean) < 1e-5);
    CHECK(max_diff(Embedder(model, {.pooling = Pooling::Cls, .normalize = false}).embed(kTexts[i]), slice(rows, 0, dim)) < 1e-6);
    CHECK(max_diff(Embedder(model, {.pooling = Pooling::Last, .normalize = false}).embed(kTexts[i]),
                   slice(rows, n - 1, dim)) < 1e-6);
    // Mean and Last differ from CLS: the override is not ignored.
    CHECK(max_diff(mean, slice(rows, 0, dim)) > 1e-3);
  }
  // The default is the model's (CLS), normalised to unit length.
  Embedder def(model);
  CHECK(def.pooling() == Pooling::Cls);
  const auto v = def.embed(kTexts[0]);
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-6));
  auto raw = slice(tokens.vectors[0], 0, dim);
  double raw_norm = 0;
  for (float x : raw) raw_norm += static_cast<double>(x) * x;
  for (float& x : raw) x = static_cast<float>(x / std::sqrt(raw_norm));
  CHECK(max_diff(v, raw) < 1e-6);
  // Pooling::None normalises each token's vector.
  const auto per_token = Embedder(model, {.pooling = Pooling::None}).embed(kTexts[0]);
  for (int t = 0; t < tokens.tokens[0]; ++t) {
    double n2 = 0;
    for (float x : slice(per_token, t, dim)) n2 += static_cast<double>(x) * x;
    CHECK(std::sqrt(n2) == doctest::Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("packed passes give the one-by-one vectors whatever the pass size") {
  auto model = bert();
  if (!model) return;
  std::vector<std::vector<float>> single;
  for (const auto& t : kTexts) single.push_back(Embedder(model).embed(t));
  for (int batch_tokens : {0, 1, 10, 24}) {
    CAPTURE(batch_tokens);
    for (Pooling p : {Pooling::Cls, Pooling::Mean}) {
      Embedder packed(model, {.pooling = p, .batch_tokens = batch_tokens});
      const auto e = packed.embed(kTexts);
      REQUIRE(e.vectors.size() == kTexts.size());
      // Tokens 6 + 2 + 9 + 12, packed in order while they fit (an input alone always does).
      const int passes[] = {1, 4, 3, 2};  // for 0 (the context), 1, 10, 24 tokens
      CHECK(e.passes == passes[batch_tokens == 0 ? 0 : batch_tokens == 1 ? 1 : batch_tokens == 10 ? 2 : 3]);
      for (std::size_t i = 0; i < kTexts.size(); ++i) {
        const auto one = Embedder(model, {.pooling = p}).embed(kTexts[i]);
        CHECK(max_diff(e.vectors[i], one) < 1e-5);
      }
    }
  }
  // Inputs do not see each other: a different neighbour changes nothing.
  const std::vector<std::string> other = {kTexts[0], "completely different words here"};
  CHECK(max_diff(Embedder(model).embed(other).vectors[0], single[0]) < 1e-5);
  check_error([&] { Embedder(model, {.batch_tokens = -1}); }, ErrorCode::InvalidArgument, "batch_tokens");
}

TEST_CASE("inputs longer than the context: an error naming the input, or truncated on request") {
  auto model = bert();
  if (!model) return;
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  const std::vector<std::string> texts = {"short", long_text};
  check_error([&] { Embedder(model).embed(texts); }, ErrorCode::InvalidArgument, "input 1 has 602 tokens");
  Embedder cut(model, {.pooling = Pooling::None, .normalize = false, .truncate = true});
  const auto e = cut.embed(texts);
  CHECK(e.tokens[1] == model->config().n_ctx_train);
  // [SEP] stays last: the cut input equals the first 511 tokens plus [SEP].
  auto ids = model->tokenizer().encode(long_text);
  std::vector<inkling::TokenId> expect(ids.begin(), ids.begin() + 511);
  expect.push_back(ids.back());
  const std::vector<std::vector<inkling::TokenId>> one = {expect};
  CHECK(max_diff(cut.embed_tokens(one).vectors[0], e.vectors[1]) < 1e-5);
}

TEST_CASE("bad input is refused with the input named") {
  auto model = bert();
  if (!model) return;
  Embedder e(model);
  check_error([&] { e.embed(std::vector<std::string>{}); }, ErrorCode::InvalidArgument, "no inputs");
  check_error([&] { e.embed(std::vector<std::string>{"fine", "bad \xff byte"}); }, ErrorCode::InvalidArgument,
              "input 1 is not valid UTF-8 (byte 4)");
  check_error([&] { e.embed(std::vector<std::string>{"\xe2\x82"}); }, ErrorCode::InvalidArgument, "input 0");
  const std::vector<std::vector<inkling::TokenId>> bad_ids = {{101, 40000, 102}};
  check_error([&] { e.embed_tokens(bad_ids); }, ErrorCode::InvalidArgument, "token id 40000");
  const std::vector<std::vector<inkling::TokenId>> no_ids = {{101, 102}, {}};
  check_error([&] { e.embed_tokens(no_ids); }, ErrorCode::InvalidArgument, "input 1 has no tokens");
  // An empty text is [CLS] [SEP], as llama.cpp embeds it.
  CHECK(e.embed(std::vector<std::string>{""}).tokens[0] == 2);
  // An encoder cannot generate.
  check_error([&] { inkling::KVCache cache(*model); }, ErrorCode::Unsupported, "encoder");
  CHECK(inkling::is_embedding_only(*model));
}

TEST_CASE("pooling comes from the GGUF; a model declaring none must be told which") {
  for (int declared : {0, -1}) {  // pooling_type 0 (none), or no key at all
    CAPTURE(declared);
    inkling::test::BertVariant v = variant({"bert.pooling_type"});
    if (declared == 0) v.add = [](inkling::GgufWriter& w) { w.set_u32("bert.pooling_type", 0); };
    auto model = inkling::test::bert_variant(v);
    if (!model) return;
    CHECK_FALSE(inkling::model_pooling(*model).has_value());
    check_error([&] { Embedder{model}; }, ErrorCode::InvalidArgument, "declares no pooling");
    CHECK(Embedder(model, {.pooling = Pooling::Mean}).embed("hi").size() == 64);
    CHECK(Embedder(model, {.pooling = Pooling::None}).embed("hi").size() == 3 * 64);
  }
  auto mean_model = inkling::test::bert_variant(
      variant({"bert.pooling_type"}, [](inkling::GgufWriter& w) { w.set_u32("bert.pooling_type", 1); }));
  CHECK(Embedder(mean_model).pooling() == Pooling::Mean);
  auto bad = inkling::test::bert_variant(
      variant({"bert.pooling_type"}, [](inkling::GgufWriter& w) { w.set_u32("bert.pooling_type", 7); }));
  check_error([&] { Embedder{bad}; }, ErrorCode::Format, "pooling_type");
  CHECK(inkling::parse_pooling("mean") == Pooling::Mean);
  CHECK_FALSE(inkling::parse_pooling("average").has_value());
}

TEST_CASE("BERT reranker: the classification head on [CLS] query [SEP] document [SEP]") {
  auto plain = bert();
  if (!plain) return;
  check_error([&] { inkling::Reranker{plain}; }, ErrorCode::InvalidArgument, "classification head");
  check_error([&] { Embedder(plain, {.pooling = Pooling::Rank}); }, ErrorCode::InvalidArgument, "cls.weight");
  for (bool with_out : {true, false}) {
    CAPTURE(with_out);
    auto model = inkling::test::bert_variant(
        variant({}, [&](inkling::GgufWriter& w) { inkling::test::add_rerank_head(w, 64, with_out); }));
    const int dim = 64;
    const auto& f = model->file();
    const auto* cls = reinterpret_cast<const float*>(f.find_tensor("cls.weight")->data);
    const auto* cls_b = reinterpret_cast<const float*>(f.find_tensor("cls.bias")->data);
    const std::string query = "what did the dog do";
    const std::vector<std::string> docs = {"The little dog was very sad because", "Once upon a time", ""};
    // Token types: 0 for the document too, as llama.cpp (its BERT graph adds type 0 to
    // every token). The two rows differ, so giving the document type 1 (the Hugging Face
    // segment ids) would move the scores away from the type-0 hidden states below.
    const auto* types = f.find_tensor("token_types.weight");
    REQUIRE(types);
    REQUIRE(types->shape[1] == 2);
    const auto* type_rows = reinterpret_cast<const float*>(types->data);
    CHECK(std::memcmp(type_rows, type_rows + dim, sizeof(float) * static_cast<std::size_t>(dim)) != 0);
    inkling::Reranker reranker(model);
    const auto scores = reranker.score(query, docs);
    REQUIRE(scores.size() == docs.size());
    Embedder hidden(model, {.pooling = Pooling::Cls, .normalize = false});
    const auto& tok = model->tokenizer();
    for (std::size_t i = 0; i < docs.size(); ++i) {
      auto ids = tok.encode(query);
      for (auto t : tok.encode(docs[i], false)) ids.push_back(t);
      ids.push_back(tok.special().sep);
      const std::vector<std::vector<inkling::TokenId>> one = {ids};
      const auto h = hidden.embed_tokens(one).vectors[0];
      std::vector<double> z(static_cast<std::size_t>(dim));
      for (int r = 0; r < dim; ++r) {
        double s = cls_b[r];
        for (int k = 0; k < dim; ++k) s += static_cast<double>(cls[r * dim + k]) * h[static_cast<std::size_t>(k)];
        z[static_cast<std::size_t>(r)] = std::tanh(s);
      }
      double expect = z[0];
      if (with_out) {
        const auto* w = reinterpret_cast<const float*>(f.find_tensor("cls.output.weight")->data);
        expect = *reinterpret_cast<const float*>(f.find_tensor("cls.output.bias")->data);
        for (int k = 0; k < dim; ++k) expect += w[k] * z[static_cast<std::size_t>(k)];
      }
      CHECK(scores[i] == doctest::Approx(expect).epsilon(1e-4));
    }
    CHECK(scores[0] != scores[1]);
    // Rank pooling through the Embedder reports the head's outputs.
    CHECK(Embedder(model, {.pooling = Pooling::Rank}).dim() == (with_out ? 1 : 64));
  }
  auto model = inkling::test::bert_variant(variant({}, [](inkling::GgufWriter& w) { inkling::test::add_rerank_head(w, 64, true); }));
  inkling::Reranker r(model);
  check_error([&] { r.score("q", std::vector<std::string>{}); }, ErrorCode::InvalidArgument, "no documents");
  check_error([&] { r.score("q\xff", std::vector<std::string>{"d"}); }, ErrorCode::InvalidArgument, "the query");
  check_error([&] { r.score("q", std::vector<std::string>{"d", "\xc0"}); }, ErrorCode::InvalidArgument, "document 1");
  std::string long_doc;
  for (int i = 0; i < 600; ++i) long_doc += "word ";
  check_error([&] { r.score("q", std::vector<std::string>{long_doc}); }, ErrorCode::InvalidArgument, "document 0");
  inkling::Reranker cut(model, {.truncate = true});
  CHECK(std::isfinite(cut.score("q", std::vector<std::string>{long_doc})[0]));
}

TEST_CASE("the GELU table gives detail::gelu's values bit for bit") {
  const inkling::detail::GeluTable& table = inkling::detail::gelu_table();
  std::vector<float> xs = {-10.0f, -9.999f, -0.0f, 0.0f, 9.999f, 10.0f, 1e30f, -1e30f, 1e-8f, 3.14159f};
  for (std::uint32_t h = 0; h < (1u << 16); ++h) {
    const float x = inkling::kernels::fp16_to_f32(static_cast<std::uint16_t>(h));
    if (!std::isnan(x)) xs.push_back(x);
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-12.0f, 12.0f);
  for (int i = 0; i < 100000; ++i) xs.push_back(d(rng));
  std::vector<float> got = xs;
  table.apply(got.data(), static_cast<std::int64_t>(got.size()));
  int mismatches = 0;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (got[i] != inkling::detail::gelu(xs[i])) ++mismatches;
  CHECK(mismatches == 0);
}
