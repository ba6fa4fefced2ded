// write_synth_model (include/inkling/synth.hpp) and the machine description
// (include/inkling/system.hpp): the public API the CLI's `synth`, `info` and `bench` use.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/synth.hpp"
#include "inkling/system.hpp"
#include "kernels/kernels.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("inkling_test_synth_" + name + ".gguf");
}

SynthOptions small(const std::string& type, const std::filesystem::path& vocab) {
  SynthOptions o;
  o.shape = {"tiny", 256, 2, 4, 2, 512, 64};
  o.type = type;
  o.vocab = vocab;
  return o;
}

// Standard deviation of the first rows of a matrix, dequantized by the library.
double row_spread(const TensorView& t, int rows) {
  std::vector<float> row(static_cast<std::size_t>(t.shape[0]));
  double sum = 0, sq = 0, n = 0;
  for (int r = 0; r < rows; ++r) {
    kernels::dequantize_row(t.type, t.row(r), row.data(), t.shape[0]);
    for (float x : row) sum += x, sq += static_cast<double>(x) * x, n += 1;
  }
  const double mean = sum / n;
  return std::sqrt(sq / n - mean * mean);
}

}  // namespace

TEST_CASE("synth: every type writes a model that loads and runs, with trained-like spread") {
  const auto vocab = test::require_shared("vocab/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  for (const std::string type : {"f16", "q8_0", "q4_0", "q4_1", "q5_0", "q4_k", "q6_k"}) {
    CAPTURE(type);
    const auto path = temp_path(type);
    const SynthReport r = write_synth_model(small(type, *vocab), path);
    CHECK(r.n_vocab == 32000);
    CHECK(r.file_bytes == std::filesystem::file_size(path));
    const auto file = GgufFile::open(path);
    const TensorView* embd = file->find_tensor("token_embd.weight");
    REQUIRE(embd);
    CHECK(dtype_name(embd->type) == dtype_name(*dtype_from_name(type)));
    // token_embd is written with spread 1, attn_q with 1/sqrt(dim).
    CHECK(row_spread(*embd, 64) == doctest::Approx(1.0).epsilon(0.25));
    CHECK(row_spread(*file->find_tensor("blk.0.attn_q.weight"), 64) == doctest::Approx(1.0 / 16).epsilon(0.25));

    const auto model = Model::load(path);
    KVCache cache(*model, KVCacheOptions{8});
    Batch b;
    b.add(1, 0, 0, true);
    std::vector<float> logits(32000);
    model->forward(b, cache, logits);
    int finite = 0;
    for (float l : logits) finite += std::isfinite(l) ? 1 : 0;
    CHECK(finite == 32000);
    std::filesystem::remove(path);
  }
}

TEST_CASE("synth: the k-quant mixes give output, attn_v and ffn_down more bits; same seed, same bytes") {
  const auto vocab = test::require_shared("vocab/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  SynthOptions o = small("q4_k_m", *vocab);
  o.shape.layers = 8;  // layer 0 gets more bits, layer 1 does not
  const auto a = temp_path("mix_a"), b = temp_path("mix_b"), c = temp_path("mix_c");
  write_synth_model(o, a);
  write_synth_model(o, b);
  o.seed = 7;
  write_synth_model(o, c);
  const auto file = GgufFile::open(a);
  CHECK(file->find_tensor("output.weight")->type == DType::Q6_K);
  CHECK(file->find_tensor("blk.0.attn_v.weight")->type == DType::Q6_K);
  CHECK(file->find_tensor("blk.0.ffn_down.weight")->type == DType::Q6_K);
  CHECK(file->find_tensor("blk.1.attn_v.weight")->type == DType::Q4_K);
  CHECK(file->find_tensor("blk.0.attn_q.weight")->type == DType::Q4_K);
  CHECK(test::read_file(a) == test::read_file(b));
  CHECK(test::read_file(a) != test::read_file(c));
  for (const auto& p : {a, b, c}) std::filesystem::remove(p);
}

TEST_CASE("synth: bad shapes, types and files are refused naming the culprit") {
  const auto vocab = test::require_shared("vocab/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  auto message = [&](SynthOptions o) {
    try {
      write_synth_model(o, temp_path("bad"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  SynthOptions o = small("q4_0", *vocab);
  o.shape.heads = 3;
  CHECK(message(o).find("head") != std::string::npos);
  o = small("q4_k", *vocab);
  o.shape.ff = 288;
  CHECK(message(o).find("block size 256") != std::string::npos);
  o = small("iq2_xxs", *vocab);
  CHECK(message(o).find("iq2_xxs") != std::string::npos);
  o = small("q4_0", "/nonexistent/vocab.gguf");
  CHECK_THROWS_AS(write_synth_model(o, temp_path("bad")), Error);
  CHECK(synth_shape("llama3-8b").kv_heads == 8);
  CHECK_THROWS_WITH_AS(synth_shape("gpt5"), doctest::Contains("stories15m"), Error);
  CHECK(synth_shapes().size() >= 6);
}

TEST_CASE("system: the CPU description and the bandwidth probe") {
  const CpuInfo cpu = cpu_info();
  CHECK((cpu.isa == "scalar" || cpu.isa == "avx2" || cpu.isa == "avx512"));
  CHECK(cpu.description.find("[" + cpu.isa) != std::string::npos);
  CHECK(memory_bandwidth_gbs(1, 1u << 20, 1) > 0);
  CHECK_THROWS_AS(memory_bandwidth_gbs(0), Error);
  CHECK_THROWS_AS(memory_bandwidth_gbs(1, 100), Error);
  CHECK_THROWS_AS(memory_bandwidth_gbs(1, 1u << 20, 0), Error);
}
