#include "openai.hpp"

#include <algorithm>
#include "beams.hpp"
#include "structured.hpp"

#include <chrono>
#include <cmath>
#include <random>
#include <utility>

#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "inkling/scoring.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling::server {

using nlohmann::json;

json ApiError::body() const {
  json e = {{"message", what()}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!param.empty()) e["param"] = param;
  if (!code.empty()) e["code"] = code;
  return json{{"error", e}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

const char* finish_reason(StopReason r) {
  switch (r) {
    case StopReason::MaxTokens:
    case StopReason::ContextFull: return "length";
    case StopReason::EndOfSequence:
    case StopReason::StopString:
    case StopReason::StopToken: return "stop";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::GrammarIncomplete: return "length";
    case StopReason::None: break;
  }
  return "error";
}

json metrics_json(const Metrics& m) {
  return {{"ttft_ms", m.ttft_ms},           {"tpot_ms", m.tpot_ms_mean},         {"tpot_ms_p90", m.tpot_ms_p90},
          {"gen_tps", m.gen_tps},           {"prompt_tps", m.prompt_tps},        {"prefill_ms", m.prefill_ms},
          {"total_ms", m.total_ms},         {"prompt_tokens", m.prompt_tokens},  {"cached_prompt_tokens", m.cached_prompt_tokens},
          {"gen_tokens", m.gen_tokens},     {"kv_bytes", m.kv_bytes},            {"peak_rss", m.peak_rss}};
}

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, "invalid_request_error", param);
}

// Typed readers: a field that is absent or null keeps the default; the wrong type or a
// value out of range is a 400 naming the field.
std::optional<double> number(const json& body, const char* key, double lo, double hi) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad(key, std::string("'") + key + "' must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    bad(key, std::string("'") + key + "' must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " + it->dump());
  return v;
}

std::optional<long long> integer(const json& body, const char* key, long long lo, long long hi) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() && !(it->is_number_float() && std::floor(it->get<double>()) == it->get<double>()))
    bad(key, std::string("'") + key + "' must be an integer");
  const double d = it->get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    bad(key, std::string("'") + key + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + it->dump());
  return static_cast<long long>(d);
}

std::optional<bool> boolean(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad(key, std::string("'") + key + "' must be a boolean");
  return it->get<bool>();
}

// OpenAI (and llama.cpp) fields this server cannot honour: a 400 naming the field,
// unless the value asks for the default behaviour.
void refuse_unsupported(const json& body) {
  auto is_default = [](const std::string& key, const json& v) {
    if (v.is_null()) return true;
    if (key == "response_format") return v.is_object() && v.value("type", "") == "text" && v.size() == 1;
    if (key == "best_of") return v.is_number_integer() && v.get<long long>() == 1;
    if (key == "tools" || key == "functions") return v.is_array() && v.empty();
    if (key == "tool_choice" || key == "function_call") return v.is_string() && v.get<std::string>() == "none";
    if (key == "parallel_tool_calls") return v.is_boolean();
    return false;
  };
  // response_format, tools, tool_choice and parallel_tool_calls are honoured (structured.cpp),
  // grammar and json_schema (llama.cpp's names) too; num_beams is beam search (beams.cpp).
  for (const char* key : {"functions", "function_call", "best_of",
                          "audio", "modalities", "prediction", "web_search_options", "reasoning_effort"}) {
    auto it = body.find(key);
    if (it != body.end() && !is_default(key, *it))
      throw ApiError(400, std::string("'") + key + "' is not supported by this server", "invalid_request_error", key,
                     "unsupported_parameter");
  }
}

