// The C ABI over the C++ core. Every entry point is wrapped in guard(): no exception
// crosses the boundary, and failures become a status plus a thread-local message.
#include "inkling.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "inkling/inkling.hpp"

struct ink_model {
  std::shared_ptr<const inkling::Model> model;
};

struct ink_generator {
  std::shared_ptr<const inkling::Model> model;
  std::unique_ptr<inkling::Generator> gen;
  // Storage for the strings an ink_step points into, valid until the next call.
  std::string text;
  std::vector<std::string> alt_text, raw_alt_text;
  inkling::GenerationResult last;
  bool have_result = false;
};

namespace {

thread_local std::string t_last_error;

ink_status fail(ink_status status, std::string message) {
  t_last_error = std::move(message);
  return status;
}

ink_status map(inkling::ErrorCode code) {
  using inkling::ErrorCode;
  switch (code) {
    case ErrorCode::InvalidArgument: return INK_ERR_INVALID_ARGUMENT;
    case ErrorCode::Io: return INK_ERR_IO;
    case ErrorCode::Format: return INK_ERR_FORMAT;
    case ErrorCode::Unsupported: return INK_ERR_UNSUPPORTED;
    case ErrorCode::OutOfMemory: return INK_ERR_OUT_OF_MEMORY;
    case ErrorCode::ContextFull: return INK_ERR_CONTEXT_FULL;
    case ErrorCode::Cancelled: return INK_ERR_CANCELLED;
    case ErrorCode::BufferTooSmall: return INK_ERR_BUFFER_TOO_SMALL;
    case ErrorCode::Internal: return INK_ERR_INTERNAL;
  }
  return INK_ERR_INTERNAL;
}

template <typename F>
ink_status guard(F&& body) noexcept {
  try {
    return body();
  } catch (const inkling::Error& e) {
    return fail(map(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(INK_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(INK_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(INK_ERR_INTERNAL, "internal error: unknown exception");
  }
}

ink_status null_arg(const char* fn, const char* what) {
  return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

// Where the first invalid UTF-8 sequence starts, or npos.
std::size_t invalid_utf8_at(const char* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    if (len == 2 && c < 0xC2) return i;  // overlong
    i += len;
  }
  return std::string::npos;
}

ink_status check_text(const char* fn, const char* text, std::size_t len) {
  if (!text && len > 0) return null_arg(fn, "text");
  if (!text) return INK_OK;
  const std::size_t bad = invalid_utf8_at(text, len);
  if (bad != std::string::npos)
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": text is not valid UTF-8 (byte offset " +
                                              std::to_string(bad) + ")");
  return INK_OK;
}

// Copies into a caller buffer with the size-query convention.
ink_status copy_out(const char* fn, const std::string& s, char* buf, std::size_t cap, std::size_t* len_out) {
  if (!len_out) return null_arg(fn, "len_out");
  *len_out = s.size();
  if (!buf) {
    if (cap != 0) return null_arg(fn, "buf");
    return INK_OK;  // size query
  }
  if (cap < s.size())
    return fail(INK_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": buffer holds " + std::to_string(cap) + " bytes, " +
                                              std::to_string(s.size()) + " needed");
  std::memcpy(buf, s.data(), s.size());
  if (cap > s.size()) buf[s.size()] = '\0';
  return INK_OK;
}

ink_stop_reason to_c(inkling::StopReason r) {
  switch (r) {
    case inkling::StopReason::None: return INK_STOP_NONE;
    case inkling::StopReason::MaxTokens: return INK_STOP_MAX_TOKENS;
    case inkling::StopReason::EndOfSequence: return INK_STOP_END_OF_SEQUENCE;
    case inkling::StopReason::StopString: return INK_STOP_STOP_STRING;
    case inkling::StopReason::StopToken: return INK_STOP_STOP_TOKEN;
    case inkling::StopReason::ContextFull: return INK_STOP_CONTEXT_FULL;
    case inkling::StopReason::Cancelled: return INK_STOP_CANCELLED;
  }
  return INK_STOP_NONE;
}

void fill_alternatives(const std::vector<inkling::Alternative>& in, std::vector<std::string>& store,
                       ink_alternative* out, int32_t* n) {
  store.clear();
  for (const auto& a : in) store.push_back(a.text);
  *n = 0;
  for (std::size_t i = 0; i < in.size() && i < INK_MAX_ALTERNATIVES; ++i) {
    out[i] = ink_alternative{in[i].id, in[i].prob, in[i].logprob, store[i].c_str(), store[i].size()};
    ++*n;
  }
}

void fill_step(ink_generator& g, const inkling::StepInfo& s, ink_stop_reason reason, ink_step* out) {
  const uint32_t size = out->struct_size;
  g.text = s.text;
  ink_step c{};
  c.struct_size = size;
  c.done = 0;
  c.stop_reason = s.final ? reason : INK_STOP_NONE;
  c.index = s.index;
  c.token = s.token;
  c.text = g.text.c_str();
  c.text_len = g.text.size();
  c.prob = s.prob;
  c.logprob = s.logprob;
  c.raw_prob = s.raw_prob;
  c.raw_logprob = s.raw_logprob;
  c.entropy = s.entropy;
  c.ms_since_prev = s.ms_since_prev;
  fill_alternatives(s.alternatives, g.alt_text, c.alternatives, &c.n_alternatives);
  fill_alternatives(s.raw_alternatives, g.raw_alt_text, c.raw_alternatives, &c.n_raw_alternatives);
  std::memcpy(out, &c, std::min<std::size_t>(size, sizeof c));
}

}  // namespace

extern "C" {

const char* ink_version(void) { return "0.1.0"; }
int ink_version_number(void) { return INK_VERSION_NUMBER; }
const char* ink_last_error(void) { return t_last_error.c_str(); }

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
    m->model = inkling::Model::load(path, o);
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
    *n_out = v.size();
    if (!ids) return cap == 0 ? INK_OK : null_arg("ink_tokenize", "ids");
    if (cap < v.size())
      return fail(INK_ERR_BUFFER_TOO_SMALL, "ink_tokenize: room for " + std::to_string(cap) + " ids, " +
                                                std::to_string(v.size()) + " needed");
    if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));  // data() may be null when empty
    return INK_OK;
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

ink_generator_params ink_generator_params_default(void) {
  const inkling::GenerationConfig d;
  ink_generator_params p{};
  p.struct_size = sizeof p;
  p.max_new_tokens = d.max_new_tokens;
  p.min_new_tokens = d.min_new_tokens;
  p.n_ctx = 0;
  p.temperature = d.sampling.temperature;
  p.top_k = d.sampling.top_k;
  p.top_p = d.sampling.top_p;
  p.min_p = d.sampling.min_p;
  p.typical_p = d.sampling.typical_p;
  p.repeat_penalty = d.sampling.repeat_penalty;
  p.presence_penalty = d.sampling.presence_penalty;
  p.frequency_penalty = d.sampling.frequency_penalty;
  p.penalty_window = d.sampling.penalty_window;
  p.seed = d.sampling.seed;
  p.num_beams = 1;
  p.length_penalty = d.length_penalty;
  p.num_return_sequences = 1;
  p.top_n_alternatives = d.top_n_alternatives;
  p.stop_at_eog = 1;
  p.context_full_is_error = 0;
  p.draft_tokens = d.draft_tokens;
  p.draft_p_min = d.draft_p_min;
  return p;
}

ink_status ink_generator_create(const ink_model* model, const ink_generator_params* params, ink_generator** out) {
  return guard([&]() -> ink_status {
    if (!out) return null_arg("ink_generator_create", "out");
    *out = nullptr;
    if (!model) return null_arg("ink_generator_create", "model");
    ink_generator_params p = ink_generator_params_default();
    if (params) {
      if (params->struct_size < sizeof(uint32_t) * 2)
        return fail(INK_ERR_INVALID_ARGUMENT, "ink_generator_create: params->struct_size is too small");
      std::memcpy(&p, params, std::min<std::size_t>(params->struct_size, sizeof p));
    }
    if (p.top_n_alternatives > INK_MAX_ALTERNATIVES)
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_generator_create: top_n_alternatives must be <= " +
                                                std::to_string(INK_MAX_ALTERNATIVES));
    inkling::GenerationConfig c;
    c.max_new_tokens = p.max_new_tokens;
    c.min_new_tokens = p.min_new_tokens;
    c.n_ctx = p.n_ctx;
    c.sampling.temperature = p.temperature;
    c.sampling.top_k = p.top_k;
    c.sampling.top_p = p.top_p;
    c.sampling.min_p = p.min_p;
    c.sampling.typical_p = p.typical_p;
    c.sampling.repeat_penalty = p.repeat_penalty;
    c.sampling.presence_penalty = p.presence_penalty;
    c.sampling.frequency_penalty = p.frequency_penalty;
    c.sampling.penalty_window = p.penalty_window;
    c.sampling.seed = p.seed;
    c.num_beams = p.num_beams;
    c.length_penalty = p.length_penalty;
    c.num_return_sequences = p.num_return_sequences;
    c.top_n_alternatives = p.top_n_alternatives;
    c.stop_at_eog = p.stop_at_eog != 0;
    c.on_context_full = p.context_full_is_error ? inkling::ContextFullPolicy::Error : inkling::ContextFullPolicy::Stop;
    c.kv_type = p.kv_f16 ? inkling::DType::F16 : inkling::DType::F32;
    c.memory_budget = static_cast<std::size_t>(p.memory_budget);
    c.lookup_draft = p.lookup_draft;
    if (p.draft_model) c.draft_model = p.draft_model->model;
    c.draft_tokens = p.draft_tokens;
    c.draft_p_min = p.draft_p_min;
    if (p.n_stop_strings && !p.stop_strings) return null_arg("ink_generator_create", "stop_strings");
    for (size_t i = 0; i < p.n_stop_strings; ++i) {
      if (!p.stop_strings[i]) return null_arg("ink_generator_create", "a stop string");
      if (ink_status s = check_text("ink_generator_create", p.stop_strings[i], std::strlen(p.stop_strings[i])); s != INK_OK)
        return s;
      c.stop.emplace_back(p.stop_strings[i]);
    }
    if (p.n_stop_tokens && !p.stop_tokens) return null_arg("ink_generator_create", "stop_tokens");
    c.stop_tokens.assign(p.stop_tokens, p.stop_tokens + p.n_stop_tokens);
    if (p.n_logit_bias && (!p.logit_bias_tokens || !p.logit_bias_values))
      return null_arg("ink_generator_create", "logit_bias_tokens or logit_bias_values");
    for (size_t i = 0; i < p.n_logit_bias; ++i) c.sampling.logit_bias.emplace_back(p.logit_bias_tokens[i], p.logit_bias_values[i]);
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
      ink_step c{};
      c.struct_size = out->struct_size;
      c.done = 1;
      c.stop_reason = to_c(gen->gen->stop_reason());
      c.text = "";
      std::memcpy(out, &c, std::min<std::size_t>(out->struct_size, sizeof c));
      return INK_OK;
    }
    fill_step(*gen, *s, to_c(gen->gen->stop_reason()), out);
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
      fill_step(*gen, s, s.final ? to_c(gen->gen->stop_reason()) : INK_STOP_NONE, &step);
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
    gen->gen->save_state(path);
    return INK_OK;
  });
}

