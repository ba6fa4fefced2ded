#include "inkling/batch_generator.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>

#include "generate/context_shift.hpp"
#include "generate/decoding.hpp"
#include "generate/prefix.hpp"
#include "inkling/error.hpp"

namespace inkling {

void BatchOptions::validate() const {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::InvalidArgument, "batch: " + m); };
  if (max_sequences < 1 || max_sequences > 256) bad("max_sequences must be in [1, 256], got " + std::to_string(max_sequences));
  if (n_ctx < 0) bad("n_ctx must be >= 0 (0 = the model's context), got " + std::to_string(n_ctx));
  if (!(rope_scale >= 1 && rope_scale <= 64)) bad("rope_scale must be in [1, 64] (1 = off), got " + std::to_string(rope_scale));
  if (max_prompt_tokens_per_step < 1)
    bad("max_prompt_tokens_per_step must be >= 1, got " + std::to_string(max_prompt_tokens_per_step));
}

namespace {

struct Request {
  RequestId id = 0;
  std::unique_ptr<detail::Decoding> decoding;
  std::vector<TokenId> prompt;
  detail::Decoding::Clock::time_point submitted;
  int slot = -1;
  int prefilled = 0;          // prompt tokens in the cache
  int reused = 0;             // of those, found in the cache at admission
  int position = 0;           // next position of its sequence
  TokenId pending = kNoToken; // chosen, to be fed at `position` in the next pass
  int row = -1;               // its logits row in this pass, -1: none
  bool cancel = false;
};

// A cache sequence and the tokens its K/V entries hold (kept after its request ends, so
// a later request with the same beginning reuses them).
struct Slot {
  std::vector<TokenId> tokens;
  // How many of them a later request may reuse: after a context shift the entries beyond
  // the kept ones were computed with the dropped tokens in view.
  std::size_t exact = SIZE_MAX;
  Request* request = nullptr;
  std::uint64_t last_used = 0;
};

}  // namespace

struct BatchGenerator::Impl {
  std::shared_ptr<const Model> model;
  BatchOptions options;
  KVCache cache;
  std::vector<Slot> slots;
  std::vector<std::unique_ptr<Request>> running;  // holding a slot
  std::deque<std::unique_ptr<Request>> waiting;   // admitted by step(), in arrival order
  std::map<RequestId, std::unique_ptr<Request>> done;
  std::uint64_t steps = 0;
  Batch batch;
  std::vector<float> logits;

  // Shared with add() / cancel() on other threads.
  mutable std::mutex mutex;
  std::deque<std::unique_ptr<Request>> incoming;
  std::vector<RequestId> cancels;
  RequestId next_id = 1;

  Impl(std::shared_ptr<const Model> m, BatchOptions o)
      : model(std::move(m)),
        options((o.validate(), o)),
        cache(*model, {.n_ctx = options.n_ctx,
                       .rope_scale = options.rope_scale,
                       .n_seq = options.max_sequences,
                       .type = options.kv_type,
                       .memory_budget = options.memory_budget}),
        slots(static_cast<std::size_t>(options.max_sequences)) {}

  void check_config(const GenerationConfig& c) const {
    auto bad = [](const std::string& m) { throw Error(ErrorCode::InvalidArgument, "batch: " + m); };
    if (c.num_beams != 1) bad("beam search (num_beams > 1) needs a Generator of its own");
    if (c.lookup_draft != 0 || c.draft_model) bad("speculative decoding (lookup_draft, draft_model) needs a Generator of its own");
    if (c.n_ctx != 0 && c.n_ctx != cache.n_ctx())
      bad("n_ctx is set for the whole batch in BatchOptions (" + std::to_string(cache.n_ctx()) + "), got " + std::to_string(c.n_ctx));
    if (c.memory_budget != 0) bad("memory_budget is set for the whole batch in BatchOptions");
    if (c.rope_scale != 1.0f && c.rope_scale != options.rope_scale) bad("rope_scale is set for the whole batch in BatchOptions");
  }

  RequestId add(std::span<const TokenId> prompt, GenerationConfig config) {
    check_config(config);
    auto r = std::make_unique<Request>();
    r->submitted = detail::Decoding::Clock::now();
    r->decoding = std::make_unique<detail::Decoding>(model, std::move(config));
    r->decoding->kv_bytes = cache.bytes();
    // Validates the prompt now (empty, too long) so the caller gets the error, not a step.
    r->decoding->start(prompt, cache.n_ctx(), r->submitted);
    r->prompt.assign(prompt.begin(), prompt.end());
    std::lock_guard lock(mutex);
    r->id = next_id++;
    const RequestId id = r->id;
    incoming.push_back(std::move(r));
    return id;
  }

