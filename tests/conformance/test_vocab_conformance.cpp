// Tokenizer conformance: every case of every vocabulary in shared/vocab that has its
// GGUF must tokenize to exactly the reference ids (llama.cpp's test-tokenizer-0 data).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/tokenizer.hpp"
#include "shared_data.hpp"

namespace {

struct Case {
  std::string text;
  std::vector<inkling::TokenId> ids;
};

std::vector<Case> read_cases(const std::filesystem::path& gguf) {
  const std::string inp = inkling::test::read_file(gguf.string() + ".inp");
  const std::string out = inkling::test::read_file(gguf.string() + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<Case> cases;
  for (std::size_t pos = 0; pos < inp.size();) {
    const std::size_t end = inp.find(sep, pos);
    if (end == std::string::npos) break;
    cases.push_back({inp.substr(pos, end - pos), {}});
    pos = end + sep.size();
  }
  std::istringstream lines(out);
  std::string line;
  for (auto& c : cases) {
    REQUIRE(std::getline(lines, line));
    std::istringstream ids(line);
    for (long long id; ids >> id;) c.ids.push_back(static_cast<inkling::TokenId>(id));
  }
  return cases;
}

// Vocabularies whose decode(encode(text)) cannot give the text back, and why.
bool lossless(const inkling::Tokenizer& tok) {
  // WordPiece lower-cases, strips accents and drops spacing around punctuation.
  return tok.kind() != inkling::TokenizerKind::Wpm;
}

// What decode gives back for vocabularies that clean up spaces (written from the rule,
// independently of the library): " ?" " !" " ." " ," lose the space, " ' " becomes "'",
// and " 's" " 'm" " 're" " 've" lose the space.
std::string expected_round_trip(const inkling::Tokenizer& tok, std::string s) {
  if (!tok.cleans_spaces()) return s;
  auto replace_all = [&](const std::string& from, const std::string& to) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
      if (s.compare(i, from.size(), from) == 0) {
        out += to;
        i += from.size();
      } else {
        out += s[i++];
      }
    }
    s.swap(out);
  };
  for (const char* p : {" ?", " !", " .", " ,"}) replace_all(p, std::string(p + 1));
  replace_all(" ' ", "'");
  for (const char* p : {" 's", " 'm", " 're", " 've"}) replace_all(p, std::string(p + 1));
  return s;
}

}  // namespace

TEST_CASE("every vocabulary in shared/vocab tokenizes exactly like the reference") {
  auto dir = inkling::test::require_shared("vocab");
  if (!dir) return;
  std::vector<std::filesystem::path> vocabs;
  for (const auto& e : std::filesystem::directory_iterator(*dir))
    if (e.path().extension() == ".gguf" && std::filesystem::exists(e.path().string() + ".inp"))
      vocabs.push_back(e.path());
  std::sort(vocabs.begin(), vocabs.end());
  REQUIRE(vocabs.size() >= 10);
  int total = 0, passed = 0, roundtrip_checked = 0;
  for (const auto& path : vocabs) {
    const auto file = inkling::GgufFile::open(path);
    const inkling::Tokenizer tok(*file);
    const auto cases = read_cases(path);
    int ok = 0;
    for (const auto& c : cases) {
      const auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
      CHECK_MESSAGE(ids == c.ids, path.filename().string() << ": text \"" << c.text << "\"");
      ok += ids == c.ids ? 1 : 0;
      if (lossless(tok) && ids == c.ids) {
        CHECK_MESSAGE(tok.decode(ids) == expected_round_trip(tok, c.text), path.filename().string() << ": round trip of \"" << c.text << "\"");
        ++roundtrip_checked;
      }
    }
    MESSAGE(path.filename().string() << ": " << ok << "/" << cases.size() << " cases match");
    total += static_cast<int>(cases.size());
    passed += ok;
  }
  MESSAGE(vocabs.size() << " vocabularies, " << passed << "/" << total << " cases match, " << roundtrip_checked
                        << " round trips checked");
  CHECK(passed == total);
}
