// Generation on the real stories260K model: greedy parity, every stop reason, stop
// strings across tokens, min_new_tokens, cancellation, beam search, determinism.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "json_lite.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::shared_ptr<const Model> stories() { return test::stories_model(); }

GenerationConfig greedy(int n) {
  GenerationConfig c;
  c.max_new_tokens = n;
  c.sampling.temperature = 0;
  return c;
}

struct Streamed {
  std::string text;
  std::vector<StepInfo> steps;
};

GenerationResult run(const GenerationConfig& c, const std::string& prompt, Streamed* s = nullptr, int cancel_after = -1) {
  Generator g(stories(), c);
  return g.run(prompt, [&](const StepInfo& step) {
    if (s) {
      s->text += step.text;
      s->steps.push_back(step);
    }
    return cancel_after < 0 || static_cast<int>(s ? s->steps.size() : 0) < cancel_after;
  });
}

}  // namespace

TEST_CASE("greedy generation equals llama.cpp's greedy continuation") {
  if (!stories()) return;
  const auto golden = test::Json::parse(test::read_file(test::shared_dir() / "golden/stories260K-f32.json"));
  const auto& c = golden["cases"][0];
  Streamed s;
  const auto r = run(greedy(64), c["prompt"].as_string(), &s);
  const auto expect = c["greedy_tokens"].int_array();
  CHECK(std::vector<long long>(r.tokens.begin(), r.tokens.end()) == expect);
  CHECK(r.stop_reason == StopReason::MaxTokens);
  CHECK(r.text == c["greedy_text"].as_string());
  CHECK(s.text == r.text);
  REQUIRE(s.steps.size() == 64);
  const auto logprobs = c["greedy_logprobs"].number_array();
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    CHECK(s.steps[i].raw_logprob == doctest::Approx(logprobs[i]).epsilon(1e-3));
    CHECK(s.steps[i].index == static_cast<int>(i));
    CHECK(!s.steps[i].alternatives.empty());
    CHECK(s.steps[i].alternatives[0].id == s.steps[i].token);  // greedy: the top alternative
  }
  CHECK(s.steps.back().final);
  double golden_sum = 0;
  for (double lp : logprobs) golden_sum += lp;
  REQUIRE(r.sequences.size() == 1);
  CHECK(r.sequences[0].length == 64);
  CHECK(r.sequences[0].logprob == doctest::Approx(golden_sum).epsilon(1e-3));
  CHECK(r.sequences[0].score == doctest::Approx(r.sequences[0].logprob / 64));
  CHECK(r.metrics.gen_tokens == 64);
  CHECK(r.metrics.prompt_tokens == 5);
  CHECK(r.metrics.ttft_ms > 0);
  CHECK(r.metrics.gen_tps > 0);
  CHECK(r.metrics.peak_rss > 0);
  CHECK(r.metrics.kv_bytes > 0);
}

TEST_CASE("pull-style step() gives the same tokens as run()") {
  if (!stories()) return;
  Generator g(stories(), greedy(20));
  g.prompt("Once upon a time");
  std::string text;
  int n = 0;
  while (auto s = g.step()) {
    text += s->text;
    ++n;
  }
  CHECK(n == 20);
  CHECK(text == run(greedy(20), "Once upon a time").text);
  CHECK(g.stop_reason() == StopReason::MaxTokens);
}

TEST_CASE("a stop string spanning two tokens ends generation before it") {
  if (!stories()) return;
  auto c = greedy(64);
  c.stop = {"e girl"};  // " little" + " girl"
  Streamed s;
  const auto r = run(c, "Once upon a time", &s);
  CHECK(r.stop_reason == StopReason::StopString);
  CHECK(r.text == ", there was a littl");
  CHECK(s.text == r.text);
  CHECK(s.steps.back().final);
  // A stop string that never appears holds nothing back for good.
  c.stop = {"zebra crossing"};
  c.max_new_tokens = 30;
  Streamed s2;
  const auto r2 = run(c, "Once upon a time", &s2);
  CHECK(r2.stop_reason == StopReason::MaxTokens);
  CHECK(s2.text == run(greedy(30), "Once upon a time").text);
}

TEST_CASE("min_new_tokens suppresses end-of-sequence until reached") {
  if (!stories()) return;
  auto c = greedy(40);
  c.sampling.logit_bias = {{2, 100.0f}};  // make EOS (id 2) overwhelmingly likely
  const auto eager = run(c, "Once upon a time");
  CHECK(eager.stop_reason == StopReason::EndOfSequence);
  CHECK(eager.tokens.empty());
  c.min_new_tokens = 10;
  const auto r = run(c, "Once upon a time");
  CHECK(r.stop_reason == StopReason::EndOfSequence);
  CHECK(r.tokens.size() == 10);
}

