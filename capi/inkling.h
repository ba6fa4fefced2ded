/* inkling C ABI: run LLMs on CPUs from C, Rust, Go or anything with a C FFI.
 *
 * Conventions (they hold for every function below):
 *  - Every fallible call returns an ink_status; INK_OK is 0. On failure
 *    ink_last_error() returns a message for the calling thread, valid until that
 *    thread's next failing inkling call. No C++ exception ever crosses this boundary.
 *  - Objects are opaque handles created by *_load / *_create and released by *_free.
 *    *_free(NULL) is a no-op. A handle must not be used after it is freed.
 *  - Strings in are UTF-8 with an explicit length (no NUL needed); invalid UTF-8 is
 *    refused with INK_ERR_INVALID_ARGUMENT. Strings out go into caller-owned buffers
 *    with a size query: pass buf = NULL and cap = 0 to learn the size, which is always
 *    reported through *len_out (without the NUL; a NUL is written when it fits).
 *  - Parameter structs begin with `struct_size`; get them from ink_*_params_default()
 *    so that fields added in later versions keep their defaults. A program that may
 *    run against a newer library than its header (a plugin, a language binding) should
 *    use ink_*_params_init instead: it fills only the struct_size bytes the caller set,
 *    so a struct that grew in the library cannot overrun the caller's.
 *  - Thread safety: an ink_model is immutable and may be shared by many threads at
 *    once (with a generator per thread); an ink_generator is used by one thread at a
 *    time, except ink_generator_cancel(), which any thread may call.
 * The header is C99 and also valid C++.
 */
#ifndef INKLING_H
#define INKLING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* INK_API marks the exported functions. On Windows a program using the DLL gets
 * dllimport; define INKLING_STATIC when linking the static library instead. */
#if defined(_WIN32)
#if defined(INKLING_BUILDING_LIBRARY)
#define INK_API __declspec(dllexport)
#elif defined(INKLING_STATIC)
#define INK_API
#else
#define INK_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define INK_API __attribute__((visibility("default")))
#else
#define INK_API
#endif

#define INK_VERSION_MAJOR 0
#define INK_VERSION_MINOR 1
#define INK_VERSION_PATCH 0
#define INK_VERSION_NUMBER (INK_VERSION_MAJOR * 10000 + INK_VERSION_MINOR * 100 + INK_VERSION_PATCH)

typedef enum ink_status {
  INK_OK = 0,
  INK_ERR_INVALID_ARGUMENT = 1,
  INK_ERR_IO = 2,
  INK_ERR_FORMAT = 3,
  INK_ERR_UNSUPPORTED = 4,
  INK_ERR_OUT_OF_MEMORY = 5,
  INK_ERR_CONTEXT_FULL = 6,
  INK_ERR_CANCELLED = 7,
  INK_ERR_BUFFER_TOO_SMALL = 8,
  INK_ERR_INTERNAL = 99
} ink_status;

/* The library's version, "MAJOR.MINOR.PATCH", and as a number comparable with
 * INK_VERSION_NUMBER to detect a header/library mismatch. */
INK_API const char *ink_version(void);
INK_API int ink_version_number(void);
/* The calling thread's last error message ("" if none). Never NULL. */
INK_API const char *ink_last_error(void);
/* A static name for a status, e.g. "invalid argument". Never NULL. */
INK_API const char *ink_status_name(ink_status status);

/* ---- models --------------------------------------------------------------------- */

typedef struct ink_model ink_model;

typedef struct ink_model_params {
  uint32_t struct_size; /* sizeof(ink_model_params) */
  int32_t threads;      /* 0 = physical cores */
  int32_t use_mmap;     /* nonzero (default): map the file; 0: read it into memory */
} ink_model_params;

INK_API ink_model_params ink_model_params_default(void);
/* Sets the defaults in *p, writing at most p->struct_size bytes (set it first). */
INK_API ink_status ink_model_params_init(ink_model_params *p);

/* Loads a GGUF model. params may be NULL for defaults. On success *out owns the model
 * (release with ink_model_free); on failure *out is NULL. */
INK_API ink_status ink_model_load(const char *path, const ink_model_params *params, ink_model **out);
INK_API void ink_model_free(ink_model *model);

