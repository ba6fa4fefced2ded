// libFuzzer target: arbitrary text through every tokenizer algorithm (encode with and
// without special-token parsing), decode of arbitrary ids, and the streaming
// detokenizer. Vocabularies come from $INKLING_SHARED/vocab.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/tokenizer.hpp"

namespace {

struct Vocabs {
  std::vector<std::shared_ptr<const inkling::GgufFile>> files;
  std::vector<std::unique_ptr<inkling::Tokenizer>> toks;
  Vocabs() {
    const char* env = std::getenv("INKLING_SHARED");
    const std::filesystem::path dir = std::filesystem::path(env ? env : "../shared") / "vocab";
    for (const char* name : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf",
                             "ggml-vocab-deepseek-llm.gguf", "ggml-vocab-phi-3.gguf"}) {
      files.push_back(inkling::GgufFile::open(dir / name));
      toks.push_back(std::make_unique<inkling::Tokenizer>(*files.back()));
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Vocabs v;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto& tok = *v.toks[data[0] % v.toks.size()];
  const bool special = data[0] & 0x80;
  const auto ids = tok.encode(text, special, special);
  (void)tok.decode(ids, special, special);
  // Ids taken from the raw bytes: some out of range.
  std::vector<inkling::TokenId> raw;
  for (std::size_t i = 0; i + 3 < size; i += 3)
    raw.push_back(static_cast<inkling::TokenId>((data[i] | data[i + 1] << 8 | data[i + 2] << 16) % (tok.n_vocab() + 8)));
  inkling::Detokenizer d(tok, special);
  std::string streamed;
  for (auto id : raw) {
    try {
      streamed += d.push(id);
    } catch (const inkling::Error&) {
    }
  }
  streamed += d.flush();
  try {
    (void)tok.decode(raw);
  } catch (const inkling::Error&) {
  }
  return 0;
}
