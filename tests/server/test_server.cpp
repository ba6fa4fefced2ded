// `inkling serve` over real HTTP on a loopback port: every endpoint, streamed and not,
// logprobs, stop strings, chat, bad requests, a client that disconnects mid-stream, and
// several clients at once (each bounded in time).
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "running_server.hpp"
#include "inkling/inkling.hpp"
#include "inkling/scoring.hpp"
#include "shared_data.hpp"

using namespace inkling;
using nlohmann::json;

namespace {

using test::RunningServer;
const auto load = test::load_shared_model;

server::ServerOptions options(int parallel = 4) {
  server::ServerOptions o;
  o.batch.max_sequences = parallel;
  o.chat_template = "chatml";
  return o;
}

struct Sse {
  std::vector<json> chunks;
  bool done = false;  // saw data: [DONE]
};

Sse parse_sse(const std::string& body) {
  Sse s;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);  // every event is terminated
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(event.rfind("data: ", 0) == 0);
    const std::string data = event.substr(6);
    if (data == "[DONE]") {
      CHECK(pos == body.size());  // nothing after [DONE]
      s.done = true;
    } else {
      s.chunks.push_back(json::parse(data));
    }
  }
  return s;
}

json post(const RunningServer& srv, const std::string& path, const json& body, int expect_status = 200) {
  auto c = srv.client();
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  REQUIRE(res);
  CHECK(res->status == expect_status);
  return json::parse(res->body);
}

std::string greedy_alone(const std::shared_ptr<const Model>& model, const std::string& prompt, int n) {
  GenerationConfig c;
  c.max_new_tokens = n;
  c.sampling.temperature = 0;
  Generator g(model, c);
  return g.run_tokens(model->tokenizer().encode(prompt, true, true)).text;
}

}  // namespace

TEST_CASE("health, models and the page") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  auto c = srv.client();
  auto h = c.Get("/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(json::parse(h->body)["status"] == "ok");
  auto m = c.Get("/v1/models");
  REQUIRE(m);
  const json models = json::parse(m->body);
  CHECK(models["object"] == "list");
  REQUIRE(models["data"].size() == 1);
  CHECK(models["data"][0]["id"] == srv.server->model_id());
  CHECK(models["data"][0]["owned_by"] == "inkling");
  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type").find("text/html") == 0);
  CHECK(page->body.find("<html") != std::string::npos);
  // Nothing is fetched from elsewhere (no CDN): no external scripts, styles or fetches.
  for (const char* external : {"src=\"http", "href=\"http", "src='http", "href='http", "fetch('http", "fetch(\"http", "@import"})
    CHECK(page->body.find(external) == std::string::npos);
  auto missing = c.Get("/v1/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body)["error"]["message"].is_string());
}

TEST_CASE("completions, streamed and not, equal the library's greedy output") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  const std::string expect = greedy_alone(model, "Once upon a time", 40);
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0}};
  const json full = post(srv, "/v1/completions", body);
  CHECK(full["object"] == "text_completion");
  CHECK(full["choices"][0]["text"] == expect);
  CHECK(full["choices"][0]["finish_reason"] == "length");
  CHECK(full["usage"]["completion_tokens"] == 40);
  CHECK(full["usage"]["prompt_tokens"].get<int>() > 0);
  CHECK(full["choices"][0]["logprobs"].is_null());

  json sbody = body;
  sbody["stream"] = true;
  auto c = srv.client();
  auto res = c.Post("/v1/completions", sbody.dump(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type").find("text/event-stream") == 0);
  const Sse sse = parse_sse(res->body);
  CHECK(sse.done);
  REQUIRE(sse.chunks.size() == 41);  // one per token + the final chunk
  std::string text;
  for (const auto& ch : sse.chunks) text += ch["choices"][0]["text"].get<std::string>();
  CHECK(text == expect);
  CHECK(sse.chunks.front()["choices"][0]["finish_reason"].is_null());
  CHECK(sse.chunks.front()["inkling"]["prob"].get<double>() > 0);
  const json& last = sse.chunks.back();
  CHECK(last["choices"][0]["finish_reason"] == "length");
  CHECK(last["usage"]["completion_tokens"] == 40);
  CHECK(last["inkling_metrics"]["ttft_ms"].get<double>() > 0);
  CHECK(last["inkling_metrics"]["gen_tps"].get<double>() > 0);
}

TEST_CASE("logprobs, top_logprobs and stop strings") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  const json r = post(srv, "/v1/completions",
                      {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"logprobs", 3}});
  const json& lp = r["choices"][0]["logprobs"];
  REQUIRE(lp["tokens"].size() == 12);
  CHECK(lp["token_logprobs"].size() == 12);
  CHECK(lp["top_logprobs"].size() == 12);
  CHECK(lp["text_offset"][0] == 0);
  std::string joined;
  for (std::size_t i = 0; i < 12; ++i) {
    CHECK(lp["top_logprobs"][i].size() == 3);
    const double chosen = lp["token_logprobs"][i].get<double>();
    CHECK(chosen <= 0);
    // Greedy: the chosen token is the most likely one.
    double best = -1e30;
    for (auto& [k, v] : lp["top_logprobs"][i].items()) best = std::max(best, v.get<double>());
    CHECK(chosen == doctest::Approx(best));
    joined += lp["tokens"][i].get<std::string>();
  }
  CHECK(joined == r["choices"][0]["text"].get<std::string>());

  const std::string free_text = r["choices"][0]["text"];
  const std::string stop = free_text.substr(8, 5);
  const json s = post(srv, "/v1/completions",
                      {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"stop", stop}});
  CHECK(s["choices"][0]["text"] == free_text.substr(0, free_text.find(stop)));
  CHECK(s["choices"][0]["finish_reason"] == "stop");
  const json s2 = post(srv, "/v1/completions",
                       {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"stop", {"zzz", stop}}});
  CHECK(s2["choices"][0]["text"] == s["choices"][0]["text"]);
  // Seeded sampling is reproducible.
  const json a = post(srv, "/v1/completions", {{"prompt", "The dog"}, {"max_tokens", 20}, {"seed", 7}, {"temperature", 1.2}});
  const json b = post(srv, "/v1/completions", {{"prompt", "The dog"}, {"max_tokens", 20}, {"seed", 7}, {"temperature", 1.2}});
  CHECK(a["choices"][0]["text"] == b["choices"][0]["text"]);
}

