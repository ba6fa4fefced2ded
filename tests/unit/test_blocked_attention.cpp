// Blocked attention (model/blocked_attention.cpp) through the public API: a long batch
// is cut into several query blocks and key tiles, a decode step is one row block, and
// several sequences may share a batch; all must give the same logits, over every cache
// type, with GQA and a sliding window (synth-gemma3: 4 heads on 1 KV head, window 8;
// synth-llama-gqa: 4 heads on 2 KV heads, no window). 150 positions cross the 64-key
// tiles twice and the 16-token query blocks many times.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::shared_ptr<const Model> load(const char* name, int threads) {
  auto path = test::require_shared(std::string("models/") + name);
  return path ? Model::load(*path, {.threads = threads}) : nullptr;
}

std::vector<TokenId> ids_for(const Model& m, int n, int salt) {
  std::vector<TokenId> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<TokenId>((i * 7919 + salt) % m.config().n_vocab));
  return ids;
}

// Logits of every position, fed `chunk` tokens per forward pass.
std::vector<float> run(const Model& m, KVCache& cache, const std::vector<TokenId>& ids, int chunk) {
  const auto nv = static_cast<std::size_t>(m.config().n_vocab);
  std::vector<float> all;
  for (int i = 0; i < static_cast<int>(ids.size()); i += chunk) {
    Batch b;
    for (int j = i; j < std::min<int>(i + chunk, static_cast<int>(ids.size())); ++j) b.add(ids[static_cast<std::size_t>(j)], j, 0, true);
    std::vector<float> logits(static_cast<std::size_t>(b.size()) * nv);
    m.forward(b, cache, logits);
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
  return d;
}

void check_batched_equals_stepped(const char* name, DType type, int threads) {
  auto m = load(name, threads);
  if (!m) return;
  INFO(name << " cache " << dtype_name(type) << " threads " << threads);
  const auto ids = ids_for(*m, 150, 13);
  KVCache whole(*m, {.n_ctx = 160, .type = type}), odd(*m, {.n_ctx = 160, .type = type}),
      steps(*m, {.n_ctx = 160, .type = type});
  const auto a = run(*m, whole, ids, 150);  // one pass: many blocks, three key tiles
  const auto b = run(*m, odd, ids, 37);     // passes that start mid-tile
  const auto c = run(*m, steps, ids, 1);    // decode steps
  CHECK(max_abs_diff(a, b) < 2e-4);
  CHECK(max_abs_diff(a, c) < 2e-4);
}

}  // namespace

TEST_CASE("a long batch, odd chunks and single steps agree over every cache type") {
  for (int threads : {1, 2}) {
    for (DType type : {DType::F32, DType::F16, DType::Q8_0}) check_batched_equals_stepped("synth-gemma3.gguf", type, threads);
    for (DType type : {DType::F32, DType::F16}) check_batched_equals_stepped("synth-llama-gqa.gguf", type, threads);
  }
}

TEST_CASE("sequences sharing a batch attend only to their own keys") {
  for (const char* name : {"synth-gemma3.gguf", "synth-llama-gqa.gguf"}) {
    auto m = load(name, 2);
    if (!m) return;
    INFO(name);
    const auto nv = static_cast<std::size_t>(m->config().n_vocab);
    const auto x = ids_for(*m, 90, 5), y = ids_for(*m, 70, 101);
    KVCache alone_x(*m, {.n_ctx = 96}), alone_y(*m, {.n_ctx = 96}), shared(*m, {.n_ctx = 96, .n_seq = 2});
    const auto want_x = run(*m, alone_x, x, 90), want_y = run(*m, alone_y, y, 70);
    // Interleaved runs of 3 and 5 tokens, so query blocks hold both sequences.
    Batch b;
    std::vector<std::pair<int, int>> order;  // (sequence, position) of each row
    for (int px = 0, py = 0; px < 90 || py < 70;) {
      for (int i = 0; i < 3 && px < 90; ++i, ++px) b.add(x[static_cast<std::size_t>(px)], px, 0, true), order.emplace_back(0, px);
      for (int i = 0; i < 5 && py < 70; ++i, ++py) b.add(y[static_cast<std::size_t>(py)], py, 1, true), order.emplace_back(1, py);
    }
    std::vector<float> got(order.size() * nv);
    m->forward(b, shared, got);
    double worst = 0;
    for (std::size_t r = 0; r < order.size(); ++r) {
      const auto& want = order[r].first == 0 ? want_x : want_y;
      const auto at = static_cast<std::size_t>(order[r].second) * nv;
      for (std::size_t v = 0; v < nv; ++v) worst = std::max(worst, std::abs(double(got[r * nv + v]) - want[at + v]));
    }
    CHECK(worst < 2e-4);
  }
}