typedef struct ink_model_info {
  uint32_t struct_size;
  const char *architecture; /* owned by the model, valid until ink_model_free */
  const char *name;
  int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
  uint64_t weight_bytes;
  int32_t bos, eos, eot; /* -1 when the vocabulary has none */
  int32_t add_bos;
} ink_model_info;

/* out->struct_size must be set by the caller (sizeof(ink_model_info)). */
INK_API ink_status ink_model_info_get(const ink_model *model, ink_model_info *out);

/* ---- tokenizer ------------------------------------------------------------------- */

/* Text -> ids. add_special: BOS/EOS as the model says; parse_special: control tokens
 * written in the text become their ids. Size query: ids = NULL, cap = 0. *n_out always
 * receives the number of ids; INK_ERR_BUFFER_TOO_SMALL when cap < *n_out. */
INK_API ink_status ink_tokenize(const ink_model *model, const char *text, size_t len, int add_special,
                                int parse_special, int32_t *ids, size_t cap, size_t *n_out);
/* ids -> UTF-8 text; same size-query rules. */
INK_API ink_status ink_detokenize(const ink_model *model, const int32_t *ids, size_t n_ids, char *buf, size_t cap,
                                  size_t *len_out);
/* One token's text piece (may be part of a UTF-8 character). */
INK_API ink_status ink_token_piece(const ink_model *model, int32_t id, char *buf, size_t cap, size_t *len_out);

/* ---- generation ------------------------------------------------------------------ */

typedef struct ink_generator ink_generator;

typedef enum ink_stop_reason {
  INK_STOP_NONE = 0,
  INK_STOP_MAX_TOKENS = 1,
  INK_STOP_END_OF_SEQUENCE = 2,
  INK_STOP_STOP_STRING = 3,
  INK_STOP_STOP_TOKEN = 4,
  INK_STOP_CONTEXT_FULL = 5,
  INK_STOP_CANCELLED = 6,
  /* A grammar was set and generation had to end before the text completed it. */
  INK_STOP_GRAMMAR_INCOMPLETE = 7
} ink_stop_reason;

