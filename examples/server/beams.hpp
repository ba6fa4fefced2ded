// Beam search over HTTP: a completion with "num_beams" > 1 (with "length_penalty" and
// "early_stopping", Hugging Face's names) returns the n best beams as its choices and, in
// "inkling_beams", every step's candidates with their scores and which survived, for the
// visualizer. The batched engine decodes one token per sequence per step, so a beam search
// runs beside it on its own Generator and thread (a Model serves many threads, each with
// its own cache), one search per model at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "inkling/generator.hpp"

namespace inkling::server {

struct CompletionRequest;
struct ServingContext;

// Reads num_beams, length_penalty and early_stopping into r.config (n becomes the number
// of sequences returned). Throws ApiError (400) naming the field: out of range, the beam
// fields without num_beams > 1, or num_beams with what it cannot serve (stream, logprobs,
// tools, n > num_beams).
void read_beam_fields(const nlohmann::json& body, CompletionRequest& r);

struct BeamOutcome {
  GenerationResult result;       // sequences best first (at most request.n)
  std::vector<BeamStep> steps;   // one per generated position
};

class BeamRunner {
 public:
  // rope_scale: the served context's RoPE scaling, so beams see the positions the batched
  // engine sees.
  BeamRunner(std::shared_ptr<const Model> model, DType kv_type, float rope_scale)
      : model_(std::move(model)), kv_type_(kv_type), rope_scale_(rope_scale) {}
  // Runs one search to its end, or until client_gone() (asked every 100 ms, also while
  // waiting for the model's previous search) turns true: then cancelled. The cache holds
  // just the prompt and max_tokens (at most n_ctx positions).
  BeamOutcome run(const CompletionRequest& request, int n_ctx, const std::function<bool()>& client_gone);

 private:
  std::shared_ptr<const Model> model_;
  DType kv_type_;
  float rope_scale_ = 1.0f;
  std::mutex busy_;  // one search at a time per model
};

// The whole (non-streamed) response: choices from the sequences, inkling_beams from the
// steps, inkling_metrics and usage.
nlohmann::json beam_response(const CompletionRequest& request, const ServingContext& ctx, const std::string& id,
                             const BeamOutcome& outcome);

}  // namespace inkling::server
