// What the visualizer page reads from the server beyond OpenAI's protocol, over real HTTP:
// beam search (num_beams, length_penalty, early_stopping: the n best beams as choices and
// every step's candidates in inkling_beams), llama.cpp's grammar / json_schema fields, and
// grammar_alternatives (the model's wishes before the grammar's mask, flagged masked).
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "running_server.hpp"
#include "inkling/inkling.hpp"
#include "shared_data.hpp"

using namespace inkling;
using nlohmann::json;

namespace {

using test::RunningServer;
using test::sse_chunks;

server::ServerOptions visual_options() {
  server::ServerOptions o;
  o.batch.max_sequences = 2;
  o.chat_template = "chatml";
  return o;
}

std::pair<int, std::string> raw(const RunningServer& s, const json& body, const std::string& path = "/v1/completions") {
  auto res = s.post(path, body);
  REQUIRE(res);
  return {res->status, res->body};
}

json post(const RunningServer& s, const json& body, int expect_status = 200, const std::string& path = "/v1/completions") {
  const std::pair<int, std::string> r = raw(s, body, path);  // (INFO cannot capture a structured binding in clang 14)
  INFO(r.second);
  CHECK(r.first == expect_status);
  return json::parse(r.second);
}

// Each candidate's tokens, following its parent through the kept candidates of the
// steps before it.
std::vector<std::vector<std::vector<TokenId>>> candidate_paths(const json& steps) {
  std::vector<std::vector<std::vector<TokenId>>> out;
  std::vector<std::vector<TokenId>> beams{{}};
  for (const json& st : steps) {
    std::vector<std::vector<TokenId>> paths, kept;
    for (const json& c : st["candidates"]) {
      const auto parent = c["parent"].get<std::size_t>();
      REQUIRE(parent < beams.size());
      std::vector<TokenId> p = beams[parent];
      p.push_back(c["token"].get<TokenId>());
      if (c["fate"] == "kept") kept.push_back(p);
      paths.push_back(std::move(p));
    }
    out.push_back(std::move(paths));
    beams = std::move(kept);
  }
  return out;
}

}  // namespace

TEST_CASE("beam search: the n best beams as choices, and every step's candidates with which survived") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, visual_options());
  const json r = post(s, {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"num_beams", 3}, {"n", 3}});
  REQUIRE(r["choices"].size() == 3);
  REQUIRE(r.contains("inkling_beams"));
  const json& b = r["inkling_beams"];
  CHECK(b["num_beams"] == 3);

  // The library's own beam search gives the same sequences and scores.
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.num_beams = 3;
  c.num_return_sequences = 3;
  Generator g(model, c);
  const GenerationResult lib = g.run_tokens(model->tokenizer().encode("Once upon a time", true, true));
  REQUIRE(lib.sequences.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(r["choices"][i]["text"] == lib.sequences[i].text);
    CHECK(b["sequences"][i]["score"].get<double>() == doctest::Approx(lib.sequences[i].score));
    CHECK(b["sequences"][i]["tokens"].get<std::vector<TokenId>>() == lib.sequences[i].tokens);
  }
  for (std::size_t i = 1; i < 3; ++i) CHECK(b["sequences"][i - 1]["score"].get<double>() >= b["sequences"][i]["score"].get<double>());

  // Steps: one per position; at most num_beams kept each; pruned ones shown; a kept
  // candidate's log-probability is its parent's plus one token's (never more).
  const json& steps = b["steps"];
  REQUIRE(steps.size() >= 1);
  CHECK(steps.size() <= 12);
  int pruned = 0;
  std::vector<double> parent_lp{0.0};
  for (const json& st : steps) {
    std::vector<double> kept_lp;
    double prev = INFINITY;
    for (const json& cand : st["candidates"]) {
      const double lp = cand["logprob"].get<double>();
      CHECK(lp <= prev + 1e-9);  // best first
      prev = lp;
      CHECK(lp <= parent_lp.at(cand["parent"].get<std::size_t>()) + 1e-9);
      CHECK(!cand["piece"].get<std::string>().empty());
      if (cand["fate"] == "kept") kept_lp.push_back(lp);
      if (cand["fate"] == "pruned") ++pruned;
      if (cand["fate"] == "finished") CHECK(cand.contains("finish_reason"));
    }
    CHECK(kept_lp.size() <= 3);
    parent_lp = kept_lp.empty() ? parent_lp : kept_lp;
  }
  CHECK(pruned > 0);
  // Every returned beam is the path of a candidate that was not pruned.
  const auto paths = candidate_paths(steps);
  for (const json& seq : b["sequences"]) {
    const auto tokens = seq["tokens"].get<std::vector<TokenId>>();
    bool found = false;
    for (std::size_t st = 0; st < paths.size() && !found; ++st)
      for (std::size_t k = 0; k < paths[st].size() && !found; ++k) {
        const auto& p = paths[st][k];
        found = steps[st]["candidates"][k]["fate"] != "pruned" && p.size() >= tokens.size() &&
                std::equal(tokens.begin(), tokens.end(), p.begin()) && p.size() <= tokens.size() + 1;
      }
    CHECK(found);
  }

  // length_penalty 0: a beam's score is its log-probability; 1 divides by the length.
  const json flat = post(s, {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"num_beams", 3}, {"length_penalty", 0}});
  for (const json& seq : flat["inkling_beams"]["sequences"])
    CHECK(seq["score"].get<double>() == doctest::Approx(seq["logprob"].get<double>()));
  for (const json& seq : b["sequences"])
    CHECK(seq["score"].get<double>() == doctest::Approx(seq["logprob"].get<double>() / seq["length"].get<double>()));
  CHECK(flat["choices"].size() == 1);  // n defaults to 1: the best beam
  const json echoed = post(s, {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"num_beams", 3}, {"echo", true}});
  CHECK(echoed["choices"][0]["text"] == "Once upon a time" + lib.sequences[0].text);

  // Chat too.
  const json chat = post(s, {{"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}, {"max_tokens", 6}, {"num_beams", 2}},
                           200, "/v1/chat/completions");
  CHECK(chat["choices"][0]["message"]["role"] == "assistant");
  CHECK(chat["inkling_beams"]["steps"].size() >= 1);
}

TEST_CASE("beam search: early_stopping, and the fields refused where they cannot work") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, visual_options());
  // A stop string ends beams early (" a" comes soon), so early stopping ends the search
  // there; without it the search goes on while a live beam may still win, which a length
  // penalty of 5 (longer beams score much higher) lets them.
  const json base = {{"prompt", "Once upon a time"}, {"max_tokens", 30}, {"num_beams", 2}, {"stop", json::array({" a"})}};
  json late = base;
  late["early_stopping"] = false;
  late["length_penalty"] = 5;
  json early = late;
  early["early_stopping"] = true;
  const auto n_early = post(s, early)["inkling_beams"]["steps"].size(), n_late = post(s, late)["inkling_beams"]["steps"].size();
  CHECK(n_late > n_early);

  for (const auto& [extra, param] : std::vector<std::pair<json, std::string>>{
           {{{"num_beams", 2}, {"stream", true}}, "stream"},
           {{{"num_beams", 2}, {"logprobs", 2}}, "logprobs"},
           {{{"num_beams", 2}, {"n", 3}}, "n"},
           {{{"num_beams", 0}}, "num_beams"},
           {{{"num_beams", 17}}, "num_beams"},
           {{{"num_beams", 2}, {"early_stopping", 1}}, "early_stopping"},
           {{{"length_penalty", 0.5}}, "length_penalty"},
           {{{"early_stopping", false}}, "early_stopping"}}) {
    json body = {{"prompt", "Once"}, {"max_tokens", 4}};
    body.update(extra);
    CAPTURE(body.dump());
    CHECK(post(s, body, 400)["error"]["param"] == param);
  }
}