typedef struct ink_generator_params {
  uint32_t struct_size;
  int32_t max_new_tokens;      /* default 256 */
  int32_t min_new_tokens;      /* end tokens and stop strings wait until then; default 0 */
  int32_t n_ctx;               /* 0 = the model's context, at most 4096; more than the model's
                                  training context needs rope_scale (below) */
  float temperature;           /* 0 = greedy; default 0.8 */
  int32_t top_k;               /* 0 = off; default 40 */
  float top_p;                 /* 1 = off; default 0.95 */
  float min_p;                 /* 0 = off; default 0.05 */
  float typical_p;             /* 1 = off */
  float repeat_penalty;        /* 1 = off */
  float presence_penalty;
  float frequency_penalty;
  int32_t penalty_window;      /* default 64; -1 = whole history */
  uint64_t seed;               /* same seed, same inputs: same tokens; INK_SEED_RANDOM: drawn
                                  (ink_generator_seed reports it) */
  int32_t num_beams;           /* > 1: beam search (through ink_generate only) */
  float length_penalty;
  int32_t num_return_sequences;
  int32_t top_n_alternatives;  /* 0..INK_MAX_ALTERNATIVES; default 5 */
  int32_t stop_at_eog;         /* nonzero (default): end at the model's end-of-text tokens */
  int32_t context_full_is_error; /* nonzero: INK_ERR_CONTEXT_FULL; 0 (default): stop */
  const char *const *stop_strings; /* NUL-terminated UTF-8; copied at create */
  size_t n_stop_strings;
  const int32_t *stop_tokens;
  size_t n_stop_tokens;
  const int32_t *logit_bias_tokens; /* bias added to these tokens' logits (-INFINITY bans) */
  const float *logit_bias_values;
  size_t n_logit_bias;
  int32_t kv_f16;              /* nonzero: F16 KV cache (half the memory); 0 (default): F32 */
  uint64_t memory_budget;      /* > 0: refuse a KV cache larger than this many bytes */
  int32_t lookup_draft;        /* > 0: prompt-lookup speculation with up to this many tokens */
  const ink_model *draft_model; /* non-NULL: speculative decoding with this smaller model (same
                                   vocabulary); it must outlive the generator */
  int32_t draft_tokens;        /* tokens the draft proposes per pass; default 4 */
  float draft_p_min;           /* the draft stops at a token it gives less than this; default 0.75 */
  int32_t kv_q8_0;             /* nonzero: Q8_0 KV cache (about a quarter of F32; head size a multiple
                                  of 32); overrides kv_f16 */
  /* Samplers as llama.cpp defines them (see inkling/sampler.hpp for each definition). */
  int32_t mirostat;            /* 0 = off (default), 1 or 2: replaces top-k/p, min-p, typical-p, xtc */
  float mirostat_tau;          /* target surprise in bits; default 5 */
  float mirostat_eta;          /* learning rate; default 0.1 */
  int32_t mirostat_m;          /* v1: tokens used to estimate the Zipf exponent; default 100 */
  float dry_multiplier;        /* DRY repetition penalty; 0 = off (default) */
  float dry_base;              /* default 1.75 */
  int32_t dry_allowed_length;  /* default 2 */
  int32_t dry_penalty_last_n;  /* -1 = whole history (default), 0 = off */
  const char *const *dry_sequence_breakers; /* NULL: the default "\n" ":" "\"" "*"; else
                                               n_dry_sequence_breakers NUL-terminated strings */
  size_t n_dry_sequence_breakers;
  float xtc_probability;       /* 0 = off (default) */
  float xtc_threshold;         /* default 0.1 */
  float top_n_sigma;           /* <= 0 = off (default -1) */
  const char *samplers;        /* NULL: the default order; else llama.cpp's --samplers spelling,
                                  e.g. "penalties;dry;top_k;typ_p;top_p;min_p;xtc;temperature" */
  int32_t context_shift;       /* nonzero: when the context is full keep n_keep tokens, drop the
                                  oldest half of the rest and go on (overrides context_full_is_error) */
  int32_t n_keep;              /* context shift: tokens never dropped besides a BOS; -1 = the prompt */
  /* Constrained output (at most one of the two; NULL or "" = none; copied at create). The
   * generated text follows the grammar; generation ends at an end token only where the
   * grammar can end, and with INK_STOP_GRAMMAR_INCOMPLETE when it had to stop before. A
   * grammar that does not parse fails ink_generator_create with INK_ERR_INVALID_ARGUMENT
   * and a message "grammar: line L, column C: ..." (see ink_grammar_check). */
  const char *grammar;         /* GBNF (llama.cpp's syntax), the rule "root" starts */
  const char *json_schema;     /* JSON Schema text: the output is JSON that validates against it
                                  ("{}" = any JSON value, {"type":"object"} = any object);
                                  unsupported keywords give INK_ERR_UNSUPPORTED naming them */
  int32_t json_whitespace_flexible; /* with json_schema: nonzero allows spaces and newlines
                                       between JSON tokens; 0 (default): compact */
  float rope_scale;            /* linear RoPE scaling, on top of the model file's: positions are
                                  divided by it (llama.cpp's --rope-scale). An n_ctx beyond the
                                  model's training context needs n_ctx <= n_ctx_train * rope_scale,
                                  otherwise INK_ERR_INVALID_ARGUMENT naming both; output degrades
                                  unless the model was tuned for it. 1 (default) or 0 = off; else
                                  in [1, 64] */
} ink_generator_params;

INK_API ink_generator_params ink_generator_params_default(void);
INK_API ink_status ink_generator_params_init(ink_generator_params *p);

/* The generator keeps a reference to the model: free the generator first. */
INK_API ink_status ink_generator_create(const ink_model *model, const ink_generator_params *params,
                                        ink_generator **out);
INK_API void ink_generator_free(ink_generator *gen);

#define INK_MAX_ALTERNATIVES 16

typedef struct ink_alternative {
  int32_t token;
  float prob, logprob;
  const char *text; /* the token's piece; valid until the next call on the generator */
  size_t text_len;
} ink_alternative;

