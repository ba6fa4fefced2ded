// `inkling tokenize`: the ids and pieces of a text, to debug prompts.
#include <cstdio>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/gguf.hpp"
#include "inkling/tokenizer.hpp"
#include "text_view.hpp"

int cmd_tokenize(int argc, char** argv) {
  std::string model, prompt;
  bool ids_only = false, add_special = true, parse_special = false;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling tokenize -m MODEL -p TEXT [--ids-only] [--no-bos] [--parse-special]\n"
          "\n"
          "  -m, --model PATH    a GGUF model or vocabulary-only file\n"
          "  -p, --prompt TEXT   the text to tokenize\n"
          "      --ids-only      print only the ids, space-separated\n"
          "      --no-bos        do not add BOS/EOS (add_special = false)\n"
          "      --parse-special turn control-token text such as <|im_start|> into its token");
      return 0;
    }
    if (a.is("-m", "--model")) model = a.value();
    else if (a.is("-p", "--prompt")) prompt = a.value();
    else if (a.is("--ids-only")) ids_only = true;
    else if (a.is("--no-bos")) add_special = false;
    else if (a.is("--parse-special")) parse_special = true;
    else a.unknown();
  }
  if (model.empty()) Args::fail("tokenize needs a model: -m MODEL.gguf");
  // Only the vocabulary is needed, so vocabulary-only GGUF files work too.
  const auto file = inkling::GgufFile::open(model);
  const inkling::Tokenizer tok(*file);
  const auto ids = tok.encode(prompt, add_special, parse_special);
  if (ids_only) {
    for (std::size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
  }
  for (auto id : ids) std::printf("%6d -> %s\n", id, visible(tok.token_to_piece(id, true)).c_str());
  std::printf("%zu tokens\n", ids.size());
  return 0;
}