ink_status ink_generator_load_state(ink_generator* gen, const char* path) {
  return guard([&]() -> ink_status {
    if (!gen) return null_arg("ink_generator_load_state", "gen");
    if (!path) return null_arg("ink_generator_load_state", "path");
    gen->gen->load_state(path);
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
    const inkling::Metrics& m = gen->have_result ? gen->last.metrics : gen->gen->metrics();
    ink_metrics c{};
    c.struct_size = out->struct_size;
    c.ttft_ms = m.ttft_ms;
    c.tpot_ms_mean = m.tpot_ms_mean;
    c.tpot_ms_p90 = m.tpot_ms_p90;
    c.prompt_tps = m.prompt_tps;
    c.gen_tps = m.gen_tps;
    c.prompt_tokens = m.prompt_tokens;
    c.gen_tokens = m.gen_tokens;
    c.model_bytes = m.model_bytes;
    c.kv_bytes = m.kv_bytes;
    c.peak_rss = m.peak_rss;
    c.cached_prompt_tokens = m.cached_prompt_tokens;
    c.target_passes = m.target_passes;
    c.draft_tokens = m.draft_tokens;
    c.accepted_draft_tokens = m.accepted_draft_tokens;
    std::memcpy(out, &c, std::min<std::size_t>(out->struct_size, sizeof c));
    return INK_OK;
  });
}

}  // extern "C"