  void finish(std::unique_ptr<Request> r, std::vector<BatchEvent>& events, std::optional<StepInfo> step,
              std::string error = {}) {
    BatchEvent e;
    e.request = r->id;
    e.step = std::move(step);
    e.finished = true;
    e.stop_reason = r->decoding->reason;
    e.error = std::move(error);
    events.push_back(std::move(e));
    if (r->slot >= 0) slots[static_cast<std::size_t>(r->slot)].request = nullptr;
    r->slot = -1;
    done[r->id] = std::move(r);
  }

  // Gives `r` a sequence: the free slot holding the longest prefix of its prompt, or a
  // copy of a busier slot's entries when another sequence holds a longer one.
  void admit(Request& r) {
    int best_free = -1, best_any = -1;
    std::size_t free_len = 0, any_len = 0;
    for (int s = 0; s < static_cast<int>(slots.size()); ++s) {
      const Slot& slot = slots[static_cast<std::size_t>(s)];
      const std::size_t len = std::min(detail::reusable_prefix(slot.tokens, r.prompt), slot.exact);
      if (!slot.request &&
          (best_free < 0 || len > free_len ||
           (len == free_len && slot.last_used < slots[static_cast<std::size_t>(best_free)].last_used))) {
        best_free = s;
        free_len = len;
      }
      if (len > any_len) {
        best_any = s;
        any_len = len;
      }
    }
    Slot& dst = slots[static_cast<std::size_t>(best_free)];
    std::size_t reuse = free_len;
    if (best_any >= 0 && best_any != best_free && any_len > free_len) {
      cache.copy(best_any, best_free);
      dst.tokens = slots[static_cast<std::size_t>(best_any)].tokens;
      reuse = any_len;
    }
    cache.truncate(best_free, static_cast<int>(reuse));
    dst.tokens.resize(reuse);
    dst.exact = SIZE_MAX;
    dst.request = &r;
    dst.last_used = steps;
    r.slot = best_free;
    r.prefilled = static_cast<int>(reuse);
    r.reused = static_cast<int>(reuse);
    r.position = static_cast<int>(reuse);
  }

  std::vector<BatchEvent> step();
  void intake(std::vector<BatchEvent>& events);
  int fill_batch();
  bool run_pass(int rows, std::vector<BatchEvent>& events);
  void record_pass();
  void choose_next(std::vector<BatchEvent>& events);
};

std::vector<BatchEvent> BatchGenerator::Impl::step() {
  ++steps;
  std::vector<BatchEvent> events;
  intake(events);
  const int rows = fill_batch();
  if (batch.size() == 0) return events;
  if (!run_pass(rows, events)) return events;
  record_pass();
  choose_next(events);
  return events;
}

// New requests and cancellations from other threads; cancelled requests end now, before
// this pass computes anything more for them; waiting requests take free sequences.
void BatchGenerator::Impl::intake(std::vector<BatchEvent>& events) {
  std::vector<RequestId> cancel_now;
  {
    std::lock_guard lock(mutex);
    while (!incoming.empty()) {
      waiting.push_back(std::move(incoming.front()));
      incoming.pop_front();
    }
    cancel_now.swap(cancels);
  }
  for (RequestId id : cancel_now) {
    for (auto& r : running)
      if (r->id == id) r->cancel = true;
    for (auto& r : waiting)
      if (r->id == id) r->cancel = true;
  }
  // Cancelled requests end now, before this pass computes anything more for them.
  auto end_cancelled = [&](auto& requests) {
    for (auto it = requests.begin(); it != requests.end();) {
      if (!(*it)->cancel) {
        ++it;
        continue;
      }
      (*it)->decoding->end(StopReason::Cancelled);
      finish(std::move(*it), events, std::nullopt);
      it = requests.erase(it);
    }
  };
  end_cancelled(waiting);
  end_cancelled(running);
  while (!waiting.empty() && static_cast<int>(running.size()) < options.max_sequences) {
    admit(*waiting.front());
    running.push_back(std::move(waiting.front()));
    waiting.pop_front();
  }

}

// One pass: the pending token of each generating request, then prompt chunks. Returns the
// number of logits rows.
int BatchGenerator::Impl::fill_batch() {
  batch.clear();
  int rows = 0;
  int prompt_budget = options.max_prompt_tokens_per_step;
  for (auto& r : running) {
    r->row = -1;
    if (r->pending == kNoToken) continue;
    batch.add(r->pending, r->position, r->slot, true);
    r->row = rows++;
  }
  for (auto& r : running) {
    if (r->pending != kNoToken || prompt_budget == 0) continue;
    const int n = static_cast<int>(r->prompt.size());
    const int take = std::min(prompt_budget, n - r->prefilled);
    for (int i = 0; i < take; ++i) {
      const int p = r->prefilled + i;
      const bool last = p + 1 == n;
      batch.add(r->prompt[static_cast<std::size_t>(p)], p, r->slot, last);
      if (last) r->row = rows++;
    }
    prompt_budget -= take;
  }
  return rows;
}