// llama.cpp server's names for the samplers beyond OpenAI's.
void read_llama_samplers(const json& body, SamplerConfig& s) {
  if (auto v = integer(body, "mirostat", 0, 2)) s.mirostat = static_cast<int>(*v);
  if (auto v = number(body, "mirostat_tau", 0, 100)) s.mirostat_tau = static_cast<float>(*v);
  if (auto v = number(body, "mirostat_eta", 0, 10)) s.mirostat_eta = static_cast<float>(*v);
  if (auto v = number(body, "dry_multiplier", 0, 100)) s.dry_multiplier = static_cast<float>(*v);
  if (auto v = number(body, "dry_base", 1, 100)) s.dry_base = static_cast<float>(*v);
  if (auto v = integer(body, "dry_allowed_length", 1, 1 << 20)) s.dry_allowed_length = static_cast<int>(*v);
  if (auto v = integer(body, "dry_penalty_last_n", -1, 1 << 24)) s.dry_penalty_last_n = static_cast<int>(*v);
  if (auto it = body.find("dry_sequence_breakers"); it != body.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > 64) bad("dry_sequence_breakers", "'dry_sequence_breakers' must be an array of at most 64 strings");
    s.dry_sequence_breakers.clear();
    for (const auto& v : *it) {
      if (!v.is_string() || v.get<std::string>().empty())
        bad("dry_sequence_breakers", "'dry_sequence_breakers' entries must be non-empty strings");
      s.dry_sequence_breakers.push_back(v.get<std::string>());
    }
  }
  if (auto v = number(body, "xtc_probability", 0, 1)) s.xtc_probability = static_cast<float>(*v);
  if (auto v = number(body, "xtc_threshold", 0, 1)) s.xtc_threshold = static_cast<float>(*v);
  if (auto v = number(body, "top_n_sigma", -1e9, 1e9)) s.top_n_sigma = static_cast<float>(*v);
  if (auto it = body.find("samplers"); it != body.end() && !it->is_null()) {
    std::string names;
    if (it->is_string()) {
      names = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (!v.is_string()) bad("samplers", "'samplers' must be an array of sampler names");
        names += v.get<std::string>() + ";";
      }
    } else {
      bad("samplers", "'samplers' must be an array of sampler names");
    }
    try {
      s.order = parse_sampler_order(names);
    } catch (const Error& e) {
      bad("samplers", std::string("'samplers': ") + e.what());
    }
  }
}

void read_sampling(const json& body, CompletionRequest& r, const ServingContext& ctx) {
  GenerationConfig& c = r.config;
  SamplerConfig& s = c.sampling;
  // OpenAI's defaults: plain temperature-1 sampling; our extra filters are off unless asked.
  s.temperature = 1.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  if (auto v = number(body, "temperature", 0, 2)) s.temperature = static_cast<float>(*v);
  if (auto v = number(body, "top_p", 0, 1)) {
    if (*v <= 0) bad("top_p", "'top_p' must be in (0, 1]");
    s.top_p = static_cast<float>(*v);
  }
  if (auto v = integer(body, "top_k", 0, 1 << 20)) s.top_k = static_cast<int>(*v);
  if (auto v = number(body, "min_p", 0, 1)) s.min_p = static_cast<float>(*v);
  if (auto v = number(body, "typical_p", 0, 1)) {
    if (*v <= 0) bad("typical_p", "'typical_p' must be in (0, 1]");
    s.typical_p = static_cast<float>(*v);
  }
  if (auto v = number(body, "presence_penalty", -2, 2)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = number(body, "frequency_penalty", -2, 2)) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = number(body, "repeat_penalty", 0, 10)) {
    if (*v <= 0) bad("repeat_penalty", "'repeat_penalty' must be > 0");
    s.repeat_penalty = static_cast<float>(*v);
  }
  if (auto v = integer(body, "penalty_window", -1, 1 << 20)) s.penalty_window = static_cast<int>(*v);
  // llama.cpp: seed -1 draws one. The seed used is reported in the response ("seed").
  s.seed = std::random_device{}() * 0x100000001ull + std::random_device{}();
  if (auto it = body.find("seed"); it != body.end() && !it->is_null()) {
    if (it->is_number_unsigned())
      s.seed = it->get<std::uint64_t>();  // the whole range, as reported back
    else if (it->is_number_integer() && it->get<long long>() != -1)
      s.seed = static_cast<std::uint64_t>(it->get<long long>());
    else if (!it->is_number_integer())
      bad("seed", "'seed' must be an integer (-1 = random)");
  }
  read_llama_samplers(body, s);
  if (auto it = body.find("logit_bias"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) bad("logit_bias", "'logit_bias' must be an object mapping token ids to biases");
    const int n_vocab = ctx.model->config().n_vocab;
    for (const auto& [key, value] : it->items()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || *end || id < 0 || id >= n_vocab)
        bad("logit_bias", "'logit_bias' key '" + key + "' is not a token id in [0, " + std::to_string(n_vocab) + ")");
      if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100)
        bad("logit_bias", "'logit_bias' values must be numbers in [-100, 100]");
      const double b = value.get<double>();
      // OpenAI: -100 bans the token.
      s.logit_bias.emplace_back(static_cast<TokenId>(id), b <= -100 ? -INFINITY : static_cast<float>(b));
    }
    // Nothing left to sample is the request's fault: a 400 now, not a failure later.
    std::vector<TokenId> banned;
    for (const auto& [id, b] : s.logit_bias)
      if (b == -INFINITY) banned.push_back(id);
    std::sort(banned.begin(), banned.end());
    if (std::unique(banned.begin(), banned.end()) - banned.begin() >= n_vocab)
      bad("logit_bias", "'logit_bias' bans every token of the vocabulary: nothing would be left to sample");
  }

  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    auto add = [&](const json& v) {
      if (!v.is_string() || v.get<std::string>().empty()) bad("stop", "'stop' must be a non-empty string or an array of them");
      c.stop.push_back(v.get<std::string>());
    };
    if (it->is_array()) {
      if (it->size() > 16) bad("stop", "'stop' takes at most 16 strings");
      for (const auto& v : *it) add(v);
    } else {
      add(*it);
    }
  }
  if (auto v = boolean(body, "ignore_eos")) c.stop_at_eog = !*v;
  // Context shift (llama.cpp's server has it as an option; here per request): when the
  // context is full keep n_keep tokens, drop the oldest half of the rest and go on.
  if (auto v = boolean(body, "context_shift"); v && *v) c.on_context_full = ContextFullPolicy::Shift;
  if (auto v = integer(body, "n_keep", -1, 1 << 24)) c.n_keep = static_cast<int>(*v);
  if (auto n = integer(body, "n", 1, 8)) r.n = static_cast<int>(*n);
  if (auto v = boolean(body, "stream")) r.stream = *v;
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null() && !it->is_object())
    bad("stream_options", "'stream_options' must be an object");
}

}  // namespace

