// /v1/embeddings and /v1/rerank over real HTTP on a loopback port: the OpenAI and
// llama.cpp/Jina shapes, both encodings, every field honoured, bad requests refused.
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bert_variant.hpp"
#include "embeddings.hpp"
#include "running_server.hpp"
#include "inkling/inkling.hpp"
#include "shared_data.hpp"

using namespace inkling;
using nlohmann::json;

namespace {

using test::RunningServer;

std::vector<float> decode_base64(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
  };
  std::string bytes;
  for (std::size_t i = 0; i + 3 < s.size(); i += 4) {
    const int n = (val(s[i]) << 18) | (val(s[i + 1]) << 12) | (s[i + 2] == '=' ? 0 : val(s[i + 2]) << 6) |
                  (s[i + 3] == '=' ? 0 : val(s[i + 3]));
    bytes += static_cast<char>((n >> 16) & 0xFF);
    if (s[i + 2] != '=') bytes += static_cast<char>((n >> 8) & 0xFF);
    if (s[i + 3] != '=') bytes += static_cast<char>(n & 0xFF);
  }
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

}  // namespace

TEST_CASE("/v1/embeddings: OpenAI shape, string or array input, float or base64") {
  auto path = test::require_shared("models/synth-bert.gguf");
  if (!path) return;
  auto model = Model::load(*path, {.threads = 1});
  Embedder ref(model);
  RunningServer s(model);

  auto r = s.post("/v1/embeddings", {{"input", "Once upon a time"}, {"model", s.server->model_id()}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  json j = json::parse(r->body);
  CHECK(j["object"] == "list");
  REQUIRE(j["data"].size() == 1);
  CHECK(j["data"][0]["object"] == "embedding");
  CHECK(j["data"][0]["index"] == 0);
  const auto want = ref.embed("Once upon a time");
  const auto got = j["data"][0]["embedding"].get<std::vector<float>>();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
  CHECK(j["usage"]["prompt_tokens"] == 6);
  CHECK(j["usage"]["total_tokens"] == 6);

  r = s.post("/embeddings", {{"input", {"Once upon a time", "", "The little dog"}}, {"encoding_format", "base64"}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  j = json::parse(r->body);
  REQUIRE(j["data"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(j["data"][i]["index"] == i);
    REQUIRE(j["data"][i]["embedding"].is_string());
    const auto v = decode_base64(j["data"][i]["embedding"].get<std::string>());
    const auto w = ref.embed(std::vector<std::string>{"Once upon a time", "", "The little dog"}).vectors[static_cast<std::size_t>(i)];
    REQUIRE(v.size() == w.size());
    for (std::size_t k = 0; k < v.size(); ++k) CHECK(v[k] == w[k]);  // base64 carries the exact floats
  }
  CHECK(j["usage"]["prompt_tokens"] == 6 + 2 + 5);

  // Token ids in, as OpenAI allows.
  r = s.post("/v1/embeddings", {{"input", {101, 2320, 2588, 1037, 2051, 102}}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["data"][0]["embedding"].get<std::vector<float>>()[0] == doctest::Approx(want[0]).epsilon(1e-6));

  // Bad requests: 400 with an OpenAI error object naming the field; other model: 404.
  const json bad[] = {
      {{"input", json::array()}},
      {{"model", s.server->model_id()}},
      {{"input", 5}},
      {{"input", {"a", 7}}},
      {{"input", "x"}, {"encoding_format", "hex"}},
      {{"input", "bad \xff"}},
      {{"input", {101, 99999}}},
      {{"input", "x"}, {"dimensions", 32}},
      {{"input", {"a", {101, 102}}}},
  };
  for (const json& b : bad) {
    CAPTURE(b.dump(-1, ' ', false, json::error_handler_t::replace));
    std::string body = b.dump(-1, ' ', false, json::error_handler_t::replace);
    if (b.contains("input") && b["input"].is_string() && b["input"].get<std::string>().find('\xff') != std::string::npos)
      body = "{\"input\": \"bad \xff\"}";
    httplib::Client c("127.0.0.1", s.port);
    auto res = c.Post("/v1/embeddings", body, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(json::parse(res->body)["error"]["message"].get<std::string>().size() > 0);
  }
  r = s.post("/v1/embeddings", {{"input", "x"}, {"model", "other"}});
  REQUIRE(r);
  CHECK(r->status == 404);
  // An encoder does not generate: completions answer 501.
  r = s.post("/v1/completions", {{"prompt", "hi"}});
  REQUIRE(r);
  CHECK(r->status == 501);
  // Not a reranker.
  r = s.post("/v1/rerank", {{"query", "q"}, {"documents", {"d"}}});
  REQUIRE(r);
  CHECK(r->status == 400);
}

TEST_CASE("/v1/rerank: results sorted by relevance, top_n and return_documents honoured") {
  test::BertVariant v;
  v.add = [](GgufWriter& w) { test::add_rerank_head(w, 64, true); };
  auto model = test::bert_variant(v);
  if (!model) return;
  RunningServer s(model);
  const std::vector<std::string> docs = {"The little dog was very sad", "Once upon a time", "Lily and Tom went to the park",
                                         ""};
  const auto scores = Reranker(model).score("why was the dog sad", docs);

  auto r = s.post("/v1/rerank", {{"query", "why was the dog sad"}, {"documents", docs}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  json j = json::parse(r->body);
  REQUIRE(j["results"].size() == docs.size());
  float prev = INFINITY;
  for (const json& item : j["results"]) {
    const auto idx = item["index"].get<std::size_t>();
    CHECK(item["relevance_score"].get<float>() == doctest::Approx(scores[idx]).epsilon(1e-6));
    CHECK(item["relevance_score"].get<float>() <= prev);
    prev = item["relevance_score"].get<float>();
    CHECK_FALSE(item.contains("document"));
  }
  r = s.post("/rerank", {{"query", "why was the dog sad"}, {"documents", docs}, {"top_n", 2}, {"return_documents", true}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  j = json::parse(r->body);
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][0]["document"]["text"] == docs[j["results"][0]["index"].get<std::size_t>()]);
  for (const json& b : {json{{"documents", docs}}, json{{"query", "q"}}, json{{"query", "q"}, {"documents", json::array()}},
                        json{{"query", "q"}, {"documents", {1}}}, json{{"query", "q"}, {"documents", docs}, {"top_n", 0}},
                        json{{"query", "q"}, {"documents", docs}, {"return_documents", "yes"}}}) {
    CAPTURE(b.dump());
    r = s.post("/v1/rerank", b);
    REQUIRE(r);
    CHECK(r->status == 400);
  }
}

TEST_CASE("/v1/embeddings: pooling and embd_normalize per request; a model without pooling must be told") {
  // synth-bert without its pooling_type: pooled output needs a pooling from the request.
  test::BertVariant v;
  v.drop_keys = {"bert.pooling_type"};
  auto model = test::bert_variant(v);
  if (!model) return;
  RunningServer s(model);
  auto r = s.post("/v1/embeddings", {{"input", "Once upon a time"}});
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(json::parse(r->body)["error"]["message"].get<std::string>().find("declares no pooling") != std::string::npos);
  CHECK(json::parse(r->body)["error"]["param"] == "model");

  const std::vector<std::string> texts = {"Once upon a time", "The little dog"};
  for (Pooling p : {Pooling::Mean, Pooling::Cls, Pooling::Last}) {
    const std::string name(pooling_name(p));
    CAPTURE(name);
    r = s.post("/v1/embeddings", {{"input", texts}, {"pooling", name}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const json j = json::parse(r->body);
    const Embeddings want = Embedder(model, {.pooling = p}).embed(texts);
    for (std::size_t i = 0; i < texts.size(); ++i)
      CHECK(j["data"][i]["embedding"].get<std::vector<float>>() == want.vectors[i]);
  }
  // embd_normalize as llama.cpp: -1 raw, 0 max-abs x 32760, 1 taxicab, 2 Euclidean (the default), 3 p-norm.
  const std::vector<float> raw = Embedder(model, {.pooling = Pooling::Mean, .normalize = false}).embed(texts[0]);
  auto with_norm = [&](int norm) {
    auto res = s.post("/v1/embeddings", {{"input", texts[0]}, {"pooling", "mean"}, {"embd_normalize", norm}});
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return json::parse(res->body)["data"][0]["embedding"].get<std::vector<float>>();
  };
  auto p_norm = [&](const std::vector<float>& x, double p) {
    double sum = 0;
    for (float f : x) sum += std::pow(std::fabs(f), p);
    return std::pow(sum, 1 / p);
  };
  const auto none = with_norm(-1), maxabs = with_norm(0), taxi = with_norm(1), l2 = with_norm(2), l3 = with_norm(3);
  REQUIRE(none.size() == raw.size());
  double peak = 0;
  for (float f : raw) peak = std::max(peak, static_cast<double>(std::fabs(f)));
  for (std::size_t k = 0; k < raw.size(); ++k) {
    CHECK(none[k] == doctest::Approx(raw[k]).epsilon(1e-6));
    CHECK(maxabs[k] == doctest::Approx(raw[k] * 32760.0 / peak).epsilon(1e-5));
    CHECK(taxi[k] == doctest::Approx(raw[k] / p_norm(raw, 1)).epsilon(1e-5));
    CHECK(l2[k] == doctest::Approx(raw[k] / p_norm(raw, 2)).epsilon(1e-5));
    CHECK(l3[k] == doctest::Approx(raw[k] / p_norm(raw, 3)).epsilon(1e-5));
  }
  for (const json& b : {json{{"input", "x"}, {"pooling", "none"}}, json{{"input", "x"}, {"pooling", "rank"}},
                        json{{"input", "x"}, {"pooling", "average"}}, json{{"input", "x"}, {"pooling", 1}},
                        json{{"input", "x"}, {"pooling", "mean"}, {"embd_normalize", -2}},
                        json{{"input", "x"}, {"pooling", "mean"}, {"embd_normalize", "l2"}}}) {
    CAPTURE(b.dump());
    r = s.post("/v1/embeddings", b);
    REQUIRE(r);
    CHECK(r->status == 400);
    const std::string param = json::parse(r->body)["error"]["param"].get<std::string>();
    CHECK((param == "pooling" || param == "embd_normalize"));
  }
}

TEST_CASE("base64_floats is little-endian float32 in standard base64") {
  CHECK(server::base64_floats({1.0f}) == "AACAPw==");
  CHECK(server::base64_floats({1.0f, -2.0f}) == "AACAPwAAAMA=");
  CHECK(server::base64_floats({}) == "");
}
