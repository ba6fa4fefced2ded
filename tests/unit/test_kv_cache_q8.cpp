// The Q8_0 KV cache: about a quarter of F32's memory, logits close to the F32 cache's,
// and every cache operation (fork, remove with RoPE re-rotation, saved state) works on it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "inkling/kv_cache.hpp"
#include "kernels/kernels.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

// synth-gemma: head size 32, the smallest a Q8_0 cache takes.
std::shared_ptr<const Model> gemma() {
  static const std::shared_ptr<const Model> model = [] {
    auto path = test::require_shared("models/synth-gemma.gguf");
    return path ? Model::load(*path, {.threads = 1}) : nullptr;
  }();
  return model;
}

std::vector<TokenId> prompt_ids(const Model& m, int n) {
  std::vector<TokenId> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<TokenId>((i * 7919 + 13) % m.config().n_vocab));
  return ids;
}

// Logits of every position of `ids` fed in chunks of `chunk` tokens.
std::vector<float> run(const Model& m, KVCache& cache, const std::vector<TokenId>& ids, int start, int chunk, int seq = 0) {
  const auto nv = static_cast<std::size_t>(m.config().n_vocab);
  std::vector<float> all;
  for (int i = start; i < static_cast<int>(ids.size()); i += chunk) {
    Batch b;
    for (int j = i; j < std::min<int>(i + chunk, static_cast<int>(ids.size())); ++j) b.add(ids[static_cast<std::size_t>(j)], j, seq, true);
    std::vector<float> logits(static_cast<std::size_t>(b.size()) * nv);
    m.forward(b, cache, logits);
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

// Worst |a - b| relative to the spread (standard deviation) of a's logits.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double mean = 0, var = 0, worst = 0;
  for (float x : a) mean += x;
  mean /= static_cast<double>(a.size());
  for (float x : a) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / static_cast<double>(a.size()));
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst / sd;
}

}  // namespace

TEST_CASE("a Q8_0 cache takes about a quarter of F32's memory and refuses heads it cannot split") {
  if (!gemma()) return;
  const KVCache f32(*gemma(), {.n_ctx = 64}), q8(*gemma(), {.n_ctx = 64, .type = DType::Q8_0});
  CHECK(q8.bytes() * 128 == f32.bytes() * 34);  // 34 bytes per 32 values instead of 128
  CHECK(q8.type() == DType::Q8_0);
  if (auto stories = test::stories_model())
    CHECK_THROWS_WITH_AS(KVCache(*stories, {.type = DType::Q8_0}), doctest::Contains("multiple of 32"), Error);
  CHECK_THROWS_AS(KVCache(*gemma(), {.type = DType::Q4_0}), Error);
}

TEST_CASE("logits over a Q8_0 cache stay close to the F32 cache's, batched or token by token") {
  if (!gemma()) return;
  const Model& m = *gemma();
  const auto ids = prompt_ids(m, 40);
  KVCache f32(m, {.n_ctx = 64}), q8(m, {.n_ctx = 64, .type = DType::Q8_0}), q8_steps(m, {.n_ctx = 64, .type = DType::Q8_0});
  const auto ref = run(m, f32, ids, 0, 40);
  const auto got = run(m, q8, ids, 0, 40);
  const auto stepped = run(m, q8_steps, ids, 0, 1);
  const double err = relative_error(ref, got);
  MESSAGE("Q8_0 cache: worst |dlogit| = " << err << " standard deviations of the logits");
  CHECK(err < 0.15);
  CHECK(relative_error(got, stepped) < 1e-3);  // the cache holds the same bytes either way
}

