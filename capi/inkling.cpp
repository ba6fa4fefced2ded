// The C ABI over the C++ core. Every entry point is wrapped in guard(): no exception
// crosses the boundary, and failures become a status plus a thread-local message.
#include "inkling.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capi_support.hpp"
#include "common/utf8_path.hpp"

using namespace inkling::capi;

extern "C" {

const char* ink_version(void) { return "0.1.0"; }
int ink_version_number(void) { return INK_VERSION_NUMBER; }
const char* ink_last_error(void) { return last_error(); }

const char* ink_status_name(ink_status s) {
  switch (s) {
    case INK_OK: return "ok";
    case INK_ERR_INVALID_ARGUMENT: return "invalid argument";
    case INK_ERR_IO: return "I/O error";
    case INK_ERR_FORMAT: return "format error";
    case INK_ERR_UNSUPPORTED: return "unsupported";
    case INK_ERR_OUT_OF_MEMORY: return "out of memory";
    case INK_ERR_CONTEXT_FULL: return "context full";
    case INK_ERR_CANCELLED: return "cancelled";
    case INK_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case INK_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

ink_model_params ink_model_params_default(void) {
  ink_model_params p{};
  p.struct_size = sizeof p;
  p.threads = 0;
  p.use_mmap = 1;
  return p;
}

ink_status ink_model_load(const char* path, const ink_model_params* params, ink_model** out) {
  return guard([&]() -> ink_status {
    if (!out) return null_arg("ink_model_load", "out");
    *out = nullptr;
    if (!path) return null_arg("ink_model_load", "path");
    ink_model_params p = ink_model_params_default();
    if (params) {
      if (params->struct_size < sizeof(uint32_t) * 3)
        return fail(INK_ERR_INVALID_ARGUMENT, "ink_model_load: params->struct_size is too small");
      std::memcpy(&p, params, std::min<std::size_t>(params->struct_size, sizeof p));
    }
    inkling::ModelOptions o;
    o.threads = p.threads;
    o.use_mmap = p.use_mmap != 0;
    auto m = std::make_unique<ink_model>();
    m->model = inkling::Model::load(inkling::detail::path_from_utf8(path), o);
    *out = m.release();
    return INK_OK;
  });
}

void ink_model_free(ink_model* model) { delete model; }

ink_status ink_model_info_get(const ink_model* model, ink_model_info* out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_model_info_get", "model");
    if (!out) return null_arg("ink_model_info_get", "out");
    if (out->struct_size < sizeof(uint32_t))
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_model_info_get: set out->struct_size = sizeof(ink_model_info)");
    const auto& c = model->model->config();
    const auto& s = model->model->tokenizer().special();
    ink_model_info i{};
    i.struct_size = out->struct_size;
    i.architecture = c.architecture.c_str();
    i.name = c.name.c_str();
    i.n_vocab = c.n_vocab;
    i.n_ctx_train = c.n_ctx_train;
    i.n_embd = c.n_embd;
    i.n_layer = c.n_layer;
    i.n_head = c.n_head;
    i.n_head_kv = c.n_head_kv;
    i.head_dim = c.head_dim;
    i.n_ff = c.n_ff;
    i.weight_bytes = model->model->weight_bytes();
    i.bos = s.bos;
    i.eos = s.eos;
    i.eot = s.eot;
    i.add_bos = s.add_bos ? 1 : 0;
    std::memcpy(out, &i, std::min<std::size_t>(out->struct_size, sizeof i));
    return INK_OK;
  });
}

ink_status ink_tokenize(const ink_model* model, const char* text, size_t len, int add_special, int parse_special,
                        int32_t* ids, size_t cap, size_t* n_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_tokenize", "model");
    if (!n_out) return null_arg("ink_tokenize", "n_out");
    if (ink_status s = check_text("ink_tokenize", text, len); s != INK_OK) return s;
    const auto v = model->model->tokenizer().encode(std::string_view(text ? text : "", len), add_special != 0,
                                                    parse_special != 0);
    return copy_ids("ink_tokenize", v, ids, cap, n_out);
  });
}

ink_status ink_detokenize(const ink_model* model, const int32_t* ids, size_t n_ids, char* buf, size_t cap,
                          size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_detokenize", "model");
    if (!ids && n_ids > 0) return null_arg("ink_detokenize", "ids");
    const std::string s = model->model->tokenizer().decode(std::span<const int32_t>(ids, n_ids));
    return copy_out("ink_detokenize", s, buf, cap, len_out);
  });
}

