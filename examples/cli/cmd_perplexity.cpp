// `inkling perplexity`: how well a model predicts a text (lower is better), in windows
// as llama.cpp's perplexity tool computes it, so models and quantizations compare.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "inkling/scoring.hpp"
#include "inkling/tokenizer.hpp"

int cmd_perplexity(int argc, char** argv) {
  std::string model_path, file;
  inkling::ModelOptions mo;
  inkling::PerplexityOptions po;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling perplexity -m MODEL -f FILE [--ctx N] [--stride S] [-t N]\n"
          "\n"
          "Perplexity of the text in FILE: exp of the mean negative log-likelihood of its tokens.\n"
          "  --ctx N      window length in tokens (default 512)\n"
          "  --stride S   0 (default): consecutive windows of N tokens, each scoring its second half;\n"
          "               S > 0: a window every S tokens, each scoring its last S (llama.cpp's --ppl-stride)\n"
          "  -t N         threads (default: physical cores)\n"
          "Prints the running estimate per window, then `perplexity: X`.");
      return 0;
    }
    if (a.is("-m", "--model")) model_path = a.value();
    else if (a.is("-f", "--file")) file = a.value();
    else if (a.is("--ctx")) po.n_ctx = static_cast<int>(a.integer(2, 1 << 24));
    else if (a.is("--stride")) po.stride = static_cast<int>(a.integer(0, 1 << 24));
    else if (a.is("-t", "--threads")) mo.threads = static_cast<int>(a.integer(1, 1024));
    else a.unknown();
  }
  if (model_path.empty()) Args::fail("perplexity needs a model: -m MODEL.gguf");
  if (file.empty()) Args::fail("perplexity needs a text file: -f FILE");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw inkling::Error(inkling::ErrorCode::Io, "perplexity: cannot read " + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto model = inkling::Model::load(model_path, mo);
  const auto tokens = model->tokenizer().encode(text, false, false);
  std::fprintf(stderr, "[%zu tokens, windows of %d, %s]\n", tokens.size(), po.n_ctx,
               po.stride > 0 ? ("stride " + std::to_string(po.stride)).c_str() : "second halves scored");
  po.on_window = [](int w, int n, double ppl) {
    std::fprintf(stderr, "[%d/%d] %.4f\n", w + 1, n, ppl);
  };
  const inkling::PerplexityResult r = inkling::perplexity(*model, tokens, po);
  std::printf("%d tokens scored in %d windows\nperplexity: %.4f\n", r.scored_tokens, r.windows, r.perplexity);
  return 0;
}