TEST_CASE("chat completions, streamed and not") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  const json msgs = json::array({{{"role", "system"}, {"content", "You tell stories."}},
                                 {{"role", "user"}, {"content", "Tell me about a cat."}}});
  const json r = post(srv, "/v1/chat/completions",
                      {{"messages", msgs}, {"max_tokens", 10}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 2}});
  CHECK(r["object"] == "chat.completion");
  CHECK(r["choices"][0]["message"]["role"] == "assistant");
  CHECK(r["choices"][0]["message"]["content"].is_string());
  const json& content = r["choices"][0]["logprobs"]["content"];
  CHECK(content.size() == r["usage"]["completion_tokens"].get<std::size_t>());
  if (!content.empty()) {
    CHECK(content[0]["top_logprobs"].size() == 2);
    CHECK(content[0]["bytes"].is_array());
  }

  auto c = srv.client();
  json sbody = {{"messages", msgs}, {"max_tokens", 10}, {"temperature", 0}, {"stream", true}};
  auto res = c.Post("/v1/chat/completions", sbody.dump(), "application/json");
  REQUIRE(res);
  const Sse sse = parse_sse(res->body);
  CHECK(sse.done);
  REQUIRE(sse.chunks.size() >= 2);
  CHECK(sse.chunks[0]["object"] == "chat.completion.chunk");
  CHECK(sse.chunks[0]["choices"][0]["delta"]["role"] == "assistant");
  std::string text;
  for (const auto& ch : sse.chunks)
    if (ch["choices"][0]["delta"].contains("content")) text += ch["choices"][0]["delta"]["content"].get<std::string>();
  CHECK(text == r["choices"][0]["message"]["content"].get<std::string>());
  CHECK(!sse.chunks.back()["choices"][0]["finish_reason"].is_null());
}