TEST_CASE("fork and remove on a Q8_0 cache match recomputing from scratch") {
  if (!gemma()) return;
  const Model& m = *gemma();
  const auto ids = prompt_ids(m, 30);
  KVCache c(m, {.n_ctx = 64, .n_seq = 2, .type = DType::Q8_0});
  run(m, c, std::vector<TokenId>(ids.begin(), ids.begin() + 20), 0, 20);
  c.copy(0, 1);
  CHECK(c.length(1) == 20);
  const auto forked = run(m, c, ids, 20, 10, 1);
  KVCache fresh(m, {.n_ctx = 64, .type = DType::Q8_0});
  const auto full = run(m, fresh, ids, 0, 30);
  const std::vector<float> tail(full.end() - static_cast<std::ptrdiff_t>(forked.size()), full.end());
  CHECK(relative_error(tail, forked) < 1e-3);

  // Drop positions 5..10 of sequence 0: the later entries move down, their keys
  // re-rotated for their new positions. Layer 0's entries depend on nothing but their own
  // token and position, so they must equal those of the shortened sequence computed
  // from scratch (deeper layers saw the dropped tokens: that is what a context shift
  // keeps, by design).
  c.truncate(0, 20);
  c.remove(0, 5, 10);
  CHECK(c.length(0) == 15);
  std::vector<TokenId> shortened(ids.begin(), ids.begin() + 5);
  shortened.insert(shortened.end(), ids.begin() + 10, ids.begin() + 20);
  KVCache again(m, {.n_ctx = 64, .type = DType::Q8_0});
  run(m, again, shortened, 0, 15);
  // Layer 0's rows of the 15 positions: 15 key rows, then 15 value rows.
  const std::size_t row = c.row_bytes();
  std::vector<std::byte> moved(c.rows_bytes(15)), fresh_rows(again.rows_bytes(15));
  c.save_rows(0, 15, moved);
  again.save_rows(0, 15, fresh_rows);
  const int kv_dim = m.config().kv_dim();
  std::vector<float> x(static_cast<std::size_t>(kv_dim)), y(x.size());
  double worst_k = 0;
  for (int p = 0; p < 15; ++p) {
    const std::size_t k_off = static_cast<std::size_t>(p) * row, v_off = (15 + static_cast<std::size_t>(p)) * row;
    kernels::dequantize_row(DType::Q8_0, moved.data() + k_off, x.data(), kv_dim);
    kernels::dequantize_row(DType::Q8_0, fresh_rows.data() + k_off, y.data(), kv_dim);
    for (std::size_t e = 0; e < x.size(); ++e) worst_k = std::max(worst_k, static_cast<double>(std::abs(x[e] - y[e])));
    CHECK(std::memcmp(moved.data() + v_off, fresh_rows.data() + v_off, row) == 0);  // values move as they are
  }
  MESSAGE("re-rotated Q8_0 keys: worst difference " << worst_k);
  CHECK(worst_k < 0.05);  // one more Q8_0 rounding of a rotated key
}

TEST_CASE("a Generator with a Q8_0 cache generates, and its saved state resumes exactly") {
  if (!gemma()) return;
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.sampling.temperature = 0;
  c.kv_type = DType::Q8_0;
  c.n_ctx = 64;
  c.stop_at_eog = false;
  Generator g(gemma(), c);
  const auto ids = prompt_ids(*gemma(), 10);
  const auto first = g.run_tokens(ids);
  CHECK(first.tokens.size() == 12);
  const auto path = std::filesystem::temp_directory_path() / "inkling_test_q8_state.bin";
  g.save_state(path);
  std::vector<TokenId> next = ids;
  next.insert(next.end(), first.tokens.begin(), first.tokens.end());
  next.push_back(5);
  const auto continued = g.run_tokens(next);
  Generator h(gemma(), c);
  h.load_state(path);
  const auto resumed = h.run_tokens(next);
  CHECK(resumed.metrics.cached_prompt_tokens > 10);
  CHECK(resumed.tokens == continued.tokens);
  GenerationConfig f16 = c;
  f16.kv_type = DType::F16;
  Generator other(gemma(), f16);
  CHECK_THROWS_AS(other.load_state(path), Error);  // another cache type's state
  std::filesystem::remove(path);
}
