// `inkling embed`: sentence embeddings of one or more texts, and `inkling rerank`:
// relevance scores of documents for a query (inkling::Embedder / inkling::Reranker).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/embedder.hpp"
#include "json_out.hpp"

namespace {

std::string vector_json(const std::vector<float>& v) {
  std::string s = "[";
  char buf[32];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? ", " : "", static_cast<double>(v[i]));
    s += buf;
  }
  return s + "]";
}

// Lines of a file (each a text); "-" reads standard input.
void read_lines(const std::string& path, std::vector<std::string>& out) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) throw inkling::Error(inkling::ErrorCode::Io, "cannot read '" + path + "'");
  }
  std::istream& in = path == "-" ? std::cin : file;
  for (std::string line; std::getline(in, line);) out.push_back(line);
}

}  // namespace

int cmd_embed(int argc, char** argv) {
  std::string path;
  std::vector<std::string> texts;
  inkling::EmbedOptions options;
  inkling::ModelOptions model_options;
  bool json = false;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling embed -m MODEL (-p TEXT | -f FILE)... [options]\n"
          "\n"
          "Prints one embedding per text as a JSON array of floats, one per line.\n"
          "  -m, --model PATH      an embedding model (bert, nomic-bert) or a decoder with pooling\n"
          "  -p, --prompt TEXT     a text to embed (repeat for several; an empty text is [CLS] [SEP])\n"
          "  -f, --file PATH       embed each line of a file (- = standard input)\n"
          "      --pooling P       none | mean | cls | last | rank (default: the model's)\n"
          "      --no-normalize    print raw vectors (default: L2-normalised)\n"
          "      --truncate        cut texts longer than the context instead of failing\n"
          "      --json            print {\"index\": i, \"tokens\": n, \"embedding\": [...]} per text\n"
          "  -t, --threads N       threads (default: physical cores)");
      return 0;
    }
    if (a.is("-m", "--model")) path = a.value();
    else if (a.is("-p", "--prompt")) texts.push_back(a.value());
    else if (a.is("-f", "--file")) read_lines(a.value(), texts);
    else if (a.is("--pooling")) {
      const std::string p = a.value();
      const auto pooling = inkling::parse_pooling(p);
      if (!pooling) Args::fail("--pooling: expected none, mean, cls, last or rank, got '" + p + "'");
      options.pooling = *pooling;
    } else if (a.is("--no-normalize")) options.normalize = false;
    else if (a.is("--truncate")) options.truncate = true;
    else if (a.is("--json")) json = true;
    else if (a.is("-t", "--threads")) model_options.threads = static_cast<int>(a.integer(1, 1024));
    else a.unknown();
  }
  if (path.empty()) Args::fail("embed needs a model: -m MODEL.gguf (see inkling embed --help)");
  if (texts.empty()) Args::fail("embed needs a text: -p TEXT or -f FILE");
  inkling::Embedder embedder(inkling::Model::load(path, model_options), options);
  const inkling::Embeddings e = embedder.embed(texts);
  for (std::size_t i = 0; i < e.vectors.size(); ++i) {
    if (json)
      std::printf("{\"index\": %zu, \"tokens\": %d, \"pooling\": \"%s\", \"embedding\": %s}\n", i, e.tokens[i],
                  std::string(inkling::pooling_name(embedder.pooling())).c_str(), vector_json(e.vectors[i]).c_str());
    else
      std::printf("%s\n", vector_json(e.vectors[i]).c_str());
  }
  return 0;
}

int cmd_rerank(int argc, char** argv) {
  std::string path, query;
  bool have_query = false, json = false;
  std::vector<std::string> docs;
  inkling::RerankOptions options;
  inkling::ModelOptions model_options;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling rerank -m MODEL -q QUERY (-d DOCUMENT | -f FILE)... [options]\n"
          "\n"
          "Prints each document's relevance score (higher = more relevant) and the document,\n"
          "tab-separated, in input order.\n"
          "  -m, --model PATH        a BERT reranker (classification head) or a yes/no decoder reranker\n"
          "  -q, --query TEXT        the query\n"
          "  -d, --document TEXT     a document (repeat for several)\n"
          "  -f, --file PATH         each line of a file is a document (- = standard input)\n"
          "      --instruction TEXT  the task line of a decoder reranker's prompt\n"
          "      --truncate          cut documents that do not fit the context instead of failing\n"
          "      --json              print {\"index\": i, \"relevance_score\": s} per document\n"
          "  -t, --threads N         threads (default: physical cores)");
      return 0;
    }
    if (a.is("-m", "--model")) path = a.value();
    else if (a.is("-q", "--query")) { query = a.value(); have_query = true; }
    else if (a.is("-d", "--document")) docs.push_back(a.value());
    else if (a.is("-f", "--file")) read_lines(a.value(), docs);
    else if (a.is("--instruction")) options.instruction = a.value();
    else if (a.is("--truncate")) options.truncate = true;
    else if (a.is("--json")) json = true;
    else if (a.is("-t", "--threads")) model_options.threads = static_cast<int>(a.integer(1, 1024));
    else a.unknown();
  }
  if (path.empty()) Args::fail("rerank needs a model: -m MODEL.gguf (see inkling rerank --help)");
  if (!have_query) Args::fail("rerank needs a query: -q TEXT");
  if (docs.empty()) Args::fail("rerank needs documents: -d TEXT or -f FILE");
  inkling::Reranker reranker(inkling::Model::load(path, model_options), options);
  const std::vector<float> scores = reranker.score(query, docs);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (json)
      std::printf("{\"index\": %zu, \"relevance_score\": %.9g}\n", i, static_cast<double>(scores[i]));
    else
      std::printf("%.6f\t%s\n", static_cast<double>(scores[i]), docs[i].c_str());
  }
  return 0;
}