TEST_CASE("bad requests get a 4xx with an OpenAI error object") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.batch.n_ctx = 64;
  RunningServer srv(model, o);
  auto c = srv.client();
  auto expect_error = [&](const std::string& path, const std::string& body, int status, const std::string& param) {
    CAPTURE(body);
    auto res = c.Post(path.c_str(), body, "application/json");
    REQUIRE(res);
    CHECK(res->status == status);
    const json e = json::parse(res->body);
    REQUIRE(e.contains("error"));
    CHECK(e["error"]["message"].get<std::string>().size() > 5);
    CHECK(e["error"]["type"].is_string());
    if (!param.empty()) CHECK(e["error"]["param"] == param);
  };
  expect_error("/v1/completions", "{not json", 400, "");
  expect_error("/v1/completions", "[1,2]", 400, "");
  expect_error("/v1/completions", R"({"max_tokens": 5})", 400, "prompt");
  expect_error("/v1/completions", R"({"prompt": "hi", "temperature": "hot"})", 400, "temperature");
  expect_error("/v1/completions", R"({"prompt": "hi", "temperature": 7})", 400, "temperature");
  expect_error("/v1/completions", R"({"prompt": "hi", "max_tokens": -1})", 400, "max_tokens");
  expect_error("/v1/completions", R"({"prompt": "hi", "max_tokens": 2.5})", 400, "max_tokens");
  expect_error("/v1/completions", R"({"prompt": "hi", "top_p": 0})", 400, "top_p");
  expect_error("/v1/completions", R"({"prompt": "hi", "stop": [""]})", 400, "stop");
  expect_error("/v1/completions", R"({"prompt": "hi", "stop": 5})", 400, "stop");
  expect_error("/v1/completions", R"({"prompt": "hi", "n": 9})", 400, "n");
  expect_error("/v1/completions", R"({"prompt": "hi", "n": 0})", 400, "n");
  expect_error("/v1/completions", R"({"prompt": "hi", "logprobs": 50})", 400, "logprobs");
  expect_error("/v1/completions", R"({"prompt": "hi", "logit_bias": {"abc": 1}})", 400, "logit_bias");
  expect_error("/v1/completions", R"({"prompt": "hi", "echo": true, "stream": true})", 400, "echo");
  expect_error("/v1/completions", R"({"prompt": [1, 99999]})", 400, "prompt");
  expect_error("/v1/completions", R"({"prompt": "hi", "model": "gpt-4"})", 404, "model");
  std::string long_prompt;
  for (int i = 0; i < 80; ++i) long_prompt += " the dog";
  auto res = c.Post("/v1/completions", json{{"prompt", long_prompt}}.dump(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(json::parse(res->body)["error"]["code"] == "context_length_exceeded");
  expect_error("/v1/chat/completions", R"({"messages": []})", 400, "messages");
  expect_error("/v1/chat/completions", R"({"messages": [{"content": "hi"}]})", 400, "messages");
  expect_error("/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "hi"}]})", 400, "messages");
  // The server is still fine.
  CHECK(post(srv, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}})["usage"]["completion_tokens"] == 3);
}

TEST_CASE("chat is refused clearly for a model without a template; an API key is enforced") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o;
  o.api_key = "s3cret";
  RunningServer srv(model, o);
  auto c = srv.client();
  auto unauth = c.Post("/v1/completions", R"({"prompt": "hi"})", "application/json");
  REQUIRE(unauth);
  CHECK(unauth->status == 401);
  for (const char* path : {"/tokenize", "/detokenize"}) {  // the tokens endpoints show the model too
    auto refused = c.Post(path, R"({"content": "hi", "tokens": [1]})", "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 401);
  }
  c.set_bearer_token_auth("s3cret");
  auto ok = c.Post("/v1/completions", R"({"prompt": "hi", "max_tokens": 2})", "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  auto tokens = c.Post("/tokenize", R"({"content": "hi"})", "application/json");
  REQUIRE(tokens);
  CHECK(tokens->status == 200);
  auto chat = c.Post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}]})", "application/json");
  REQUIRE(chat);
  CHECK(chat->status == 400);
  CHECK(json::parse(chat->body)["error"]["message"].get<std::string>().find("chat template") != std::string::npos);
}

