#include "beams.hpp"

#include <chrono>
#include <cmath>
#include <future>
#include <thread>

#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"
#include "openai.hpp"

namespace inkling::server {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, "invalid_request_error", param);
}

const json* field(const json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() && !it->is_null() ? &*it : nullptr;
}

const char* fate_name(BeamCandidate::Fate f) {
  switch (f) {
    case BeamCandidate::Fate::Kept: return "kept";
    case BeamCandidate::Fate::Finished: return "finished";
    case BeamCandidate::Fate::Pruned: break;
  }
  return "pruned";
}

// One step's candidates. Every kept and finished one; of the pruned (the least likely,
// never looked at again) only as many as there are beams, to bound the response.
json step_json(const BeamStep& step, const Tokenizer& tok, int n_beams) {
  json cands = json::array();
  int pruned = 0;
  for (const BeamCandidate& c : step.candidates) {
    if (c.fate == BeamCandidate::Fate::Pruned && ++pruned > n_beams) continue;
    json j = {{"parent", c.parent}, {"token", c.token}, {"piece", tok.token_to_piece(c.token, true)},
              {"logprob", c.logprob}, {"score", c.score}, {"fate", fate_name(c.fate)}};
    if (c.fate == BeamCandidate::Fate::Finished) j["finish_reason"] = finish_reason(c.stop_reason);
    cands.push_back(std::move(j));
  }
  return {{"index", step.index}, {"candidates", cands}};
}

}  // namespace

void read_beam_fields(const json& body, CompletionRequest& r) {
  GenerationConfig& c = r.config;
  if (const json* v = field(body, "num_beams")) {
    if (!v->is_number_integer() || v->get<long long>() < 1 || v->get<long long>() > 16)
      bad("num_beams", "'num_beams' must be an integer in [1, 16], got " + v->dump());
    c.num_beams = v->get<int>();
  }
  const bool beams = c.num_beams > 1;
  if (const json* v = field(body, "length_penalty")) {
    if (!beams) bad("length_penalty", "'length_penalty' needs 'num_beams' > 1");
    if (!v->is_number() || !std::isfinite(v->get<double>()) || std::fabs(v->get<double>()) > 10)
      bad("length_penalty", "'length_penalty' must be a number in [-10, 10], got " + v->dump());
    c.length_penalty = v->get<float>();
  }
  if (const json* v = field(body, "early_stopping")) {
    if (!beams) bad("early_stopping", "'early_stopping' needs 'num_beams' > 1");
    if (!v->is_boolean()) bad("early_stopping", "'early_stopping' must be a boolean");
    c.early_stopping = v->get<bool>();
  }
  if (!beams) return;
  if (r.stream)
    bad("stream", "'stream' cannot combine with 'num_beams' > 1: the best sequence is known only at the end "
                  "(the response's inkling_beams shows every step)");
  if (r.logprobs >= 0) bad("logprobs", "'logprobs' cannot combine with 'num_beams' > 1");
  if (r.tools) bad("tools", "'tools' cannot combine with 'num_beams' > 1");
  if (r.n > c.num_beams) bad("n", "'n' (the beams returned) must be at most 'num_beams'");
  c.num_return_sequences = r.n;
}

BeamOutcome BeamRunner::run(const CompletionRequest& request, int n_ctx, const std::function<bool()>& client_gone) {
  using namespace std::chrono_literals;
  BeamOutcome out;
  std::unique_lock lock(busy_, std::defer_lock);
  for (auto last = std::chrono::steady_clock::now(); !lock.try_lock();) {
    std::this_thread::sleep_for(10ms);
    if (std::chrono::steady_clock::now() - last < 100ms) continue;
    last = std::chrono::steady_clock::now();
    if (client_gone()) {
      out.result.stop_reason = StopReason::Cancelled;
      return out;
    }
  }
  GenerationConfig config = request.config;
  const long long needed = static_cast<long long>(request.prompt.size()) + config.max_new_tokens + 1;
  config.n_ctx = static_cast<int>(std::min<long long>(n_ctx, needed));
  config.kv_type = kv_type_;
  config.rope_scale = rope_scale_;
  Generator gen(model_, config);
  gen.on_beam_step([&out](const BeamStep& s) { out.steps.push_back(s); });
  auto done = std::async(std::launch::async, [&] { return gen.run_tokens(request.prompt); });
  bool cancelled = false;
  while (done.wait_for(100ms) != std::future_status::ready)
    if (!cancelled && client_gone()) {
      gen.cancel();
      cancelled = true;
    }
  out.result = done.get();  // the search's Error, if any, reaches the caller
  return out;
}

json beam_response(const CompletionRequest& request, const ServingContext& ctx, const std::string& id, const BeamOutcome& o) {
  const Tokenizer& tok = ctx.model->tokenizer();
  const long long created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json out = {{"id", id}, {"object", request.chat ? "chat.completion" : "text_completion"}, {"created", created},
              {"model", ctx.model_id}, {"seed", request.config.sampling.seed}};
  const std::string echo =
      request.echo ? (request.prompt_text.empty() ? tok.decode(request.prompt, true) : request.prompt_text) : std::string();
  json choices = json::array(), sequences = json::array();
  int completion_tokens = 0;
  const auto& seqs = o.result.sequences;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const Sequence& s = seqs[i];
    completion_tokens += static_cast<int>(s.tokens.size());
    json choice = {{"index", static_cast<int>(i)}, {"logprobs", nullptr}, {"finish_reason", finish_reason(s.stop_reason)}};
    if (request.chat)
      choice["message"] = {{"role", "assistant"}, {"content", s.text}};
    else
      choice["text"] = echo + s.text;
    choices.push_back(std::move(choice));
    sequences.push_back({{"text", s.text}, {"tokens", s.tokens}, {"logprob", s.logprob}, {"score", s.score},
                         {"length", s.length}, {"finish_reason", finish_reason(s.stop_reason)}});
  }
  json steps = json::array();
  for (const BeamStep& s : o.steps) steps.push_back(step_json(s, tok, request.config.num_beams));
  const int prompt_tokens = static_cast<int>(request.prompt.size());
  out["choices"] = std::move(choices);
  out["usage"] = {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                  {"total_tokens", prompt_tokens + completion_tokens}};
  out["inkling_metrics"] = metrics_json(o.result.metrics);
  out["inkling_beams"] = {{"num_beams", request.config.num_beams}, {"length_penalty", request.config.length_penalty},
                          {"early_stopping", request.config.early_stopping}, {"steps", std::move(steps)},
                          {"sequences", std::move(sequences)}};
  return out;
}

}  // namespace inkling::server
