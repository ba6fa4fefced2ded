// BatchGenerator on the real stories260K model: every request of a batch produces exactly
// what it produces alone (greedy and seeded sampling, requests joining mid-way, more
// requests than sequences, long prompts split over steps, shared prefixes reused), and
// cancellation and bad requests end only the request concerned.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "inkling/batch_generator.hpp"
#include "inkling/error.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::shared_ptr<const Model> stories() { return test::stories_model(); }

GenerationConfig config_for(int i, int max_tokens) {
  GenerationConfig c;
  c.max_new_tokens = max_tokens;
  c.n_ctx = 128;  // the model's training context
  if (i % 2 == 0) {
    c.sampling.temperature = 0;
  } else {
    c.sampling.temperature = 0.9f;
    c.sampling.seed = 1000 + static_cast<std::uint64_t>(i);
  }
  return c;
}

const std::vector<std::string> kPrompts = {
    "Once upon a time", "The little dog", "Lily wanted to play with her friend Tom in the park", "One day",
    "Tim and Sue went to the big tree to look for a cat", "The sun", "A girl named Mia", "Ben had a red ball"};

GenerationResult alone(const std::string& prompt, GenerationConfig c) {
  Generator g(stories(), std::move(c));
  return g.run(prompt);
}

// Drives the batch until idle; returns every event per request, in order.
std::map<RequestId, std::vector<BatchEvent>> drain(BatchGenerator& b, int max_steps = 10000) {
  std::map<RequestId, std::vector<BatchEvent>> out;
  for (int i = 0; i < max_steps && !b.idle(); ++i)
    for (auto& e : b.step()) out[e.request].push_back(std::move(e));
  REQUIRE(b.idle());
  return out;
}

std::string streamed_text(const std::vector<BatchEvent>& events) {
  std::string s;
  for (const auto& e : events)
    if (e.step) s += e.step->text;
  return s;
}

}  // namespace

TEST_CASE("each request of a batch produces what it produces alone") {
  if (!stories()) return;
  for (int max_seq : {1, 3, 8}) {
    CAPTURE(max_seq);
    BatchGenerator b(stories(), {.max_sequences = max_seq, .n_ctx = 128});
    std::vector<RequestId> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(b.add(kPrompts[static_cast<std::size_t>(i)], config_for(i, 24 + i)));
    auto events = drain(b);
    CHECK(b.running() == 0);
    for (int i = 0; i < 8; ++i) {
      CAPTURE(i);
      const auto expect = alone(kPrompts[static_cast<std::size_t>(i)], config_for(i, 24 + i));
      const auto got = b.take_result(ids[static_cast<std::size_t>(i)]);
      CHECK(got.tokens == expect.tokens);
      CHECK(got.text == expect.text);
      CHECK(got.stop_reason == expect.stop_reason);
      const auto& ev = events[ids[static_cast<std::size_t>(i)]];
      REQUIRE(!ev.empty());
      CHECK(ev.back().finished);
      CHECK(streamed_text(ev) == expect.text);
      // Probabilities streamed are those of the request's own distribution.
      CHECK(ev.front().step->raw_alternatives.size() == 5);
      CHECK(ev.front().step->raw_alternatives[0].prob >= ev.front().step->raw_alternatives[4].prob);
      CHECK(got.metrics.gen_tokens == static_cast<int>(expect.tokens.size()));
      CHECK(got.metrics.ttft_ms > 0);
    }
    CHECK_THROWS_AS(b.take_result(ids[0]), Error);  // taken already
  }
}