std::size_t max_prompt_bytes(const Tokenizer& tokenizer, int n_ctx) {
  std::size_t longest = 1;
  for (TokenId id = 0; id < tokenizer.n_vocab(); ++id) longest = std::max(longest, tokenizer.token_text(id).size());
  return static_cast<std::size_t>(n_ctx) * longest;
}

namespace {

std::vector<ChatMessage> read_messages(const json& body) {
  auto it = body.find("messages");
  if (it == body.end()) bad("messages", "'messages' is required");
  if (!it->is_array() || it->empty()) bad("messages", "'messages' must be a non-empty array");
  std::vector<ChatMessage> out;
  for (const auto& m : *it) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      bad("messages", "each message needs a string 'role'");
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    if (msg.role == "developer") msg.role = "system";  // OpenAI's newer name for it
    const json& content = m.contains("content") ? m["content"] : json();
    read_tool_fields(m, msg);
    if (content.is_null() && (msg.role == "assistant" || msg.role == "tool")) {
      // an assistant message that only called tools has no content
    } else if (content.is_string()) {
      msg.content = content.get<std::string>();
    } else if (content.is_array()) {
      // Content parts: only text parts can be served by a text model.
      for (const auto& part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          bad("messages", "message content parts must be {\"type\": \"text\", \"text\": ...}");
        msg.content += part["text"].get<std::string>();
      }
    } else {
      bad("messages", "a message's 'content' must be a string or an array of text parts");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

CompletionRequest parse_request(const std::string& text, bool chat, const ServingContext& ctx) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::exception& e) {
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) bad("model", "'model' must be a string");
    const std::string m = it->get<std::string>();
    if (!m.empty() && m != ctx.model_id)
      throw ApiError(404, "the model '" + m + "' does not exist; this server serves '" + ctx.model_id + "'",
                     "invalid_request_error", "model", "model_not_found");
  }

