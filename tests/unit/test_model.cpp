// Model and KVCache behaviour through the public API, on the real stories260K model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
  // 5 layers x 512 positions x 32 floats x K and V = 655360 bytes (4 x the trained positions).
  CHECK_NOTHROW(KVCache(*m, {.n_ctx = 512, .rope_scale = 4, .memory_budget = 655360}));
  try {
    KVCache big(*m, {.n_ctx = 512, .rope_scale = 4, .n_seq = 4, .memory_budget = 1 << 20});
    FAIL("expected OutOfMemory");
  } catch (const inkling::Error& e) {
    CHECK(e.code() == ErrorCode::OutOfMemory);
    CHECK(std::string(e.what()).find("memory budget") != std::string::npos);
  }
}

TEST_CASE("an F16 KV cache gives logits close to the F32 one at half the memory") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  KVCache f32(*m, {.n_ctx = 64}), f16(*m, {.n_ctx = 64, .type = inkling::DType::F16});
  CHECK(f16.bytes() * 2 == f32.bytes());
  const auto a = prefill(*m, f32, kPrompt);
  const auto b = prefill(*m, f16, kPrompt);
  CHECK(max_abs_diff(a, b) < 0.05);  // llama.cpp: F16 vs F32 cache moves logits by < 0.01 on F32 models
  CHECK(max_abs_diff(a, b) > 0.0);   // really stored as fp16
  f16.copy(0, 0);
  CHECK(code_of([&] { KVCache bad(*m, {.type = inkling::DType::Q4_0}); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("removing positions re-rotates the keys that move down") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  // Layer 0's keys depend only on the token and its position, so after remove() they
  // must equal those of a cache that saw only the kept tokens. (Deeper layers also saw
  // the removed tokens: that is what dropping context means, as in llama.cpp.)
  for (auto type : {inkling::DType::F32, inkling::DType::F16}) {
    KVCache cache(*m, {.n_ctx = 64, .type = type}), fresh(*m, {.n_ctx = 64, .type = type});
    prefill(*m, cache, kPrompt);
    cache.remove(0, 2, 5);  // drop tokens 2, 3, 4
    CHECK(cache.length() == static_cast<int>(kPrompt.size()) - 3);
    prefill(*m, fresh, {kPrompt[0], kPrompt[1], kPrompt[5], kPrompt[6], kPrompt[7]});
    // Layer 0's rows of the first 5 positions: 5 key rows, then 5 value rows.
    const std::size_t row = cache.row_bytes();
    std::vector<std::byte> a(cache.rows_bytes(5)), b(fresh.rows_bytes(5));
    cache.save_rows(0, 5, a);
    fresh.save_rows(0, 5, b);
    const int kv_dim = m->config().kv_dim();
    auto value = [&](const std::vector<std::byte>& rows, bool v, int p, int i) -> double {
      const std::byte* r = rows.data() + (v ? 5 * row : 0) + static_cast<std::size_t>(p) * row;
      if (type == inkling::DType::F32) {
        float f;
        std::memcpy(&f, r + 4 * i, 4);
        return f;
      }
      std::uint16_t h;  // compared as fp16 bit patterns: the difference counts ulps
      std::memcpy(&h, r + 2 * i, 2);
      return h;
    };
    double worst_k = 0, worst_v = 0;
    for (int p = 0; p < 5; ++p)
      for (int i = 0; i < kv_dim; ++i) {
        worst_k = std::max(worst_k, std::abs(value(a, false, p, i) - value(b, false, p, i)));
        worst_v = std::max(worst_v, std::abs(value(a, true, p, i) - value(b, true, p, i)));
      }
    INFO(inkling::dtype_name(type));
    CHECK(worst_v == 0.0);
    CHECK(worst_k <= (type == inkling::DType::F32 ? 1e-4 : 2.0));  // f32 rounding; F16: 2 ulps
    // Generation continues from the shorter cache.
    CHECK(prefill(*m, cache, {300}).size() == 512u);
  }
  KVCache cache(*m, {.n_ctx = 64});
  prefill(*m, cache, kPrompt);
  CHECK(code_of([&] { cache.remove(0, 3, 100); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { cache.remove(0, 4, 2); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("a sequence's rows saved from one cache and loaded into another continue identically") {
  auto m = load("stories260K-f32.gguf");
  if (!m) return;
  for (auto type : {inkling::DType::F32, inkling::DType::F16}) {
    KVCache a(*m, {.n_ctx = 32, .type = type}), b(*m, {.n_ctx = 32, .n_seq = 2, .type = type});
    prefill(*m, a, kPrompt);
    const int n = a.length();
    CHECK(a.rows_bytes(n) == 2u * static_cast<std::size_t>(m->config().n_layer * n) * a.row_bytes());
    std::vector<std::byte> rows(a.rows_bytes(n));
    a.save_rows(0, n, rows);
    b.load_rows(1, n, rows);  // into another sequence of a cache with more of them
    CHECK(b.length(1) == n);
    CHECK(b.length(0) == 0);
    const auto next_a = prefill(*m, a, {300});
    const auto next_b = prefill(*m, b, {300}, 1);
    CHECK(max_abs_diff(next_a, next_b) == 0.0);

    // Wrong counts and sizes are refused, naming the problem.
    std::vector<std::byte> short_buf(rows.size() - 1);
    CHECK(code_of([&] { a.save_rows(0, n + 2, rows); }) == ErrorCode::InvalidArgument);  // more than cached
    CHECK(code_of([&] { a.save_rows(0, n, short_buf); }) == ErrorCode::InvalidArgument);
    CHECK(code_of([&] { a.save_rows(2, n, rows); }) == ErrorCode::InvalidArgument);       // no such sequence
    CHECK(code_of([&] { b.load_rows(0, n, short_buf); }) == ErrorCode::InvalidArgument);
    CHECK(code_of([&] { b.load_rows(0, 33, rows); }) == ErrorCode::InvalidArgument);    // over n_ctx
  }
}
