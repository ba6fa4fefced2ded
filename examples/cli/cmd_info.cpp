// `inkling info`: what a model file is, as inkling reads it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/inkling.hpp"

int cmd_info(int argc, char** argv) {
  std::string path;
  bool all_metadata = false, all_tensors = false;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling info -m MODEL [--metadata] [--tensors]\n\n"
          "  --metadata   list every metadata key, not only a summary\n"
          "  --tensors    list every tensor, not only the first layer's and the shared ones");
      return 0;
    }
    if (a.is("-m", "--model")) path = a.value();
    else if (a.is("--metadata")) all_metadata = true;
    else if (a.is("--tensors")) all_tensors = true;
    else a.unknown();
  }
  if (path.empty()) Args::fail("info needs a model: -m MODEL.gguf");
  const auto file = inkling::GgufFile::open(path);
  std::printf("file: %s (GGUF v%u, %zu bytes, %zu tensors, %zu metadata keys, alignment %zu)\n", path.c_str(),
              file->version(), file->file_size(), file->tensors().size(), file->metadata().size(), file->alignment());
  std::map<std::string, std::pair<int, std::size_t>> types;
  for (const auto& t : file->tensors()) {
    auto& e = types[std::string(inkling::dtype_name(t.type))];
    ++e.first;
    e.second += t.bytes;
  }
  std::printf("tensor types:");
  for (const auto& [name, e] : types) std::printf(" %s x%d (%.1f MiB)", name.c_str(), e.first, e.second / 1048576.0);
  std::printf("\n");
  // Layers repeat the same shapes: by default show layer 0 and the tensors outside layers.
  std::size_t hidden = 0;
  for (const auto& t : file->tensors()) {
    if (!all_tensors && t.name.rfind("blk.", 0) == 0 && t.name.rfind("blk.0.", 0) != 0) {
      ++hidden;
      continue;
    }
    std::string shape;
    for (int d = 0; d < std::max(1, t.n_dims); ++d) shape += (d ? " x " : "") + std::to_string(t.shape[static_cast<std::size_t>(d)]);
    std::printf("  %-36.*s %-6s [%s] %zu bytes\n", static_cast<int>(t.name.size()), t.name.data(),
                std::string(inkling::dtype_name(t.type)).c_str(), shape.c_str(), t.bytes);
  }
  if (hidden) std::printf("  (%zu tensors of layers 1.. not shown: --tensors lists them)\n", hidden);
  std::printf("metadata:\n");
  for (const auto& kv : file->metadata()) {
    const std::string key(kv.key);
    if (all_metadata || key.rfind("general.", 0) == 0 ||
        (key.find('.') != std::string::npos && key.rfind("tokenizer.", 0) != 0))
      std::printf("  %-44s %s\n", key.c_str(), kv.value.to_string(all_metadata ? 16 : 4).c_str());
  }
  auto model = inkling::Model::from_file(file);
  const auto& c = model->config();
  std::printf(
      "model: %s '%s': %d layers, embedding %d, %d heads (%d KV heads, head size %d), FFN %d, vocab %d, "
      "context %d, rope base %g, norm eps %g, %s output head\n",
      c.architecture.c_str(), c.name.c_str(), c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.head_dim, c.n_ff,
      c.n_vocab, c.n_ctx_train, c.rope_freq_base, c.norm_eps, c.tied_output ? "tied" : "separate");
  const auto& tok = model->tokenizer();
  const auto& s = tok.special();
  std::printf("tokenizer: %s (pre-tokenizer %s), %d tokens, add_bos %s, add_eos %s\n",
              tok.kind() == inkling::TokenizerKind::Spm   ? "SentencePiece"
              : tok.kind() == inkling::TokenizerKind::Bpe ? "byte-level BPE"
                                                          : "WordPiece",
              std::string(tok.pre_tokenizer()).c_str(), tok.n_vocab(), s.add_bos ? "yes" : "no",
              s.add_eos ? "yes" : "no");
  std::string specials;
  const std::pair<const char*, inkling::TokenId> named[] = {{"bos", s.bos}, {"eos", s.eos}, {"eot", s.eot},
                                                            {"eom", s.eom}, {"unk", s.unk}, {"sep", s.sep},
                                                            {"pad", s.pad}, {"cls", s.cls}, {"mask", s.mask}};
  for (const auto& [what, id] : named)
    if (id >= 0 && id < tok.n_vocab())
      specials += std::string(" ") + what + " " + std::to_string(id) + " '" + tok.token_to_piece(id, true) + "'";
  std::printf("special tokens:%s\n", specials.empty() ? " none" : specials.c_str());
  std::printf("weights: %.1f MiB; kernels chosen: %s (CPU: %s); threads: %d\n", model->weight_bytes() / 1048576.0,
              model->isa().c_str(), inkling::cpu_info().description.c_str(), model->threads());
  return 0;
}