typedef struct ink_step {
  uint32_t struct_size;      /* set by the caller: sizeof(ink_step) */
  int32_t done;              /* nonzero: generation has ended, no token in this record */
  ink_stop_reason stop_reason; /* why it ended (when done, or when this is the final token) */
  int32_t index;             /* 0 for the first generated token */
  int32_t token;
  const char *text;          /* UTF-8-complete text released by this step; valid until the
                                next call on the generator; may be empty (held back while
                                it could start a stop string) */
  size_t text_len;
  float prob, logprob;       /* in the final (filtered) distribution */
  float raw_prob, raw_logprob; /* in the model's own distribution */
  float entropy;             /* nats, final distribution */
  double ms_since_prev;
  int32_t n_alternatives;
  ink_alternative alternatives[INK_MAX_ALTERNATIVES];     /* final distribution, most likely first */
  int32_t n_raw_alternatives;
  ink_alternative raw_alternatives[INK_MAX_ALTERNATIVES]; /* model's own distribution */
} ink_step;

/* Tokenizes the prompt (BOS as the model says) and processes it in one pass; starts a
 * new generation. INK_ERR_CONTEXT_FULL if it does not fit. */
INK_API ink_status ink_generator_prompt(ink_generator *gen, const char *text, size_t len);
/* The same with token ids (e.g. from ink_chat_tokenize or ink_tokenize with
 * parse_special); ids out of range give INK_ERR_INVALID_ARGUMENT. */
INK_API ink_status ink_generator_prompt_tokens(ink_generator *gen, const int32_t *ids, size_t n_ids);
/* Pull style: generates one token into *out; out->done is set once generation ended. */
INK_API ink_status ink_generator_step(ink_generator *gen, ink_step *out);

/* Return nonzero to continue, 0 to cancel. */
typedef int (*ink_step_callback)(const ink_step *step, void *user_data);
/* Prompt + generation, calling `callback` (may be NULL) for every token. Beam search
 * runs here (its progress: ink_generator_on_beam_update; its sequences:
 * ink_generator_sequence). The text is then available from ink_generator_text. */
INK_API ink_status ink_generate(ink_generator *gen, const char *prompt, size_t len, ink_step_callback callback,
                                void *user_data);
/* Forgets the conversation: clears the KV cache, the text and the metrics. The next
 * prompt is computed from scratch. */
INK_API ink_status ink_generator_reset(ink_generator *gen);
/* Saves the conversation (cached tokens, their K/V entries, the random state) to a file;
 * ink_generator_load_state restores it into a generator of the same model, so the next
 * prompt extending the conversation only computes its new tokens. Loading another
 * model's state gives INK_ERR_INVALID_ARGUMENT, a damaged file INK_ERR_FORMAT; the
 * generator is unchanged on failure. */
INK_API ink_status ink_generator_save_state(const ink_generator *gen, const char *path);
INK_API ink_status ink_generator_load_state(ink_generator *gen, const char *path);
/* Checks a GBNF grammar (len bytes, NUL not needed). INK_OK if it compiles; otherwise
 * INK_ERR_INVALID_ARGUMENT with *line and *column (1-based; either may be NULL) set to
 * where the first problem is, and ink_last_error() saying what it is. */
INK_API ink_status ink_grammar_check(const char *gbnf, size_t len, int32_t *line, int32_t *column);
/* The GBNF grammar for a JSON Schema (flexible: whitespace allowed between tokens), with
 * the usual size query (buf = NULL, cap = 0). */
INK_API ink_status ink_json_schema_to_grammar(const char *schema, size_t len, int32_t flexible, char *buf, size_t cap,
                                              size_t *len_out);
/* Asks a running generation to stop (from any thread); it ends with INK_STOP_CANCELLED. */
INK_API void ink_generator_cancel(ink_generator *gen);
INK_API ink_status ink_generator_text(const ink_generator *gen, char *buf, size_t cap, size_t *len_out);
INK_API ink_stop_reason ink_generator_stop_reason(const ink_generator *gen);

typedef struct ink_metrics {
  uint32_t struct_size;
  double ttft_ms, tpot_ms_mean, tpot_ms_p90, prompt_tps, gen_tps;
  int32_t prompt_tokens, gen_tokens;
  uint64_t model_bytes, kv_bytes, peak_rss;
  int32_t cached_prompt_tokens, target_passes, draft_tokens, accepted_draft_tokens;
} ink_metrics;

