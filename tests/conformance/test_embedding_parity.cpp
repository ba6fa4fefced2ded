// Embedding parity with llama.cpp: every shared/golden file of format embedding-v1
// (synth-bert: BERT encoder, CLS pooling), tokens and pooled / normalised vectors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "inkling/embedder.hpp"
#include "inkling/model.hpp"
#include "json_lite.hpp"
#include "shared_data.hpp"

namespace {

using inkling::test::Json;

struct Closeness {
  double cosine = 0, max_diff = 0;
};

Closeness compare(const std::vector<float>& ours, const std::vector<double>& ref) {
  double dot = 0, na = 0, nb = 0, mx = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    dot += ours[i] * ref[i];
    na += static_cast<double>(ours[i]) * ours[i];
    nb += ref[i] * ref[i];
    mx = std::max(mx, std::abs(ours[i] - ref[i]));
  }
  return {dot / std::sqrt(na * nb), mx};
}

void check_golden(const std::filesystem::path& path, int threads) {
  const Json golden = Json::parse(inkling::test::read_file(path));
  const auto model_path =
      inkling::test::shared_dir() / "models" / std::filesystem::path(golden["model"].as_string()).filename();
  auto model = inkling::Model::load(model_path, {.threads = threads});
  REQUIRE(model->config().n_embd == golden["n_embd"].as_int());
  const auto pooling = inkling::parse_pooling(golden["cases"][0]["pooling"].as_string());
  REQUIRE(pooling.has_value());
  CHECK(inkling::model_pooling(*model) == pooling);

  inkling::Embedder normalised(model);  // the model's pooling, L2-normalised
  inkling::Embedder raw(model, {.normalize = false});
  std::vector<std::string> prompts;
  for (const auto& c : golden["cases"].as_array()) {
    const std::string& prompt = c["prompt"].as_string();
    prompts.push_back(prompt);
    const auto ids = model->tokenizer().encode(prompt, true, false);
    CHECK_MESSAGE(std::vector<long long>(ids.begin(), ids.end()) == c["prompt_tokens"].int_array(),
                  "tokens of \"" << prompt << "\"");
    const Closeness n = compare(normalised.embed(prompt), c["embedding"].number_array());
    CHECK_MESSAGE(n.cosine >= 0.9999, "\"" << prompt << "\" cosine " << n.cosine);
    CHECK_MESSAGE(n.max_diff <= 1e-4, "\"" << prompt << "\" max |diff| " << n.max_diff);
    const Closeness r = compare(raw.embed(prompt), c["pooled"].number_array());
    CHECK_MESSAGE(r.max_diff <= 1e-3, "\"" << prompt << "\" raw max |diff| " << r.max_diff);
    MESSAGE(path.stem().string() << " \"" << prompt << "\": cosine " << n.cosine << ", max |diff| " << n.max_diff);
  }
  // All prompts in one packed pass give the same vectors as one by one.
  const inkling::Embeddings batch = normalised.embed(prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const Closeness b = compare(batch.vectors[i], golden["cases"][i]["embedding"].number_array());
    CHECK_MESSAGE(b.max_diff <= 1e-4, "batched \"" << prompts[i] << "\" max |diff| " << b.max_diff);
  }
}

}  // namespace

TEST_CASE("embedding parity with llama.cpp on every embedding golden") {
  auto dir = inkling::test::require_shared("golden");
  if (!dir) return;
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(*dir)) {
    if (e.path().extension() != ".json") continue;
    const Json golden = Json::parse(inkling::test::read_file(e.path()));
    if (!golden.contains("format") || golden["format"].as_string() != "embedding-v1") continue;
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      check_golden(e.path(), threads);
    }
    ++checked;
  }
  CHECK(checked > 0);
}