TEST_CASE("cancellation from the callback and from another call") {
  if (!stories()) return;
  Streamed s;
  const auto r = run(greedy(50), "Once upon a time", &s, 3);
  CHECK(r.stop_reason == StopReason::Cancelled);
  CHECK(s.steps.size() == 3);
  CHECK(r.tokens.size() == 3);
  Generator g(stories(), greedy(50));
  g.prompt("Once upon a time");
  g.step();
  g.cancel();
  CHECK(!g.step().has_value());
  CHECK(g.stop_reason() == StopReason::Cancelled);
}

TEST_CASE("stop tokens, context full under both policies, prompt too long") {
  if (!stories()) return;
  const auto base = run(greedy(8), "Once upon a time");
  auto c = greedy(50);
  c.stop_tokens = {base.tokens[3]};
  const auto r = run(c, "Once upon a time");
  CHECK(r.stop_reason == StopReason::StopToken);
  CHECK(r.tokens.size() == 3);

  auto full = greedy(50);
  full.n_ctx = 12;  // 5 prompt tokens + 7 generated fill it
  const auto rf = run(full, "Once upon a time");
  CHECK(rf.stop_reason == StopReason::ContextFull);
  CHECK(rf.tokens.size() == 8);  // the last one is sampled from position 11's logits
  full.on_context_full = ContextFullPolicy::Error;
  try {
    run(full, "Once upon a time");
    FAIL("expected ContextFull");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::ContextFull);
  }
  auto tiny = greedy(5);
  tiny.n_ctx = 4;
  try {
    run(tiny, "Once upon a time");  // 5 tokens
    FAIL("expected ContextFull");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::ContextFull);
    CHECK(std::string(e.what()).find("prompt has 5 tokens") != std::string::npos);
  }
}

TEST_CASE("seeded sampling is reproducible") {
  if (!stories()) return;
  GenerationConfig c;
  c.max_new_tokens = 40;
  c.sampling.seed = 99;
  const auto a = run(c, "Once upon a time");
  const auto b = run(c, "Once upon a time");
  CHECK(a.tokens == b.tokens);
  c.sampling.seed = 100;
  CHECK(run(c, "Once upon a time").tokens != a.tokens);
}

TEST_CASE("beam search returns sequences sorted by score, each its summed log-probability") {
  if (!stories()) return;
  auto c = greedy(24);
  c.num_beams = 4;
  c.num_return_sequences = 4;
  c.early_stopping = false;
  c.length_penalty = 1.0f;
  const auto r = run(c, "The little dog was very sad because");
  REQUIRE(r.sequences.size() == 4);
  for (std::size_t i = 1; i < r.sequences.size(); ++i) CHECK(r.sequences[i - 1].score >= r.sequences[i].score);

  // Recompute every sequence's log-probability with plain forward passes.
  const Model& m = *stories();
  const auto prompt = m.tokenizer().encode("The little dog was very sad because");
  auto logprob_of = [&](const std::vector<TokenId>& gen, bool with_eos) {
    KVCache cache(m);
    std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
    Batch b;
    for (std::size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int>(i), 0, i + 1 == prompt.size());
    m.forward(b, cache, logits);
    std::vector<TokenId> all = gen;
    if (with_eos) all.push_back(m.tokenizer().special().eos);
    double sum = 0;
    int pos = static_cast<int>(prompt.size());
    for (TokenId t : all) {
      const float mx = *std::max_element(logits.begin(), logits.end());
      double z = 0;
      for (float l : logits) z += std::exp(static_cast<double>(l - mx));
      sum += logits[static_cast<std::size_t>(t)] - (mx + std::log(z));
      b.clear();
      b.add(t, pos++, 0, true);
      m.forward(b, cache, logits);
    }
    return sum;
  };
  for (const auto& s : r.sequences) {
    const bool eos = s.stop_reason == StopReason::EndOfSequence;
    CHECK(s.logprob == doctest::Approx(logprob_of(s.tokens, eos)).epsilon(1e-4));
    CHECK(s.score == doctest::Approx(s.logprob / std::pow(s.length, c.length_penalty)));
  }
  const auto g = run(greedy(24), "The little dog was very sad because");
  const bool g_eos = g.stop_reason == StopReason::EndOfSequence;
  const int g_len = static_cast<int>(g.tokens.size()) + (g_eos ? 1 : 0);
  const double greedy_score = logprob_of(g.tokens, g_eos) / g_len;
  CHECK(r.sequences[0].score >= greedy_score - 1e-6);
  MESSAGE("beam best score " << r.sequences[0].score << " vs greedy " << greedy_score);
}