TEST_CASE("a client that disconnects mid-stream cancels its generation") {
  auto model = load("models/synth15M-q8_0.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  auto c = srv.client();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Hello"}, {"max_tokens", 120}, {"ignore_eos", true}, {"stream", true}}.dump();
  req.set_header("Content-Type", "application/json");
  int chunks = 0;
  req.content_receiver = [&](const char*, std::size_t, std::uint64_t, std::uint64_t) {
    return ++chunks < 2;  // read a little, then hang up
  };
  c.send(req);
  CHECK(chunks >= 1);
  // The server notices at its next write and cancels (bounded wait).
  bool cancelled = false;
  for (int i = 0; i < 100 && !cancelled; ++i) {
    auto h = srv.client().Get("/health");
    REQUIRE(h);
    const json j = json::parse(h->body);
    cancelled = j["cancelled"].get<int>() == 1 && j["running"].get<int>() == 0;
    if (!cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!cancelled) MESSAGE(srv.client().Get("/health")->body);
  CHECK(cancelled);
  // And keeps serving.
  CHECK(post(srv, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 2}})["usage"]["completion_tokens"] == 2);
}

TEST_CASE("several clients at once are decoded together and each gets its own answer") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options(3));
  const std::vector<std::string> prompts = {"Once upon a time", "The little dog", "Lily and Tom", "One day",
                                            "The sun was", "A big red ball"};
  std::vector<std::future<std::string>> answers;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < prompts.size(); ++i)
    answers.push_back(std::async(std::launch::async, [&, i] {
      auto c = srv.client();
      json body = {{"prompt", prompts[i]}, {"max_tokens", 30}, {"temperature", 0}, {"stream", i % 2 == 0}};
      auto res = c.Post("/v1/completions", body.dump(), "application/json");
      if (!res || res->status != 200) return std::string("<failed>");
      if (i % 2 == 1) return json::parse(res->body)["choices"][0]["text"].get<std::string>();
      std::string text;
      for (const auto& ch : parse_sse(res->body).chunks) text += ch["choices"][0]["text"].get<std::string>();
      return text;
    }));
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(i);
    REQUIRE(answers[i].wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    CHECK(answers[i].get() == greedy_alone(model, prompts[i], 30));
  }
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
}

TEST_CASE("an F16 KV cache (inkling serve's default) serves requests") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options(2);
  o.batch.kv_type = DType::F16;
  RunningServer srv(model, o);
  const json r = post(srv, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 16}, {"temperature", 0}});
  CHECK(r["usage"]["completion_tokens"] == 16);
  CHECK(r["choices"][0]["text"].get<std::string>().size() > 10);
}

TEST_CASE("n choices: independent generations, streamed and not") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options(4));
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 20}, {"temperature", 1.0}, {"seed", 5}, {"n", 3}};
  const json full = post(srv, "/v1/completions", body);
  REQUIRE(full["choices"].size() == 3);
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) {
    CHECK(full["choices"][i]["index"] == i);
    texts.push_back(full["choices"][i]["text"]);
  }
  CHECK((texts[0] != texts[1] || texts[1] != texts[2]));  // different seeds
  CHECK(full["usage"]["completion_tokens"] == 60);
  // Choice i is the single request with seed 5 + i.
  json single = body;
  single["n"] = 1;
  single["seed"] = 6;
  CHECK(post(srv, "/v1/completions", single)["choices"][0]["text"] == texts[1]);

  json sbody = body;
  sbody["stream"] = true;
  auto c = srv.client();
  auto res = c.Post("/v1/completions", sbody.dump(), "application/json");
  REQUIRE(res);
  const Sse sse = parse_sse(res->body);
  CHECK(sse.done);
  std::vector<std::string> streamed(3);
  int finishes = 0;
  for (const auto& ch : sse.chunks) {
    if (ch["choices"].empty()) {  // the closing usage chunk
      CHECK(ch["usage"]["completion_tokens"] == 60);
      continue;
    }
    const int i = ch["choices"][0]["index"];
    streamed[static_cast<std::size_t>(i)] += ch["choices"][0]["text"].get<std::string>();
    finishes += !ch["choices"][0]["finish_reason"].is_null();
  }
  CHECK(finishes == 3);
  CHECK(streamed == texts);
  CHECK(sse.chunks.back()["choices"].empty());
}

