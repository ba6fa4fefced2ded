// BatchGenerator: many independent requests (each with its own prompt, sampler and stop
// rules) decoded together. Every step is one forward pass for all of them, so each
// weight is read from memory once per step however many sequences are running; requests
// join and leave between steps while the others go on. A new request reuses the longest
// cached prefix any sequence holds (a shared system prompt is computed once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/generator.hpp"

namespace inkling {

struct BatchOptions {
  int max_sequences = 8;      // requests decoded at once (cache sequences); more wait in a queue
  int n_ctx = 0;              // positions per sequence; 0 = the training context, at most 4096
  float rope_scale = 1.0f;    // linear RoPE scaling, needed past the training context (KVCacheOptions)
  DType kv_type = DType::F32;
  std::size_t memory_budget = 0;  // > 0: the KV cache (all sequences) may not exceed it
  // Prompt tokens one step may compute. A long prompt is prefilled over several steps so
  // that the requests already generating keep streaming meanwhile.
  int max_prompt_tokens_per_step = 256;

  void validate() const;  // Error(InvalidArgument) naming the parameter
};

using RequestId = std::uint64_t;

// What one step did for one request.
struct BatchEvent {
  RequestId request = 0;
  std::optional<StepInfo> step;  // the token chosen (none if the request ended without one)
  bool finished = false;         // the request has ended; take_result() has its result
  StopReason stop_reason = StopReason::None;
  std::string error;             // non-empty: the request failed (it has ended)
};

// step(), take_result() and the accessors: one thread at a time (the thread that drives
// the batch). add() and cancel() may be called from any thread, also during step().
class BatchGenerator {
 public:
  BatchGenerator(std::shared_ptr<const Model> model, BatchOptions options = {});
  ~BatchGenerator();
  BatchGenerator(const BatchGenerator&) = delete;
  BatchGenerator& operator=(const BatchGenerator&) = delete;

  // Queues a request; it starts at the next step with a free sequence. Its config may use
  // everything of GenerationConfig except what belongs to the shared cache or needs a
  // sequence of its own: an n_ctx other than 0 or the batch's, a memory_budget, beam
  // search or speculation give Error(InvalidArgument) naming the field; kv_type is the
  // batch's whatever the request says. Error(ContextFull) if the prompt leaves no room
  // to generate in n_ctx positions.
  RequestId add(std::string_view prompt, GenerationConfig config);
  RequestId add_tokens(std::span<const TokenId> prompt, GenerationConfig config);

  // One forward pass: the next prompt tokens of starting requests (up to
  // max_prompt_tokens_per_step) and one token of every generating request. Returns what
  // happened to each request this step. A request's failure (say, its sampler meets a NaN
  // logit) ends that request with BatchEvent::error and leaves the others running.
  std::vector<BatchEvent> step();

  // Thread-safe: the request ends with StopReason::Cancelled at the next step, whether it
  // is queued, prefilling or generating. Unknown or finished ids are ignored.
  void cancel(RequestId id);

  // The result of a finished request (text, tokens, stop reason, metrics), which is then
  // forgotten. Error(InvalidArgument) for an unknown id or one still running.
  GenerationResult take_result(RequestId id);

  bool idle() const;           // nothing queued, starting or generating
  int running() const noexcept;  // requests holding a sequence
  int queued() const;          // requests waiting for one
  const BatchOptions& options() const noexcept;
  const KVCache& cache() const noexcept;
  const Model& model() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
