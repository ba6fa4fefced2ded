// `inkling info`: what a model file is, as inkling reads it.
#include <cstdio>
#include <map>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/inkling.hpp"
#include "kernels/kernels.hpp"

int cmd_info(int argc, char** argv) {
  std::string path;
  bool all_metadata = false;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts("usage: inkling info -m MODEL [--metadata]\n\n  --metadata   list every metadata key, not only a summary");
      return 0;
    }
    if (a.is("-m", "--model")) path = a.value();
    else if (a.is("--metadata")) all_metadata = true;
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
  std::printf("tokenizer: %s (pre-tokenizer %s), %d tokens, bos %d, eos %d, eot %d, unk %d, add_bos %s\n",
              tok.kind() == inkling::TokenizerKind::Spm   ? "SentencePiece"
              : tok.kind() == inkling::TokenizerKind::Bpe ? "byte-level BPE"
                                                          : "WordPiece",
              std::string(tok.pre_tokenizer()).c_str(), tok.n_vocab(), s.bos, s.eos, s.eot, s.unk,
              s.add_bos ? "yes" : "no");
  std::printf("weights: %.1f MiB; kernels: %s; threads: %d\n", model->weight_bytes() / 1048576.0,
              inkling::kernels::cpu_description().c_str(), model->threads());
  return 0;
}
