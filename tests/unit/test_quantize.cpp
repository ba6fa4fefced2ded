// quantize_model: our Q4_0 / Q8_0 encoders against llama-quantize's output for the same
// F32 model (tensor bytes), the converted model runs, and bad requests are refused.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/quantize.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("inkling_test_quantize_" + name);
}

// Fraction of matching tensor bytes per converted matrix, the worst over the file.
double worst_byte_match(const GgufFile& ours, const GgufFile& theirs, DType type) {
  double worst = 1.0;
  int compared = 0;
  for (const TensorView& t : ours.tensors()) {
    const TensorView* r = theirs.find_tensor(t.name);
    REQUIRE(r);
    CHECK(r->type == t.type);
    REQUIRE(r->bytes == t.bytes);
    if (t.type != type) continue;
    std::size_t same = 0;
    for (std::size_t i = 0; i < t.bytes; ++i) same += t.data[i] == r->data[i];
    worst = std::min(worst, static_cast<double>(same) / static_cast<double>(t.bytes));
    ++compared;
  }
  CHECK(compared > 10);
  return worst;
}

}  // namespace

TEST_CASE("Q4_0 and Q8_0 from the F32 model equal llama-quantize's files") {
  auto f32 = test::require_shared("models/stories260K-pad192-f32.gguf");
  auto q4 = test::require_shared("models/stories260K-pad192-q4_0.gguf");
  auto q8 = test::require_shared("models/stories260K-pad192-q8_0.gguf");
  if (!f32 || !q4 || !q8) return;
  const auto out4 = temp_path("q4_0.gguf"), out8 = temp_path("q8_0.gguf");
  int progress = 0;
  QuantizeOptions o;
  o.type = DType::Q4_0;
  o.on_tensor = [&](std::string_view, int, int) { ++progress; };
  const QuantizeReport r = quantize_model(*f32, out4, o);
  CHECK(r.converted == 37);  // every matrix; the 11 norms stay F32
  CHECK(r.kept == 11);
  CHECK(progress == 48);
  CHECK(r.bytes_out < r.bytes_in / 5);
  CHECK(worst_byte_match(*GgufFile::open(out4), *GgufFile::open(*q4), DType::Q4_0) == 1.0);
  o.type = DType::Q8_0;
  o.on_tensor = nullptr;
  quantize_model(*f32, out8, o);
  // llama-quantize rounds with roundf, the activation path (which this encoder shares) as
  // llama.cpp's x86 code does, half to even: only exact .5 ties may differ.
  CHECK(worst_byte_match(*GgufFile::open(out8), *GgufFile::open(*q8), DType::Q8_0) > 0.999);
  // The result is a model that loads and runs like llama.cpp's file.
  const auto ours = Model::load(out4, {.threads = 1});
  CHECK(ours->config().n_layer == 5);
  CHECK(ours->file().get_uint("general.file_type") == 2u);
  std::filesystem::remove(out4);
  std::filesystem::remove(out8);
}

TEST_CASE("F16 and BF16 conversions keep the model's outputs") {
  auto f32 = test::require_shared("models/stories260K-pad192-f32.gguf");
  if (!f32) return;
  const auto ref = Model::load(*f32, {.threads = 1});
  for (DType type : {DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(type));
    const auto out = temp_path("half.gguf");
    QuantizeOptions o;
    o.type = type;
    quantize_model(*f32, out, o);
    const auto m = Model::load(out, {.threads = 1});
    Batch b;
    const auto ids = ref->tokenizer().encode("Once upon a time", true);
    for (std::size_t i = 0; i < ids.size(); ++i) b.add(ids[i], static_cast<int>(i), 0, i + 1 == ids.size());
    std::vector<float> la(512), lb(512);
    KVCache ca(*ref, {.n_ctx = 32}), cb(*m, {.n_ctx = 32});
    ref->forward(b, ca, la);
    m->forward(b, cb, lb);
    float worst = 0;
    for (std::size_t i = 0; i < la.size(); ++i) worst = std::max(worst, std::abs(la[i] - lb[i]));
    CHECK(worst < (type == DType::F16 ? 0.05f : 0.3f));
    std::filesystem::remove(out);
  }
}

TEST_CASE("quantize refuses what it cannot do, with the reason") {
  auto f32 = test::require_shared("models/stories260K-pad192-f32.gguf");
  if (!f32) return;
  QuantizeOptions o;
  o.type = DType::Q4_K;
  CHECK_THROWS_WITH_AS(quantize_model(*f32, temp_path("x.gguf"), o), doctest::Contains("cannot write Q4_K"), Error);
  o.type = DType::Q8_0;
  CHECK_THROWS_WITH_AS(quantize_model(*f32, *f32, o), doctest::Contains("overwrite"), Error);
  try {
    quantize_model(temp_path("missing.gguf"), temp_path("y.gguf"), o);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Io);
  }
  CHECK(!can_quantize_to(DType::Q6_K));
  CHECK(can_quantize_to(DType::Q4_0));
}