ink_status ink_token_piece(const ink_model* model, int32_t id, char* buf, size_t cap, size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!model) return null_arg("ink_token_piece", "model");
    return copy_out("ink_token_piece", model->model->tokenizer().token_to_piece(id, true), buf, cap, len_out);
  });
}

ink_status ink_model_params_init(ink_model_params* p) {
  return guard([&] { return init_params("ink_model_params_init", p, ink_model_params_default()); });
}

ink_status ink_generator_params_init(ink_generator_params* p) {
  return guard([&] { return init_params("ink_generator_params_init", p, ink_generator_params_default()); });
}

ink_generator_params ink_generator_params_default(void) {
  ink_generator_params p{};
  p.struct_size = sizeof p;
  inkling::capi::params_from_config(inkling::GenerationConfig{}, p);
  return p;
}

ink_status ink_generator_create(const ink_model* model, const ink_generator_params* params, ink_generator** out) {
  return guard([&]() -> ink_status {
    if (!out) return null_arg("ink_generator_create", "out");
    *out = nullptr;
    if (!model) return null_arg("ink_generator_create", "model");
    inkling::GenerationConfig c;
    if (ink_status s = to_generation_config("ink_generator_create", params, c); s != INK_OK) return s;
    auto g = std::make_unique<ink_generator>();
    g->model = model->model;
    g->gen = std::make_unique<inkling::Generator>(model->model, std::move(c));
    *out = g.release();
    return INK_OK;
  });
}

void ink_generator_free(ink_generator* gen) { delete gen; }

ink_status ink_generator_prompt(ink_generator* gen, const char* text, size_t len) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_prompt", "gen");
    if (ink_status s = check_text("ink_generator_prompt", text, len); s != INK_OK) return s;
    gen->have_result = false;
    gen->gen->prompt(std::string_view(text ? text : "", len));
    return INK_OK;
  });
}

ink_status ink_generator_step(ink_generator* gen, ink_step* out) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_step", "gen");
    if (!out) return null_arg("ink_generator_step", "out");
    if (out->struct_size < offsetof(ink_step, text))
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_generator_step: set out->struct_size = sizeof(ink_step)");
    auto s = gen->gen->step();
    if (!s) {
      fill_done(to_c(gen->gen->stop_reason()), out);
      return INK_OK;
    }
    gen->step = std::move(*s);
    fill_step(gen->step, to_c(gen->gen->stop_reason()), out);
    return INK_OK;
  });
}

ink_status ink_generate(ink_generator* gen, const char* prompt, size_t len, ink_step_callback callback,
                        void* user_data) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generate", "gen");
    if (ink_status s = check_text("ink_generate", prompt, len); s != INK_OK) return s;
    ink_step step{};
    step.struct_size = sizeof step;
    gen->last = gen->gen->run(std::string_view(prompt ? prompt : "", len), [&](const inkling::StepInfo& s) {
      if (!callback) return true;
      gen->step = s;
      fill_step(gen->step, s.final ? to_c(gen->gen->stop_reason()) : INK_STOP_NONE, &step);
      return callback(&step, user_data) != 0;
    });
    gen->have_result = true;
    return INK_OK;
  });
}

ink_status ink_generator_reset(ink_generator* gen) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_reset", "gen");
    gen->gen->reset();
    gen->have_result = false;
    gen->last = inkling::GenerationResult{};
    return INK_OK;
  });
}

ink_status ink_generator_save_state(const ink_generator* gen, const char* path) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_save_state", "gen");
    if (!path) return null_arg("ink_generator_save_state", "path");
    gen->gen->save_state(inkling::detail::path_from_utf8(path));
    return INK_OK;
  });
}

ink_status ink_generator_prompt_tokens(ink_generator* gen, const int32_t* ids, size_t n_ids) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_prompt_tokens", "gen");
    if (!ids && n_ids > 0) return null_arg("ink_generator_prompt_tokens", "ids");
    const int n_vocab = gen->model->config().n_vocab;
    for (size_t i = 0; i < n_ids; ++i)
      if (ids[i] < 0 || ids[i] >= n_vocab)
        return fail(INK_ERR_INVALID_ARGUMENT, "ink_generator_prompt_tokens: id " + std::to_string(ids[i]) + " at " +
                                                  std::to_string(i) + " is out of range [0, " + std::to_string(n_vocab) + ")");
    gen->have_result = false;
    gen->gen->prompt_tokens(std::span<const int32_t>(ids, n_ids));
    return INK_OK;
  });
}

