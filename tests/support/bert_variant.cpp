#include "bert_variant.hpp"

#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

namespace inkling::test {
namespace {

std::vector<std::byte> random_floats(std::size_t n, std::mt19937& rng, float sigma) {
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> f(n);
  for (float& x : f) x = d(rng);
  std::vector<std::byte> b(n * sizeof(float));
  std::memcpy(b.data(), f.data(), b.size());
  return b;
}

}  // namespace

std::optional<std::vector<std::byte>> bert_variant_bytes(const BertVariant& v) {
  const auto path = require_shared("models/synth-bert.gguf");
  if (!path) return std::nullopt;
  const auto src = GgufFile::open(*path);
  GgufWriter w;
  for (const auto& kv : src->metadata()) {
    const std::string key(kv.key);
    if (key == "general.alignment" || v.drop_keys.count(key)) continue;
    w.set_value(key, kv.value);
  }
  for (const auto& t : src->tensors()) {
    std::vector<std::int64_t> shape(t.shape.begin(), t.shape.begin() + std::max(t.n_dims, 1));
    w.add_tensor(t.name, t.type, shape, std::vector<std::byte>(t.data, t.data + t.bytes));
  }
  if (v.add) v.add(w);
  return w.to_bytes();
}

std::shared_ptr<const Model> bert_variant(const BertVariant& v, int threads) {
  auto bytes = bert_variant_bytes(v);
  if (!bytes) return nullptr;
  return Model::from_file(GgufFile::from_bytes(std::move(*bytes), "synth-bert-variant"), {.threads = threads});
}

bool write_bert_variant(const BertVariant& v, const std::filesystem::path& path) {
  auto bytes = bert_variant_bytes(v);
  if (!bytes) return false;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
  return static_cast<bool>(out);
}

void add_rerank_head(GgufWriter& w, int n_embd, bool with_out) {
  std::mt19937 rng(2202);
  const auto n = static_cast<std::size_t>(n_embd);
  w.add_tensor("cls.weight", DType::F32, {n_embd, n_embd}, random_floats(n * n, rng, 0.3f));
  w.add_tensor("cls.bias", DType::F32, {n_embd}, random_floats(n, rng, 0.1f));
  if (!with_out) return;
  w.add_tensor("cls.output.weight", DType::F32, {n_embd, 1}, random_floats(n, rng, 0.5f));
  w.add_tensor("cls.output.bias", DType::F32, {1}, random_floats(1, rng, 0.1f));
}

}  // namespace inkling::test
