/* The C ABI from C99 (compiled with -std=c99 -Wall -Wextra -pedantic -Werror): every
 * function is called, with its error paths. Prints "N passed, M failed". */
#include <inkling.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (cond) {                                                            \
      ++passed;                                                            \
    } else {                                                               \
      ++failed;                                                            \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", __FILE__, __LINE__, \
              #cond, ink_last_error());                                    \
    }                                                                      \
  } while (0)

static int stop_after_two(const ink_step *step, void *user) {
  int *n = (int *)user;
  (void)step;
  return ++*n < 2;
}

int main(int argc, char **argv) {
  ink_model *m = NULL;
  ink_generator *g = NULL;
  ink_model_params mp = ink_model_params_default();
  ink_generator_params gp = ink_generator_params_default();
  ink_model_info info;
  ink_step step;
  ink_metrics met;
  int32_t ids[64];
  char buf[256];
  size_t n = 0;
  int calls = 0;
  const char *stops[1] = {"girl"};
  const int32_t bias_ids[1] = {2};
  const float bias_vals[1] = {-INFINITY};

  if (argc < 2) {
    fprintf(stderr, "usage: %s stories260K-f32.gguf\n", argv[0]);
    return 2;
  }
  /* versions and names */
  CHECK(ink_version_number() == INK_VERSION_NUMBER);
  CHECK(strcmp(ink_version(), "0.1.0") == 0);
  CHECK(strcmp(ink_status_name(INK_ERR_BUFFER_TOO_SMALL), "buffer too small") == 0);
  CHECK(ink_last_error() != NULL);

  /* loading */
  CHECK(ink_model_load(NULL, NULL, &m) == INK_ERR_INVALID_ARGUMENT && m == NULL);
  CHECK(ink_model_load(argv[1], NULL, NULL) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_model_load("/no/such/model.gguf", NULL, &m) == INK_ERR_IO);
  CHECK(strstr(ink_last_error(), "/no/such/model.gguf") != NULL);
  mp.threads = -1;
  CHECK(ink_model_load(argv[1], &mp, &m) == INK_ERR_INVALID_ARGUMENT);
  mp = ink_model_params_default();
  mp.threads = 1;
  CHECK(ink_model_load(argv[1], &mp, &m) == INK_OK && m != NULL);
  if (!m) return 1;

  /* info */
  CHECK(ink_model_info_get(NULL, &info) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_model_info_get(m, NULL) == INK_ERR_INVALID_ARGUMENT);
  info.struct_size = 0;
  CHECK(ink_model_info_get(m, &info) == INK_ERR_INVALID_ARGUMENT);
  info.struct_size = sizeof info;
  CHECK(ink_model_info_get(m, &info) == INK_OK && info.n_vocab == 512 && strcmp(info.architecture, "llama") == 0);

  /* tokenizer */
  CHECK(ink_tokenize(m, "Once upon a time", 16, 1, 0, NULL, 0, &n) == INK_OK && n == 5);
  CHECK(ink_tokenize(m, "Once upon a time", 16, 1, 0, ids, 2, &n) == INK_ERR_BUFFER_TOO_SMALL && n == 5);
  CHECK(ink_tokenize(m, "Once upon a time", 16, 1, 0, ids, 256, &n) == INK_OK && ids[0] == 1);
  CHECK(ink_tokenize(m, "\xC0\xAF", 2, 1, 0, ids, 256, &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_tokenize(NULL, "x", 1, 1, 0, ids, 256, &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_tokenize(m, "x", 1, 1, 0, ids, 64, NULL) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_detokenize(m, ids + 1, 4, NULL, 0, &n) == INK_OK && n == 16);
  CHECK(ink_detokenize(m, ids + 1, 4, buf, 4, &n) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(ink_detokenize(m, ids + 1, 4, buf, sizeof buf, &n) == INK_OK && strcmp(buf, "Once upon a time") == 0);
  CHECK(ink_detokenize(m, NULL, 3, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);
  ids[0] = 9999;
  CHECK(ink_detokenize(m, ids, 1, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_token_piece(m, 1, buf, sizeof buf, &n) == INK_OK && strcmp(buf, "<s>") == 0);
  CHECK(ink_token_piece(m, 512, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_token_piece(NULL, 1, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);

  /* generator parameters */
  gp.top_k = -5;
  CHECK(ink_generator_create(m, &gp, &g) == INK_ERR_INVALID_ARGUMENT && g == NULL);
  CHECK(strstr(ink_last_error(), "top_k") != NULL);
  gp = ink_generator_params_default();
  gp.top_n_alternatives = INK_MAX_ALTERNATIVES + 1;
  CHECK(ink_generator_create(m, &gp, &g) == INK_ERR_INVALID_ARGUMENT);
  gp = ink_generator_params_default();
  gp.n_logit_bias = 1; /* arrays missing */
  CHECK(ink_generator_create(m, &gp, &g) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_create(NULL, &gp, &g) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_create(m, &gp, NULL) == INK_ERR_INVALID_ARGUMENT);

  /* pull-style generation with a stop string and a banned token */
  gp = ink_generator_params_default();
  gp.temperature = 0.0f;
  gp.max_new_tokens = 20;
  gp.stop_strings = stops;
  gp.n_stop_strings = 1;
  gp.logit_bias_tokens = bias_ids;
  gp.logit_bias_values = bias_vals;
  gp.n_logit_bias = 1;
  CHECK(ink_generator_create(m, &gp, &g) == INK_OK && g != NULL);
  CHECK(ink_generator_prompt(g, "Once upon a time", 16) == INK_OK);
  CHECK(ink_generator_prompt(g, "\xFF", 1) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_prompt(NULL, "x", 1) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_prompt(g, "Once upon a time", 16) == INK_OK);
  step.struct_size = sizeof step;
  while (ink_generator_step(g, &step) == INK_OK && !step.done) {
  }
  CHECK(step.done && step.stop_reason == INK_STOP_STOP_STRING);
  CHECK(ink_generator_stop_reason(g) == INK_STOP_STOP_STRING);
  CHECK(ink_generator_text(g, buf, sizeof buf, &n) == INK_OK && strcmp(buf, ", there was a little ") == 0);
  CHECK(ink_generator_text(g, buf, 3, &n) == INK_ERR_BUFFER_TOO_SMALL);
  CHECK(ink_generator_text(NULL, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);
  step.struct_size = 1;
  CHECK(ink_generator_step(g, &step) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_step(g, NULL) == INK_ERR_INVALID_ARGUMENT);

  /* streaming with cancel, metrics, reset */
  CHECK(ink_generate(g, "Once upon a time", 16, stop_after_two, &calls) == INK_OK && calls == 2);
  CHECK(ink_generator_stop_reason(g) == INK_STOP_CANCELLED);
  met.struct_size = sizeof met;
  CHECK(ink_generator_metrics(g, &met) == INK_OK && met.gen_tokens == 2 && met.prompt_tokens == 5);
  CHECK(ink_generator_metrics(NULL, &met) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_metrics(g, NULL) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_save_state(g, "inkling_c_test_state.bin") == INK_OK);
  CHECK(ink_generator_save_state(NULL, "x") == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_save_state(g, NULL) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_load_state(g, "inkling_c_test_state.bin") == INK_OK);
  CHECK(ink_generator_load_state(g, "/no/such/state.bin") == INK_ERR_IO);
  CHECK(ink_generator_load_state(NULL, "x") == INK_ERR_INVALID_ARGUMENT);
  remove("inkling_c_test_state.bin");
  CHECK(ink_generator_reset(g) == INK_OK);
  CHECK(ink_generator_reset(NULL) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_generator_stop_reason(g) == INK_STOP_NONE);
  CHECK(ink_generate(NULL, "x", 1, NULL, NULL) == INK_ERR_INVALID_ARGUMENT);
  ink_generator_cancel(g);
  ink_generator_cancel(NULL);
  ink_generator_free(g);
  ink_generator_free(NULL);

  /* a prompt longer than the context */
  gp = ink_generator_params_default();
  gp.memory_budget = 1000; /* far too small for any cache */
  CHECK(ink_generator_create(m, &gp, &g) == INK_ERR_OUT_OF_MEMORY && g == NULL);
  gp = ink_generator_params_default();
  gp.kv_f16 = 1;
  gp.temperature = 0.0f;
  gp.max_new_tokens = 5;
  CHECK(ink_generator_create(m, &gp, &g) == INK_OK);
  CHECK(ink_generate(g, "Once upon a time", 16, NULL, NULL) == INK_OK);
  CHECK(ink_generator_text(g, buf, sizeof buf, &n) == INK_OK && strncmp(buf, ", there was", 11) == 0);
  ink_generator_free(g);
  gp = ink_generator_params_default();
  gp.n_ctx = 3;
  CHECK(ink_generator_create(m, &gp, &g) == INK_OK);
  CHECK(ink_generate(g, "Once upon a time", 16, NULL, NULL) == INK_ERR_CONTEXT_FULL);
  ink_generator_free(g);

  /* a Q8_0 cache needs a head size that is a multiple of 32: stories260K's is 8 */
  gp = ink_generator_params_default();
  gp.kv_q8_0 = 1;
  CHECK(ink_generator_create(m, &gp, &g) == INK_ERR_INVALID_ARGUMENT && g == NULL && strstr(ink_last_error(), "multiple of 32") != NULL);

  /* init functions honour the caller's struct_size (an older, smaller struct) */
  {
    ink_generator_params big;
    ink_model_params mp2;
    ink_batch_params bp2;
    memset(&big, 0x7f, sizeof big);
    big.struct_size = (uint32_t)offsetof(ink_generator_params, min_new_tokens);
    CHECK(ink_generator_params_init(&big) == INK_OK && big.max_new_tokens == 256 && big.min_new_tokens == 0x7f7f7f7f);
    big.struct_size = 2;
    CHECK(ink_generator_params_init(&big) == INK_ERR_INVALID_ARGUMENT);
    CHECK(ink_generator_params_init(NULL) == INK_ERR_INVALID_ARGUMENT);
    mp2.struct_size = sizeof mp2;
    CHECK(ink_model_params_init(&mp2) == INK_OK && mp2.use_mmap == 1);
    bp2.struct_size = sizeof bp2;
    CHECK(ink_batch_params_init(&bp2) == INK_OK && bp2.max_sequences == 8);
  }

  /* a batch of two requests, one cancelled before it starts */
  {
    ink_batch *b = NULL;
    ink_batch_params bp = ink_batch_params_default();
    ink_batch_event ev;
    ink_step st;
    ink_metrics mt;
    uint64_t a = 0, c = 0;
    size_t events = 0, i;
    int tokens = 0, steps = 0;
    bp.max_sequences = 2;
    CHECK(ink_batch_create(m, &bp, &b) == INK_OK && b != NULL);
    gp = ink_generator_params_default();
    gp.temperature = 0.0f;
    gp.max_new_tokens = 6;
    CHECK(ink_batch_add(b, "Once upon a time", 16, &gp, &a) == INK_OK);
    CHECK(ink_batch_add(b, "The dog", 7, &gp, &c) == INK_OK && c != a);
    CHECK(ink_batch_add(NULL, "x", 1, &gp, &c) == INK_ERR_INVALID_ARGUMENT);
    ink_batch_cancel(b, c);
    ev.struct_size = sizeof ev;
    st.struct_size = sizeof st;
    while (!ink_batch_idle(b) && steps++ < 100) {
      CHECK(ink_batch_step(b, &events) == INK_OK);
      for (i = 0; i < events; ++i) {
        CHECK(ink_batch_event_get(b, i, &ev, &st) == INK_OK);
        if (ev.request == a && !st.done) ++tokens;
        if (ev.request == c) CHECK(ev.finished && ev.stop_reason == INK_STOP_CANCELLED);
      }
    }
    CHECK(tokens == 6);
    CHECK(ink_batch_result_text(b, a, buf, sizeof buf, &n) == INK_OK && strncmp(buf, ", there was", 11) == 0);
    mt.struct_size = sizeof mt;
    CHECK(ink_batch_result_metrics(b, a, &mt) == INK_OK && mt.gen_tokens == 6);
    ink_batch_release(b, a);
    CHECK(ink_batch_result_text(b, a, buf, sizeof buf, &n) == INK_ERR_INVALID_ARGUMENT);
    ink_batch_free(b);
    ink_batch_free(NULL);
  }

  /* chat: render, tokenize, stop markers, prompt a generator with the ids */
  {
    ink_chat_message msgs[2];
    int32_t ids[256];
    size_t count = 0;
    msgs[0].role = "system";
    msgs[0].content = "Be brief.";
    msgs[0].content_len = 9;
    msgs[1].role = "user";
    msgs[1].content = "Hi";
    msgs[1].content_len = 2;
    CHECK(ink_chat_apply(m, "chatml", msgs, 2, 1, buf, sizeof buf, &n) == INK_OK && strstr(buf, "<|im_start|>user\nHi") != NULL);
    CHECK(ink_chat_apply(m, NULL, msgs, 2, 1, buf, sizeof buf, &n) == INK_ERR_UNSUPPORTED);
    CHECK(ink_chat_tokenize(m, "chatml", msgs, 2, 1, ids, 256, &n) == INK_OK && n > 0 && ids[0] == 1);
    CHECK(ink_chat_stop_strings(m, "chatml", buf, sizeof buf, &n, &count) == INK_OK && count >= 1);
    CHECK(ink_chat_stop_tokens(m, "chatml", ids + 128, 128, &n) == INK_OK);
    CHECK(ink_chat_tokenize(m, "chatml", msgs, 2, 1, ids, 256, &n) == INK_OK);
    CHECK(ink_generator_create(m, NULL, &g) == INK_OK);
    CHECK(ink_generator_prompt_tokens(g, ids, n) == INK_OK);
    CHECK(ink_generator_prompt_tokens(NULL, ids, n) == INK_ERR_INVALID_ARGUMENT);
    ink_generator_free(g);
  }
  ink_model_free(m);
  ink_model_free(NULL);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