  refuse_unsupported(body);
  CompletionRequest r;
  r.chat = chat;
  read_sampling(body, r, ctx);
  // Text that cannot fit is refused before it is tokenized (tokenizing runs on an
  // HTTP thread).
  auto check_prompt_bytes = [&](std::size_t bytes) {
    if (ctx.max_prompt_bytes > 0 && bytes > ctx.max_prompt_bytes)
      throw ApiError(400, "the prompt has " + std::to_string(bytes) + " bytes, more than " + std::to_string(ctx.n_ctx) +
                              " tokens of context can hold (at most " + std::to_string(ctx.max_prompt_bytes) + " bytes)",
                     "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded");
  };
  const StructuredOutput structured = read_structured_output(body, text, chat, ctx, r);
  r.tools = structured.tools;
  const Tokenizer& tok = ctx.model->tokenizer();
  if (chat) {
    if (!ctx.chat)
      throw ApiError(400, "this model has no chat template this server knows; start it with --chat-template NAME or use /v1/completions",
                     "invalid_request_error", "messages");
    const auto messages = read_messages(body);
    std::size_t bytes = 0;
    for (const ChatMessage& m : messages) bytes += m.content.size();
    check_prompt_bytes(bytes);
    try {
      r.prompt = structured.tool_specs.empty() ? ctx.chat->encode(tok, messages, true)
                                               : structured.format->encode(tok, messages, structured.tool_specs, true);
    } catch (const Error& e) {
      bad("messages", e.what());
    }
    for (auto& s : ctx.chat->stop_strings()) r.config.stop.push_back(s);
    for (TokenId id : ctx.chat->stop_tokens(tok)) r.config.stop_tokens.push_back(id);
    // Chat replies run until the turn ends; max_completion_tokens is the newer name.
    r.config.max_new_tokens = ctx.n_ctx;
    if (auto v = integer(body, "max_tokens", 0, 1 << 30)) r.config.max_new_tokens = static_cast<int>(*v);
    if (auto v = integer(body, "max_completion_tokens", 0, 1 << 30)) r.config.max_new_tokens = static_cast<int>(*v);
    if (boolean(body, "logprobs").value_or(false)) {
      r.logprobs = static_cast<int>(integer(body, "top_logprobs", 0, 20).value_or(0));
    } else if (integer(body, "top_logprobs", 0, 20)) {
      bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
  } else {
    auto it = body.find("prompt");
    if (it == body.end() || it->is_null()) bad("prompt", "'prompt' is required");
    const json* p = &*it;
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
    if (p->is_string()) {
      check_prompt_bytes(p->get_ref<const std::string&>().size());
      r.prompt_text = p->get<std::string>();
      r.prompt = tok.encode(r.prompt_text, true, true);
    } else if (p->is_array() && !p->empty() && std::all_of(p->begin(), p->end(), [](const json& v) { return v.is_number_integer(); })) {
      for (const auto& v : *p) {
        const long long id = v.get<long long>();
        if (id < 0 || id >= ctx.model->config().n_vocab) bad("prompt", "token id " + std::to_string(id) + " is out of range");
        r.prompt.push_back(static_cast<TokenId>(id));
      }
    } else {
      bad("prompt", "'prompt' must be a string, an array of one string, or an array of token ids");
    }
    r.config.max_new_tokens = 16;  // OpenAI's default for completions
    if (auto v = integer(body, "max_tokens", 0, 1 << 30)) r.config.max_new_tokens = static_cast<int>(*v);
    if (auto v = integer(body, "logprobs", 0, 20)) r.logprobs = static_cast<int>(*v);
    r.echo = boolean(body, "echo").value_or(false);
    if (r.echo && boolean(body, "stream").value_or(false)) bad("echo", "'echo' cannot combine with 'stream'");
    if (auto s = body.find("suffix"); s != body.end() && !s->is_null()) bad("suffix", "'suffix' is not supported");
  }
  if (auto v = integer(body, "min_tokens", 0, 1 << 30)) r.config.min_new_tokens = static_cast<int>(std::min<long long>(*v, r.config.max_new_tokens));
  if (r.prompt.empty()) bad(chat ? "messages" : "prompt", "the prompt has no tokens");
  if (static_cast<int>(r.prompt.size()) >= ctx.n_ctx)
    throw ApiError(400, "the prompt has " + std::to_string(r.prompt.size()) + " tokens but the context holds " +
                            std::to_string(ctx.n_ctx) + " (at least one more is needed to generate)",
                   "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded");
  r.config.top_n_alternatives = std::max(r.logprobs, 0);
  finish_structured_output(r, ctx);
  read_beam_fields(body, r);
  try {
    r.config.validate();
  } catch (const Error& e) {
    bad("", e.what());
  }
  return r;
}

ResponseWriter::ResponseWriter(const CompletionRequest& request, const ServingContext& ctx, std::string id)
    : request_(request),
      ctx_(ctx),
      id_(std::move(id)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()),
      choices_(static_cast<std::size_t>(std::max(1, request.n))) {}

json ResponseWriter::envelope(const char* object) const {
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", ctx_.model_id},
          {"seed", request_.config.sampling.seed}};
}