TEST_CASE("/tokenize and /detokenize: the prompt as the model sees it, and back") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  const Tokenizer& tok = model->tokenizer();
  const std::string text = "Once upon a time";
  // add_special as the request says (llama.cpp's default: no BOS)
  const json plain = post(srv, "/tokenize", {{"content", text}});
  CHECK(plain["tokens"] == json(tok.encode(text, false, true)));
  const json with_bos = post(srv, "/tokenize", {{"content", text}, {"add_special", true}});
  CHECK(with_bos["tokens"] == json(tok.encode(text, true, true)));
  CHECK(with_bos["tokens"].size() == plain["tokens"].size() + 1);
  // with_pieces: each token with its text; joined they are the text
  const json pieces = post(srv, "/tokenize", {{"content", text}, {"with_pieces", true}});
  REQUIRE(pieces["tokens"].size() == plain["tokens"].size());
  std::string joined;
  for (std::size_t i = 0; i < pieces["tokens"].size(); ++i) {
    CHECK(pieces["tokens"][i]["id"] == plain["tokens"][i]);
    joined += pieces["tokens"][i]["piece"].get<std::string>();
  }
  CHECK(joined.find(text) != std::string::npos);
  // a character split into byte tokens: each piece is its bytes, not invalid text
  const json bytes = post(srv, "/tokenize", {{"content", "\xe6\x97\xa5"}, {"with_pieces", true}});
  bool saw_bytes = false;
  for (const auto& t : bytes["tokens"])
    if (t["piece"].is_array()) saw_bytes = true;
  CHECK(saw_bytes);
  // parse_special: "<s>" written in the text is the BOS id only when asked
  const auto bos = tok.special().bos;
  CHECK(post(srv, "/tokenize", {{"content", "<s>"}})["tokens"] == json::array({bos}));
  CHECK(post(srv, "/tokenize", {{"content", "<s>"}, {"parse_special", false}})["tokens"].size() > 1);
  // back: the pieces joined
  CHECK(post(srv, "/detokenize", {{"tokens", plain["tokens"]}})["content"] == joined);
  CHECK(post(srv, "/detokenize", {{"tokens", json::array()}})["content"] == "");
  // bad requests name the field
  CHECK(post(srv, "/tokenize", {{"text", text}}, 400)["error"]["param"] == "content");
  CHECK(post(srv, "/tokenize", {{"content", 5}}, 400)["error"]["param"] == "content");
  CHECK(post(srv, "/tokenize", {{"content", text}, {"with_pieces", "yes"}}, 400)["error"]["param"] == "with_pieces");
  CHECK(post(srv, "/detokenize", {{"tokens", {1, 100000}}}, 400)["error"]["param"] == "tokens");
  CHECK(post(srv, "/detokenize", {{"tokens", {1, -1}}}, 400)["error"]["param"] == "tokens");
  CHECK(post(srv, "/detokenize", {{"tokens", "1 2"}}, 400)["error"]["param"] == "tokens");
  auto c = srv.client();
  auto res = c.Post("/tokenize", "{not json", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
}

TEST_CASE("each step carries the logits behind its probabilities") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  auto c = srv.client();
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0.5}, {"seed", 3}, {"stream", true}, {"logprobs", 5}};
  auto res = c.Post("/v1/completions", body.dump(), "application/json");
  REQUIRE(res);
  const Sse sse = parse_sse(res->body);
  REQUIRE(sse.chunks.size() == 7);
  for (std::size_t i = 0; i + 1 < sse.chunks.size(); ++i) {
    const json& s = sse.chunks[i]["inkling"];
    const json& raw = s["raw_alternatives"];
    REQUIRE(raw.size() >= 2);
    // log-softmax: logit - logprob is the same constant (the log-sum-exp) for a distribution
    const double lse = raw[0]["logit"].get<double>() - raw[0]["logprob"].get<double>();
    for (const auto& a : raw) CHECK(a["logit"].get<double>() - a["logprob"].get<double>() == doctest::Approx(lse).epsilon(1e-4));
    CHECK(s["raw_logit"].get<double>() - s["raw_logprob"].get<double>() == doctest::Approx(lse).epsilon(1e-4));
    CHECK(raw[0]["logit"].get<double>() > raw[1]["logit"].get<double>() - 1e-6);
    // temperature 0.5 doubles the logits of the final distribution
    for (const auto& a : s["alternatives"])
      for (const auto& r : raw)
        if (r["token"] == a["token"]) CHECK(a["logit"].get<double>() == doctest::Approx(2 * r["logit"].get<double>()));
    CHECK(s["logit"].get<double>() == doctest::Approx(2 * s["raw_logit"].get<double>()));
  }
}

