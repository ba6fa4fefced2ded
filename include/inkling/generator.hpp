// Generator: drives prefill and decode over a Model and its KVCache, chooses tokens with
// a Sampler (or beam search), applies the stop rules, streams each step with its
// probabilities and alternatives, and measures what users feel (TTFT, TPOT, tokens/s).
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/grammar.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/sampler.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling {

// GrammarIncomplete: a grammar was set and generation had to end (token limit, full
// context, or no token can continue the grammar) before the text was a complete sentence
// of it; the text is a valid prefix, never presented as complete.
enum class StopReason { None, MaxTokens, EndOfSequence, StopString, StopToken, ContextFull, Cancelled, GrammarIncomplete };
std::string_view stop_reason_name(StopReason reason) noexcept;

// What to do when the context has no room for the next token: end with
// StopReason::ContextFull, throw Error(ContextFull), or shift: keep the first n_keep
// tokens, drop the oldest half of the rest and go on (llama.cpp's context shift).
enum class ContextFullPolicy { Stop, Error, Shift };

struct GenerationConfig {
  int max_new_tokens = 256;
  int min_new_tokens = 0;             // end-of-generation tokens, stop tokens and stop strings wait until then
  std::vector<std::string> stop;      // matched on the decoded text, across token boundaries; not emitted
  std::vector<TokenId> stop_tokens;   // extra ids that end generation
  bool stop_at_eog = true;            // end at the model's end-of-generation tokens (EOS, EOT, ...)
  ContextFullPolicy on_context_full = ContextFullPolicy::Stop;
  // Shift: tokens at the start never dropped (a leading BOS is kept besides them, as in
  // llama.cpp); -1 = the whole prompt.
  int n_keep = 0;
  // KV cache positions; 0 = the training context, at most 4096. More than the training
  // context needs rope_scale (see KVCacheOptions): Error(InvalidArgument) otherwise.
  int n_ctx = 0;
  float rope_scale = 1.0f;            // linear RoPE scaling on top of the file's; 1 = off
  DType kv_type = DType::F32;         // F32, F16 or Q8_0 (see KVCacheOptions::type)
  std::size_t memory_budget = 0;      // > 0: the KV cache may not exceed this many bytes
  // > 1: beam search. Deterministic: the logit processors (logit bias, penalties, the
  // ending-token ban) apply as in sampling, the distribution-shaping steps (top-k, top-p,
  // temperature, ...) do not. Cannot combine with lookup_draft or draft_model.
  int num_beams = 1;
  float length_penalty = 1.0f;        // beam score = sum of logprobs / length^length_penalty
  bool early_stopping = true;         // beam search ends once num_beams hypotheses have finished
  int num_return_sequences = 1;       // beam search: how many finished sequences to return (<= num_beams)
  int top_n_alternatives = 5;         // alternatives reported per step (<= 100)
  // > 0: prompt-lookup speculation. Up to this many tokens that followed an earlier
  // occurrence of the latest tokens are checked in the same pass as the next token; the
  // ones the model agrees with cost no further pass over the weights. The output is the
  // same as without it (a draft is only used when the sampler picks that very token).
  int lookup_draft = 0;
  // Speculative decoding with a smaller model of the same vocabulary: it proposes
  // draft_tokens greedy tokens, the model checks them in one pass, same rule as above.
  std::shared_ptr<const Model> draft_model;
  int draft_tokens = 4;
  // The draft stops proposing at a token its own distribution gives less than this
  // probability: unsure guesses are rarely accepted and each one costs a draft pass
  // (llama.cpp's speculative example uses 0.75). 0 = always propose draft_tokens.
  float draft_p_min = 0.75f;
  bool special_text = false;          // render control tokens in the output text
  SamplerConfig sampling;
  // Constrained decoding: every generated token must continue a sentence of this grammar
  // (matched on the tokens' bytes), and the end-of-generation / stop tokens are allowed
  // exactly where the grammar can end. Works with sampling, beam search and speculation
  // (drafts the grammar forbids are not proposed). See inkling/grammar.hpp and
  // inkling/json_schema.hpp.
  std::optional<Grammar> grammar;
  // Optional, with `grammar`: its mask cache for this model's vocabulary (see
  // grammar_mask_cache()), shared between generations so each grammar state is
  // classified once. Null: each generator builds its own.
  std::shared_ptr<TokenMaskCache> grammar_cache;

  void validate() const;  // Error(InvalidArgument) naming the parameter
};

// A mask cache for `grammar` over the model's vocabulary, whose end tokens are the
// model's end-of-generation tokens plus `stop_tokens` (pass the generation's stop tokens;
// with stop_at_eog = false, pass eog = false).
std::shared_ptr<TokenMaskCache> grammar_mask_cache(const Model& model, Grammar grammar,
                                                   std::span<const TokenId> stop_tokens = {}, bool eog = true);

struct Alternative {
  TokenId id = kNoToken;
  std::string text;  // the token's piece (may be part of a UTF-8 character)
  float prob = 0;
  float logprob = 0;
  float logit = 0;   // the score behind prob (see TokenProb::logit)
  bool masked = false;  // in StepInfo::grammar_alternatives: the grammar forbade this token
};

// One generated token, as streamed.
struct StepInfo {
  int index = 0;                 // 0 for the first generated token
  TokenId token = kNoToken;
  std::string text;              // UTF-8-complete text released by this step (may be empty:
                                 // held back while it could start a stop string)
  float prob = 0, logprob = 0;   // of the chosen token in the final (filtered) distribution
  float raw_prob = 0, raw_logprob = 0;  // in the model's own distribution
  float logit = 0, raw_logit = 0;       // the scores behind them: after the sampler's steps and
                                        // temperature, and the model's own logit
  float entropy = 0, raw_entropy = 0;   // nats
  std::vector<Alternative> alternatives;      // final distribution, most likely first
  std::vector<Alternative> raw_alternatives;  // model's distribution, most likely first
  // With a grammar: what the model wanted before the grammar's mask (softmax over every
  // token the model and the ending rules allow), most likely first, each flagged masked
  // when the grammar forbade it. The other lists above see only the allowed tokens.
  // Empty without a grammar.
  std::vector<Alternative> grammar_alternatives;
  double ms_since_prev = 0;      // since the previous token (the first: since the prompt began)
  bool final = false;            // the last step; stop_reason says why
};

struct Metrics {
  double ttft_ms = 0;        // prompt start -> first token chosen
  double tpot_ms_mean = 0;   // time per output token after the first
  double tpot_ms_p90 = 0;
  double prompt_tps = 0;     // computed (not reused) prompt tokens / prefill time
  double gen_tps = 0;        // generated tokens / time after the prompt
  double prefill_ms = 0;
  double total_ms = 0;
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens reused from the previous generation's cache
  int gen_tokens = 0;
  int target_passes = 0;         // forward passes during generation
  int draft_tokens = 0;          // prompt-lookup tokens proposed
  int accepted_draft_tokens = 0; // of those, used without another pass
  std::size_t model_bytes = 0;
  std::size_t kv_bytes = 0;
  std::size_t peak_rss = 0;  // bytes, the process's peak resident set (Linux: VmHWM from
                             // /proc/self/status; macOS: task_info; Windows:
                             // PeakWorkingSetSize; 0 if the system cannot tell)
};

struct Sequence {
  std::vector<TokenId> tokens;  // generated ids (without a final end-of-generation token)
  std::string text;
  double logprob = 0;           // sum of the counted tokens' log-probabilities
  double score = 0;             // logprob / length^length_penalty
  int length = 0;               // tokens counted in logprob (includes a final EOS)
  StopReason stop_reason = StopReason::None;
};

// Beam search as it happens (Generator::on_beam_step): at each step, every candidate
// continuation it weighed, best first, and what became of it.
struct BeamCandidate {
  enum class Fate { Kept, Finished, Pruned };
  int parent = 0;            // the beam it extends: its index among the previous step's Kept
                             // candidates (at step 0 the one empty beam, 0)
  TokenId token = kNoToken;
  double logprob = 0;        // the hypothesis's summed log-probability with this token
  double score = 0;          // logprob / length^length_penalty
  Fate fate = Fate::Pruned;  // Kept: a live beam of the next step, in this order
  StopReason stop_reason = StopReason::None;  // Finished: why it ended
};
struct BeamStep {
  int index = 0;  // 0 for the first generated token
  std::vector<BeamCandidate> candidates;
};

struct GenerationResult {
  std::string text;               // the best sequence's text
  std::vector<TokenId> tokens;
  StopReason stop_reason = StopReason::None;
  std::vector<Sequence> sequences;  // beam search: sorted by score; otherwise the one sequence,
                                    // its logprob summed in the model's (unfiltered) distribution
  Metrics metrics;
};

// One thread at a time, except cancel(), which any thread may call.
class Generator {
 public:
  Generator(std::shared_ptr<const Model> model, GenerationConfig config);
  ~Generator();

  // Tokenizes (BOS as the vocabulary says) and prefills in one forward pass. Starts a new
  // generation; Error(ContextFull) if the prompt does not fit the context.
  void prompt(std::string_view text);
  void prompt_tokens(std::span<const TokenId> ids);
  // Pull style: the next token, or nullopt once generation has ended (sampling and
  // greedy modes; beam search runs through run()).
  std::optional<StepInfo> step();
  // Prompt + generation; on_step returning false cancels. Beam search (num_beams > 1)
  // does not call on_step (no token is final until the search ends; a later step may
  // drop the beam that held it): set a beam listener to watch it. cancel() still works,
  // and every Sequence in the result carries its text.
  GenerationResult run(std::string_view prompt, std::function<bool(const StepInfo&)> on_step = {});
  GenerationResult run_tokens(std::span<const TokenId> prompt, std::function<bool(const StepInfo&)> on_step = {});

  // Beam search: called once per step, on the thread that runs run(), with the candidates
  // weighed and which survived (for visualizers). Not called when num_beams is 1.
  void on_beam_step(std::function<void(const BeamStep&)> observer);

  // Beam search's progress: after each step in which the best hypothesis (live or
  // finished, by score) changed, the listener receives it (stop_reason None while it is
  // live; text: what it has released so far) and the step (0 = the first token); false
  // cancels. Used by the following beam-search runs; an empty function removes it.
  using BeamListener = std::function<bool(const Sequence& best, int step)>;
  void on_beam_update(BeamListener listener);

  void cancel() noexcept;  // thread-safe: the current run() ends with StopReason::Cancelled
  // Forgets everything: the cache (no prefix is reused), the text, the metrics.
  void reset();
  // Saves the conversation (the tokens the cache holds, their K/V entries, the sampler's
  // random state) to a file; load_state restores it into a generator of the same model
  // and KV cache type, so the next prompt that extends the conversation only computes
  // its new tokens. load_state throws Error(InvalidArgument) for another model's state
  // and Error(Format) for a damaged file, leaving the generator unchanged.
  void save_state(const std::filesystem::path& path) const;
  void load_state(const std::filesystem::path& path);
  StopReason stop_reason() const noexcept;
  const Metrics& metrics() const noexcept;
  const std::string& text() const noexcept;               // emitted so far
  const std::vector<TokenId>& tokens() const noexcept;    // generated so far
  const GenerationConfig& config() const noexcept;
  // The sampler's seed: config().sampling.seed, or the one drawn for
  // SamplerConfig::kRandomSeed (report it so a good sample can be reproduced).
  std::uint64_t seed() const noexcept;
  const KVCache& cache() const noexcept;
  const Model& model() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
