// Writes seed corpora for the fuzz targets into DIR/<target>/: small valid GGUF files
// made with GgufWriter, texts in several scripts, sampler parameter blobs.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inkling/gguf_writer.hpp"

namespace fs = std::filesystem;

static void put(const fs::path& p, const void* data, std::size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  for (const char* t : {"fuzz_gguf", "fuzz_gguf_metadata", "fuzz_tokenizer", "fuzz_sampler", "fuzz_capi", "fuzz_server_request"})
    fs::create_directories(dir / t);

  // A tiny but complete llama model: 1 layer, dim 8, vocab 4.
  inkling::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.context_length", 16);
  w.set_u32("llama.embedding_length", 8);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.feed_forward_length", 16);
  w.set_u32("llama.attention.head_count", 2);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  auto f32 = [](std::size_t n) { return std::vector<std::byte>(n * 4, std::byte{0}); };
  w.add_tensor("token_embd.weight", inkling::DType::F32, {8, 4}, f32(32));
  w.add_tensor("output_norm.weight", inkling::DType::F32, {8}, f32(8));
  for (const char* n : {"attn_norm", "ffn_norm"}) w.add_tensor(std::string("blk.0.") + n + ".weight", inkling::DType::F32, {8}, f32(8));
  for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output"})
    w.add_tensor(std::string("blk.0.") + n + ".weight", inkling::DType::F32, {8, 8}, f32(64));
  w.add_tensor("blk.0.ffn_gate.weight", inkling::DType::F32, {8, 16}, f32(128));
  w.add_tensor("blk.0.ffn_up.weight", inkling::DType::F32, {8, 16}, f32(128));
  w.add_tensor("blk.0.ffn_down.weight", inkling::DType::F32, {16, 8}, f32(128));
  const auto model = w.to_bytes();
  put(dir / "fuzz_gguf" / "tiny_llama.gguf", model.data(), model.size());
  inkling::GgufWriter meta;
  meta.set_string("general.name", "seed");
  meta.set_u64("n", 7);
  meta.set_string_array("list", {"x", "y"});
  const auto m2 = meta.to_bytes();
  put(dir / "fuzz_gguf" / "metadata_only.gguf", m2.data(), m2.size());
  // The metadata target gets the key/value bytes after the 24-byte header, behind a key
  // count byte.
  std::vector<std::byte> kv(m2.begin() + 23, m2.end());
  kv[0] = std::byte{3};
  put(dir / "fuzz_gguf_metadata" / "three_keys", kv.data(), kv.size());

  const char* texts[] = {"\x01Hello world! 123", "\x02" "Ca va? \xC3\xA9l\xC3\xA8ve", "\x83<|im_start|>user\n\xE6\x88\x91<|end|>",
                         "\x04\xF0\x9F\x98\x81 emoji \xFF\xFE broken", "\x00   spaces\t\ttabs\n\nlines"};
  int i = 0;
  for (const char* t : texts) {
    const std::size_t n = 1 + std::strlen(t + 1);
    put(dir / "fuzz_tokenizer" / ("t" + std::to_string(i)), t, n);
    put(dir / "fuzz_capi" / ("t" + std::to_string(i++)), t, n);
  }
  const float params[] = {0.8f, 0, 0.95f, 0.05f, 1.0f, 1.1f, 0.1f, 0.2f, 1, 2, 3, 4, 5, 6, 7, 8};
  put(dir / "fuzz_sampler" / "defaults", params, sizeof params);
  // Request bodies: the first byte chooses the endpoint (odd: chat).
  const char* bodies[] = {
      "\x00{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0.7, \"top_p\": 0.9, \"stop\": [\".\"]}",
      "\x00{\"prompt\": [1, 2, 3], \"logprobs\": 3, \"logit_bias\": {\"5\": -100}, \"seed\": 1, \"stream\": true}",
      "\x01{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}], "
      "\"logprobs\": true, \"top_logprobs\": 2, \"max_completion_tokens\": 4}",
      "\x01{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}]}], \"top_k\": 5, \"min_p\": 0.1}"};
  i = 0;
  for (const char* b : bodies) put(dir / "fuzz_server_request" / ("b" + std::to_string(i++)), b, 1 + std::strlen(b + 1));
  return 0;
}