TEST_CASE("requests join and leave while others generate; long prompts are split over steps") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 4, .n_ctx = 128, .max_prompt_tokens_per_step = 3});
  std::map<RequestId, int> which;
  which[b.add(kPrompts[0], config_for(0, 40))] = 0;
  which[b.add(kPrompts[1], config_for(1, 10))] = 1;
  std::map<RequestId, std::vector<BatchEvent>> events;
  int added = 2;
  for (int step = 0; step < 2000 && (!b.idle() || added < 8); ++step) {
    if (step % 5 == 4 && added < 8) {
      which[b.add(kPrompts[static_cast<std::size_t>(added)], config_for(added, 12 + added))] = added;
      ++added;
    }
    for (auto& e : b.step()) events[e.request].push_back(std::move(e));
  }
  REQUIRE(b.idle());
  REQUIRE(which.size() == 8);
  for (const auto& entry : which) {
    const RequestId id = entry.first;
    const int i = entry.second;  // (not a structured binding: clang 14 cannot capture one)
    CAPTURE(i);
    const auto expect = alone(kPrompts[static_cast<std::size_t>(i)], config_for(i, i < 2 ? (i == 0 ? 40 : 10) : 12 + i));
    const auto got = b.take_result(id);
    CHECK(got.tokens == expect.tokens);
    CHECK(streamed_text(events[id]) == expect.text);
  }
}

TEST_CASE("a shared prefix is computed once and reused by later requests") {
  if (!stories()) return;
  const std::string prefix = "Once upon a time there was a little girl named Lily. She loved to play outside in the sun.";
  BatchGenerator b(stories(), {.max_sequences = 2, .n_ctx = 128});
  const RequestId first = b.add(prefix + " One day", config_for(0, 8));
  drain(b);
  const auto r1 = b.take_result(first);
  CHECK(r1.metrics.cached_prompt_tokens == 0);
  // Two more with the same beginning: one lands on the slot holding it, the other gets a
  // copy of those entries.
  const RequestId second = b.add(prefix + " She saw a bird", config_for(1, 8));
  const RequestId third = b.add(prefix + " Her mom said", config_for(2, 8));
  drain(b);
  const auto r2 = b.take_result(second), r3 = b.take_result(third);
  const int prefix_tokens = static_cast<int>(stories()->tokenizer().encode(prefix, true).size());
  CHECK(r2.metrics.cached_prompt_tokens >= prefix_tokens - 1);
  CHECK(r3.metrics.cached_prompt_tokens >= prefix_tokens - 1);
  CHECK(r2.tokens == alone(prefix + " She saw a bird", config_for(1, 8)).tokens);
  CHECK(r3.tokens == alone(prefix + " Her mom said", config_for(2, 8)).tokens);
}

TEST_CASE("stop rules are per request") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 4, .n_ctx = 128});
  GenerationConfig stop_cfg = config_for(0, 64);
  const auto free_text = alone(kPrompts[0], config_for(0, 64)).text;
  REQUIRE(free_text.size() > 20);
  const std::string stop = free_text.substr(10, 4);
  stop_cfg.stop = {stop};
  const RequestId a = b.add(kPrompts[0], stop_cfg);
  const RequestId c = b.add(kPrompts[0], config_for(0, 64));
  const RequestId d = b.add(kPrompts[0], config_for(0, 3));
  auto events = drain(b);
  const auto ra = b.take_result(a), rc = b.take_result(c), rd = b.take_result(d);
  CHECK(ra.stop_reason == StopReason::StopString);
  CHECK(ra.text == free_text.substr(0, free_text.find(stop)));
  CHECK(rc.text == free_text);
  CHECK(rd.stop_reason == StopReason::MaxTokens);
  CHECK(rd.tokens.size() == 3);
  CHECK(events[a].back().stop_reason == StopReason::StopString);
}

TEST_CASE("cancel ends a queued, a starting or a generating request and nothing else") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 2, .n_ctx = 128, .max_prompt_tokens_per_step = 2});
  const RequestId gen = b.add(kPrompts[0], config_for(0, 50));
  const RequestId starting = b.add(kPrompts[2], config_for(2, 50));
  const RequestId queued = b.add(kPrompts[3], config_for(3, 50));
  const RequestId survivor = b.add(kPrompts[5], config_for(5, 20));
  std::map<RequestId, std::vector<BatchEvent>> events;
  for (int i = 0; i < 4; ++i)
    for (auto& e : b.step()) events[e.request].push_back(std::move(e));
  b.cancel(queued);
  b.cancel(starting);
  b.cancel(gen);
  b.cancel(9999);  // unknown: ignored
  for (auto& [id, ev] : drain(b))
    for (auto& e : ev) events[id].push_back(std::move(e));
  for (RequestId id : {gen, starting, queued}) {
    CAPTURE(id);
    const auto r = b.take_result(id);
    CHECK(r.stop_reason == StopReason::Cancelled);
    CHECK(events[id].back().finished);
    CHECK(events[id].back().stop_reason == StopReason::Cancelled);
  }
  CHECK(b.take_result(survivor).tokens == alone(kPrompts[5], config_for(5, 20)).tokens);
}