TEST_CASE("several models: each its own engine, chosen by \"model\"") {
  auto a = load("models/stories260K-f32.gguf");
  auto b = load("models/stories260K-pad192-q4_0.gguf");
  if (!a || !b) return;
  server::ServerOptions o = options();
  o.port = 0;
  std::vector<server::ServedModel> models = {{a, "big", 0}, {b, "small", 64}};
  auto srv_ptr = std::make_unique<server::HttpServer>(models, o);
  CHECK(srv_ptr->model_ids() == std::vector<std::string>{"big", "small"});
  CHECK(srv_ptr->model_id() == "big");
  srv_ptr.reset();
  RunningServer srv(models, o);
  auto c = srv.client();
  auto m = c.Get("/v1/models");
  REQUIRE(m);
  const json list = json::parse(m->body)["data"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == "big");
  CHECK(list[1]["id"] == "small");
  CHECK(list[1]["meta"]["n_ctx"] == 64);  // the per-model context
  CHECK(json::parse(c.Get("/health")->body)["models"] == json::array({"big", "small"}));
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 30}, {"temperature", 0}};
  json pick = body;
  CHECK(post(srv, "/v1/completions", body)["choices"][0]["text"] == greedy_alone(a, "Once upon a time", 30));
  pick["model"] = "small";
  const json small = post(srv, "/v1/completions", pick);
  CHECK(small["model"] == "small");
  CHECK(small["choices"][0]["text"] == greedy_alone(b, "Once upon a time", 30));
  pick["model"] = "big";
  CHECK(post(srv, "/v1/completions", pick)["choices"][0]["text"] == greedy_alone(a, "Once upon a time", 30));
  CHECK(greedy_alone(a, "Once upon a time", 30) != greedy_alone(b, "Once upon a time", 30));  // the test can tell
  pick["model"] = "medium";
  const json missing = post(srv, "/v1/completions", pick, 404);
  CHECK(missing["error"]["code"] == "model_not_found");
  CHECK(missing["error"]["message"].get<std::string>().find("'big', 'small'") != std::string::npos);
  CHECK(post(srv, "/tokenize", {{"content", "hi"}, {"model", "medium"}}, 404)["error"]["param"] == "model");
  CHECK(post(srv, "/tokenize", {{"content", "hi"}, {"model", "small"}})["tokens"].size() > 0);
  // the prompt must fit the chosen model's own context
  json long_prompt = {{"prompt", std::string(400, 'a')}, {"max_tokens", 1}, {"model", "small"}};
  CHECK(post(srv, "/v1/completions", long_prompt, 400)["error"]["code"] == "context_length_exceeded");
  // two models under one name are refused
  std::vector<server::ServedModel> twice = {{a, "same", 0}, {b, "same", 0}};
  CHECK_THROWS_AS(server::HttpServer(twice, o), Error);
}