// Runs the pass; on failure every request in it ends with the reason (false).
bool BatchGenerator::Impl::run_pass(int rows, std::vector<BatchEvent>& events) {
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  logits.resize(static_cast<std::size_t>(rows) * n_vocab);
  try {
    model->forward(batch, cache, logits);
  } catch (const std::exception& e) {  // Error, or bad_alloc for a scratch buffer
    // Nothing of this pass is trustworthy: every request in it fails with the reason,
    // and their sequences are emptied.
    for (auto& r : running) {
      cache.clear(r->slot);
      slots[static_cast<std::size_t>(r->slot)].tokens.clear();
      r->decoding->end(StopReason::None);
      finish(std::move(r), events, std::nullopt, e.what());
    }
    running.clear();
    return false;
  }
  return true;
}

// Book-keeping of what the cache now holds.
void BatchGenerator::Impl::record_pass() {
  for (int i = 0; i < batch.size(); ++i) {
    Slot& s = slots[static_cast<std::size_t>(batch.seq_ids[static_cast<std::size_t>(i)])];
    s.tokens.push_back(batch.tokens[static_cast<std::size_t>(i)]);
    s.last_used = steps;
  }
  for (auto& r : running) {
    if (r->pending != kNoToken) {
      ++r->position;
      r->pending = kNoToken;
    } else {
      r->prefilled += static_cast<int>(std::count(batch.seq_ids.begin(), batch.seq_ids.end(), r->slot));
      r->position = r->prefilled;
      if (r->row >= 0) r->decoding->prefilled(r->reused);
    }
  }
}

// Each request with a logits row chooses its next token.
void BatchGenerator::Impl::choose_next(std::vector<BatchEvent>& events) {
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  for (auto it = running.begin(); it != running.end();) {
    Request& r = **it;
    if (r.row < 0) {
      ++it;
      continue;
    }
    std::span<float> row(logits.data() + static_cast<std::size_t>(r.row) * n_vocab, n_vocab);
    std::optional<StepInfo> s;
    std::string error;
    try {
      if (r.decoding->config.on_context_full == ContextFullPolicy::Shift && r.position >= cache.n_ctx()) {
        Slot& slot = slots[static_cast<std::size_t>(r.slot)];
        const auto shift = detail::plan_shift(r.decoding->config, model->tokenizer(), slot.tokens,
                                              r.decoding->metrics.prompt_tokens);
        detail::apply_shift(cache, r.slot, slot.tokens, shift);
        r.position -= shift.discard;
        slot.exact = std::min(slot.exact, static_cast<std::size_t>(shift.keep));
      }
      s = r.decoding->choose(row, r.position, cache.n_ctx());
    } catch (const std::exception& e) {
      error = e.what();
      if (r.decoding->active) r.decoding->end(StopReason::None);
    }
    if (!r.decoding->active) {
      finish(std::move(*it), events, std::move(s), std::move(error));
      it = running.erase(it);
      continue;
    }
    r.pending = s->token;
    BatchEvent e;
    e.request = r.id;
    e.step = std::move(s);
    events.push_back(std::move(e));
    ++it;
  }
}

BatchGenerator::BatchGenerator(std::shared_ptr<const Model> model, BatchOptions options) {
  if (!model) throw Error(ErrorCode::InvalidArgument, "BatchGenerator: null model");
  impl_ = std::make_unique<Impl>(std::move(model), std::move(options));
}

BatchGenerator::~BatchGenerator() = default;

RequestId BatchGenerator::add(std::string_view prompt, GenerationConfig config) {
  const auto ids = impl_->model->tokenizer().encode(prompt, true, false);
  return impl_->add(ids, std::move(config));
}

RequestId BatchGenerator::add_tokens(std::span<const TokenId> prompt, GenerationConfig config) {
  return impl_->add(prompt, std::move(config));
}

std::vector<BatchEvent> BatchGenerator::step() { return impl_->step(); }

void BatchGenerator::cancel(RequestId id) {
  std::lock_guard lock(impl_->mutex);
  impl_->cancels.push_back(id);
}

GenerationResult BatchGenerator::take_result(RequestId id) {
  auto it = impl_->done.find(id);
  if (it == impl_->done.end())
    throw Error(ErrorCode::InvalidArgument, "BatchGenerator::take_result: request " + std::to_string(id) +
                                                " is unknown, still running, or its result was taken");
  GenerationResult r = it->second->decoding->result();
  impl_->done.erase(it);
  return r;
}

bool BatchGenerator::idle() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->incoming.empty() && impl_->waiting.empty() && impl_->running.empty();
}
int BatchGenerator::running() const noexcept { return static_cast<int>(impl_->running.size()); }
int BatchGenerator::queued() const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<int>(impl_->incoming.size() + impl_->waiting.size());
}
const BatchOptions& BatchGenerator::options() const noexcept { return impl_->options; }
const KVCache& BatchGenerator::cache() const noexcept { return impl_->cache; }
const Model& BatchGenerator::model() const noexcept { return *impl_->model; }

}  // namespace inkling