INK_API ink_status ink_generator_metrics(const ink_generator *gen, ink_metrics *out);

/* The seed the generator's sampler uses: params.seed, or the one drawn when params.seed
 * is INK_SEED_RANDOM (report it so that a good sample can be reproduced). */
#define INK_SEED_RANDOM UINT64_MAX
INK_API ink_status ink_generator_seed(const ink_generator *gen, uint64_t *out);

/* The sequences of the last ink_generate: with beam search (num_beams > 1) up to
 * num_return_sequences, best score first; otherwise the one sampled sequence. */
typedef struct ink_sequence {
  uint32_t struct_size;       /* set by the caller: sizeof(ink_sequence) */
  const char *text;           /* valid until the next call on the generator */
  size_t text_len;
  const int32_t *tokens;      /* generated ids (without a final end-of-generation token) */
  size_t n_tokens;
  double logprob;             /* sum of the counted tokens' log-probabilities */
  double score;               /* logprob / length^length_penalty */
  int32_t length;             /* tokens counted in logprob (includes a final end token) */
  ink_stop_reason stop_reason;
} ink_sequence;

/* Beam search's progress: ink_generate with num_beams > 1 does not call its step callback
 * (no token is final until the search ends), but after each step in which the best
 * hypothesis (live or finished, by score) changed it calls this one with that hypothesis
 * (stop_reason INK_STOP_NONE while it is live; text and tokens valid during the call) and
 * the step (0 = the first token). Return nonzero to continue, 0 to cancel. NULL removes
 * it; it stays set for the following ink_generate calls. */
typedef int (*ink_beam_callback)(const ink_sequence *best, int32_t step, void *user_data);
INK_API ink_status ink_generator_on_beam_update(ink_generator *gen, ink_beam_callback callback, void *user_data);

/* *n_out = how many sequences the last ink_generate returned (0 before any). */
INK_API ink_status ink_generator_sequence_count(const ink_generator *gen, size_t *n_out);
/* Sequence `index` (< the count; INK_ERR_INVALID_ARGUMENT otherwise). */
INK_API ink_status ink_generator_sequence(const ink_generator *gen, size_t index, ink_sequence *out);

/* ---- scoring ------------------------------------------------------------------------ */

/* The log-probability (natural log) of each token given the ones before it, in one pass:
 * logprobs[0] = NAN (the first token has no context), logprobs[i] = log p(ids[i] |
 * ids[0..i-1]). cap must be >= n_ids (INK_ERR_BUFFER_TOO_SMALL otherwise); n_ids >= 2 and
 * at most the model's context. */
INK_API ink_status ink_score_tokens(const ink_model *model, const int32_t *ids, size_t n_ids, float *logprobs,
                                    size_t cap);
/* Perplexity of a text's tokens (without BOS) in windows of n_ctx tokens, as llama.cpp's
 * perplexity tool: stride 0 = consecutive windows scoring their second half, stride > 0
 * = a window every stride tokens scoring its last stride. */
INK_API ink_status ink_perplexity(const ink_model *model, const int32_t *ids, size_t n_ids, int32_t n_ctx,
                                  int32_t stride, double *perplexity_out);

/* ---- many requests at once --------------------------------------------------------- */

/* A batch decodes many independent requests together: every ink_batch_step is one
 * forward pass for all of them, each request with its own sampler and stop rules.
 * Requests join and leave between steps; a new one reuses the longest cached prefix any
 * sequence holds. ink_batch_add and ink_batch_cancel may be called from any thread;
 * everything else on a batch from one thread at a time. */
typedef struct ink_batch ink_batch;

typedef struct ink_batch_params {
  uint32_t struct_size;
  int32_t max_sequences;      /* requests decoded at once; more wait in a queue (default 8) */
  int32_t n_ctx;              /* positions per sequence; 0 = the model's context, at most 4096 */
  int32_t kv_f16;             /* nonzero: F16 KV cache */
  uint64_t memory_budget;     /* > 0: refuse a KV cache (all sequences) larger than this */
  int32_t max_prompt_tokens_per_step; /* prompt tokens one step may compute (default 256) */
  int32_t kv_q8_0;            /* nonzero: Q8_0 KV cache; overrides kv_f16 */
  float rope_scale;           /* as ink_generator_params.rope_scale; 1 (default) or 0 = off */
} ink_batch_params;