TEST_CASE("grammar and json_schema fields constrain the output; grammar_alternatives show what the mask forbade") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, visual_options());
  const Tokenizer& tok = model->tokenizer();
  // The model wants " there" after "Once upon a time"; the grammar only allows "Tom".
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", 8},
                     {"stream", true}, {"grammar", "root ::= \"Tom\""}};
  const auto [status, text] = raw(s, body);
  REQUIRE(status == 200);
  std::string out;
  int masked_seen = 0, steps = 0;
  for (const json& ch : sse_chunks(text)) {
    if (ch["choices"].empty()) continue;
    out += ch["choices"][0]["text"].get<std::string>();
    if (!ch.contains("inkling")) continue;
    const json& step = ch["inkling"];
    ++steps;
    REQUIRE(step.contains("grammar_alternatives"));
    const json& wanted = step["grammar_alternatives"];
    CHECK(wanted.size() == 8);
    double prev = 2;
    for (const json& a : wanted) {
      CHECK(a["prob"].get<double>() <= prev);
      prev = a["prob"].get<double>();
      // At the first step only a piece that starts "Tom" can be allowed.
      const std::string piece = tok.token_to_piece(a["token"].get<TokenId>(), true);
      if (step["index"] == 0) CHECK(a["masked"].get<bool>() == !(!piece.empty() && std::string("Tom").rfind(piece, 0) == 0));
      masked_seen += a["masked"].get<bool>();
    }
    // The lists the sampler reports hold only what the grammar allowed.
    for (const json& a : step["raw_alternatives"]) {
      bool listed_masked = false;
      for (const json& w : wanted) listed_masked |= w["token"] == a["token"] && w["masked"].get<bool>();
      CHECK(!listed_masked);
    }
  }
  CHECK(out == "Tom");
  CHECK(steps >= 1);
  CHECK(masked_seen > 0);
  // The model's own favourite (without the grammar) differs, and is listed as masked.
  json free = body;
  free.erase("grammar");
  const auto chunks = sse_chunks(raw(s, free).second);
  REQUIRE(!chunks.empty());
  CHECK(!chunks[0]["inkling"].contains("grammar_alternatives"));

  // json_schema (llama.cpp's field): the output is JSON of that shape.
  const json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}}}},
                       {"required", {"a"}}, {"additionalProperties", false}};
  const json r = post(s, {{"prompt", "Once"}, {"max_tokens", 20}, {"temperature", 0}, {"json_schema", schema}});
  const std::string js = r["choices"][0]["text"].get<std::string>();
  CHECK(js.rfind("{\"a\":", 0) == 0);
  if (r["choices"][0]["finish_reason"] == "stop") CHECK(json::parse(js)["a"].get<int>() <= 9);

  // Refused: two constraints at once, a grammar that does not parse, the wrong type.
  CHECK(post(s, {{"prompt", "x"}, {"grammar", "root ::= \"a\""}, {"json_schema", schema}}, 400)["error"]["param"] == "json_schema");
  CHECK(post(s, {{"prompt", "x"}, {"grammar", "root ::= \"a\""}, {"response_format", {{"type", "json_object"}}}}, 400)["error"]["param"] ==
        "grammar");
  const json e = post(s, {{"prompt", "x"}, {"grammar", "root ::= (\"a\""}}, 400);
  CHECK(e["error"]["param"] == "grammar");
  CHECK(post(s, {{"prompt", "x"}, {"grammar", 5}}, 400)["error"]["param"] == "grammar");
}
