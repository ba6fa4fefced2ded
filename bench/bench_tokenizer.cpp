// Encode throughput (MB/s) on ~1 MB of mixed-language text, per vocabulary family.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "inkling/gguf.hpp"
#include "inkling/tokenizer.hpp"

namespace {

std::string mixed_text() {
  const char* parts[] = {
      "The quick brown fox jumps over the lazy dog. ", "Ça va très bien, merci; naïve élève à Noël. ",
      "Съешь же ещё этих мягких французских булок. ", "我想在苹果公司工作一千三百天。", "日本語のテキストも少し。",
      "def main():\n    return [x ** 2 for x in range(10)]\n", "Numbers: 3.14159, 2718, 1,000,000 and 42! ",
      "Emoji 😁🦙🚀 and symbols ∑∫√ ≤ ≥. ", "  indented\tand\ttabbed  lines\n\n",
  };
  std::string s;
  for (int i = 0; s.size() < (1u << 20); ++i) s += parts[i % 9];
  return s;
}

void BM_encode(benchmark::State& state, const std::string& vocab) {
  const char* env = std::getenv("INKLING_SHARED");
  const std::filesystem::path path = std::filesystem::path(env ? env : "../shared") / "vocab" / vocab;
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("missing " + path.string() + " (set INKLING_SHARED)").c_str());
    return;
  }
  const auto file = inkling::GgufFile::open(path);
  const inkling::Tokenizer tok(*file);
  const std::string text = mixed_text();
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(text, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(text.size()) * state.iterations());
  state.counters["tokens"] = static_cast<double>(tokens);
}

}  // namespace

BENCHMARK_CAPTURE(BM_encode, llama_spm, std::string("ggml-vocab-llama-spm.gguf"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, gpt2_bpe, std::string("ggml-vocab-gpt-2.gguf"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, deepseek_coder, std::string("ggml-vocab-deepseek-coder.gguf"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, falcon, std::string("ggml-vocab-falcon.gguf"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, bert_wordpiece, std::string("ggml-vocab-bert-bge.gguf"))->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
