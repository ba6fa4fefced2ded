// The one list of how ink_generator_params fields map to GenerationConfig members. Both
// directions are generated from it: ink_generator_params_default() (C++ defaults -> C)
// and to_generation_config() (C -> C++), so a field added here is converted both ways.
// Arrays and strings (stop strings, stop tokens, logit bias, DRY breakers, the sampler
// order) need validation and copying and are converted by hand in to_generation_config.
#pragma once

#include <type_traits>

#include "inkling.h"
#include "inkling/generator.hpp"

namespace inkling::capi {

// How a C field and a C++ member convert.
struct Same {  // the same number, possibly a different integer width or bool
  template <class M, class C>
  static void to_cpp(M& m, C v) { m = static_cast<M>(v); }
  template <class C, class M>
  static C to_c(const M& m) { return static_cast<C>(m); }
};
// A C flag that, when nonzero, selects `Value` for the member (several flags may write
// one member; the later one in the list wins).
template <auto Value>
struct FlagFor {
  template <class M, class C>
  static void to_cpp(M& m, C v) { if (v) m = Value; }
  template <class C, class M>
  static C to_c(const M& m) { return m == Value ? 1 : 0; }
};
// A factor whose 0 means 1 (off): a field added where an older caller's struct had
// padding reads as 0 there, which must keep the old behaviour.
struct ZeroIsOne {
  template <class M, class C>
  static void to_cpp(M& m, C v) { m = v == 0 ? M{1} : static_cast<M>(v); }
  template <class C, class M>
  static C to_c(const M& m) { return static_cast<C>(m); }
};
// The draft model: a borrowed ink_model on the C side, a shared model in C++.
struct DraftModel {
  static void to_cpp(std::shared_ptr<const Model>& m, const ink_model* v);
  template <class C>
  static C to_c(const std::shared_ptr<const Model>&) { return nullptr; }
};

// X(c_field, member of GenerationConfig g, codec)
#define INK_GENERATOR_PARAM_FIELDS(X)                                   \
  X(max_new_tokens, g.max_new_tokens, Same)                             \
  X(min_new_tokens, g.min_new_tokens, Same)                             \
  X(n_ctx, g.n_ctx, Same)                                               \
  X(rope_scale, g.rope_scale, ZeroIsOne)                                 \
  X(temperature, g.sampling.temperature, Same)                          \
  X(top_k, g.sampling.top_k, Same)                                      \
  X(top_p, g.sampling.top_p, Same)                                      \
  X(min_p, g.sampling.min_p, Same)                                      \
  X(typical_p, g.sampling.typical_p, Same)                              \
  X(repeat_penalty, g.sampling.repeat_penalty, Same)                    \
  X(presence_penalty, g.sampling.presence_penalty, Same)                \
  X(frequency_penalty, g.sampling.frequency_penalty, Same)              \
  X(penalty_window, g.sampling.penalty_window, Same)                    \
  X(seed, g.sampling.seed, Same)                                        \
  X(num_beams, g.num_beams, Same)                                       \
  X(length_penalty, g.length_penalty, Same)                             \
  X(num_return_sequences, g.num_return_sequences, Same)                 \
  X(top_n_alternatives, g.top_n_alternatives, Same)                     \
  X(stop_at_eog, g.stop_at_eog, Same)                                   \
  X(context_full_is_error, g.on_context_full, FlagFor<ContextFullPolicy::Error>) \
  X(kv_f16, g.kv_type, FlagFor<DType::F16>)                             \
  X(kv_q8_0, g.kv_type, FlagFor<DType::Q8_0>)                           \
  X(memory_budget, g.memory_budget, Same)                               \
  X(lookup_draft, g.lookup_draft, Same)                                 \
  X(draft_model, g.draft_model, DraftModel)                             \
  X(draft_tokens, g.draft_tokens, Same)                                 \
  X(draft_p_min, g.draft_p_min, Same)                                   \
  X(mirostat, g.sampling.mirostat, Same)                                \
  X(mirostat_tau, g.sampling.mirostat_tau, Same)                        \
  X(mirostat_eta, g.sampling.mirostat_eta, Same)                        \
  X(mirostat_m, g.sampling.mirostat_m, Same)                            \
  X(dry_multiplier, g.sampling.dry_multiplier, Same)                    \
  X(dry_base, g.sampling.dry_base, Same)                                \
  X(dry_allowed_length, g.sampling.dry_allowed_length, Same)            \
  X(dry_penalty_last_n, g.sampling.dry_penalty_last_n, Same)            \
  X(xtc_probability, g.sampling.xtc_probability, Same)                  \
  X(xtc_threshold, g.sampling.xtc_threshold, Same)                      \
  X(top_n_sigma, g.sampling.top_n_sigma, Same)                         \
  X(context_shift, g.on_context_full, FlagFor<ContextFullPolicy::Shift>) \
  X(n_keep, g.n_keep, Same)

// C++ -> C for every listed field.
inline void params_from_config(const GenerationConfig& g, ink_generator_params& p) {
#define INK_TO_C(field, member, codec) p.field = codec::template to_c<decltype(p.field)>(member);
  INK_GENERATOR_PARAM_FIELDS(INK_TO_C)
#undef INK_TO_C
}

// C -> C++ for every listed field (g starts from GenerationConfig{}).
inline void config_from_params(const ink_generator_params& p, GenerationConfig& g) {
#define INK_TO_CPP(field, member, codec) codec::to_cpp(member, p.field);
  INK_GENERATOR_PARAM_FIELDS(INK_TO_CPP)
#undef INK_TO_CPP
}

}  // namespace inkling::capi