namespace {
json alternatives_json(const std::vector<Alternative>& alts) {
  json a = json::array();
  for (const auto& x : alts)
    a.push_back({{"token", x.id}, {"text", x.text}, {"prob", x.prob}, {"logprob", x.logprob}, {"logit", x.logit}});
  return a;
}
json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}
}  // namespace

// inkling's own per-step data (both distributions, entropy, timing) for visualizers.
// With a grammar, "grammar_alternatives": the model's top choices before the grammar's
// mask, each with "masked" saying whether the grammar forbade it.
json ResponseWriter::step_extension(const StepInfo& s) const {
  json ext = {{"index", s.index},
          {"token", s.token},
          {"piece", ctx_.model->tokenizer().token_to_piece(s.token, true)},
          {"prob", s.prob},
          {"logprob", s.logprob},
          {"raw_prob", s.raw_prob},
          {"raw_logprob", s.raw_logprob},
          {"logit", s.logit},
          {"raw_logit", s.raw_logit},
          {"entropy", s.entropy},
          {"raw_entropy", s.raw_entropy},
          {"ms", s.ms_since_prev},
          {"alternatives", alternatives_json(s.alternatives)},
          {"raw_alternatives", alternatives_json(s.raw_alternatives)}};
  if (!s.grammar_alternatives.empty()) {
    json g = alternatives_json(s.grammar_alternatives);
    for (std::size_t i = 0; i < g.size(); ++i) g[i]["masked"] = s.grammar_alternatives[i].masked;
    ext["grammar_alternatives"] = std::move(g);
  }
  return ext;
}

// OpenAI's logprobs are the model's own log-probabilities (before the sampler's filters).
json ResponseWriter::logprobs_entry_completion(const StepInfo& s, std::size_t offset) const {
  json top = json::object();
  for (const auto& a : s.raw_alternatives) {
    if (static_cast<int>(top.size()) >= request_.logprobs) break;
    top[a.text] = a.logprob;  // the same text twice (rare) keeps the more likely
  }
  return {{"tokens", json::array({ctx_.model->tokenizer().token_to_piece(s.token, true)})},
          {"token_logprobs", json::array({s.raw_logprob})},
          {"top_logprobs", json::array({top})},
          {"text_offset", json::array({offset})}};
}

json ResponseWriter::logprobs_entry_chat(const StepInfo& s) const {
  const std::string piece = ctx_.model->tokenizer().token_to_piece(s.token, true);
  json top = json::array();
  for (const auto& a : s.raw_alternatives) {
    if (static_cast<int>(top.size()) >= request_.logprobs) break;
    top.push_back({{"token", a.text}, {"logprob", a.logprob}, {"bytes", bytes_of(a.text)}});
  }
  return {{"token", piece}, {"logprob", s.raw_logprob}, {"bytes", bytes_of(piece)}, {"top_logprobs", top}};
}

