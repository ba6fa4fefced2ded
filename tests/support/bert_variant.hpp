// Variants of shared/models/synth-bert.gguf for embedding and reranking tests: the same
// vocabulary and weights with metadata changed or tensors added (a reranker's
// classification head, another pooling type).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "inkling/gguf_writer.hpp"

namespace inkling {
class Model;
}

namespace inkling::test {

struct BertVariant {
  std::set<std::string> drop_keys;                  // metadata left out
  std::function<void(GgufWriter&)> add;             // extra keys / tensors
};

// The synth-bert file as rewritten with the variant, or nullopt when the shared data is
// missing (the test is then reported as skipped).
std::optional<std::vector<std::byte>> bert_variant_bytes(const BertVariant& v);
std::shared_ptr<const Model> bert_variant(const BertVariant& v, int threads = 1);
// Written to `path` (for tests that load by path: the C ABI, the CLI).
bool write_bert_variant(const BertVariant& v, const std::filesystem::path& path);

// A reranker head: cls.weight {n_embd, n_embd}, cls.bias, and (with_out)
// cls.output.weight {n_embd, 1}, cls.output.bias, seeded random values.
void add_rerank_head(GgufWriter& w, int n_embd, bool with_out);

}  // namespace inkling::test
