// Beam search applies the same logit processors as sampling (bias, penalties), reports
// real metrics, refuses what it cannot combine with; and the seed a run drew is reported.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

GenerationConfig beams(int n_tokens, int n_beams) {
  GenerationConfig c;
  c.max_new_tokens = n_tokens;
  c.num_beams = n_beams;
  c.num_return_sequences = n_beams;
  c.sampling.temperature = 0;
  return c;
}

GenerationResult run(const GenerationConfig& c, const std::string& prompt) {
  Generator g(test::stories_model(), c);
  return g.run(prompt);
}

bool any_sequence_has(const GenerationResult& r, TokenId id) {
  for (const auto& s : r.sequences)
    if (std::find(s.tokens.begin(), s.tokens.end(), id) != s.tokens.end()) return true;
  return false;
}

}  // namespace

TEST_CASE("beam search: a banned token never appears; a bias steers every beam") {
  if (!test::stories_model()) return;
  const auto plain = run(beams(16, 2), "Once upon a time");
  REQUIRE(!plain.tokens.empty());
  const TokenId first = plain.tokens[0];
  auto c = beams(16, 2);
  c.sampling.logit_bias = {{first, -INFINITY}};
  const auto banned = run(c, "Once upon a time");
  CHECK(!any_sequence_has(banned, first));
  CHECK(banned.tokens != plain.tokens);
  // A large positive bias makes a token the best sequence's first.
  REQUIRE(plain.tokens[0] != 450);
  c.sampling.logit_bias = {{450, 30.0f}};
  const auto forced = run(c, "Once upon a time");
  CHECK(forced.tokens.at(0) == 450);
}

TEST_CASE("beam search: penalties apply to each beam's own history") {
  if (!test::stories_model()) return;
  auto c = beams(32, 2);
  const auto plain = run(c, "Lily and Tom went to the park. Lily");
  c.sampling.repeat_penalty = 3.0f;
  c.sampling.penalty_window = -1;
  const auto penalised = run(c, "Lily and Tom went to the park. Lily");
  CHECK(penalised.tokens != plain.tokens);
  // A strong presence penalty over the whole history: no token of the best sequence repeats.
  c.sampling.repeat_penalty = 1.0f;
  c.sampling.presence_penalty = 100.0f;
  const auto r = run(c, "Once upon a time");
  std::vector<TokenId> seen = r.tokens;
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
}

TEST_CASE("beam search: the best hypothesis streams as it changes; false cancels") {
  if (!test::stories_model()) return;
  Generator g(test::stories_model(), beams(16, 3));
  std::vector<int> steps;
  std::vector<Sequence> seen;
  g.on_beam_update([&](const Sequence& best, int step) {
    steps.push_back(step);
    seen.push_back(best);
    return true;
  });
  const auto r = g.run("Once upon a time");
  REQUIRE(!steps.empty());
  CHECK(steps.front() == 0);
  CHECK(std::adjacent_find(steps.begin(), steps.end(), std::greater_equal<>()) == steps.end());  // increasing
  for (std::size_t i = 1; i < seen.size(); ++i)  // reported only when it changed
    CHECK((seen[i].tokens != seen[i - 1].tokens || seen[i].text != seen[i - 1].text ||
           seen[i].stop_reason != seen[i - 1].stop_reason));
  CHECK(seen.back().tokens == r.sequences.at(0).tokens);
  CHECK(seen.front().tokens.size() == 1);
  CHECK(seen.front().stop_reason == StopReason::None);  // live
  // A listener returning false cancels the search there.
  g.on_beam_update([&](const Sequence&, int step) { return step < 3; });
  const auto cancelled = g.run("Once upon a time");
  CHECK(cancelled.stop_reason == StopReason::Cancelled);
  CHECK(cancelled.tokens.size() <= 4);
}

TEST_CASE("beam search: real metrics") {
  if (!test::stories_model()) return;
  auto c = beams(12, 3);
  c.early_stopping = false;
  c.stop_at_eog = false;
  const auto r = run(c, "Once upon a time");
  CHECK(r.metrics.ttft_ms > 0);
  CHECK(r.metrics.target_passes == 11);  // one pass per token after the first
  CHECK(r.metrics.gen_tokens == static_cast<int>(r.tokens.size()));
  CHECK(r.metrics.gen_tokens == 12);
  CHECK(r.metrics.tpot_ms_mean > 0);
  CHECK(r.metrics.gen_tps > 0);
  CHECK(r.sequences.size() == 3);
}

TEST_CASE("beam search refuses speculation instead of ignoring it") {
  if (!test::stories_model()) return;
  auto c = beams(8, 2);
  c.lookup_draft = 4;
  CHECK_THROWS_WITH_AS(Generator(test::stories_model(), c), doctest::Contains("lookup_draft"), Error);
  c.lookup_draft = 0;
  c.draft_model = test::stories_model();
  CHECK_THROWS_WITH_AS(Generator(test::stories_model(), c), doctest::Contains("draft_model"), Error);
}

TEST_CASE("a random seed is drawn, reported, and reproduces the run") {
  if (!test::stories_model()) return;
  GenerationConfig c;
  c.max_new_tokens = 24;
  c.sampling.temperature = 1.0f;
  c.sampling.seed = SamplerConfig::kRandomSeed;
  Generator a(test::stories_model(), c), b(test::stories_model(), c);
  CHECK(a.seed() != SamplerConfig::kRandomSeed);
  CHECK(a.seed() != b.seed());
  const auto first = a.run("Once upon a time");
  c.sampling.seed = a.seed();
  Generator again(test::stories_model(), c);
  CHECK(again.seed() == a.seed());
  CHECK(again.run("Once upon a time").tokens == first.tokens);
  c.sampling.seed = 5;
  CHECK(Generator(test::stories_model(), c).seed() == 5);
}
