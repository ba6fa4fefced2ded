// Model and KVCache behaviour through the public API, on the real stories260K model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

using inkling::Batch;
using inkling::ErrorCode;
using inkling::KVCache;
using inkling::Model;

namespace {

std::shared_ptr<const Model> load(const char* name, int threads = 1) {
  auto path = inkling::test::require_shared(std::string("models/") + name);
  if (!path) return nullptr;
  return Model::load(*path, {.threads = threads});
}

ErrorCode code_of(auto&& fn) {
  try {
    fn();
  } catch (const inkling::Error& e) {
    return e.code();
  }
  FAIL("expected an inkling::Error");
  return ErrorCode::Internal;
}

std::vector<float> prefill(const Model& m, KVCache& cache, const std::vector<int>& ids, int seq = 0) {
  Batch b;
  for (std::size_t i = 0; i < ids.size(); ++i)
    b.add(ids[i], cache.length(seq) + static_cast<int>(i), seq, i + 1 == ids.size());
  std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
  m.forward(b, cache, logits);
  return logits;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
  return d;
}

const std::vector<int> kPrompt{1, 403, 407, 261, 378, 432, 383, 286};

}  // namespace

TEST_CASE("config is read from llama.* metadata") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  const auto& c = m->config();
  CHECK(c.architecture == "llama");
  CHECK(c.n_embd == 64);
  CHECK(c.n_layer == 5);
  CHECK(c.n_head == 8);
  CHECK(c.n_head_kv == 4);
  CHECK(c.head_dim == 8);
  CHECK(c.n_ff == 172);
  CHECK(c.n_vocab == 512);
  CHECK(c.norm_eps == doctest::Approx(1e-5));
  CHECK(c.rope_freq_base == doctest::Approx(10000.0));
  CHECK(m->weight_bytes() > 1000000);
  CHECK(m->tokenizer().n_vocab() == 512);
}

TEST_CASE("missing or unreadable model files give an Io error") {
  CHECK(code_of([] { Model::load("/nonexistent/model.gguf"); }) == ErrorCode::Io);
  CHECK(code_of([] { Model::load("/"); }) == ErrorCode::Io);
}

TEST_CASE("a batched prefill equals feeding the tokens one at a time") {
  auto m = load("stories260K-pad192-q8_0.gguf");
  if (!m) return;
  KVCache a(*m), b(*m);
  const auto batched = prefill(*m, a, kPrompt);
  std::vector<float> single;
  for (int id : kPrompt) single = prefill(*m, b, {id});
  CHECK(a.length() == static_cast<int>(kPrompt.size()));
  CHECK(max_abs_diff(batched, single) < 1e-4);
}

TEST_CASE("thread count does not change the logits") {
  auto one = load("stories260K-pad192-q4_0.gguf", 1);
  auto two = load("stories260K-pad192-q4_0.gguf", 2);
  if (!one || !two) return;
  KVCache c1(*one), c2(*two);
  CHECK(max_abs_diff(prefill(*one, c1, kPrompt), prefill(*two, c2, kPrompt)) == 0.0);
}

TEST_CASE("KV cache: truncate and recompute, copy to fork a sequence") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  KVCache cache(*m, {.n_ctx = 64, .n_seq = 2});
  CHECK(cache.n_ctx() == 64);
  CHECK(cache.bytes() == 2u * 5 * 2 * 64 * 32 * sizeof(float));
  const auto full = prefill(*m, cache, kPrompt);
  cache.truncate(0, 4);
  CHECK(cache.length(0) == 4);
  const auto again = prefill(*m, cache, {kPrompt.begin() + 4, kPrompt.end()});
  CHECK(max_abs_diff(full, again) < 1e-5);

  cache.copy(0, 1);
  CHECK(cache.length(1) == static_cast<int>(kPrompt.size()));
  const auto s0 = prefill(*m, cache, {300}, 0);
  const auto s1 = prefill(*m, cache, {300}, 1);
  CHECK(max_abs_diff(s0, s1) == 0.0);

  // Both sequences in one batch give the same logits as separately.
  cache.truncate(0, 8);
  cache.truncate(1, 8);
  Batch b;
  b.add(300, 8, 0, true);
  b.add(301, 8, 1, true);
  std::vector<float> two(2 * 512);
  m->forward(b, cache, two);
  CHECK(max_abs_diff(std::vector<float>(two.begin(), two.begin() + 512), s0) < 1e-5);
  cache.clear();
  CHECK(cache.length(0) == 0);
  CHECK(cache.length(1) == 0);
}

TEST_CASE("forward validates its inputs before computing") {
  auto m = load("stories260K-f32.gguf");
  auto other = load("stories260K-pad192-f32.gguf");
  if (!m || !other) return;
  KVCache cache(*m, {.n_ctx = 8});
  std::vector<float> logits(512);
  auto run = [&](Batch b, std::vector<float>& out) { m->forward(b, cache, out); };
  Batch b;
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::InvalidArgument);  // empty
  b.add(512, 0, 0, true);
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::InvalidArgument);  // token id
  b.clear();
  b.add(1, 0, 1, true);
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::InvalidArgument);  // sequence id
  b.clear();
  b.add(1, 3, 0, true);
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::InvalidArgument);  // gap
  b.clear();
  b.add(1, 8, 0, true);
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::ContextFull);
  b.clear();
  b.add(1, 0, 0, true);
  b.add(2, 1, 0, true);
  CHECK(code_of([&] { run(b, logits); }) == ErrorCode::BufferTooSmall);
  KVCache foreign(*other);
  b.clear();
  b.add(1, 0, 0, true);
  CHECK(code_of([&] { m->forward(b, foreign, logits); }) == ErrorCode::InvalidArgument);
  CHECK(cache.length() == 0);  // nothing was written by the failed calls
  CHECK(code_of([&] { KVCache bad(*m, {.n_ctx = -1}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { KVCache bad(*m, {.n_seq = 0}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { cache.length(5); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("a KV cache over the memory budget is refused before anything is allocated") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  // 5 layers x 512 positions x 32 floats x K and V = 655360 bytes.
  CHECK_NOTHROW(KVCache(*m, {.n_ctx = 512, .memory_budget = 655360}));
  try {
    KVCache big(*m, {.n_ctx = 512, .n_seq = 4, .memory_budget = 1 << 20});
    FAIL("expected OutOfMemory");
  } catch (const inkling::Error& e) {
    CHECK(e.code() == ErrorCode::OutOfMemory);
    CHECK(std::string(e.what()).find("memory budget") != std::string::npos);
  }
}
