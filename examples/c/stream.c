/* Loads a model and streams a completion, printing each token with its probability
 * and the model's top alternatives. Usage: inkling_c_stream [MODEL.gguf [PROMPT]]
 * Without a model it uses the repository's models/stories260K.gguf (its path is set by
 * the build as INKLING_EXAMPLE_MODEL). */
#include <inkling.h>
#include <stdio.h>
#include <string.h>

#ifndef INKLING_EXAMPLE_MODEL
#define INKLING_EXAMPLE_MODEL "models/stories260K.gguf"
#endif

/* What the callback keeps of each step, to print a probability table after the text. */
typedef struct {
  int count;
  int token[64];
  float prob[64];
  char alt[64][48];
} steps_seen;

static int on_step(const ink_step *step, void *user_data) {
  steps_seen *seen = (steps_seen *)user_data;
  printf("%.*s", (int)step->text_len, step->text); /* stream the text as it comes */
  fflush(stdout);
  if (seen->count < 64) {
    int i = seen->count;
    const ink_alternative *a = step->n_raw_alternatives > 1 ? &step->raw_alternatives[1] : NULL;
    seen->token[i] = step->token;
    seen->prob[i] = step->raw_prob;
    snprintf(seen->alt[i], sizeof seen->alt[i], "%s'%.*s' %.3f", a ? "next best " : "", a ? (int)a->text_len : 0,
             a ? a->text : "", a ? a->prob : 0.0f);
  }
  ++seen->count;
  return 1; /* 0 would cancel */
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : INKLING_EXAMPLE_MODEL;
  const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
  ink_model *model = NULL;
  ink_generator *gen = NULL;
  ink_generator_params params;
  ink_model_info info;
  ink_metrics metrics;
  ink_status st;
  steps_seen seen;
  int i;

  if (argc < 2) fprintf(stderr, "no model given, using %s\n", path);
  if (ink_version_number() != INK_VERSION_NUMBER) fprintf(stderr, "warning: header/library version mismatch\n");
  st = ink_model_load(path, NULL, &model);
  if (st != INK_OK) {
    fprintf(stderr, "error: %s (%s)\n", ink_last_error(), ink_status_name(st));
    return 1;
  }
  info.struct_size = sizeof info;
  ink_model_info_get(model, &info);
  fprintf(stderr, "%s: %d layers, %d dims, vocab %d\n", info.architecture, info.n_layer, info.n_embd, info.n_vocab);

  params = ink_generator_params_default();
  params.max_new_tokens = 40;
  params.temperature = 0.0f; /* greedy: the same text every run */
  params.top_n_alternatives = 3;
  st = ink_generator_create(model, &params, &gen);
  seen.count = 0;
  printf("%s", prompt);
  if (st == INK_OK) st = ink_generate(gen, prompt, strlen(prompt), on_step, &seen);
  if (st != INK_OK) {
    fprintf(stderr, "error: %s\n", ink_last_error());
    ink_generator_free(gen);
    ink_model_free(model);
    return 1;
  }
  metrics.struct_size = sizeof metrics;
  ink_generator_metrics(gen, &metrics);
  printf("\n\ntoken  probability  (%s)\n", "the model's own distribution");
  for (i = 0; i < seen.count && i < 64; ++i) printf("%5d  %.3f        %s\n", seen.token[i], seen.prob[i], seen.alt[i]);
  fprintf(stderr, "%d tokens, stop reason %d, %.1f tokens/s, first token after %.2f ms\n", seen.count,
          (int)ink_generator_stop_reason(gen), metrics.gen_tps, metrics.ttft_ms);
  ink_generator_free(gen);
  ink_model_free(model);
  return 0;
}