TEST_CASE("bad generation parameters are rejected by name") {
  if (!stories()) return;
  auto bad = [](auto edit) {
    GenerationConfig c;
    edit(c);
    try {
      Generator g(stories(), c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(bad([](GenerationConfig& c) { c.max_new_tokens = -1; }).find("max_new_tokens") != std::string::npos);
  CHECK(bad([](GenerationConfig& c) { c.min_new_tokens = 1000; }).find("min_new_tokens") != std::string::npos);
  CHECK(bad([](GenerationConfig& c) { c.num_beams = 0; }).find("num_beams") != std::string::npos);
  CHECK(bad([](GenerationConfig& c) { c.stop = {""}; }).find("stop") != std::string::npos);
  CHECK(bad([](GenerationConfig& c) { c.sampling.top_p = 3; }).find("top_p") != std::string::npos);
}

TEST_CASE("beam search ends a beam at a stop string, like sampling does") {
  if (!stories()) return;
  auto c = greedy(40);
  c.num_beams = 4;
  c.num_return_sequences = 4;
  c.stop = {"e girl"};
  const auto r = run(c, "Once upon a time");
  REQUIRE(!r.sequences.empty());
  int stopped = 0;
  for (const auto& s : r.sequences) {
    CHECK(s.text.find("e girl") == std::string::npos);
    if (s.stop_reason == StopReason::StopString) {
      ++stopped;
      // The text ends right before the stop string: the full decode continues with it.
      const std::string full = stories()->tokenizer().decode(s.tokens);
      CHECK(full.find(s.text + "e girl") != std::string::npos);
    }
  }
  CHECK(stopped > 0);
  CHECK(r.text == r.sequences[0].text);
  // Before min_new_tokens a stop string is not matched.
  c.min_new_tokens = 30;
  const auto late = run(c, "Once upon a time");
  for (const auto& s : late.sequences)
    if (s.stop_reason == StopReason::StopString) CHECK(s.tokens.size() > 30);
}

TEST_CASE("a second prompt that extends the first reuses its cached prefix") {
  if (!stories()) return;
  Generator g(stories(), greedy(8));
  const auto first = g.run("Once upon a time");
  CHECK(first.metrics.cached_prompt_tokens == 0);
  const auto second = g.run("Once upon a time, there was a little dog");
  CHECK(second.metrics.cached_prompt_tokens >= 5);
  Generator fresh(stories(), greedy(8));
  const auto expect = fresh.run("Once upon a time, there was a little dog");
  CHECK(second.tokens == expect.tokens);
  CHECK(second.text == expect.text);
  // A different prompt reuses only what matches (here just BOS) and stays correct.
  const auto third = g.run("The little dog was very sad because");
  CHECK(third.metrics.cached_prompt_tokens == 1);
  Generator fresh2(stories(), greedy(8));
  CHECK(third.tokens == fresh2.run("The little dog was very sad because").tokens);
}

TEST_CASE("a saved conversation resumes after a restart; foreign or damaged state files are refused") {
  if (!stories()) return;
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / "inkling_test_state.bin";
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.sampling.seed = 5;
  Generator first(stories(), c);
  first.run("Once upon a time");
  first.save_state(path);
  const auto continued = first.run("Once upon a time, there was a little dog");

  Generator resumed(stories(), c);
  resumed.load_state(path);
  const auto r = resumed.run("Once upon a time, there was a little dog");
  CHECK(r.metrics.cached_prompt_tokens >= 5);  // the saved prefix was reused
  CHECK(r.tokens == continued.tokens);         // same cache, same random state: same text

  // Damaged: one byte flipped in the middle.
  const auto damaged = dir / "inkling_test_state_bad.bin";
  std::string bytes = inkling::test::read_file(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5A);
  { std::ofstream(damaged, std::ios::binary) << bytes; }
  try {
    resumed.load_state(damaged);
    FAIL("expected a Format error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Format);
  }
  // Truncated.
  { std::ofstream(damaged, std::ios::binary) << bytes.substr(0, bytes.size() / 3); }
  CHECK_THROWS_AS(resumed.load_state(damaged), Error);
  // Another model's state.
  auto other_path = test::require_shared("models/stories260K-pad192-f32.gguf");
  if (other_path) {
    Generator other(Model::load(*other_path, {.threads = 1}), c);
    try {
      other.load_state(path);
      FAIL("expected InvalidArgument");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find("another model") != std::string::npos);
    }
  }
  std::filesystem::remove(path);
  std::filesystem::remove(damaged);
}

TEST_CASE("prompt-lookup speculation gives the same tokens with fewer passes") {
  if (!stories()) return;
  const std::string prompt =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
      "Once upon a time, there was a little girl named Lily. She loved to";
  auto c = greedy(40);
  const auto plain = run(c, prompt);
  c.lookup_draft = 4;
  Streamed s;
  const auto fast = run(c, prompt, &s);
  CHECK(fast.tokens == plain.tokens);
  CHECK(fast.text == plain.text);
  CHECK(s.text == fast.text);
  CHECK(fast.metrics.accepted_draft_tokens > 0);
  // Every generated token but the last (never fed back) cost a pass or was a kept draft.
  CHECK(fast.metrics.target_passes + fast.metrics.accepted_draft_tokens == static_cast<int>(fast.tokens.size()) - 1);
  MESSAGE("lookup: " << fast.metrics.accepted_draft_tokens << "/" << fast.metrics.draft_tokens << " drafts accepted, "
                     << fast.metrics.target_passes << " passes for " << fast.tokens.size() << " tokens");
  // With sampling the drafts are only used when the sampler picks them: same seed, same text.
  GenerationConfig sampled;
  sampled.max_new_tokens = 40;
  sampled.sampling.seed = 11;
  const auto a = run(sampled, prompt);
  sampled.lookup_draft = 4;
  const auto b = run(sampled, prompt);
  CHECK(a.tokens == b.tokens);
  // Penalties change what the sampler picks; speculation must still not change output.
  auto penalised = greedy(40);
  penalised.sampling.repeat_penalty = 1.5f;
  const auto p1 = run(penalised, prompt);
  penalised.lookup_draft = 4;
  CHECK(run(penalised, prompt).tokens == p1.tokens);
}

TEST_CASE("speculative decoding with a draft model gives exactly the model's own tokens") {
  if (!stories()) return;
  auto draft_path = test::require_shared("models/stories260K-pad192-q4_0.gguf");
  if (!draft_path) return;
  auto c = greedy(48);
  const auto plain = run(c, "Once upon a time");
  c.draft_model = Model::load(*draft_path, {.threads = 1});
  c.draft_tokens = 4;
  const auto spec = run(c, "Once upon a time");
  CHECK(spec.tokens == plain.tokens);
  CHECK(spec.metrics.accepted_draft_tokens > 10);  // the Q4_0 copy of the same model agrees most of the time
  CHECK(spec.metrics.target_passes < 40);
  MESSAGE("draft model: " << spec.metrics.accepted_draft_tokens << "/" << spec.metrics.draft_tokens
                          << " drafts accepted, " << spec.metrics.target_passes << " passes for " << spec.tokens.size()
                          << " tokens");
  // Sampling keeps the model's distribution: a draft is used only when the sampler picks it.
  GenerationConfig sampled;
  sampled.max_new_tokens = 30;
  sampled.sampling.seed = 3;
  const auto a = run(sampled, "Once upon a time");
  sampled.draft_model = c.draft_model;
  CHECK(run(sampled, "Once upon a time").tokens == a.tokens);
  // A draft with another vocabulary is refused.
  auto other = test::require_shared("models/synth15M-q4_0.gguf");
  if (other) {
    GenerationConfig bad = greedy(4);
    bad.draft_model = Model::load(*other, {.threads = 1});
    CHECK_THROWS_AS(Generator(stories(), bad), Error);
  }
}

TEST_CASE("speculative sampling keeps the target's distribution (seeded, statistical)") {
  if (!stories()) return;
  auto draft_path = test::require_shared("models/stories260K-pad192-q4_0.gguf");
  if (!draft_path) return;
  const auto draft = Model::load(*draft_path, {.threads = 1});
  const std::string prompt = "Once upon a time, there was a little girl named Lily. Once upon a time";
  // Per seed, the draft-model and prompt-lookup runs draw exactly the plain run's
  // tokens: a draft is used only when the target's own sampler picks that token.
  constexpr int kSeeds = 400;
  GenerationConfig plain;
  plain.max_new_tokens = 6;
  plain.sampling.temperature = 1.0f;
  plain.sampling.top_k = 0;
  plain.sampling.top_p = 1.0f;
  plain.sampling.min_p = 0.0f;
  std::map<TokenId, int> first;
  std::map<TokenId, std::map<TokenId, int>> second;  // second token, by first token, speculative runs
  int accepted = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    plain.sampling.seed = static_cast<std::uint64_t>(seed);
    GenerationConfig with_draft = plain, with_lookup = plain;
    with_draft.draft_model = draft;
    with_draft.draft_p_min = 0;  // propose every step, so drafts are checked as often as possible
    with_lookup.lookup_draft = 4;
    const auto a = run(plain, prompt), b = run(with_draft, prompt), l = run(with_lookup, prompt);
    REQUIRE(a.tokens == b.tokens);
    REQUIRE(a.tokens == l.tokens);
    accepted += b.metrics.accepted_draft_tokens;
    if (b.tokens.size() >= 2) {
      ++first[b.tokens[0]];
      ++second[b.tokens[0]][b.tokens[1]];
    }
  }
  CHECK(accepted > kSeeds / 2);  // the drafts were really used, not just proposed
  // The second token comes from a speculative pass's logits. Given the most frequent first
  // token, its draws must follow the model's own p(. | prompt, first): chi-square, with
  // categories of expected count < 5 pooled, against a bound no correct sampler exceeds
  // in practice (p < 1e-6).
  TokenId x = first.begin()->first;
  for (const auto& [t, n] : first)
    if (n > first[x]) x = t;
  const auto& draws = second[x];
  int n = 0;
  for (const auto& [t, c] : draws) n += c;
  REQUIRE(n >= 100);
  auto ids = stories()->tokenizer().encode(prompt, true);
  ids.push_back(x);
  Batch batch;
  for (std::size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int>(i), 0, i + 1 == ids.size());
  KVCache cache(*stories(), {.n_ctx = 64});
  std::vector<float> logits(static_cast<std::size_t>(stories()->config().n_vocab));
  stories()->forward(batch, cache, logits);
  const float mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (float l : logits) z += std::exp(static_cast<double>(l - mx));
  double chi2 = 0, pooled_expected = 0, pooled_observed = 0;
  int dof = -1;
  for (std::size_t t = 0; t < logits.size(); ++t) {
    const double expected = n * std::exp(static_cast<double>(logits[t] - mx)) / z;
    const auto it = draws.find(static_cast<TokenId>(t));
    const double observed = it == draws.end() ? 0 : it->second;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    chi2 += (observed - expected) * (observed - expected) / expected;
    ++dof;
  }
  if (pooled_expected > 0) {
    chi2 += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++dof;
  }
  REQUIRE(dof >= 1);
  // Wilson-Hilferty bound on the chi-square quantile at p = 1e-6 (z = 4.75).
  const double k = dof;
  const double bound = k * std::pow(1 - 2 / (9 * k) + 4.75 * std::sqrt(2 / (9 * k)), 3);
  MESSAGE("second token given the first: " << n << " draws, chi2 " << chi2 << " on " << dof << " dof (bound " << bound << ")");
  CHECK(chi2 < bound);
}

TEST_CASE("context shift: generation goes on past a full context, keeping n_keep tokens") {
  if (!stories()) return;
  auto c = greedy(60);
  c.n_ctx = 32;
  c.stop_at_eog = false;
  const auto stopped = run(c, "Once upon a time");
  CHECK(stopped.stop_reason == StopReason::ContextFull);
  CHECK(stopped.tokens.size() < 32);
  c.on_context_full = ContextFullPolicy::Shift;
  Generator g(stories(), c);
  const auto shifted = g.run("Once upon a time");
  CHECK(shifted.stop_reason == StopReason::MaxTokens);
  CHECK(shifted.tokens.size() == 60);
  CHECK(g.cache().length(0) <= 32);
  // Up to the first shift the text is the same as without it.
  CHECK(std::equal(stopped.tokens.begin(), stopped.tokens.end() - 1, shifted.tokens.begin()));
  // n_keep is honoured: keeping the whole prompt changes what follows the shift, and a
  // keep that leaves nothing to drop is an error.
  c.n_keep = -1;
  const auto keep_prompt = run(c, "Once upon a time");
  CHECK(keep_prompt.tokens.size() == 60);
  CHECK(keep_prompt.tokens != shifted.tokens);
  c.n_keep = 40;
  CHECK_THROWS_WITH_AS(run(c, "Once upon a time"), doctest::Contains("n_keep"), Error);
  c.n_keep = -2;
  CHECK_THROWS_WITH_AS(Generator(stories(), c), doctest::Contains("n_keep"), Error);
  // The next prompt reuses only what the shift left exact.
  auto again = g.run("Once upon a time, there was");
  CHECK(again.metrics.cached_prompt_tokens <= 5);
  c.num_beams = 2;
  c.n_keep = 0;
  CHECK_THROWS_WITH_AS(Generator(stories(), c), doctest::Contains("shift"), Error);
}
