// Hostile input and tight memory (issue 17): each case here once crashed, hung or
// allocated without bound; now it ends in a typed error or bounded work.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"
#include "model/kv_cache_impl.hpp"
#include "shared_data.hpp"

using inkling::ErrorCode;

namespace {

std::shared_ptr<const inkling::Model> load(const char* name) {
  auto path = inkling::test::require_shared(std::string("models/") + name);
  if (!path) return nullptr;
  return inkling::Model::load(*path, {.threads = 1});
}

template <typename Fn>
inkling::Error error_of(Fn&& fn) {
  try {
    fn();
  } catch (const inkling::Error& e) {
    return e;
  }
  FAIL("expected an inkling::Error");
  return inkling::Error(ErrorCode::Internal, "unreachable");
}

}  // namespace

TEST_CASE("learned positions: the context is capped at the training context") {
  auto model = load("synth-gpt2.gguf");
  if (!model) return;
  const int train = model->config().n_ctx_train;
  REQUIRE(train > 0);
  // Asking for more names both numbers.
  const auto e = error_of([&] { inkling::KVCache cache(*model, {.n_ctx = train + 1}); });
  CHECK(e.code() == ErrorCode::InvalidArgument);
  CHECK(std::string(e.what()).find(std::to_string(train + 1)) != std::string::npos);
  CHECK(std::string(e.what()).find(std::to_string(train)) != std::string::npos);
  // Through the generator too (the CLI's --ctx and the C ABI's n_ctx end here).
  inkling::GenerationConfig g;
  g.n_ctx = 4 * train;
  CHECK(error_of([&] { inkling::Generator gen(model, g); }).code() == ErrorCode::InvalidArgument);
  // Exactly the training context works, and generation stops at its end.
  g.n_ctx = train;
  g.max_new_tokens = train + 8;
  g.stop_at_eog = false;
  inkling::Generator gen(model, g);
  const std::vector<inkling::TokenId> prompt{1, 2, 3};
  const auto r = gen.run_tokens(prompt);
  CHECK(r.stop_reason == inkling::StopReason::ContextFull);
}

TEST_CASE("learned positions: forward refuses a position past the embedding table") {
  auto model = load("synth-gpt2.gguf");
  if (!model) return;
  const int train = model->config().n_ctx_train;
  inkling::KVCache cache(*model, {.n_ctx = train});
  // A cache that claims more positions than the table has (the public API refuses to
  // make one): forward must still not read past the table. Nothing is written: the
  // batch is refused before any thread starts.
  cache.impl().n_ctx = 2 * train;
  inkling::Batch b;
  for (int p = 0; p <= train; ++p) b.add(1, p, 0, p == train);
  std::vector<float> logits(static_cast<std::size_t>(model->config().n_vocab));
  const auto e = error_of([&] { model->forward(b, cache, logits); });
  CHECK(e.code() == ErrorCode::ContextFull);
  CHECK(std::string(e.what()).find("learned positions") != std::string::npos);
  cache.impl().n_ctx = train;
}

TEST_CASE("digit runs are split in linear time") {
  // The 1-3-digit pre-tokenizers once rescanned the rest of a digit run for every piece:
  // 64 KB of digits took 8 s, so this 1 MB run would take over half an hour (and hit
  // ctest's timeout). Linear, it takes about a second.
  for (const char* name : {"synth-qwen2.gguf", "synth-llama3.gguf"}) {
    CAPTURE(name);
    auto model = load(name);
    if (!model) return;
    const inkling::Tokenizer& tok = model->tokenizer();
    std::string digits(1u << 20, '0');
    for (std::size_t i = 0; i < digits.size(); ++i) digits[i] = static_cast<char>('0' + (i * 7 + i / 13) % 10);
    const auto ids = tok.encode(digits, false, false);
    CHECK(ids.size() >= digits.size() / 3);
    CHECK(tok.decode(ids) == digits);
  }
}
