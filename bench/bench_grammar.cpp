// Grammar-constrained decoding: the cost of one token mask at real vocabulary sizes
// (Llama-2 SentencePiece 32000 and DeepSeek-LLM 102400, the largest vocabulary in
// ../shared/vocab), replaying a JSON document token by token: each step computes the
// mask over the whole vocabulary, then accepts the document's next token.
//  - BM_MaskStep: steady state (every grammar state already classified), the common case.
//  - BM_MaskStepCold: a new TokenMaskCache per pass, so every state is classified on
//    first use (what the first request of a new grammar pays).
//  - BM_Generate: end-to-end generated tokens/s on real models, free and under the JSON
//    Schema grammar (the mask cache shared, as a server shares it between requests).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "inkling/generator.hpp"
#include "inkling/gguf.hpp"
#include "inkling/grammar.hpp"
#include "inkling/json_schema.hpp"
#include "inkling/tokenizer.hpp"

namespace {

const char* kSchema = R"({"type":"object","properties":{
  "name":{"type":"string","maxLength":40},
  "age":{"type":"integer","minimum":0,"maximum":150},
  "email":{"type":"string"},
  "tags":{"type":"array","items":{"type":"string"},"maxItems":8},
  "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},
             "zip":{"type":"string","minLength":5,"maxLength":5}},"required":["city"],"additionalProperties":false},
  "active":{"type":"boolean"}},
  "required":["name","age","tags","active"],"additionalProperties":false})";

const char* kDocument =
    R"({"name":"Ada Lovelace, Countess","age":36,"email":"ada@example.org","tags":["math","poetry","engines",)"
    R"("notes on the analytical engine"],"address":{"street":"12 St James's Square","city":"London","zip":"SW1Y4"},)"
    R"("active":true})";

struct Setup {
  std::unique_ptr<inkling::Tokenizer> tok;
  std::shared_ptr<const inkling::GrammarVocab> vocab;
  inkling::Grammar grammar = inkling::Grammar::parse(inkling::json_schema_to_gbnf(kSchema));
  std::vector<inkling::TokenId> doc;
};

const Setup* setup_for(int which) {
  static std::unique_ptr<Setup> cache[2];
  if (cache[which]) return cache[which].get();
  const char* rel = which == 0 ? "vocab/ggml-vocab-llama-spm.gguf" : "vocab/ggml-vocab-deepseek-llm.gguf";
  const char* env = std::getenv("INKLING_SHARED");
  const std::filesystem::path path = std::filesystem::path(env ? env : "../shared") / rel;
  if (!std::filesystem::exists(path)) return nullptr;
  auto s = std::make_unique<Setup>();
  const auto file = inkling::GgufFile::open(path);
  s->tok = std::make_unique<inkling::Tokenizer>(*file);
  std::vector<inkling::TokenId> ends;
  for (int i = 0; i < s->tok->n_vocab(); ++i)
    if (s->tok->is_eog(i)) ends.push_back(i);
  s->vocab = std::make_shared<const inkling::GrammarVocab>(*s->tok, ends);
  // The document as the longest pieces that spell it (a SentencePiece encode would add a
  // leading space the grammar does not allow).
  std::unordered_map<std::string, inkling::TokenId> by_piece;
  for (int i = 0; i < s->tok->n_vocab(); ++i)
    if (!s->vocab->is_end(i)) by_piece.emplace(s->tok->token_to_piece(i), i);
  const std::string doc = kDocument;
  for (std::size_t at = 0; at < doc.size();) {
    const std::size_t before = at;
    for (std::size_t len = std::min<std::size_t>(32, doc.size() - at); len > 0; --len)
      if (auto it = by_piece.find(doc.substr(at, len)); it != by_piece.end()) {
        s->doc.push_back(it->second);
        at += len;
        break;
      }
    if (at == before) return nullptr;  // a byte no piece spells: not a usable vocabulary
  }
  cache[which] = std::move(s);
  return cache[which].get();
}

// One pass over the document; returns the steps taken.
std::size_t replay(const Setup& s, inkling::TokenConstraint& c, std::vector<std::uint64_t>& bits) {
  c.reset();
  for (inkling::TokenId id : s.doc) {
    c.allowed(bits);
    benchmark::DoNotOptimize(bits.data());
    c.accept(id);
  }
  return s.doc.size();
}

void BM_MaskStep(benchmark::State& state) {
  const Setup* s = setup_for(static_cast<int>(state.range(0)));
  if (!s) return state.SkipWithError("shared vocab missing");
  auto cache = std::make_shared<inkling::TokenMaskCache>(s->grammar, s->vocab);
  inkling::TokenConstraint c(cache);
  std::vector<std::uint64_t> bits;
  replay(*s, c, bits);  // classify every state the document reaches
  std::size_t steps = 0;
  for (auto _ : state) steps += replay(*s, c, bits);
  // Seconds per mask step (printed with an SI prefix: "12u" = 12 microseconds).
  state.counters["per_token"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["n_vocab"] = s->vocab->n_vocab();
  state.counters["cache_entries"] = static_cast<double>(cache->entries());
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
}

void BM_MaskStepCold(benchmark::State& state) {
  const Setup* s = setup_for(static_cast<int>(state.range(0)));
  if (!s) return state.SkipWithError("shared vocab missing");
  std::vector<std::uint64_t> bits;
  std::size_t steps = 0;
  for (auto _ : state) {
    inkling::TokenConstraint c(std::make_shared<inkling::TokenMaskCache>(s->grammar, s->vocab));
    steps += replay(*s, c, bits);
  }
  state.counters["per_token"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["n_vocab"] = s->vocab->n_vocab();
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
}

// range(0): 0 = synth-qwen2 (50k BPE vocabulary, a tiny model: the grammar's share is
// largest), 1 = synth15M-q4_0 (32k SPM, 15M parameters); range(1): 1 = with the grammar.
void BM_Generate(benchmark::State& state) {
  const char* env = std::getenv("INKLING_SHARED");
  const char* rel = state.range(0) == 0 ? "models/synth-qwen2.gguf" : "models/synth15M-q4_0.gguf";
  const std::filesystem::path path = std::filesystem::path(env ? env : "../shared") / rel;
  if (!std::filesystem::exists(path)) return state.SkipWithError("shared model missing");
  const auto model = inkling::Model::load(path, {.threads = 1});
  inkling::GenerationConfig c;
  c.max_new_tokens = 48;
  c.sampling.temperature = 1.0f;
  c.stop_at_eog = false;
  if (state.range(1)) {
    c.grammar = inkling::Grammar::parse(inkling::json_schema_to_gbnf(kSchema));
    c.grammar_cache = inkling::grammar_mask_cache(*model, *c.grammar, {}, false);
  }
  std::size_t tokens = 0;
  std::uint64_t seed = 1000;
  c.sampling.seed = seed;
  inkling::Generator(model, c).run("{");  // untimed: classifies the grammar states (BM_MaskStepCold)
  for (auto _ : state) {
    c.sampling.seed = seed++;
    tokens += inkling::Generator(model, c).run("{").tokens.size();
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["per_token"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_Generate)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_MaskStep)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaskStepCold)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();