INK_API ink_batch_params ink_batch_params_default(void);
INK_API ink_status ink_batch_params_init(ink_batch_params *p);
INK_API ink_status ink_batch_create(const ink_model *model, const ink_batch_params *params, ink_batch **out);
/* Frees the batch and every request in it. */
INK_API void ink_batch_free(ink_batch *batch);

/* Queues a request; *id_out identifies it. params as for ink_generator_create (NULL =
 * defaults), except that n_ctx, rope_scale, kv_f16 and memory_budget belong to the batch and beam
 * search and speculation need a generator: INK_ERR_INVALID_ARGUMENT names such a field.
 * INK_ERR_CONTEXT_FULL if the prompt leaves no room to generate. */
INK_API ink_status ink_batch_add(ink_batch *batch, const char *prompt, size_t len, const ink_generator_params *params,
                                 uint64_t *id_out);
/* Ends a request at the next step (queued, starting or generating); unknown ids are
 * ignored. Any thread. */
INK_API void ink_batch_cancel(ink_batch *batch, uint64_t id);
/* One forward pass; *n_events_out receives how many events it produced (read them with
 * ink_batch_event until the next ink_batch_step). */
INK_API ink_status ink_batch_step(ink_batch *batch, size_t *n_events_out);

typedef struct ink_batch_event {
  uint32_t struct_size;       /* set by the caller: sizeof(ink_batch_event) */
  uint64_t request;
  int32_t finished;           /* the request has ended: its result is ready (ink_batch_result_*) */
  ink_stop_reason stop_reason;
  const char *error;          /* "" unless the request failed; valid until the next step */
} ink_batch_event;

/* Event `index` of the last step. step may be NULL; otherwise it receives the token
 * chosen (step->done = 1 when the event carries none, e.g. a request cancelled before its
 * first token); its strings are valid until the next ink_batch_step. */
INK_API ink_status ink_batch_event_get(const ink_batch *batch, size_t index, ink_batch_event *event, ink_step *step);
/* 1 when nothing is queued, starting or generating. */
INK_API int ink_batch_idle(const ink_batch *batch);
/* A finished request's whole text and metrics; INK_ERR_INVALID_ARGUMENT for an id that is
 * unknown, still running or released. */
INK_API ink_status ink_batch_result_text(const ink_batch *batch, uint64_t id, char *buf, size_t cap, size_t *len_out);
INK_API ink_status ink_batch_result_metrics(const ink_batch *batch, uint64_t id, ink_metrics *out);
/* Forgets a finished request's result. */
INK_API void ink_batch_release(ink_batch *batch, uint64_t id);

/* ---- chat templates ------------------------------------------------------------------ */

typedef struct ink_chat_message {
  const char *role;           /* "system", "user" or "assistant" (NUL-terminated) */
  const char *content;        /* UTF-8 */
  size_t content_len;
} ink_chat_message;

/* Renders a conversation with a chat template: template_name is one of "chatml",
 * "llama2", "llama3", "llama3.1", "mistral", "phi3", "phi4", "phi4-mini", "gemma", "zephyr",
 * "qwen3", "granite", or NULL for the model's own
 * (tokenizer.chat_template; INK_ERR_UNSUPPORTED if it has none or an unknown one).
 * add_generation_prompt: end with the header of the assistant's turn. The text omits the
 * leading BOS (ink_generator_prompt adds it) and is written with the size-query rules.
 * The turn ends at the template's markers: pass them as stop strings
 * (ink_chat_stop_strings). */
INK_API ink_status ink_chat_apply(const ink_model *model, const char *template_name, const ink_chat_message *messages,
                                  size_t n_messages, int add_generation_prompt, char *buf, size_t cap, size_t *len_out);
/* The conversation rendered and tokenized: markers become control tokens, exactly one
 * BOS when the model or template wants one. Size-query rules as ink_tokenize. Feed the
 * ids to ink_generator_prompt_tokens. */
