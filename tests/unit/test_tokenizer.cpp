// Tokenizer behaviour beyond the conformance files: special tokens, decoding, streaming
// detokenization, and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/tokenizer.hpp"
#include "json_lite.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::unique_ptr<Tokenizer> load(const std::string& rel) {
  auto path = test::require_shared(rel);
  if (!path) return nullptr;
  const auto file = GgufFile::open(*path);
  return std::make_unique<Tokenizer>(*file);
}

std::vector<std::string> vocab_files() {
  return {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-deepseek-coder.gguf",
          "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-falcon.gguf", "vocab/ggml-vocab-bert-bge.gguf"};
}

// Streaming every token of text through a Detokenizer equals the whole decode.
void check_stream(const Tokenizer& tok, const std::string& text) {
  const auto ids = tok.encode(text, false, false);
  Detokenizer d(tok);
  std::string streamed;
  for (TokenId id : ids) {
    const std::string piece = d.push(id);
    // Only complete UTF-8 characters come out.
    for (std::size_t i = 0; i < piece.size();) {
      const auto c = static_cast<unsigned char>(piece[i]);
      const std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      REQUIRE(i + len <= piece.size());
      i += len;
    }
    streamed += piece;
  }
  streamed += d.flush();
  CHECK_MESSAGE(streamed == tok.decode(ids), "text: " << text);
}

}  // namespace

TEST_CASE("SentencePiece prompts encode exactly as the goldens say") {
  auto tok = load("models/stories260K-f32.gguf");
  if (!tok) return;
  const auto golden = test::Json::parse(test::read_file(test::shared_dir() / "golden/stories260K-f32.json"));
  for (const auto& c : golden["cases"].as_array()) {
    const auto ids = tok->encode(c["prompt"].as_string());
    CHECK(std::vector<long long>(ids.begin(), ids.end()) == c["prompt_tokens"].int_array());
  }
  CHECK(tok->kind() == TokenizerKind::Spm);
  CHECK(tok->special().bos == 1);
  CHECK(tok->special().add_bos);
  CHECK(tok->encode("", true) == std::vector<TokenId>{1});
  CHECK(tok->encode("", false).empty());
  CHECK(tok->is_eog(2));
}

TEST_CASE("decode restores text, with the leading-space rule and BOS removal") {
  auto tok = load("models/stories260K-f32.gguf");
  if (!tok) return;
  const std::string text = "Once upon a time, there was a dog.";
  const auto ids = tok->encode(text);
  const std::vector<TokenId> no_bos(ids.begin() + 1, ids.end());
  CHECK(tok->decode(no_bos) == text);
  // llama.cpp's rule: dropping BOS keeps the first piece's space (REFERENCE.md §4.7).
  CHECK(tok->decode(ids, /*remove_special=*/true) == " " + text);
  CHECK(tok->token_to_piece(ids[1]).front() == ' ');  // "▁Once" -> " Once"
  CHECK(tok->token_to_piece(1).empty());                // BOS is a control token
  CHECK(tok->token_to_piece(1, true) == "<s>");
}

TEST_CASE("parse_special turns control-token text into its id only when asked") {
  auto tok = load("vocab/ggml-vocab-phi-3.gguf");
  if (!tok) return;
  const TokenId end = tok->find("<|end|>");
  REQUIRE(end != kNoToken);
  const auto with = tok->encode("Hi<|end|>", false, true);
  const auto without = tok->encode("Hi<|end|>", false, false);
  CHECK(std::find(with.begin(), with.end(), end) != with.end());
  CHECK(std::find(without.begin(), without.end(), end) == without.end());
  CHECK(without.size() > with.size());
  CHECK(tok->is_eog(end));
  // A text of only special-token markers.
  const auto only = tok->encode("<|end|><|end|>", false, true);
  CHECK(only == std::vector<TokenId>{end, end});
}

TEST_CASE("streaming detokenizer: emoji, CJK and accents split at every token boundary") {
  const std::vector<std::string> texts = {"Hello 😁 world 🦙🦙!", "我想在apple工作1314151天～", "Ça va? Élève naïve — ĳ ǅ ß",
                                          "Ω≈ç√∫˜µ≤≥÷ 한국어 ภาษาไทย", " leading and  double  spaces , and ' quotes 's"};
  int checked = 0;
  for (const auto& f : vocab_files()) {
    auto tok = load(f);
    if (!tok) return;
    if (tok->kind() == TokenizerKind::Wpm) continue;  // WordPiece output is not meant to stream text back
    for (const auto& t : texts) check_stream(*tok, t);
    ++checked;
  }
  CHECK(checked == 5);
}

