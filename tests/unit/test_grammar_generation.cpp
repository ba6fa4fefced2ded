// Constrained generation on real models: every seed's output is a sentence of the
// grammar (sampling, greedy, beam search, speculation, BatchGenerator), JSON Schema
// output parses, and a grammar that cannot finish in time says so in its stop reason.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "inkling/batch_generator.hpp"
#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "inkling/json_schema.hpp"
#include "json_lite.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

bool complete(const Grammar& g, const std::string& text) {
  GrammarMatcher m(g);
  return m.accept(text) && m.can_end();
}

const char* kStoryGrammar = R"(root ::= "Once" (" " word){3,6} "." | "The end."
word ::= [a-z]{1,8})";

GenerationConfig sampled(std::uint64_t seed, int max_tokens) {
  GenerationConfig c;
  c.max_new_tokens = max_tokens;
  c.n_ctx = 128;  // the model's training context
  c.sampling.seed = seed;
  c.sampling.temperature = 1.0f;
  return c;
}

std::shared_ptr<const Model> qwen2_synth() {
  static std::shared_ptr<const Model> m;
  if (!m) {
    auto path = test::require_shared("models/synth-qwen2.gguf");
    if (path) m = Model::load(*path, {.threads = 1});
  }
  return m;
}

}  // namespace

TEST_CASE("grammar generation: every seed gives a sentence of the grammar") {
  auto model = test::stories_model();
  if (!model) return;
  const Grammar g = Grammar::parse(kStoryGrammar);
  int ended = 0;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    GenerationConfig c = sampled(seed, 60);
    c.grammar = g;
    Generator gen(model, c);
    std::string streamed;
    const auto r = gen.run("Once upon a time", [&](const StepInfo& s) {
      streamed += s.text;
      return true;
    });
    INFO("seed " << seed << ": " << r.text);
    CHECK(streamed == r.text);
    if (r.stop_reason == StopReason::EndOfSequence) {
      ++ended;
      CHECK(complete(g, r.text));
    } else {
      CHECK(r.stop_reason == StopReason::GrammarIncomplete);
      GrammarMatcher m(g);
      CHECK(m.accept(r.text));  // a valid prefix
    }
  }
  CHECK(ended > 20);
  // Without the grammar the same seeds write free text: the knob is what constrains it.
  int free_complete = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    Generator gen(model, sampled(seed, 60));
    free_complete += complete(g, gen.run("Once upon a time").text);
  }
  CHECK(free_complete == 0);
}

TEST_CASE("grammar generation: a grammar that cannot end in time stops as incomplete") {
  auto model = test::stories_model();
  if (!model) return;
  GenerationConfig c = sampled(1, 4);
  c.grammar = Grammar::parse("root ::= [a-z ]{40}");
  Generator gen(model, c);
  const auto r = gen.run("Once upon a time");
  CHECK(r.stop_reason == StopReason::GrammarIncomplete);
  CHECK(stop_reason_name(r.stop_reason) == "grammar_incomplete");
  CHECK(r.tokens.size() == 4);
  // Complete text with nothing that may follow ends at once, without an end token.
  c.max_new_tokens = 40;
  c.grammar = Grammar::parse("root ::= \"Once\"");
  Generator once(model, c);
  const auto o = once.run("Hello");
  CHECK(o.text == "Once");
  CHECK(o.stop_reason == StopReason::EndOfSequence);
}

