// The C ABI of BatchGenerator: many requests decoded together.
#include <map>

#include "capi_support.hpp"

using namespace inkling::capi;

struct ink_batch {
  std::shared_ptr<const inkling::Model> model;
  std::unique_ptr<inkling::BatchGenerator> batch;
  std::vector<inkling::BatchEvent> events;  // the last step's, which ink_steps point into
  std::map<inkling::RequestId, inkling::GenerationResult> results;
};

extern "C" {

ink_batch_params ink_batch_params_default(void) {
  const inkling::BatchOptions d;
  ink_batch_params p{};
  p.struct_size = sizeof p;
  p.max_sequences = d.max_sequences;
  p.n_ctx = d.n_ctx;
  p.kv_f16 = 0;
  p.memory_budget = d.memory_budget;
  p.max_prompt_tokens_per_step = d.max_prompt_tokens_per_step;
  p.rope_scale = d.rope_scale;
  return p;
}

ink_status ink_batch_params_init(ink_batch_params* p) {
  return guard([&] { return init_params("ink_batch_params_init", p, ink_batch_params_default()); });
}

ink_status ink_batch_create(const ink_model* model, const ink_batch_params* params, ink_batch** out) {
  return guard([&]() -> ink_status {
    if (!out) return null_arg("ink_batch_create", "out");
    *out = nullptr;
    if (!model) return null_arg("ink_batch_create", "model");
    ink_batch_params p = ink_batch_params_default();
    if (params) {
      if (params->struct_size < sizeof(uint32_t) * 2)
        return fail(INK_ERR_INVALID_ARGUMENT, "ink_batch_create: params->struct_size is too small");
      std::memcpy(&p, params, std::min<std::size_t>(params->struct_size, sizeof p));
    }
    inkling::BatchOptions o;
    o.max_sequences = p.max_sequences;
    o.n_ctx = p.n_ctx;
    o.rope_scale = p.rope_scale == 0 ? 1.0f : p.rope_scale;  // 0: an older caller's padding
    o.kv_type = p.kv_q8_0 ? inkling::DType::Q8_0 : p.kv_f16 ? inkling::DType::F16 : inkling::DType::F32;
    o.memory_budget = static_cast<std::size_t>(p.memory_budget);
    o.max_prompt_tokens_per_step = p.max_prompt_tokens_per_step;
    auto b = std::make_unique<ink_batch>();
    b->model = model->model;
    b->batch = std::make_unique<inkling::BatchGenerator>(model->model, o);
    *out = b.release();
    return INK_OK;
  });
}

void ink_batch_free(ink_batch* batch) { delete batch; }

ink_status ink_batch_add(ink_batch* batch, const char* prompt, size_t len, const ink_generator_params* params,
                         uint64_t* id_out) {
  return guard([&]() -> ink_status {
    if (!batch) return null_arg("ink_batch_add", "batch");
    if (!id_out) return null_arg("ink_batch_add", "id_out");
    if (ink_status s = check_text("ink_batch_add", prompt, len); s != INK_OK) return s;
    inkling::GenerationConfig c;
    if (ink_status s = to_generation_config("ink_batch_add", params, c); s != INK_OK) return s;
    // The batch's cache settings win: a request cannot bring its own.
    c.kv_type = batch->batch->cache().type();
    *id_out = batch->batch->add(std::string_view(prompt ? prompt : "", len), std::move(c));
    return INK_OK;
  });
}

void ink_batch_cancel(ink_batch* batch, uint64_t id) {
  if (batch) guard([&]() -> ink_status {
      batch->batch->cancel(id);
      return INK_OK;
    });
}

ink_status ink_batch_step(ink_batch* batch, size_t* n_events_out) {
  return guard([&]() -> ink_status {
    if (!batch) return null_arg("ink_batch_step", "batch");
    if (!n_events_out) return null_arg("ink_batch_step", "n_events_out");
    *n_events_out = 0;
    batch->events = batch->batch->step();
    for (const auto& e : batch->events)
      if (e.finished) batch->results[e.request] = batch->batch->take_result(e.request);
    *n_events_out = batch->events.size();
    return INK_OK;
  });
}

ink_status ink_batch_event_get(const ink_batch* batch, size_t index, ink_batch_event* event, ink_step* step) {
  return guard([&]() -> ink_status {
    if (!batch) return null_arg("ink_batch_event_get", "batch");
    if (!event) return null_arg("ink_batch_event_get", "event");
    if (event->struct_size < sizeof(uint32_t) * 2)
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_batch_event_get: set event->struct_size = sizeof(ink_batch_event)");
    if (step && step->struct_size < offsetof(ink_step, text))
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_batch_event_get: set step->struct_size = sizeof(ink_step)");
    if (index >= batch->events.size())
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_batch_event_get: index " + std::to_string(index) + " >= " +
                                                std::to_string(batch->events.size()) + " events of the last step");
    const inkling::BatchEvent& e = batch->events[index];
    ink_batch_event c{};
    c.struct_size = event->struct_size;
    c.request = e.request;
    c.finished = e.finished ? 1 : 0;
    c.stop_reason = to_c(e.stop_reason);
    c.error = e.error.c_str();
    std::memcpy(event, &c, std::min<std::size_t>(event->struct_size, sizeof c));
    if (step) {
      if (e.step)
        fill_step(*e.step, to_c(e.stop_reason), step);
      else
        fill_done(to_c(e.stop_reason), step);
    }
    return INK_OK;
  });
}

int ink_batch_idle(const ink_batch* batch) {
  if (!batch) return 1;
  int idle = 1;
  guard([&]() -> ink_status {
    idle = batch->batch->idle() ? 1 : 0;
    return INK_OK;
  });
  return idle;
}

namespace {
const inkling::GenerationResult* finished_result(const ink_batch* batch, uint64_t id, const char* fn) {
  auto it = batch->results.find(id);
  if (it == batch->results.end()) {
    fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": request " + std::to_string(id) +
                                       " is unknown, still running or released");
    return nullptr;
  }
  return &it->second;
}
}  // namespace

ink_status ink_batch_result_text(const ink_batch* batch, uint64_t id, char* buf, size_t cap, size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!batch) return null_arg("ink_batch_result_text", "batch");
    const auto* r = finished_result(batch, id, "ink_batch_result_text");
    if (!r) return INK_ERR_INVALID_ARGUMENT;
    return copy_out("ink_batch_result_text", r->text, buf, cap, len_out);
  });
}

ink_status ink_batch_result_metrics(const ink_batch* batch, uint64_t id, ink_metrics* out) {
  return guard([&]() -> ink_status {
    if (!batch) return null_arg("ink_batch_result_metrics", "batch");
    if (!out) return null_arg("ink_batch_result_metrics", "out");
    if (out->struct_size < sizeof(uint32_t))
      return fail(INK_ERR_INVALID_ARGUMENT, "ink_batch_result_metrics: set out->struct_size = sizeof(ink_metrics)");
    const auto* r = finished_result(batch, id, "ink_batch_result_metrics");
    if (!r) return INK_ERR_INVALID_ARGUMENT;
    fill_metrics(r->metrics, out);
    return INK_OK;
  });
}

void ink_batch_release(ink_batch* batch, uint64_t id) {
  if (batch) batch->results.erase(id);
}

}  // extern "C"
