// What a visualizer reads from the library beyond the tokens: beam search's steps
// (Generator::on_beam_step: every candidate weighed and which survived) and, with a
// grammar, the model's choices before the grammar's mask (StepInfo::grammar_alternatives).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "inkling/generator.hpp"
#include "shared_data.hpp"

using namespace inkling;

TEST_CASE("on_beam_step: each step's candidates, best first, and the beams that survived") {
  auto model = test::stories_model();
  if (!model) return;
  GenerationConfig c;
  c.max_new_tokens = 10;
  c.num_beams = 3;
  c.num_return_sequences = 3;
  Generator g(model, c);
  std::vector<BeamStep> steps;
  g.on_beam_step([&](const BeamStep& s) { steps.push_back(s); });
  const GenerationResult r = g.run("Once upon a time");
  REQUIRE(!steps.empty());
  CHECK(steps.size() <= 10);
  // Follow the kept candidates: the paths of the last step's survivors and of every
  // finished candidate are the hypotheses; the best sequence is one of them.
  std::vector<std::vector<TokenId>> beams{{}}, ends;
  int pruned = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CHECK(steps[i].index == static_cast<int>(i));
    std::vector<std::vector<TokenId>> kept;
    double prev = INFINITY;
    for (const BeamCandidate& cand : steps[i].candidates) {
      CHECK(cand.logprob <= prev);
      prev = cand.logprob;
      REQUIRE(cand.parent >= 0);
      REQUIRE(static_cast<std::size_t>(cand.parent) < beams.size());
      std::vector<TokenId> path = beams[static_cast<std::size_t>(cand.parent)];
      CHECK(cand.score == doctest::Approx(cand.logprob / static_cast<double>(path.size() + 1)));
      path.push_back(cand.token);
      if (cand.fate == BeamCandidate::Fate::Kept) kept.push_back(path);
      if (cand.fate == BeamCandidate::Fate::Finished) {
        CHECK(cand.stop_reason != StopReason::None);
        ends.push_back(path);
      }
      pruned += cand.fate == BeamCandidate::Fate::Pruned;
    }
    CHECK(kept.size() <= 3);
    if (!kept.empty()) beams = kept;
  }
  CHECK(pruned > 0);
  ends.insert(ends.end(), beams.begin(), beams.end());
  bool found = false;
  for (const auto& p : ends)
    found |= p == r.tokens || (p.size() == r.tokens.size() + 1 && std::equal(r.tokens.begin(), r.tokens.end(), p.begin()));
  CHECK(found);

  // Sampling has no beams: the observer is not called.
  GenerationConfig one;
  one.max_new_tokens = 4;
  Generator s(model, one);
  int calls = 0;
  s.on_beam_step([&](const BeamStep&) { ++calls; });
  s.run("Once");
  CHECK(calls == 0);
}

TEST_CASE("grammar_alternatives: the model's own choices before the mask, flagged masked") {
  auto model = test::stories_model();
  if (!model) return;
  GenerationConfig c;
  c.max_new_tokens = 6;
  c.sampling.temperature = 0;
  c.top_n_alternatives = 8;
  Generator free_gen(model, c);
  std::vector<StepInfo> free_steps;
  free_gen.run("Once upon a time", [&](const StepInfo& s) { free_steps.push_back(s); return true; });
  REQUIRE(!free_steps.empty());
  CHECK(free_steps[0].grammar_alternatives.empty());  // no grammar: nothing to report

  c.grammar = Grammar::parse("root ::= \"Tom\"");
  Generator g(model, c);
  std::vector<StepInfo> steps;
  const GenerationResult r = g.run("Once upon a time", [&](const StepInfo& s) { steps.push_back(s); return true; });
  CHECK(r.text == "Tom");
  REQUIRE(!steps.empty());
  // Before the mask the first step is the unconstrained model's distribution.
  const auto& wanted = steps[0].grammar_alternatives;
  const auto& model_own = free_steps[0].raw_alternatives;
  REQUIRE(wanted.size() == 8);
  REQUIRE(model_own.size() == 8);
  for (std::size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(wanted[i].id == model_own[i].id);
    CHECK(wanted[i].prob == doctest::Approx(model_own[i].prob).epsilon(1e-4));
    const bool allowed = !wanted[i].text.empty() && std::string("Tom").rfind(wanted[i].text, 0) == 0;
    CHECK(wanted[i].masked == !allowed);
  }
  CHECK(wanted[0].masked);  // the model wanted to go on with the story
  // The sampler's lists see only what the grammar allowed.
  for (const StepInfo& s : steps)
    for (const Alternative& a : s.raw_alternatives)
      for (const Alternative& w : s.grammar_alternatives) CHECK(!(w.id == a.id && w.masked));
}
