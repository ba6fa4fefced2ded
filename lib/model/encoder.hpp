// The forward pass of a non-causal encoder (bert, nomic-bert): every token attends to
// every token of its own sequence, so many sequences packed back to back run in one
// pass with no padding and no KV cache. Produces the final hidden state of each token;
// pooling and heads are the caller's (lib/embed).
#pragma once

#include <span>
#include <vector>

#include "inkling/model.hpp"
#include "kernels/kernels.hpp"

namespace inkling::detail {

// Activations of one pass, grown to the largest batch seen and then reused. One
// thread (one Embedder) at a time.
struct EncoderBuffers {
  std::vector<float> x, q, att, o, gate, up;
  std::vector<float> rope_cos, rope_sin;  // per token, n_rot/2 each
  std::vector<float> scores;              // per thread: encoder_attend_head's scratch
  std::vector<int> seq_of, pos_of;        // per token: its sequence and position in it
  kernels::Workspace ws;
  ThreadTeam team;
};

// Runs sequences packed back to back: sequence s is tokens[starts[s] .. starts[s + 1]),
// positions restart at 0 in each (starts has n_seq + 1 entries, starts[0] = 0,
// starts.back() = tokens.size()). Returns the final hidden states, tokens.size() rows
// of n_embd floats, valid until the buffers are used again. Throws
// Error(InvalidArgument) for an id out of range or an empty sequence, Error(ContextFull)
// for a sequence longer than the model's context, Error(Unsupported) for a decoder.
std::span<const float> encode(const Model& model, std::span<const TokenId> tokens,
                              std::span<const int> starts, EncoderBuffers& buffers);

// Whether the model is an encoder that encode() runs.
bool is_encoder(const Model& model) noexcept;

}  // namespace inkling::detail
