// `inkling synth`: a GGUF file with random weights of any Llama shape and type and a
// real vocabulary (inkling::write_synth_model), so benchmarks need no multi-gigabyte
// download.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "inkling/synth.hpp"

int cmd_synth(int argc, char** argv) {
  inkling::SynthOptions o;
  o.shape = inkling::synth_shape("tinyllama-1.1b");
  std::string out;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) {
      std::puts(
          "usage: inkling synth [--shape NAME] [--dim N --layers N --heads N --kv-heads N --ff N --ctx N]\n"
          "                     --type TYPE --vocab VOCAB.gguf -o OUT.gguf [--seed S]\n"
          "\n"
          "Writes a Llama-architecture GGUF with random weights and a real vocabulary (all tokenizer.*\n"
          "keys copied from VOCAB.gguf, default ../shared/vocab/ggml-vocab-llama-spm.gguf).\n"
          "  --shape NAME   stories15m, tinyllama-1.1b (default), smollm-135m, llama2-7b, llama3-8b, mistral-7b\n"
          "  --type TYPE    f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k, or the mixes\n"
          "                 q4_k_m and q5_k_m (default q4_0); norm weights stay f32");
      return 0;
    }
    if (a.is("--shape")) o.shape = inkling::synth_shape(a.value());
    else if (a.is("--dim")) o.shape.dim = static_cast<int>(a.integer(32, 65536));
    else if (a.is("--layers")) o.shape.layers = static_cast<int>(a.integer(1, 512));
    else if (a.is("--heads")) o.shape.heads = static_cast<int>(a.integer(1, 1024));
    else if (a.is("--kv-heads")) o.shape.kv_heads = static_cast<int>(a.integer(1, 1024));
    else if (a.is("--ff")) o.shape.ff = static_cast<int>(a.integer(32, 1 << 20));
    else if (a.is("--ctx")) o.shape.ctx = static_cast<int>(a.integer(1, 1 << 24));
    else if (a.is("--type")) o.type = a.value();
    else if (a.is("--vocab")) o.vocab = a.value();
    else if (a.is("-o", "--output")) out = a.value();
    else if (a.is("--seed")) o.seed = static_cast<std::uint64_t>(a.integer(0, INT64_MAX));
    else a.unknown();
  }
  if (out.empty()) Args::fail("synth needs an output file: -o OUT.gguf");
  if (o.vocab.empty()) {
    const char* env = std::getenv("INKLING_SHARED");
    o.vocab = std::string(env ? env : "../shared") + "/vocab/ggml-vocab-llama-spm.gguf";
  }
  const inkling::SynthReport r = inkling::write_synth_model(o, out);
  std::printf("wrote %s: %s shape (dim %d, %d layers, %d heads, %d kv heads, ff %d, ctx %d), %s, vocab %lld, %.1f MiB\n",
              out.c_str(), std::string(o.shape.name).c_str(), o.shape.dim, o.shape.layers, o.shape.heads,
              o.shape.kv_heads, o.shape.ff, o.shape.ctx, o.type.c_str(), static_cast<long long>(r.n_vocab),
              static_cast<double>(r.file_bytes) / 1048576.0);
  return 0;
}
