// The C ABI's shared machinery: the handle types and the helpers every entry point uses
// (exception guard, argument checks, size-query copies, step and config conversion).
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "inkling.h"
#include "inkling/inkling.hpp"

struct ink_model {
  std::shared_ptr<const inkling::Model> model;
};

struct ink_generator {
  std::shared_ptr<const inkling::Model> model;
  std::unique_ptr<inkling::Generator> gen;
  // The step an ink_step points into (text, alternatives), valid until the next call.
  inkling::StepInfo step;
  inkling::GenerationResult last;
  bool have_result = false;
};

#include "param_map.hpp"

namespace inkling::capi {

// Records the calling thread's error message and returns `status`.
ink_status fail(ink_status status, std::string message);
const char* last_error();
ink_status map(inkling::ErrorCode code);

// Runs an entry point's body: no exception crosses the C boundary.
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

ink_status null_arg(const char* fn, const char* what);
// INK_ERR_INVALID_ARGUMENT for NULL with len > 0 or invalid UTF-8 (naming the offset).
ink_status check_text(const char* fn, const char* text, std::size_t len);
// Copies into a caller buffer with the size-query convention.
ink_status copy_out(const char* fn, const std::string& s, char* buf, std::size_t cap, std::size_t* len_out);
// Copies ids with the same rules (*n_out always set; INK_ERR_BUFFER_TOO_SMALL if cap is short).
ink_status copy_ids(const char* fn, const std::vector<inkling::TokenId>& v, int32_t* ids, std::size_t cap, std::size_t* n_out);
ink_stop_reason to_c(inkling::StopReason r);
// An ink_step pointing into `s`'s strings (s must outlive the caller's use of it).
void fill_step(const inkling::StepInfo& s, ink_stop_reason reason, ink_step* out);
void fill_done(ink_stop_reason reason, ink_step* out);
void fill_metrics(const inkling::Metrics& m, ink_metrics* out);
// Copies a defaults struct into the caller's, at most its struct_size bytes (ink_*_init).
template <typename Params>
ink_status init_params(const char* fn, Params* p, const Params& defaults) {
  if (!p) return null_arg(fn, "p");
  if (p->struct_size < sizeof(uint32_t))
    return fail(INK_ERR_INVALID_ARGUMENT, std::string(fn) + ": set p->struct_size = sizeof(*p) first");
  const uint32_t size = p->struct_size;
  std::memcpy(p, &defaults, std::min<std::size_t>(size, sizeof defaults));
  p->struct_size = size;
  return INK_OK;
}
// ink_generator_params (NULL = defaults, struct_size honoured) to a GenerationConfig.
ink_status to_generation_config(const char* fn, const ink_generator_params* params, inkling::GenerationConfig& c);

}  // namespace inkling::capi