TEST_CASE("grammar generation: greedy, beam search and speculation stay inside the grammar") {
  auto model = test::stories_model();
  if (!model) return;
  const Grammar g = Grammar::parse(kStoryGrammar);
  GenerationConfig c = sampled(0, 40);
  c.sampling.temperature = 0;
  c.grammar = g;
  const auto greedy = Generator(model, c).run("Once upon a time, there was a little girl. Once");
  CHECK(complete(g, greedy.text));
  GenerationConfig lookup = c;
  lookup.lookup_draft = 4;
  const auto spec = Generator(model, lookup).run("Once upon a time, there was a little girl. Once");
  CHECK(spec.tokens == greedy.tokens);
  auto draft_path = test::require_shared("models/stories260K-pad192-q4_0.gguf");
  if (draft_path) {
    GenerationConfig with_draft = c;
    with_draft.draft_model = Model::load(*draft_path, {.threads = 1});
    with_draft.draft_p_min = 0;
    const auto d = Generator(model, with_draft).run("Once upon a time, there was a little girl. Once");
    CHECK(d.tokens == greedy.tokens);
    CHECK(d.metrics.accepted_draft_tokens > 0);
  }
  GenerationConfig beams = c;
  beams.num_beams = 3;
  beams.num_return_sequences = 3;
  const auto b = Generator(model, beams).run("Once upon a time");
  REQUIRE(!b.sequences.empty());
  for (const Sequence& s : b.sequences) {
    INFO(s.text);
    if (s.stop_reason == StopReason::EndOfSequence) CHECK(complete(g, s.text));
    else CHECK(s.stop_reason == StopReason::GrammarIncomplete);
  }
  CHECK(b.sequences[0].stop_reason == StopReason::EndOfSequence);
}

TEST_CASE("grammar generation: each BatchGenerator request keeps its own grammar") {
  auto model = test::stories_model();
  if (!model) return;
  const Grammar a = Grammar::parse(kStoryGrammar);
  const Grammar b = Grammar::parse("root ::= (\"yes\" | \"no\") \" \" [a-z]{2,5} \".\"");
  BatchGenerator batch(model, {.max_sequences = 4, .n_ctx = 128});
  std::vector<std::pair<RequestId, const Grammar*>> ids;
  for (int i = 0; i < 6; ++i) {
    GenerationConfig c = sampled(static_cast<std::uint64_t>(i), 40);
    c.n_ctx = 0;
    c.grammar = i % 2 ? b : a;
    ids.emplace_back(batch.add("Once upon a time", c), i % 2 ? &b : &a);
  }
  for (int steps = 0; !batch.idle() && steps < 1000; ++steps) batch.step();
  for (auto [id, g] : ids) {
    const auto r = batch.take_result(id);
    INFO(r.text);
    CHECK(r.stop_reason == StopReason::EndOfSequence);
    CHECK(complete(*g, r.text));
  }
}

TEST_CASE("grammar generation: JSON Schema output parses (byte-level BPE vocabulary)") {
  auto model = qwen2_synth();
  if (!model) return;
  const char* schema = R"({"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":999},
    "name":{"type":"string","maxLength":12},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},
    "ok":{"type":"boolean"}},"required":["id","name","tags","ok"],"additionalProperties":false})";
  const Grammar g = Grammar::parse(json_schema_to_gbnf(schema));
  GenerationConfig base = sampled(0, 120);
  base.grammar = g;
  base.grammar_cache = grammar_mask_cache(*model, g);  // shared by every seed
  int parsed = 0;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    GenerationConfig c = base;
    c.sampling.seed = seed;
    const auto r = Generator(model, c).run("{");
    INFO("seed " << seed << ": " << r.text);
    if (r.stop_reason == StopReason::GrammarIncomplete) continue;  // a long string may not fit 120 tokens
    REQUIRE(r.stop_reason == StopReason::EndOfSequence);
    const auto j = test::Json::parse(r.text);
    CHECK(j["id"].as_int() >= 1);
    CHECK(j["id"].as_int() <= 999);
    CHECK(j["name"].as_string().size() <= 12 * 4);
    CHECK(j["tags"].size() <= 3);
    ++parsed;
  }
  CHECK(parsed >= 6);
  GenerationConfig wrong = base;
  wrong.grammar = Grammar::parse("root ::= \"x\"");
  CHECK_THROWS_AS(Generator(model, wrong), Error);  // the cache belongs to another grammar
}