TEST_CASE("llama.cpp's sampler fields change the text; the seed used is reported") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  auto text = [&](json body) {
    body["prompt"] = body.value("prompt", "Once upon a time");
    body["max_tokens"] = 40;
    const json r = post(srv, "/v1/completions", body);
    return r["choices"][0]["text"].get<std::string>();
  };
  // An unseeded request reports the seed it drew; that seed reproduces the text.
  const json drawn = post(srv, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 40}});
  REQUIRE(drawn.contains("seed"));
  const auto seed = drawn["seed"].get<std::uint64_t>();
  const json again = post(srv, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"seed", seed}});
  CHECK(again["seed"].get<std::uint64_t>() == seed);
  CHECK(again["choices"][0]["text"] == drawn["choices"][0]["text"]);
  CHECK(post(srv, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 2}, {"seed", -1}})["seed"].get<std::uint64_t>() !=
        std::uint64_t(-1));

  const json base = {{"seed", 7}, {"temperature", 1.0}};
  const std::string plain = text(base);
  for (const json& extra : {json{{"mirostat", 2}, {"mirostat_tau", 1.0}}, json{{"mirostat", 1}, {"mirostat_tau", 1.0}},
                            json{{"xtc_probability", 1.0}, {"xtc_threshold", 0.05}}, json{{"top_n_sigma", 0.3}}}) {
    CAPTURE(extra.dump());
    json body = base;
    body.update(extra);
    CHECK(text(body) != plain);
  }
  // top_k 1 with the default order is greedy; the same order given as a string too.
  json ordered = base;
  ordered["top_k"] = 1;
  const std::string greedy = text(ordered);
  ordered["samplers"] = "top_k;temperature";
  CHECK(text(ordered) == greedy);
  ordered["samplers"] = json::array({"temperature"});  // top_k left out: sampling again
  CHECK(text(ordered) != greedy);
  // DRY under greedy decoding steers away from repeating "in the park".
  const json rep = {{"prompt", "Lily and Tom went to the park. Lily and Tom"}, {"temperature", 0}};
  json dry = rep;
  dry.update({{"dry_multiplier", 2.0}, {"dry_base", 1.75}, {"dry_allowed_length", 2}, {"dry_penalty_last_n", -1},
              {"dry_sequence_breakers", json::array({"\n"})}});
  CHECK(text(dry) != text(rep));

  auto c = srv.client();
  for (const auto& bad : std::vector<std::pair<std::string, std::string>>{
           {R"({"prompt": "hi", "mirostat": 3})", "mirostat"},
           {R"({"prompt": "hi", "dry_base": 0.5})", "dry_base"},
           {R"({"prompt": "hi", "dry_sequence_breakers": [""]})", "dry_sequence_breakers"},
           {R"({"prompt": "hi", "xtc_probability": 2})", "xtc_probability"},
           {R"({"prompt": "hi", "samplers": ["top_k", "banana"]})", "samplers"},
           {R"({"prompt": "hi", "samplers": 5})", "samplers"}}) {
    const std::string& body = bad.first;  // CAPTURE's lambda cannot take a binding (clang 14)
    const std::string& param = bad.second;
    CAPTURE(body);
    auto res = c.Post("/v1/completions", body, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(json::parse(res->body)["error"]["param"] == param);
  }
}

TEST_CASE("context_shift lets a request go on past a full context") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.batch.n_ctx = 32;
  RunningServer srv(model, o);
  json body = {{"prompt", "Once upon a time"}, {"max_tokens", 60}, {"temperature", 0}, {"ignore_eos", true}};
  const json stopped = post(srv, "/v1/completions", body);
  CHECK(stopped["usage"]["completion_tokens"].get<int>() < 32);
  body["context_shift"] = true;
  const json shifted = post(srv, "/v1/completions", body);
  CHECK(shifted["usage"]["completion_tokens"] == 60);
  CHECK(shifted["choices"][0]["finish_reason"] == "length");
  body["n_keep"] = -2;
  post(srv, "/v1/completions", body, 400);
}

TEST_CASE("echo with logprobs: the prompt's text and each prompt token's logprob (the first null)") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  const std::string prompt = "Once upon a time";
  const json r = post(srv, "/v1/completions",
                      {{"prompt", prompt}, {"max_tokens", 4}, {"temperature", 0}, {"echo", true}, {"logprobs", 2}});
  const json& ch = r["choices"][0];
  const std::string text = ch["text"].get<std::string>();
  CHECK(text.rfind(prompt, 0) == 0);
  CHECK(text.size() > prompt.size());
  const auto ids = model->tokenizer().encode(prompt, true, true);
  const json& lp = ch["logprobs"];
  REQUIRE(lp["tokens"].size() == ids.size() + 4);
  CHECK(lp["token_logprobs"][0].is_null());
  CHECK(lp["top_logprobs"][0].is_null());
  const auto scores = score_tokens(*model, ids, 2);
  for (std::size_t i = 1; i < ids.size(); ++i) {
    CHECK(lp["token_logprobs"][i].get<double>() == doctest::Approx(scores[i - 1].logprob).epsilon(1e-4));
    CHECK(lp["top_logprobs"][i].size() == 2);
  }
  // Offsets index the echoed text; the generated tokens follow the prompt's.
  CHECK(lp["text_offset"][ids.size()].get<std::size_t>() == prompt.size());
  // Without echo: only the generated tokens.
  const json plain = post(srv, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 4}, {"temperature", 0}, {"logprobs", 2}});
  CHECK(plain["choices"][0]["logprobs"]["tokens"].size() == 4);
  CHECK(plain["choices"][0]["text"].get<std::string>() == text.substr(prompt.size()));
}
