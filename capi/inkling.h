/* inkling C ABI: run LLMs on CPUs from C, Rust, Go or anything with a C FFI.
 *
 * Conventions (they hold for every function below):
 *  - Every fallible call returns an ink_status; INK_OK is 0. On failure
 *    ink_last_error() returns a message for the calling thread, valid until that
 *    thread's next inkling call. No C++ exception ever crosses this boundary.
 *  - Objects are opaque handles created by *_create / *_load and released by *_free.
 *    *_free(NULL) is a no-op.
 *  - Strings in are UTF-8 with an explicit length (NUL not required); strings out are
 *    written into caller-owned buffers with a size query: pass buf = NULL (cap = 0) to
 *    learn the needed size, which is always reported through the *_out argument.
 *  - Parameter structs begin with `struct_size`; get them from ink_*_params_default()
 *    so that fields added in later versions keep their defaults.
 *  - Thread safety: an ink_model may be shared by many threads at once (it is
 *    immutable); every other object is used by one thread at a time.
 * The header is C99 and also valid C++.
 */
#ifndef INKLING_H
#define INKLING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define INK_API __declspec(dllexport)
#else
#define INK_API __attribute__((visibility("default")))
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

/* The library's version as "MAJOR.MINOR.PATCH" and as a number; compare with the
 * INK_VERSION_* macros to detect a header/library mismatch. */
INK_API const char *ink_version(void);
INK_API int ink_version_number(void);
/* The message of the calling thread's last failed call ("" if none). Never NULL. */
INK_API const char *ink_last_error(void);
/* A static name for a status ("invalid argument", ...). Never NULL. */
INK_API const char *ink_status_name(ink_status status);

/* ---- models ------------------------------------------------------------------ */

typedef struct ink_model ink_model;

typedef struct ink_model_params {
  uint32_t struct_size; /* sizeof(ink_model_params) */
  int32_t threads;      /* 0 = physical cores */
  int32_t use_mmap;     /* nonzero: map the file (default); 0: read it into memory */
} ink_model_params;

INK_API ink_model_params ink_model_params_default(void);

/* Loads a GGUF model. params may be NULL for defaults. On success *out owns the model;
 * release it with ink_model_free. */
INK_API ink_status ink_model_load(const char *path, const ink_model_params *params,
                                  ink_model **out);
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

INK_API ink_status ink_model_info_get(const ink_model *model, ink_model_info *out);

/* ---- tokenizer ------------------------------------------------------------------ */

/* Text -> ids. add_special: BOS/EOS as the model says; parse_special: control tokens
 * written in the text become their ids. Size query: ids = NULL, cap = 0; *n_out always
 * receives the number of ids; INK_ERR_BUFFER_TOO_SMALL when cap < *n_out. */
INK_API ink_status ink_tokenize(const ink_model *model, const char *text, size_t len,
                                int add_special, int parse_special, int32_t *ids, size_t cap,
                                size_t *n_out);
/* ids -> UTF-8 text (no NUL terminator is counted in *len_out; one is written when it
 * fits). Same size-query rules. */
INK_API ink_status ink_detokenize(const ink_model *model, const int32_t *ids, size_t n_ids,
                                  char *buf, size_t cap, size_t *len_out);
/* One token's text piece (may be part of a UTF-8 character). */
INK_API ink_status ink_token_piece(const ink_model *model, int32_t id, char *buf, size_t cap,
                                   size_t *len_out);

#ifdef __cplusplus
}
#endif

#endif /* INKLING_H */