TEST_CASE("cancel and add from other threads while the batch runs") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 4, .n_ctx = 128});
  std::vector<RequestId> ids(6);
  std::thread adder([&] {
    for (int i = 0; i < 6; ++i) ids[static_cast<std::size_t>(i)] = b.add(kPrompts[static_cast<std::size_t>(i)], config_for(i, 30));
    b.cancel(ids[1]);
  });
  adder.join();
  std::thread canceller([&] { b.cancel(ids[2]); });
  drain(b);
  canceller.join();
  CHECK(b.take_result(ids[1]).stop_reason == StopReason::Cancelled);
  CHECK(b.take_result(ids[0]).tokens == alone(kPrompts[0], config_for(0, 30)).tokens);
}

TEST_CASE("bad requests are refused with the field named; the batch goes on") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 2, .n_ctx = 64});
  auto refused = [&](GenerationConfig c, const std::string& needle) {
    try {
      b.add("Hello", std::move(c));
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  GenerationConfig c = config_for(0, 5);
  c.n_ctx = 0;
  c.num_beams = 2;
  refused(c, "num_beams");
  c.num_beams = 1;
  c.lookup_draft = 3;
  refused(c, "lookup_draft");
  c.lookup_draft = 0;
  c.n_ctx = 128;
  refused(c, "n_ctx");
  c.n_ctx = 0;
  c.sampling.top_p = 2;
  refused(c, "top_p");
  c.sampling.top_p = 1;
  std::string long_prompt;
  for (int i = 0; i < 100; ++i) long_prompt += " the dog ran";
  CHECK_THROWS_AS(b.add(long_prompt, c), Error);
  CHECK_THROWS_WITH_AS(BatchGenerator(stories(), {.max_sequences = 0}), doctest::Contains("max_sequences"), Error);
  CHECK_THROWS_AS(b.take_result(12345), Error);
  const RequestId ok = b.add("Hello", c);
  drain(b);
  CHECK(b.take_result(ok).tokens.size() == 5);
}

TEST_CASE("a request that reaches the end of the context ends with ContextFull") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 2, .n_ctx = 24});
  GenerationConfig c = config_for(0, 100);
  c.n_ctx = 24;
  c.stop_at_eog = false;
  const RequestId id = b.add("Once upon a time", c);
  GenerationConfig short_cfg = config_for(0, 5);
  short_cfg.n_ctx = 0;
  const RequestId other = b.add("The dog", short_cfg);
  drain(b);
  const auto r = b.take_result(id);
  CHECK(r.stop_reason == StopReason::ContextFull);
  const auto expect = alone("Once upon a time", c);
  CHECK(expect.stop_reason == StopReason::ContextFull);
  CHECK(r.tokens == expect.tokens);
  CHECK(b.take_result(other).tokens.size() == 5);
}

TEST_CASE("context shift in a batch gives what a generator gives alone") {
  if (!stories()) return;
  BatchGenerator b(stories(), {.max_sequences = 2, .n_ctx = 32});
  GenerationConfig c;
  c.max_new_tokens = 60;
  c.sampling.temperature = 0;
  c.stop_at_eog = false;
  c.n_ctx = 32;
  c.on_context_full = ContextFullPolicy::Shift;
  GenerationConfig plain = c;
  plain.on_context_full = ContextFullPolicy::Stop;
  const RequestId shifted = b.add("Once upon a time", c);
  const RequestId stopped = b.add("The little dog", plain);
  drain(b);
  const auto got = b.take_result(shifted);
  const auto expect = alone("Once upon a time", c);
  CHECK(got.tokens.size() == 60);
  CHECK(got.stop_reason == StopReason::MaxTokens);
  CHECK(got.tokens == expect.tokens);
  CHECK(b.take_result(stopped).stop_reason == StopReason::ContextFull);
}