ink_status ink_generator_load_state(ink_generator* gen, const char* path) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_load_state", "gen");
    if (!path) return null_arg("ink_generator_load_state", "path");
    gen->gen->load_state(inkling::detail::path_from_utf8(path));
    gen->have_result = false;
    return INK_OK;
  });
}

void ink_generator_cancel(ink_generator* gen) {
  if (gen) gen->gen->cancel();
}

ink_status ink_generator_text(const ink_generator* gen, char* buf, size_t cap, size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_text", "gen");
    return copy_out("ink_generator_text", gen->have_result ? gen->last.text : gen->gen->text(), buf, cap, len_out);
  });
}

ink_stop_reason ink_generator_stop_reason(const ink_generator* gen) {
  if (!gen) return INK_STOP_NONE;
  return to_c(gen->have_result ? gen->last.stop_reason : gen->gen->stop_reason());
}

ink_status ink_generator_metrics(const ink_generator* gen, ink_metrics* out) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_metrics", "gen");
    if (!out) return null_arg("ink_generator_metrics", "out");
    if (out->struct_size < sizeof(uint32_t))
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_generator_metrics: set out->struct_size = sizeof(ink_metrics)");
    fill_metrics(gen->have_result ? gen->last.metrics : gen->gen->metrics(), out);
    return INK_OK;
  });
}

ink_status ink_generator_seed(const ink_generator* gen, uint64_t* out) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_seed", "gen");
    if (!out) return null_arg("ink_generator_seed", "out");
    *out = gen->gen->seed();
    return INK_OK;
  });
}

}  // extern "C"

namespace {

// A Sequence as the C struct, pointing into it.
ink_sequence to_c_sequence(const inkling::Sequence& s, uint32_t struct_size) {
  ink_sequence c{};
  c.struct_size = struct_size;
  c.text = s.text.c_str();
  c.text_len = s.text.size();
  c.tokens = s.tokens.data();
  c.n_tokens = s.tokens.size();
  c.logprob = s.logprob;
  c.score = s.score;
  c.length = s.length;
  c.stop_reason = to_c(s.stop_reason);
  return c;
}

}  // namespace

extern "C" {

ink_status ink_generator_on_beam_update(ink_generator* gen, ink_beam_callback callback, void* user_data) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_on_beam_update", "gen");
    if (!callback) {
      gen->gen->on_beam_update({});
      return INK_OK;
    }
    gen->gen->on_beam_update([callback, user_data](const inkling::Sequence& s, int step) {
      const ink_sequence c = to_c_sequence(s, sizeof(ink_sequence));
      return callback(&c, step, user_data) != 0;
    });
    return INK_OK;
  });
}

ink_status ink_generator_sequence_count(const ink_generator* gen, size_t* n_out) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_sequence_count", "gen");
    if (!n_out) return null_arg("ink_generator_sequence_count", "n_out");
    *n_out = gen->have_result ? gen->last.sequences.size() : 0;
    return INK_OK;
  });
}

ink_status ink_generator_sequence(const ink_generator* gen, size_t index, ink_sequence* out) {
  return guard([&]() -> ink_status {
    constexpr const char* fn = "ink_generator_sequence";
    if (!gen) return null_arg(fn, "gen");
    if (!out) return null_arg(fn, "out");
    if (out->struct_size < sizeof(uint32_t))
      return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": set out->struct_size = sizeof(ink_sequence)");
    const std::size_t n = gen->have_result ? gen->last.sequences.size() : 0;
    if (index >= n)
      return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": index " + std::to_string(index) + " is not below the " +
                                                std::to_string(n) + " sequences of the last ink_generate");
    const inkling::Sequence& s = gen->last.sequences[index];
    const ink_sequence c = to_c_sequence(s, out->struct_size);
    std::memcpy(out, &c, std::min<std::size_t>(out->struct_size, sizeof c));
    return INK_OK;
  });
}

}  // extern "C"
