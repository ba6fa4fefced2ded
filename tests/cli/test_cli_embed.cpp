// `inkling embed` and `inkling rerank` as a user runs them: output shapes, and every flag
// changes what it should (the program is run through the shell; INKLING_CLI is its path).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#if !defined(_WIN32)
#include <sys/wait.h>
#endif

#include "bert_variant.hpp"
#include "shared_data.hpp"

namespace {

struct Run {
  int status = -1;
  std::string out;
};

Run run(const std::string& args) {
  const std::string cmd = std::string(INKLING_CLI) + " " + args + " 2>&1";
  Run r;
#if defined(_WIN32)  // cmd.exe runs it; _pclose returns the exit code itself
  FILE* p = _popen(cmd.c_str(), "r");  // text mode: CRLF read as LF
#else
  FILE* p = popen(cmd.c_str(), "r");
#endif
  REQUIRE(p);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
#if defined(_WIN32)
  r.status = _pclose(p);
#else
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
#endif
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::size_t pos = 0;
  for (std::size_t nl; (nl = s.find('\n', pos)) != std::string::npos; pos = nl + 1) v.push_back(s.substr(pos, nl - pos));
  return v;
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("inkling embed: a normalised JSON array per text; flags change the output") {
  const auto model = inkling::test::require_shared("models/synth-bert.gguf");
  if (!model) return;
  const std::string m = "-m " + model->string() + " -t 1";
  // llama.cpp's normalised CLS vector starts -0.12659463, -0.229600005 (the golden).
  Run r = run("embed " + m + " -p 'Once upon a time'");
  REQUIRE(r.status == 0);
  REQUIRE(lines(r.out).size() == 1);
  CHECK(r.out.rfind("[-0.12659", 0) == 0);
  // The second value as a number: its last printed digits follow the kernels' summation
  // order (the parity tests bound the whole vector within 1e-4 of the golden).
  const std::size_t comma = r.out.find(", ");
  REQUIRE(comma != std::string::npos);
  CHECK(std::abs(std::stod(r.out.substr(comma + 2)) - (-0.229600005)) < 1e-6);

  r = run("embed " + m + " -p 'Once upon a time' --json");
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "\"embedding\": [-0.12659"));
  CHECK(has(r.out, "\"tokens\": 6"));
  CHECK(has(r.out, "\"pooling\": \"cls\""));

  r = run("embed " + m + " -p 'Once upon a time' --no-normalize");  // raw pooled: -1.047...
  REQUIRE(r.status == 0);
  CHECK(r.out.rfind("[-1.047", 0) == 0);

  r = run("embed " + m + " -p 'Once upon a time' --pooling mean --json");
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "\"pooling\": \"mean\""));
  CHECK_FALSE(has(r.out, "[-0.12659"));
  r = run("embed " + m + " -p 'Once upon a time' --pooling none --json");
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "\"pooling\": \"none\""));
  CHECK(std::count(r.out.begin(), r.out.end(), ',') == 6 * 64 - 1 + 3);  // 6 tokens x 64 floats
  CHECK(run("embed " + m + " -p x --pooling average").status == 2);
  CHECK(run("embed " + m + " -p x --pooling rank").status == 2);  // no classification head

  // Several texts, from flags and from a file; an empty line is [CLS] [SEP].
  const auto dir = std::filesystem::temp_directory_path() / "inkling-test-cli-embed";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "texts.txt") << "Once upon a time\n\nThe little dog\n";
  r = run("embed " + m + " -f " + (dir / "texts.txt").string() + " -p 'one more' --json");
  REQUIRE(r.status == 0);
  const auto l = lines(r.out);
  REQUIRE(l.size() == 4);
  CHECK(has(l[0], "[-0.12659"));
  CHECK(has(l[1], "\"tokens\": 2"));
  CHECK(has(l[3], "\"index\": 3"));

  // Too long: refused naming the input, or cut with --truncate.
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  r = run("embed " + m + " -p short -p '" + long_text + "'");
  CHECK(r.status == 2);
  CHECK(has(r.out, "input 1 has 602 tokens"));
  r = run("embed " + m + " -p '" + long_text + "' --truncate --json");
  CHECK(r.status == 0);
  CHECK(has(r.out, "\"tokens\": 512"));
  CHECK(run("embed " + m).status == 2);
  CHECK(run("embed -p x").status == 2);

  // rerank: a synth-bert with a classification head.
  inkling::test::BertVariant v;
  v.add = [](inkling::GgufWriter& w) { inkling::test::add_rerank_head(w, 64, true); };
  REQUIRE(inkling::test::write_bert_variant(v, dir / "reranker.gguf"));
  const std::string rm = "-m " + (dir / "reranker.gguf").string() + " -t 1";
  r = run("rerank " + rm + " -q 'sad dog' -d 'The little dog was very sad' -d 'Once upon a time'");
  REQUIRE(r.status == 0);
  auto rl = lines(r.out);
  REQUIRE(rl.size() == 2);
  CHECK(has(rl[0], "\tThe little dog was very sad"));
  CHECK(has(rl[1], "\tOnce upon a time"));
  r = run("rerank " + rm + " -q 'sad dog' -f " + (dir / "texts.txt").string() + " --json");
  REQUIRE(r.status == 0);
  rl = lines(r.out);
  REQUIRE(rl.size() == 3);
  CHECK(has(rl[2], "{\"index\": 2, \"relevance_score\": "));
  r = run("rerank " + rm + " -q q -d '" + long_text + "'");
  CHECK(r.status == 2);
  CHECK(has(r.out, "document 0"));
  CHECK(run("rerank " + rm + " -q q -d '" + long_text + "' --truncate").status == 0);
  CHECK(run("rerank " + rm + " -d x").status == 2);  // no query
  CHECK(run("rerank " + m + " -q q -d x").status == 2);  // not a reranker
  // A decoder reranker: --instruction is its prompt's task line.
  if (const auto qwen = inkling::test::require_shared("models/synth-qwen2.gguf")) {
    const std::string qm = "rerank -m " + qwen->string() + " -t 1 -q 'capital of France' -d 'Paris' --json";
    const Run a = run(qm), b = run(qm + " --instruction 'Is the passage about fruit'");
    REQUIRE(a.status == 0);
    REQUIRE(b.status == 0);
    CHECK(has(a.out, "\"relevance_score\": "));
    CHECK(a.out != b.out);
  }
  std::filesystem::remove_all(dir);
}