TEST_CASE("a character split across byte tokens is held back; impossible bytes become U+FFFD") {
  auto tok = load("vocab/ggml-vocab-llama-spm.gguf");
  if (!tok) return;
  // 😁 is F0 9F 98 81: four byte-fallback tokens in the Llama vocabulary.
  const TokenId b0 = tok->find("<0xF0>"), b1 = tok->find("<0x9F>"), b2 = tok->find("<0x98>"), b3 = tok->find("<0x81>");
  REQUIRE(b0 != kNoToken);
  Detokenizer d(*tok);
  CHECK(d.push(b0).empty());
  CHECK(d.push(b1).empty());
  CHECK(d.push(b2).empty());
  CHECK(d.push(b3) == "😁");
  // A lead byte followed by an ASCII token: the lead can never complete.
  Detokenizer e(*tok, false, false);
  e.push(b0);
  CHECK(e.push(tok->find("▁a")) == "\xEF\xBF\xBD a");
  // An incomplete tail at the end.
  Detokenizer f(*tok);
  CHECK(f.push(b0).empty());
  CHECK(f.flush() == "\xEF\xBF\xBD");
}

TEST_CASE("bad input: invalid UTF-8, huge text, ids out of range") {
  for (const auto& f : vocab_files()) {
    auto tok = load(f);
    if (!tok) return;
    INFO(f);
    // Invalid UTF-8 is tokenized (as U+FFFD or byte tokens), never rejected.
    const std::string invalid = "ok \xFF\xFE bad \xC3 end \xE2\x82";
    CHECK_NOTHROW(tok->encode(invalid, false));
    CHECK(!tok->encode(invalid, false).empty());
    // 1 MB of mixed text is tokenized quickly (no quadratic behaviour).
    std::string big;
    while (big.size() < (1 << 20)) big += "The quick brown fox 🦊 jumps over 13 lazy dogs; 我想在apple工作. ";
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok->encode(big, false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(ids.size() > 100000);
    CHECK(s < 20.0 * inkling::test::time_scale());  // a loose bound against pathological (quadratic) behaviour, not a speed test
    // Ids out of range are an error naming the id.
    try {
      tok->decode(std::vector<TokenId>{0, tok->n_vocab()});
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find(std::to_string(tok->n_vocab())) != std::string::npos);
    }
    CHECK_THROWS_AS(tok->token_to_piece(-1), Error);
  }
}

TEST_CASE("unknown tokenizer models and pre-tokenizers are refused by name") {
  auto path = test::require_shared("vocab/ggml-vocab-gpt-2.gguf");
  if (!path) return;
  const auto file = GgufFile::open(*path);
  // Rewrite the file's pre-tokenizer name through the writer.
  GgufWriter w;
  for (const auto& kv : file->metadata()) w.set_value(kv.key, kv.value);
  w.set_string("tokenizer.ggml.pre", "no-such-pre");
  const auto bad_pre = GgufFile::from_bytes(w.to_bytes());
  try {
    Tokenizer t(*bad_pre);
    FAIL("expected Unsupported");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Unsupported);
    CHECK(std::string(e.what()).find("no-such-pre") != std::string::npos);
  }
  w.set_string("tokenizer.ggml.model", "rwkv");
  const auto bad_model = GgufFile::from_bytes(w.to_bytes());
  CHECK_THROWS_AS([&] { Tokenizer t(*bad_model); }(), Error);
}

TEST_CASE("WordPiece decomposes a Hangul syllable into all its jamo, as BERT's NFD does") {
  auto tok = load("vocab/ggml-vocab-bert-bge.gguf");
  if (!tok) return;
  // 한국어 -> ᄒ ᅡ ᆫ | ᄀ ᅮ ᆨ | ᄋ ᅥ (L V T, L V T, L V): one word of eight jamo, each a piece
  // of BERT's vocabulary, as BertTokenizer gives ['ᄒ', '##ᅡ', '##ᆫ', '##ᄀ', ...].
  const auto ids = tok->encode("한국어", false, false);
  const auto jamo = tok->encode("\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165", false, false);
  REQUIRE(ids.size() == 8);
  CHECK(ids == jamo);
  CHECK(std::find(ids.begin(), ids.end(), tok->special().unk) == ids.end());
  std::string pieces;
  for (TokenId id : ids) pieces += tok->token_to_piece(id, true);
  CHECK(pieces.find("\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165") != std::string::npos);
  // Not llama.cpp's leading jamo alone (its NFD table keeps one code point per character).
  CHECK(ids != tok->encode("\u1112\u1100\u110B", false, false));
  // A syllable without a trailing consonant is two jamo: 가 = ᄀ ᅡ; the first and last
  // syllables of the block decompose too.
  CHECK(tok->encode("가", false, false) == tok->encode("\u1100\u1161", false, false));
  CHECK(tok->encode("\uD7A3", false, false) == tok->encode("\u1112\u1175\u11C2", false, false));
  // Accents are stripped (é -> e), as before.
  CHECK(tok->encode("café", false, false) == tok->encode("cafe", false, false));
}
