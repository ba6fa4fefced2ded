// inkling: run GGUF language models on the CPU.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "commands.hpp"
#include "inkling/error.hpp"

namespace {

void usage() {
  std::puts(
      "usage: inkling COMMAND [options]\n"
      "\n"
      "commands:\n"
      "  run       generate text from a prompt, streaming it (see inkling run --help)\n"
      "  chat      talk with a chat model in the terminal, keeping the conversation cached\n"
      "  tokenize  show the token ids and pieces of a text\n"
      "  info      show a model's architecture, shapes, types and metadata\n"
      "  bench     measure prompt and generation speed (llama-bench's pp/tg)\n"
      "  perplexity  score a text file: the model's perplexity on it (llama.cpp's windows)\n"
      "  synth     write a GGUF file with random weights of a given Llama shape\n"
      "  quantize  convert a model's weight matrices to f16, bf16, q8_0 or q4_0\n"
      "  serve     an OpenAI-compatible HTTP server with a token-probability visualizer\n"
      "  embed     sentence embeddings of texts (BERT-family or decoder embedding models)\n"
      "  rerank    relevance scores of documents for a query (reranker models)\n"
      "\n"
      "Every command takes -m MODEL.gguf (run, chat and serve default to the built-in stories260K); `inkling COMMAND --help` lists its options.");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "run") return cmd_run(argc - 1, argv + 1);
    if (cmd == "chat") return cmd_chat(argc - 1, argv + 1);
    if (cmd == "tokenize") return cmd_tokenize(argc - 1, argv + 1);
    if (cmd == "info") return cmd_info(argc - 1, argv + 1);
    if (cmd == "bench") return cmd_bench(argc - 1, argv + 1);
    if (cmd == "synth") return cmd_synth(argc - 1, argv + 1);
    if (cmd == "perplexity") return cmd_perplexity(argc - 1, argv + 1);
    if (cmd == "quantize") return cmd_quantize(argc - 1, argv + 1);
    if (cmd == "embed") return cmd_embed(argc - 1, argv + 1);
    if (cmd == "rerank") return cmd_rerank(argc - 1, argv + 1);
#ifdef INKLING_HAS_SERVER
    if (cmd == "serve") return cmd_serve(argc - 1, argv + 1);
#else
    if (cmd == "serve") throw inkling::Error(inkling::ErrorCode::Unsupported, "this inkling was built without the server (INKLING_SERVER=OFF)");
#endif
    std::fprintf(stderr, "inkling: error: unknown command '%s' (see inkling --help)\n", cmd.c_str());
    return 2;
  } catch (const inkling::Error& e) {
    std::fprintf(stderr, "inkling: error: %s\n", e.what());
    return e.code() == inkling::ErrorCode::InvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inkling: error: %s\n", e.what());
    return 1;
  }
}