INK_API ink_status ink_chat_tokenize(const ink_model *model, const char *template_name, const ink_chat_message *messages,
                                     size_t n_messages, int add_generation_prompt, int32_t *ids, size_t cap,
                                     size_t *n_out);
/* The template's end-of-turn markers, each followed by a NUL, in one buffer (size-query
 * rules); *count_out receives how many. Pass them as stop strings. */
INK_API ink_status ink_chat_stop_strings(const ink_model *model, const char *template_name, char *buf, size_t cap,
                                         size_t *len_out, size_t *count_out);
/* Those markers that are single control tokens (a generator does not render control
 * tokens as text, so pass these as stop tokens). Size-query rules as ink_tokenize. */
INK_API ink_status ink_chat_stop_tokens(const ink_model *model, const char *template_name, int32_t *ids, size_t cap,
                                        size_t *n_out);

/* ---- embeddings and reranking ----------------------------------------------------- */

/* How one vector is made from an input's token states (llama.cpp's pooling types). */
typedef enum ink_pooling {
  INK_POOLING_DEFAULT = 0, /* the model's own (<arch>.pooling_type); refused if it declares none */
  INK_POOLING_NONE = 1,    /* one vector per token */
  INK_POOLING_MEAN = 2,
  INK_POOLING_CLS = 3,
  INK_POOLING_LAST = 4,
  INK_POOLING_RANK = 5     /* a reranker's classification head: its outputs, not a vector */
} ink_pooling;

typedef struct ink_embed_params {
  uint32_t struct_size;  /* sizeof(ink_embed_params) */
  int32_t pooling;       /* ink_pooling; default INK_POOLING_DEFAULT */
  int32_t normalize;     /* nonzero (default): L2-normalise each vector (never rank outputs) */
  int32_t truncate;      /* nonzero: cut inputs longer than the context; 0 (default): refuse them */
} ink_embed_params;

INK_API ink_embed_params ink_embed_params_default(void);
INK_API ink_status ink_embed_params_init(ink_embed_params *p);

/* Embeds n_texts UTF-8 texts (texts[i] of lens[i] bytes; lens may be NULL for
 * NUL-terminated texts) with the model (an encoder such as BERT, or a decoder) and
 * writes the vectors into out, input after input: n_texts * dim floats, or with
 * INK_POOLING_NONE every input's tokens * dim floats. params may be NULL (defaults).
 * Size query: out = NULL, cap = 0 (the model does not run). *n_out always receives the
 * floats needed and *dim_out (may be NULL) the floats per vector;
 * INK_ERR_BUFFER_TOO_SMALL when cap < *n_out. An empty text embeds the model's special
 * tokens ([CLS] [SEP]); INK_ERR_INVALID_ARGUMENT for n_texts = 0, invalid UTF-8 or a
 * too-long input (the message names its index). */
INK_API ink_status ink_embed(const ink_model *model, const ink_embed_params *params, const char *const *texts,
                             const size_t *lens, size_t n_texts, float *out, size_t cap, size_t *n_out,
                             int32_t *dim_out);

typedef struct ink_rerank_params {
  uint32_t struct_size;     /* sizeof(ink_rerank_params) */
  int32_t truncate;         /* nonzero: cut long documents; 0 (default): refuse them */
  const char *instruction;  /* decoder rerankers' task line (NUL-terminated); NULL = default */
} ink_rerank_params;

INK_API ink_rerank_params ink_rerank_params_default(void);
INK_API ink_status ink_rerank_params_init(ink_rerank_params *p);

/* Relevance of each of n_docs documents to the query (higher = more relevant): a BERT
 * reranker's classification head, or a decoder's logit("yes") - logit("no"). Writes
 * n_docs scores into scores (cap >= n_docs, else INK_ERR_BUFFER_TOO_SMALL). lens and
 * doc_lens may be NULL for NUL-terminated strings. */
INK_API ink_status ink_rerank(const ink_model *model, const ink_rerank_params *params, const char *query,
                              size_t query_len, const char *const *docs, const size_t *doc_lens, size_t n_docs,
                              float *scores, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* INKLING_H */