// Chat streams open with a chunk that only names the speaker, as OpenAI's do.
std::string ResponseWriter::role_chunk(int index) {
  Choice& c = choices_[static_cast<std::size_t>(index)];
  if (c.sent_role) return {};
  c.sent_role = true;
  json first = envelope("chat.completion.chunk");
  first["choices"] = json::array(
      {{{"index", index}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
  return "data: " + dump(first) + "\n\n";
}

json ResponseWriter::usage(const std::vector<GenerationResult>& results) const {
  const int prompt_tokens = static_cast<int>(request_.prompt.size());
  int completion = 0;
  for (const auto& r : results) completion += r.metrics.gen_tokens;
  return {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion}, {"total_tokens", prompt_tokens + completion}};
}

std::string ResponseWriter::chunk(int index, const StepInfo& s) {
  Choice& ch = choices_[static_cast<std::size_t>(index)];
  if (request_.chat && request_.tools && ch.deciding) {
    // Held back while the reply may still become a tool call; released as content the
    // moment it cannot.
    ch.text += s.text;
    ch.held += s.text;
    if (request_.tools->may_start_call(ch.held)) return role_chunk(index);
    ch.deciding = false;
    return content_chunk(index, std::exchange(ch.held, {}), step_extension(s));
  }
  std::string out;
  json c = envelope(request_.chat ? "chat.completion.chunk" : "text_completion");
  json choice;
  if (request_.chat) {
    out += role_chunk(index);
    choice = {{"index", index}, {"delta", {{"content", s.text}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (request_.logprobs >= 0) choice["logprobs"] = {{"content", json::array({logprobs_entry_chat(s)})}};
  } else {
    choice = {{"index", index}, {"text", s.text}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (request_.logprobs >= 0) choice["logprobs"] = logprobs_entry_completion(s, ch.text_offset);
  }
  c["choices"] = json::array({choice});
  c["inkling"] = step_extension(s);
  out += "data: " + dump(c) + "\n\n";
  ch.text_offset += s.text.size();
  return out;
}

std::string ResponseWriter::content_chunk(int index, const std::string& text, const json& extension) {
  json c = envelope("chat.completion.chunk");
  c["choices"] = json::array({{{"index", index}, {"delta", {{"content", text}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
  if (!extension.is_null()) c["inkling"] = extension;
  return role_chunk(index) + "data: " + dump(c) + "\n\n";
}

std::string ResponseWriter::finish_chunk(int index, const GenerationResult& r) {
  std::string out;
  json c = envelope(request_.chat ? "chat.completion.chunk" : "text_completion");
  Choice& ch = choices_[static_cast<std::size_t>(index)];
  if (request_.chat && request_.tools && ch.deciding) {  // the whole reply was held: calls or text
    const ParsedReply parsed = request_.tools->parse(ch.held);
    if (!parsed.calls.empty() && r.stop_reason == StopReason::EndOfSequence) {
      json d = envelope("chat.completion.chunk");
      d["choices"] = json::array({{{"index", index}, {"delta", {{"tool_calls", tool_calls_json(parsed.calls, id_, index)}}},
                                   {"logprobs", nullptr}, {"finish_reason", nullptr}}});
      out += role_chunk(index) + "data: " + dump(d) + "\n\n";
      c["choices"] = json::array({{{"index", index}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", "tool_calls"}}});
      if (choices_.size() == 1) c["usage"] = usage({r});
      c["inkling_metrics"] = metrics_json(r.metrics);
      return out + "data: " + dump(c) + "\n\n";
    }
    if (!ch.held.empty()) out += content_chunk(index, std::exchange(ch.held, {}), nullptr);
  }
  if (request_.chat) {
    out += role_chunk(index);
    c["choices"] = json::array({{{"index", index}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish_reason(r.stop_reason)}}});
  } else {
    c["choices"] = json::array({{{"index", index}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish_reason(r.stop_reason)}}});
  }
  if (choices_.size() == 1) c["usage"] = usage({r});
  c["inkling_metrics"] = metrics_json(r.metrics);
  out += "data: " + dump(c) + "\n\n";
  return out;
}

std::string ResponseWriter::done_chunk(const std::vector<GenerationResult>& results) {
  std::string out;
  if (choices_.size() > 1) {  // OpenAI's usage chunk: no choices, the usage of them all
    json c = envelope(request_.chat ? "chat.completion.chunk" : "text_completion");
    c["choices"] = json::array();
    c["usage"] = usage(results);
    out += "data: " + dump(c) + "\n\n";
  }
  return out + "data: [DONE]\n\n";
}

void ResponseWriter::record(int index, const StepInfo& step) {
  Choice& c = choices_[static_cast<std::size_t>(index)];
  c.text += step.text;
  c.steps.push_back(step);
}

std::string ResponseWriter::echo_text() const {
  return request_.prompt_text.empty() ? ctx_.model->tokenizer().decode(request_.prompt, true) : request_.prompt_text;
}

// OpenAI: the first prompt token has no logprob (null), each later one its log-probability
// given the ones before it, with the top alternatives.
json ResponseWriter::echo_logprobs() const {
  const Tokenizer& tok = ctx_.model->tokenizer();
  json lp = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()}, {"text_offset", json::array()}};
  const auto& prompt = request_.prompt;
  const std::vector<TokenScore> scores =
      prompt.size() >= 2 ? score_tokens(*ctx_.model, prompt, request_.logprobs) : std::vector<TokenScore>{};
  // Offsets into echo_text(): decoded prefixes, less the leading space a decode may add.
  const std::size_t decoded = tok.decode(prompt, true).size(), echoed = echo_text().size();
  const std::size_t skew = decoded > echoed ? decoded - echoed : 0;
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    lp["tokens"].push_back(tok.token_to_piece(prompt[i], false));
    const std::size_t prefix = tok.decode(std::span<const TokenId>(prompt).first(i), true).size();
    lp["text_offset"].push_back(prefix > skew ? prefix - skew : 0);
    if (i == 0) {
      lp["token_logprobs"].push_back(nullptr);
      lp["top_logprobs"].push_back(nullptr);
      continue;
    }
    const TokenScore& sc = scores[i - 1];
    lp["token_logprobs"].push_back(sc.logprob);
    json top = json::object();
    for (const TokenProb& t : sc.top) top[tok.token_to_piece(t.id, true)] = t.logprob;
    lp["top_logprobs"].push_back(top);
  }
  return lp;
}

json ResponseWriter::full_response(const std::vector<GenerationResult>& results) const {
  json out = envelope(request_.chat ? "chat.completion" : "text_completion");
  out["choices"] = json::array();
  for (std::size_t i = 0; i < choices_.size() && i < results.size(); ++i) {
    const Choice& ch = choices_[i];
    json logprobs = nullptr;
    if (request_.logprobs >= 0) {
      if (request_.chat) {
        logprobs = {{"content", json::array()}};
        for (const auto& s : ch.steps) logprobs["content"].push_back(logprobs_entry_chat(s));
      } else {
        logprobs = request_.echo ? echo_logprobs()
                                 : json{{"tokens", json::array()}, {"token_logprobs", json::array()},
                                        {"top_logprobs", json::array()}, {"text_offset", json::array()}};
        std::size_t offset = request_.echo ? echo_text().size() : 0;
        for (const auto& s : ch.steps) {
          json e = logprobs_entry_completion(s, offset);
          for (const char* k : {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) logprobs[k].push_back(e[k][0]);
          offset += s.text.size();
        }
      }
    }
    json choice = {{"index", static_cast<int>(i)}, {"logprobs", logprobs}, {"finish_reason", finish_reason(results[i].stop_reason)}};
    const ParsedReply parsed = request_.chat && request_.tools && results[i].stop_reason == StopReason::EndOfSequence
                                   ? request_.tools->parse(ch.text) : ParsedReply{ch.text, {}};
    if (request_.chat && !parsed.calls.empty()) {
      choice["message"] = {{"role", "assistant"},
                           {"content", parsed.content.empty() ? json(nullptr) : json(parsed.content)},
                           {"tool_calls", tool_calls_json(parsed.calls, id_, static_cast<int>(i))}};
      choice["finish_reason"] = "tool_calls";
    } else if (request_.chat)
      choice["message"] = {{"role", "assistant"}, {"content", ch.text}};
    else
      choice["text"] = request_.echo ? echo_text() + ch.text : ch.text;
    out["choices"].push_back(choice);
  }
  out["usage"] = usage(results);
  if (results.size() == 1) {
    out["inkling_metrics"] = metrics_json(results[0].metrics);
  } else {
    out["inkling_metrics"] = json::array();
    for (const auto& r : results) out["inkling_metrics"].push_back(metrics_json(r.metrics));
  }
  return out;
}

}  // namespace inkling::server
