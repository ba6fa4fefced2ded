#include "capi_support.hpp"

#include "inkling/grammar.hpp"
#include "inkling/json_schema.hpp"

namespace inkling::capi {

namespace {
thread_local std::string t_last_error;
}  // namespace

const char* last_error() { return t_last_error.c_str(); }

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

ink_status copy_ids(const char* fn, const std::vector<inkling::TokenId>& v, int32_t* ids, std::size_t cap, std::size_t* n_out) {
  if (!n_out) return null_arg(fn, "n_out");
  *n_out = v.size();
  if (!ids) return cap == 0 ? INK_OK : null_arg(fn, "ids");
  if (cap < v.size())
    return fail(INK_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": room for " + std::to_string(cap) + " ids, " +
                                              std::to_string(v.size()) + " needed");
  if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));  // data() may be null when empty
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
    case inkling::StopReason::GrammarIncomplete: return INK_STOP_GRAMMAR_INCOMPLETE;
  }
  return INK_STOP_NONE;
}

void fill_alternatives(const std::vector<inkling::Alternative>& in, ink_alternative* out, int32_t* n) {
  *n = 0;
  for (std::size_t i = 0; i < in.size() && i < INK_MAX_ALTERNATIVES; ++i) {
    out[i] = ink_alternative{in[i].id, in[i].prob, in[i].logprob, in[i].text.c_str(), in[i].text.size()};
    ++*n;
  }
}

void fill_step(const inkling::StepInfo& s, ink_stop_reason reason, ink_step* out) {
  const uint32_t size = out->struct_size;
  ink_step c{};
  c.struct_size = size;
  c.done = 0;
  c.stop_reason = s.final ? reason : INK_STOP_NONE;
  c.index = s.index;
  c.token = s.token;
  c.text = s.text.c_str();
  c.text_len = s.text.size();
  c.prob = s.prob;
  c.logprob = s.logprob;
  c.raw_prob = s.raw_prob;
  c.raw_logprob = s.raw_logprob;
  c.entropy = s.entropy;
  c.ms_since_prev = s.ms_since_prev;
  fill_alternatives(s.alternatives, c.alternatives, &c.n_alternatives);
  fill_alternatives(s.raw_alternatives, c.raw_alternatives, &c.n_raw_alternatives);
  std::memcpy(out, &c, std::min<std::size_t>(size, sizeof c));
}

void fill_done(ink_stop_reason reason, ink_step* out) {
  ink_step c{};
  c.struct_size = out->struct_size;
  c.done = 1;
  c.stop_reason = reason;
  c.text = "";
  std::memcpy(out, &c, std::min<std::size_t>(out->struct_size, sizeof c));
}

void fill_metrics(const inkling::Metrics& m, ink_metrics* out) {
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
}

void DraftModel::to_cpp(std::shared_ptr<const Model>& m, const ink_model* v) {
  if (v) m = v->model;
}

ink_status to_generation_config(const char* fn, const ink_generator_params* params, inkling::GenerationConfig& c) {
  ink_generator_params p = ink_generator_params_default();
  if (params) {
    if (params->struct_size < sizeof(uint32_t) * 2)
      return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": params->struct_size is too small");
    std::memcpy(&p, params, std::min<std::size_t>(params->struct_size, sizeof p));
  }
  if (p.top_n_alternatives > INK_MAX_ALTERNATIVES)
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": top_n_alternatives must be <= " +
                                              std::to_string(INK_MAX_ALTERNATIVES));
  c = inkling::GenerationConfig{};
  config_from_params(p, c);
  if (p.n_stop_strings && !p.stop_strings) return null_arg(fn, "stop_strings");
  for (size_t i = 0; i < p.n_stop_strings; ++i) {
    if (!p.stop_strings[i]) return null_arg(fn, "a stop string");
    if (ink_status s = check_text(fn, p.stop_strings[i], std::strlen(p.stop_strings[i])); s != INK_OK)
      return s;
    c.stop.emplace_back(p.stop_strings[i]);
  }
  if (p.n_stop_tokens && !p.stop_tokens) return null_arg(fn, "stop_tokens");
  c.stop_tokens.assign(p.stop_tokens, p.stop_tokens + p.n_stop_tokens);
  if (p.n_logit_bias && (!p.logit_bias_tokens || !p.logit_bias_values))
    return null_arg(fn, "logit_bias_tokens or logit_bias_values");
  for (size_t i = 0; i < p.n_logit_bias; ++i) c.sampling.logit_bias.emplace_back(p.logit_bias_tokens[i], p.logit_bias_values[i]);
  if (p.dry_sequence_breakers) {
    c.sampling.dry_sequence_breakers.clear();
    for (size_t i = 0; i < p.n_dry_sequence_breakers; ++i) {
      if (!p.dry_sequence_breakers[i]) return null_arg(fn, "a DRY sequence breaker");
      if (ink_status s = check_text(fn, p.dry_sequence_breakers[i], std::strlen(p.dry_sequence_breakers[i])); s != INK_OK)
        return s;
      c.sampling.dry_sequence_breakers.emplace_back(p.dry_sequence_breakers[i]);
    }
  }
  if (p.samplers) c.sampling.order = inkling::parse_sampler_order(p.samplers);
  const bool has_grammar = p.grammar && *p.grammar, has_schema = p.json_schema && *p.json_schema;
  if (has_grammar && has_schema) return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": set grammar or json_schema, not both");
  if (p.json_whitespace_flexible && !has_schema)
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": json_whitespace_flexible needs json_schema");
  if (has_grammar) {
    if (ink_status s = check_text(fn, p.grammar, std::strlen(p.grammar)); s != INK_OK) return s;
    c.grammar = inkling::Grammar::parse(p.grammar);
  }
  if (has_schema) {
    if (ink_status s = check_text(fn, p.json_schema, std::strlen(p.json_schema)); s != INK_OK) return s;
    inkling::JsonSchemaOptions o;
    if (p.json_whitespace_flexible) o.whitespace = inkling::JsonWhitespace::Flexible;
    c.grammar = inkling::Grammar::parse(inkling::json_schema_to_gbnf(p.json_schema, o));
  }
  return INK_OK;
}

}  // namespace inkling::capi
