// The C ABI: every misuse gives a status and a message, never a crash or an exception.
#include <doctest/doctest.h>

#include <algorithm>

#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "inkling.h"
#include "shared_data.hpp"

namespace {

std::string model_path() {
  auto p = inkling::test::require_shared("models/stories260K-f32.gguf");
  return p ? p->string() : std::string();
}

}  // namespace

TEST_CASE("version, status names, free(NULL)") {
  CHECK(ink_version_number() == INK_VERSION_NUMBER);
  CHECK(std::string(ink_version()) == "0.1.0");
  CHECK(std::string(ink_status_name(INK_ERR_IO)) == "I/O error");
  ink_model_free(nullptr);
  ink_generator_free(nullptr);
  ink_generator_cancel(nullptr);
  CHECK(ink_generator_stop_reason(nullptr) == INK_STOP_NONE);
}

TEST_CASE("loading: null arguments, missing and corrupt files") {
  ink_model* m = reinterpret_cast<ink_model*>(0x1);
  CHECK(ink_model_load(nullptr, nullptr, &m) == INK_ERR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  CHECK(std::string(ink_last_error()).find("path") != std::string::npos);
  CHECK(ink_model_load("x.gguf", nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_model_load("/nonexistent.gguf", nullptr, &m) == INK_ERR_IO);
  CHECK(std::string(ink_last_error()).find("/nonexistent.gguf") != std::string::npos);
  const auto vocab = inkling::test::require_shared("vocab/ggml-vocab-gpt-2.gguf");
  if (vocab) CHECK(ink_model_load(vocab->string().c_str(), nullptr, &m) != INK_OK);  // no weights: a clear error
  ink_model_params p = ink_model_params_default();
  p.threads = -3;
  const std::string path = model_path();
  if (path.empty()) return;
  CHECK(ink_model_load(path.c_str(), &p, &m) == INK_ERR_INVALID_ARGUMENT);
  p.struct_size = 2;
  CHECK(ink_model_load(path.c_str(), &p, &m) == INK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("tokenizer calls: size queries, small buffers, invalid UTF-8, bad ids") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  ink_model_info info;
  info.struct_size = sizeof info;
  REQUIRE(ink_model_info_get(m, &info) == INK_OK);
  CHECK(std::string(info.architecture) == "llama");
  CHECK(info.n_vocab == 512);
  CHECK(info.bos == 1);

  const char* text = "Once upon a time";
  size_t n = 0;
  CHECK(ink_tokenize(m, text, std::strlen(text), 1, 0, nullptr, 0, &n) == INK_OK);
  CHECK(n == 5);
  std::vector<int32_t> ids(n);
  int32_t small[2];
  CHECK(ink_tokenize(m, text, std::strlen(text), 1, 0, small, 2, &n) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(n == 5);
  CHECK(ink_tokenize(m, text, std::strlen(text), 1, 0, ids.data(), ids.size(), &n) == INK_OK);
  CHECK(ids[0] == 1);
  CHECK(ink_tokenize(m, "\xC3\x28", 2, 1, 0, ids.data(), ids.size(), &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("UTF-8") != std::string::npos);
  CHECK(ink_tokenize(nullptr, text, 3, 1, 0, ids.data(), ids.size(), &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_tokenize(m, nullptr, 3, 1, 0, ids.data(), ids.size(), &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_tokenize(m, nullptr, 0, 1, 0, ids.data(), ids.size(), &n) == INK_OK);  // empty text
  // Regression (found by fuzz_capi): no tokens at all into a buffer.
  CHECK(ink_tokenize(m, "", 0, 0, 0, ids.data(), ids.size(), &n) == INK_OK);
  CHECK(n == 0);

  size_t len = 0;
  CHECK(ink_detokenize(m, ids.data() + 1, 4, nullptr, 0, &len) == INK_OK);
  std::vector<char> buf(len + 1);
  CHECK(ink_detokenize(m, ids.data() + 1, 4, buf.data(), buf.size(), &len) == INK_OK);
  CHECK(std::string(buf.data()) == "Once upon a time");
  char tiny[3];
  CHECK(ink_detokenize(m, ids.data() + 1, 4, tiny, sizeof tiny, &len) == INK_ERR_BUFFER_TOO_SMALL);
  const int32_t bad[] = {5, 100000};
  CHECK(ink_detokenize(m, bad, 2, buf.data(), buf.size(), &len) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_token_piece(m, -1, buf.data(), buf.size(), &len) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_token_piece(m, 1, buf.data(), buf.size(), nullptr) == INK_ERR_INVALID_ARGUMENT);
  ink_model_free(m);
}

TEST_CASE("generation: pull steps, streaming with cancel, metrics, bad parameters") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  ink_generator_params p = ink_generator_params_default();
  p.temperature = 0;
  p.max_new_tokens = 10;
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  REQUIRE(ink_generator_prompt(g, "Once upon a time", 16) == INK_OK);
  ink_step step;
  step.struct_size = sizeof step;
  std::string text;
  int steps = 0;
  while (ink_generator_step(g, &step) == INK_OK && !step.done) {
    text.append(step.text, step.text_len);
    CHECK(step.n_alternatives > 0);
    ++steps;
  }
  CHECK(steps == 10);
  CHECK(text == ", there was a little girl named Lily");
  CHECK(step.stop_reason == INK_STOP_MAX_TOKENS);
  size_t len = 0;
  CHECK(ink_generator_text(g, nullptr, 0, &len) == INK_OK);
  CHECK(len == text.size());

  struct Ctx {
    int seen = 0;
  } ctx;
  auto cb = [](const ink_step*, void* user) -> int { return ++static_cast<Ctx*>(user)->seen < 3; };
  CHECK(ink_generate(g, "Once upon a time", 16, cb, &ctx) == INK_OK);
  CHECK(ctx.seen == 3);
  CHECK(ink_generator_stop_reason(g) == INK_STOP_CANCELLED);
  ink_metrics met;
  met.struct_size = sizeof met;
  CHECK(ink_generator_metrics(g, &met) == INK_OK);
  CHECK(met.gen_tokens == 3);
  CHECK(met.prompt_tokens == 5);

  CHECK(ink_generator_prompt(g, "\xFF", 1) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_step(nullptr, &step) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_step(g, nullptr) == INK_ERR_INVALID_ARGUMENT);
  ink_generator_free(g);

  ink_generator* bad = nullptr;
  p.top_p = 2.0f;
  CHECK(ink_generator_create(m, &p, &bad) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("top_p") != std::string::npos);
  CHECK(bad == nullptr);
  p = ink_generator_params_default();
  p.n_stop_strings = 1;  // with a NULL array
  CHECK(ink_generator_create(m, &p, &bad) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_create(nullptr, nullptr, &bad) == INK_ERR_INVALID_ARGUMENT);
  // A prompt longer than the context.
  p = ink_generator_params_default();
  p.n_ctx = 4;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  CHECK(ink_generator_prompt(g, "Once upon a time there was", 26) == INK_ERR_CONTEXT_FULL);
  ink_generator_free(g);
  ink_model_free(m);
}

TEST_CASE("one model shared by generators on several threads; cancel from another thread") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  std::vector<std::string> out(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&, i] {
      ink_generator_params p = ink_generator_params_default();
      p.temperature = 0;
      p.max_new_tokens = 20;
      ink_generator* g = nullptr;
      if (ink_generator_create(m, &p, &g) != INK_OK) return;
      if (ink_generate(g, "Once upon a time", 16, nullptr, nullptr) == INK_OK) {
        size_t len = 0;
        ink_generator_text(g, nullptr, 0, &len);
        out[static_cast<std::size_t>(i)].resize(len);
        ink_generator_text(g, out[static_cast<std::size_t>(i)].data(), len, &len);
      }
      ink_generator_free(g);
    });
  for (auto& t : threads) t.join();
  CHECK(out[0] == out[1]);
  CHECK(out[1] == out[2]);
  CHECK(!out[0].empty());

  ink_generator_params p = ink_generator_params_default();
  p.max_new_tokens = 1000000;
  p.stop_at_eog = 0;
  p.n_ctx = 512;  // a long run, cancelled: past the 128 trained positions, stretched
  p.rope_scale = 4;
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  std::atomic<int> started{0};
  auto cb = [](const ink_step*, void* user) -> int {
    static_cast<std::atomic<int>*>(user)->store(1);
    return 1;
  };
  std::thread canceller([&] {
    while (!started.load()) std::this_thread::yield();
    ink_generator_cancel(g);
  });
  CHECK(ink_generate(g, "Once", 4, cb, &started) == INK_OK);
  canceller.join();
  const auto r = ink_generator_stop_reason(g);
  CHECK((r == INK_STOP_CANCELLED || r == INK_STOP_CONTEXT_FULL));
  ink_generator_free(g);
  ink_model_free(m);
}

namespace {

std::string generate_alone(ink_model* m, const char* prompt, const ink_generator_params& p) {
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  REQUIRE(ink_generate(g, prompt, std::strlen(prompt), nullptr, nullptr) == INK_OK);
  size_t len = 0;
  REQUIRE(ink_generator_text(g, nullptr, 0, &len) == INK_OK);
  std::string text(len, '\0');
  REQUIRE(ink_generator_text(g, text.data(), text.size(), &len) == INK_OK);
  ink_generator_free(g);
  return text;
}

}  // namespace

TEST_CASE("batch: requests decoded together give what each gives alone; events, cancel, misuse") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  ink_batch* b = nullptr;
  CHECK(ink_batch_create(nullptr, nullptr, &b) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_batch_create(m, nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);
  ink_batch_params bp = ink_batch_params_default();
  bp.max_sequences = 0;
  CHECK(ink_batch_create(m, &bp, &b) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("max_sequences") != std::string::npos);
  bp.max_sequences = 2;
  REQUIRE(ink_batch_create(m, &bp, &b) == INK_OK);

  const char* prompts[] = {"Once upon a time", "The little dog", "Lily wanted"};
  ink_generator_params p = ink_generator_params_default();
  p.max_new_tokens = 20;
  p.seed = 5;
  uint64_t ids[3];
  for (int i = 0; i < 3; ++i) {
    p.temperature = i == 1 ? 0.9f : 0.0f;
    REQUIRE(ink_batch_add(b, prompts[i], std::strlen(prompts[i]), &p, &ids[i]) == INK_OK);
  }
  uint64_t cancelled = 0;
  REQUIRE(ink_batch_add(b, "One day", 7, &p, &cancelled) == INK_OK);
  ink_batch_cancel(b, cancelled);
  ink_batch_cancel(b, 424242);  // unknown: ignored
  ink_batch_cancel(nullptr, 1);
  CHECK(ink_batch_add(b, "\xff", 1, &p, &ids[0]) == INK_ERR_INVALID_ARGUMENT);  // invalid UTF-8
  ink_generator_params beams = p;
  beams.num_beams = 2;
  uint64_t unused = 0;
  CHECK(ink_batch_add(b, "x", 1, &beams, &unused) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("num_beams") != std::string::npos);

  std::string streamed[3];
  int finished = 0, steps = 0;
  bool saw_cancel = false;
  while (!ink_batch_idle(b) && steps < 1000) {
    size_t n = 0;
    REQUIRE(ink_batch_step(b, &n) == INK_OK);
    ++steps;
    for (size_t i = 0; i < n; ++i) {
      ink_batch_event e;
      e.struct_size = sizeof e;
      ink_step s;
      s.struct_size = sizeof s;
      REQUIRE(ink_batch_event_get(b, i, &e, &s) == INK_OK);
      CHECK(std::string(e.error).empty());
      for (int k = 0; k < 3; ++k)
        if (e.request == ids[k] && !s.done) streamed[k].append(s.text, s.text_len);
      if (e.request == cancelled) {
        CHECK(e.finished);
        CHECK(e.stop_reason == INK_STOP_CANCELLED);
        CHECK(s.done);
        saw_cancel = true;
      }
      if (e.finished) ++finished;
    }
    ink_batch_event e;
    e.struct_size = sizeof e;
    CHECK(ink_batch_event_get(b, n, &e, nullptr) == INK_ERR_INVALID_ARGUMENT);  // past the end
  }
  CHECK(saw_cancel);
  CHECK(finished == 4);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    p.temperature = i == 1 ? 0.9f : 0.0f;
    const std::string alone = generate_alone(m, prompts[i], p);
    size_t len = 0;
    REQUIRE(ink_batch_result_text(b, ids[i], nullptr, 0, &len) == INK_OK);
    std::string text(len, '\0');
    REQUIRE(ink_batch_result_text(b, ids[i], text.data(), len, &len) == INK_OK);
    CHECK(text == alone);
    CHECK(streamed[i] == alone);
    ink_metrics mt;
    mt.struct_size = sizeof mt;
    REQUIRE(ink_batch_result_metrics(b, ids[i], &mt) == INK_OK);
    CHECK(mt.gen_tokens == 20);
    ink_batch_release(b, ids[i]);
    CHECK(ink_batch_result_text(b, ids[i], nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  }
  CHECK(ink_batch_step(nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_batch_idle(nullptr) == 1);
  ink_batch_free(b);
  ink_batch_free(nullptr);
  ink_model_free(m);
}

TEST_CASE("chat templates through the C ABI") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  const ink_chat_message msgs[] = {{"system", "Be brief.", 9}, {"user", "Hi", 2}};
  size_t len = 0;
  REQUIRE(ink_chat_apply(m, "chatml", msgs, 2, 1, nullptr, 0, &len) == INK_OK);
  std::string text(len, '\0');
  REQUIRE(ink_chat_apply(m, "chatml", msgs, 2, 1, text.data(), len, &len) == INK_OK);
  CHECK(text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  size_t n = 0;
  REQUIRE(ink_chat_tokenize(m, "chatml", msgs, 2, 1, nullptr, 0, &n) == INK_OK);
  std::vector<int32_t> ids(n);
  REQUIRE(ink_chat_tokenize(m, "chatml", msgs, 2, 1, ids.data(), n, &n) == INK_OK);
  CHECK(ids.front() == 1);  // stories260K's BOS, once
  size_t count = 0;
  REQUIRE(ink_chat_stop_strings(m, "chatml", nullptr, 0, &len, &count) == INK_OK);
  std::string stops(len, '\0');
  REQUIRE(ink_chat_stop_strings(m, "chatml", stops.data(), len, &len, &count) == INK_OK);
  CHECK(count >= 1);
  CHECK(std::string(stops.c_str()) == "<|im_end|>");
  REQUIRE(ink_chat_stop_tokens(m, "chatml", nullptr, 0, &n) == INK_OK);
  CHECK(n < count);  // stories260K has no <|im_end|> token (its EOS may be one)
  std::vector<int32_t> stop_ids(n);
  REQUIRE(ink_chat_stop_tokens(m, "chatml", stop_ids.data(), n, &n) == INK_OK);
  // The tokens prompt a generator.
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, nullptr, &g) == INK_OK);
  CHECK(ink_generator_prompt_tokens(g, ids.data(), ids.size()) == INK_OK);
  const int32_t bad[] = {1, 9999};
  CHECK(ink_generator_prompt_tokens(g, bad, 2) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_prompt_tokens(g, nullptr, 3) == INK_ERR_INVALID_ARGUMENT);
  ink_generator_free(g);
  // Misuse: no template in the model, unknown name, bad role, NULLs, small buffers.
  CHECK(ink_chat_apply(m, nullptr, msgs, 2, 1, nullptr, 0, &len) == INK_ERR_UNSUPPORTED);
  CHECK(ink_chat_apply(m, "jinja9", msgs, 2, 1, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  const ink_chat_message wizard[] = {{"wizard", "x", 1}};
  CHECK(ink_chat_apply(m, "gemma", wizard, 1, 1, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  const ink_chat_message no_role[] = {{nullptr, "x", 1}};
  CHECK(ink_chat_apply(m, "chatml", no_role, 1, 1, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_chat_apply(m, "chatml", nullptr, 2, 1, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  char small[4];
  CHECK(ink_chat_apply(m, "chatml", msgs, 2, 1, small, sizeof small, &len) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(ink_chat_apply(nullptr, "chatml", msgs, 2, 1, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  ink_model_free(m);
}

TEST_CASE("beam search sequences and the drawn seed through the C ABI") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  ink_generator_params p = ink_generator_params_default();
  p.max_new_tokens = 12;
  p.num_beams = 3;
  p.num_return_sequences = 3;
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  size_t n = 99;
  CHECK(ink_generator_sequence_count(g, &n) == INK_OK);
  CHECK(n == 0);  // nothing generated yet
  const std::string prompt = "Once upon a time";
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  REQUIRE(ink_generator_sequence_count(g, &n) == INK_OK);
  CHECK(n == 3);
  std::vector<ink_sequence> seqs(n);
  for (size_t i = 0; i < n; ++i) {
    seqs[i].struct_size = sizeof(ink_sequence);
    REQUIRE(ink_generator_sequence(g, i, &seqs[i]) == INK_OK);
    CHECK(seqs[i].n_tokens > 0);
    CHECK(seqs[i].length >= static_cast<int32_t>(seqs[i].n_tokens));
    CHECK(seqs[i].logprob < 0);
    if (i > 0) CHECK(seqs[i - 1].score >= seqs[i].score);
  }
  char text[512];
  size_t len = 0;
  REQUIRE(ink_generator_text(g, text, sizeof text, &len) == INK_OK);
  CHECK(std::string(seqs[0].text, seqs[0].text_len) == std::string(text, len));
  CHECK(std::string(seqs[1].text, seqs[1].text_len) != std::string(seqs[2].text, seqs[2].text_len));
  // The best hypothesis streams as it changes; the last one reported is the result's
  // best; returning 0 cancels.
  struct Progress {
    std::vector<int32_t> steps;
    std::string text;
    std::vector<int32_t> tokens;
    int32_t cancel_at = -1;
  } progress;
  const auto on_update = [](const ink_sequence* best, int32_t step, void* user) -> int {
    auto& pr = *static_cast<Progress*>(user);
    pr.steps.push_back(step);
    pr.text.assign(best->text, best->text_len);
    pr.tokens.assign(best->tokens, best->tokens + best->n_tokens);
    return step != pr.cancel_at;
  };
  REQUIRE(ink_generator_on_beam_update(g, on_update, &progress) == INK_OK);
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  REQUIRE(!progress.steps.empty());
  CHECK(progress.steps.front() == 0);
  CHECK(std::is_sorted(progress.steps.begin(), progress.steps.end()));
  REQUIRE(ink_generator_sequence(g, 0, &seqs[0]) == INK_OK);
  CHECK(progress.tokens == std::vector<int32_t>(seqs[0].tokens, seqs[0].tokens + seqs[0].n_tokens));
  progress = Progress{};
  progress.cancel_at = 2;
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  CHECK(ink_generator_stop_reason(g) == INK_STOP_CANCELLED);
  CHECK(progress.steps.back() == 2);
  REQUIRE(ink_generator_on_beam_update(g, nullptr, nullptr) == INK_OK);
  progress = Progress{};
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  CHECK(progress.steps.empty());
  CHECK(ink_generator_on_beam_update(nullptr, nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);
  ink_sequence bad{};
  bad.struct_size = sizeof bad;
  CHECK(ink_generator_sequence(g, 3, &bad) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("index 3") != std::string::npos);
  uint64_t seed = 0;
  CHECK(ink_generator_seed(g, &seed) == INK_OK);
  CHECK(seed == p.seed);
  CHECK(ink_generator_seed(g, nullptr) == INK_ERR_INVALID_ARGUMENT);
  ink_generator_free(g);

  // Beams and speculation do not combine: refused, naming the field.
  p.lookup_draft = 4;
  CHECK(ink_generator_create(m, &p, &g) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("lookup_draft") != std::string::npos);

  // A random seed is drawn and reported; it reproduces the run.
  ink_generator_params s = ink_generator_params_default();
  s.max_new_tokens = 16;
  s.temperature = 1.0f;
  s.seed = INK_SEED_RANDOM;
  REQUIRE(ink_generator_create(m, &s, &g) == INK_OK);
  REQUIRE(ink_generator_seed(g, &seed) == INK_OK);
  CHECK(seed != INK_SEED_RANDOM);
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  REQUIRE(ink_generator_text(g, text, sizeof text, &len) == INK_OK);
  const std::string first(text, len);
  ink_generator_free(g);
  s.seed = seed;
  REQUIRE(ink_generator_create(m, &s, &g) == INK_OK);
  REQUIRE(ink_generate(g, prompt.data(), prompt.size(), nullptr, nullptr) == INK_OK);
  REQUIRE(ink_generator_text(g, text, sizeof text, &len) == INK_OK);
  CHECK(std::string(text, len) == first);
  ink_generator_free(g);
  ink_model_free(m);
}

TEST_CASE("the sampler fields of ink_generator_params reach the sampler") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  // Each field set out of range is refused naming it: the value reached the C++ config.
  struct Bad {
    const char* name;
    void (*set)(ink_generator_params&);
  };
  const Bad bad[] = {
      {"mirostat", [](ink_generator_params& p) { p.mirostat = 3; }},
      {"mirostat_tau", [](ink_generator_params& p) { p.mirostat_tau = -1; }},
      {"mirostat_eta", [](ink_generator_params& p) { p.mirostat_eta = -1; }},
      {"mirostat_m", [](ink_generator_params& p) { p.mirostat_m = 1; }},
      {"dry_multiplier", [](ink_generator_params& p) { p.dry_multiplier = -1; }},
      {"dry_base", [](ink_generator_params& p) { p.dry_base = 0.5f; }},
      {"dry_allowed_length", [](ink_generator_params& p) { p.dry_allowed_length = 0; }},
      {"dry_penalty_last_n", [](ink_generator_params& p) { p.dry_penalty_last_n = -2; }},
      {"xtc_probability", [](ink_generator_params& p) { p.xtc_probability = 2; }},
      {"xtc_threshold", [](ink_generator_params& p) { p.xtc_threshold = 2; }},
      {"top_n_sigma", [](ink_generator_params& p) { p.top_n_sigma = NAN; }},
      {"banana", [](ink_generator_params& p) { p.samplers = "top_k;banana"; }},
      {"DRY sequence breaker", [](ink_generator_params& p) {
         static const char* const breakers[] = {"\n", nullptr};
         p.dry_sequence_breakers = breakers;
         p.n_dry_sequence_breakers = 2;
       }},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.name);
    ink_generator_params p = ink_generator_params_default();
    b.set(p);
    ink_generator* g = nullptr;
    CHECK(ink_generator_create(m, &p, &g) == INK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(ink_last_error()).find(b.name) != std::string::npos);
    CHECK(g == nullptr);
  }
  // The order is honoured: top_k 1 is greedy unless the order leaves top_k out.
  auto text_of = [&](const char* samplers) {
    ink_generator_params p = ink_generator_params_default();
    p.max_new_tokens = 24;
    p.temperature = 1.5f;
    p.top_k = 1;
    p.top_p = 1;
    p.min_p = 0;
    p.seed = 4;
    p.samplers = samplers;
    ink_generator* g = nullptr;
    REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
    REQUIRE(ink_generate(g, "Once upon a time", 16, nullptr, nullptr) == INK_OK);
    char buf[1024];
    size_t len = 0;
    REQUIRE(ink_generator_text(g, buf, sizeof buf, &len) == INK_OK);
    ink_generator_free(g);
    return std::string(buf, len);
  };
  const std::string greedy = text_of(nullptr);
  CHECK(text_of("top_k;temperature") == greedy);
  CHECK(text_of("temperature") != greedy);
  ink_model_free(m);
}

TEST_CASE("scoring through the C ABI: per-token logprobs and perplexity") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  const std::string text = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  std::vector<int32_t> ids(256);
  size_t n = 0;
  REQUIRE(ink_tokenize(m, text.data(), text.size(), 1, 0, ids.data(), ids.size(), &n) == INK_OK);
  ids.resize(n);
  std::vector<float> lp(n);
  REQUIRE(ink_score_tokens(m, ids.data(), n, lp.data(), lp.size()) == INK_OK);
  CHECK(std::isnan(lp[0]));
  for (size_t i = 1; i < n; ++i) CHECK(lp[i] < 0);
  CHECK(ink_score_tokens(m, ids.data(), n, lp.data(), n - 1) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(ink_score_tokens(m, ids.data(), 1, lp.data(), 1) == INK_ERR_INVALID_ARGUMENT);
  // One window covering the text, stride n_ctx - 1: scores every token but the first two
  // (the window's first token is BOS, its own first prediction is skipped).
  double ppl = 0;
  const std::vector<int32_t> body(ids.begin() + 1, ids.end());  // without BOS
  REQUIRE(ink_perplexity(m, body.data(), body.size(), static_cast<int32_t>(body.size()), 0, &ppl) == INK_OK);
  CHECK(ppl > 1);
  double ppl_stride = 0;
  REQUIRE(ink_perplexity(m, body.data(), body.size(), 8, 4, &ppl_stride) == INK_OK);
  CHECK(ppl_stride != ppl);
  CHECK(ink_perplexity(m, body.data(), body.size(), 8, 8, &ppl) == INK_ERR_INVALID_ARGUMENT);
  CHECK(std::string(ink_last_error()).find("stride") != std::string::npos);
  ink_model_free(m);
}

TEST_CASE("context shift through the C ABI") {
  const std::string path = model_path();
  if (path.empty()) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path.c_str(), nullptr, &m) == INK_OK);
  ink_generator_params p = ink_generator_params_default();
  p.max_new_tokens = 60;
  p.temperature = 0;
  p.n_ctx = 32;
  p.stop_at_eog = 0;
  auto stop_of = [&](const ink_generator_params& params) {
    ink_generator* g = nullptr;
    REQUIRE(ink_generator_create(m, &params, &g) == INK_OK);
    const ink_status s = ink_generate(g, "Once upon a time", 16, nullptr, nullptr);
    const ink_stop_reason r = ink_generator_stop_reason(g);
    ink_generator_free(g);
    return std::make_pair(s, r);
  };
  CHECK(stop_of(p).second == INK_STOP_CONTEXT_FULL);
  p.context_shift = 1;
  CHECK(stop_of(p) == std::make_pair(INK_OK, INK_STOP_MAX_TOKENS));
  p.n_keep = 40;  // nothing left to drop
  CHECK(stop_of(p).first == INK_ERR_CONTEXT_FULL);
  CHECK(std::string(ink_last_error()).find("n_keep") != std::string::npos);
  ink_model_free(m);
}
