// GgufFile and GgufWriter through the public API: every value type round-trips, and
// corrupt files give a typed error naming the problem, never a crash.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "raw_gguf.hpp"
#include "shared_data.hpp"

using inkling::DType;
using inkling::ErrorCode;
using inkling::GgufFile;
using inkling::GgufType;
using inkling::GgufWriter;
using inkling::test::RawGguf;

namespace {

std::vector<std::byte> f32_bytes(std::vector<float> v) {
  std::vector<std::byte> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

GgufWriter sample_writer() {
  GgufWriter w;
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set_i64("t.i64", -9000000000000000000ll);
  w.set_f32("t.f32", 1.5f);
  w.set_f64("t.f64", -2.25);
  w.set_bool("t.bool", true);
  w.set_string("t.str", "héllo");
  w.set_string("t.empty", "");
  w.set_string_array("t.strs", {"a", "", "ccc"});
  w.set_f32_array("t.f32s", {1.0f, -2.0f});
  w.set_i32_array("t.i32s", {});
  w.set_u32_array("t.u32s", {7, 8, 9});
  w.add_tensor("w", DType::F32, {4, 2}, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  w.add_tensor("q", DType::Q8_0, {32, 1}, std::vector<std::byte>(34, std::byte{1}));
  return w;
}

void check_sample(const GgufFile& f) {
  CHECK(f.version() == 3);
  CHECK(f.get_uint("t.u8") == 200u);
  CHECK(f.get_int("t.i8") == -100);
  CHECK(f.get_uint("t.u16") == 60000u);
  CHECK(f.get_int("t.i16") == -30000);
  CHECK(f.get_uint("t.u32") == 4000000000u);
  CHECK(f.get_int("t.i32") == -2000000000);
  CHECK(f.get_uint("t.u64") == 18000000000000000000ull);
  CHECK(f.get_int("t.i64") == -9000000000000000000ll);
  CHECK(f.get_float("t.f32") == 1.5);
  CHECK(f.get_float("t.f64") == -2.25);
  CHECK(f.get_bool("t.bool") == true);
  CHECK(f.get_string("t.str") == "héllo");
  CHECK(f.get_string("t.empty") == "");
  const auto* strs = f.get_array("t.strs");
  REQUIRE(strs);
  CHECK(strs->element_type == GgufType::String);
  REQUIRE(strs->items.size() == 3);
  CHECK(strs->items[2].as_string() == "ccc");
  CHECK(f.get_array("t.f32s")->items[1].as_float() == -2.0);
  CHECK(f.get_array("t.i32s")->items.empty());
  CHECK(f.get_array("t.u32s")->items[2].as_uint() == 9u);
  CHECK(!f.find("absent"));
  CHECK(!f.get_uint("absent"));
  REQUIRE(f.tensors().size() == 2);
  const auto& w = f.require_tensor("w");
  CHECK(w.type == DType::F32);
  CHECK(w.shape[0] == 4);
  CHECK(w.shape[1] == 2);
  CHECK(w.n_dims == 2);
  CHECK(w.bytes == 32);
  CHECK(reinterpret_cast<const float*>(w.data)[7] == 8.0f);
  CHECK(f.data_offset() % 32 == 0);
  CHECK(f.require_tensor("q").bytes == 34);
}

ErrorCode code_of(const std::function<void()>& fn, std::string& message) {
  try {
    fn();
  } catch (const inkling::Error& e) {
    message = e.what();
    return e.code();
  }
  message = "(no error)";
  return ErrorCode::Internal;
}

void expect_error(const std::vector<std::byte>& bytes, ErrorCode code, const std::string& needle) {
  std::string msg;
  const ErrorCode got = code_of([&] { GgufFile::from_bytes(bytes, "bad.gguf"); }, msg);
  CHECK_MESSAGE(got == code, msg);
  CHECK_MESSAGE(msg.find(needle) != std::string::npos, "message '" << msg << "' lacks '" << needle << "'");
  CHECK_MESSAGE(msg.find("bad.gguf") != std::string::npos, msg);
}

// A minimal valid file: one key, one F32 tensor {n} at offset 0.
RawGguf one_tensor(std::uint32_t type, std::vector<std::int64_t> dims, std::uint64_t offset = 0,
                   std::size_t data_bytes = 64) {
  RawGguf r;
  r.header(1, 1).str("general.architecture").u32(8).str("llama");
  r.str("t").u32(static_cast<std::uint32_t>(dims.size()));
  for (auto d : dims) r.i64(d);
  r.u32(type).u64(offset).pad_to(32).zeros(data_bytes);
  return r;
}

}  // namespace

TEST_CASE("every value type round-trips through the writer") {
  const auto w = sample_writer();
  check_sample(*GgufFile::from_bytes(w.to_bytes()));
  const auto path = std::filesystem::temp_directory_path() / "inkling_test_roundtrip.gguf";
  w.write(path);
  check_sample(*GgufFile::open(path));
  check_sample(*GgufFile::open(path, {.use_mmap = false}));
  std::filesystem::remove(path);
}

TEST_CASE("custom alignment, version 2 and nested arrays") {
  GgufWriter w;
  w.set_alignment(64);
  w.add_tensor("a", DType::F32, {3}, f32_bytes({1, 2, 3}));
  w.add_tensor("b", DType::F32, {1}, f32_bytes({4}));
  // an array of arrays of u8: [[1, 2], []]
  RawGguf v;
  v.u32(static_cast<std::uint32_t>(GgufType::Array)).u32(static_cast<std::uint32_t>(GgufType::Array)).u64(2);
  v.u32(static_cast<std::uint32_t>(GgufType::UInt8)).u64(2).pod<std::uint8_t>(1).pod<std::uint8_t>(2);
  v.u32(static_cast<std::uint32_t>(GgufType::UInt8)).u64(0);
  w.set_raw("nested", v.bytes);
  w.set_version(2);
  const auto f = GgufFile::from_bytes(w.to_bytes());
  CHECK(f->version() == 2);
  CHECK(f->alignment() == 64);
  CHECK(reinterpret_cast<const float*>(f->require_tensor("b").data)[0] == 4.0f);
  CHECK(f->require_tensor("b").data - f->require_tensor("a").data == 64);
  const auto* nested = f->get_array("nested");
  REQUIRE(nested);
  REQUIRE(nested->items.size() == 2);
  CHECK(nested->items[0].as_array().items[1].as_uint() == 2u);
  CHECK(nested->items[1].as_array().items.empty());
  // A typed getter on the wrong type is a Format error naming the key.
  std::string msg;
  CHECK(code_of([&] { f->get_string("general.alignment"); }, msg) == ErrorCode::Format);
  CHECK(msg.find("general.alignment") != std::string::npos);
}

TEST_CASE("malformed GGUF catalogue: each corruption has its own error") {
  using R = RawGguf;
  const auto U = [](GgufType t) { return static_cast<std::uint32_t>(t); };
  // Header.
  expect_error({}, ErrorCode::Format, "too small");
  expect_error(R().u32(0x12345678).u32(3).i64(0).i64(0).bytes, ErrorCode::Format, "bad magic");
  expect_error(R().header(0, 0, 0).bytes, ErrorCode::Format, "version 0");
  expect_error(R().header(0, 0, 1).bytes, ErrorCode::Unsupported, "version 1 is no longer supported");
  expect_error(R().header(0, 0, 4).bytes, ErrorCode::Unsupported, "version 4");
  expect_error(R().u32(0x46554747).bytes, ErrorCode::Format, "version");
  expect_error(R().u32(0x46554747).u32(3).u32(0).bytes, ErrorCode::Format, "tensor count");
  expect_error(R().u32(0x46554747).u32(3).i64(0).bytes, ErrorCode::Format, "metadata count");
  expect_error(R().header(-1, 0).bytes, ErrorCode::Format, "tensor count -1");
  expect_error(R().header(0, -5).bytes, ErrorCode::Format, "metadata count -5");
  expect_error(R().header(1ll << 60, 0).bytes, ErrorCode::Format, "impossible");
  expect_error(R().header(0, 1ll << 62).bytes, ErrorCode::Format, "impossible");
  // Keys and values.
  expect_error(R().header(0, 1).zeros(13).bytes, ErrorCode::Format, "key #0");
  expect_error(R().header(0, 1).u64(1ull << 62).zeros(16).bytes, ErrorCode::Format, "runs past the end");
  expect_error(R().header(0, 1).u64(1).bytes, ErrorCode::Format, "metadata count 1 is impossible");
  expect_error(R().header(0, 1).str("kkkkkk").bytes, ErrorCode::Format, "type of key 'kkkkkk'");
  expect_error(R().header(0, 1).str("k").u32(13).zeros(8).bytes, ErrorCode::Format, "unknown value type 13");
  expect_error(R().header(0, 1).str("").u32(4).u32(1).bytes, ErrorCode::Format, "is empty");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::UInt32)).zeros(2).bytes, ErrorCode::Format, "truncated");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::String)).u64(100).zeros(10).bytes, ErrorCode::Format,
               "runs past the end");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::Array)).bytes, ErrorCode::Format, "element type of key 'k'");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::Array)).u32(77).u64(0).bytes, ErrorCode::Format,
               "unknown type 77");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::Array)).u32(U(GgufType::UInt64)).u64(1ull << 61).zeros(64).bytes,
               ErrorCode::Format, "claims");
  expect_error(R().header(0, 1).str("k").u32(U(GgufType::Array)).u32(U(GgufType::String)).u64(2).str("a").u32(0).zeros(3).bytes,
               ErrorCode::Format, "key 'k'[1]");
  {
    R r;
    r.header(0, 1).str("deep");
    r.u32(U(GgufType::Array));
    for (int i = 0; i < 10; ++i) r.u32(U(GgufType::Array)).u64(1);
    r.u32(U(GgufType::UInt8)).u64(0);
    expect_error(r.bytes, ErrorCode::Format, "nests arrays deeper");
  }
  expect_error(R().header(0, 2).str("k").u32(U(GgufType::UInt8)).pod<std::uint8_t>(1).str("k").u32(U(GgufType::UInt8)).pod<std::uint8_t>(2).bytes,
               ErrorCode::Format, "duplicate metadata key 'k'");
  expect_error(R().header(0, 1).str("general.alignment").u32(U(GgufType::UInt64)).u64(32).bytes, ErrorCode::Format,
               "must be a UINT32");
  expect_error(R().header(0, 1).str("general.alignment").u32(U(GgufType::UInt32)).u32(0).bytes, ErrorCode::Format,
               "not a power of two");
  expect_error(R().header(0, 1).str("general.alignment").u32(U(GgufType::UInt32)).u32(48).bytes, ErrorCode::Format,
               "not a power of two");
  // Tensor directory.
  expect_error(R().header(1, 0).bytes, ErrorCode::Format, "impossible");  // no room for a record
  expect_error(R().header(1, 0).str(std::string(64, 'x')).zeros(40).bytes, ErrorCode::Format, "name of 64 bytes");
  expect_error(R().header(1, 0).str("t").u32(5).zeros(64).bytes, ErrorCode::Format, "5 dimensions");
  expect_error(one_tensor(0, {-4}).bytes, ErrorCode::Format, "dimension 0 = -4");
  expect_error(one_tensor(0, {4, 0}).bytes, ErrorCode::Format, "dimension 1 = 0");
  expect_error(one_tensor(0, {1ll << 40, 1ll << 40}).bytes, ErrorCode::Format, "overflows 64 bits");
  expect_error(one_tensor(4, {32}).bytes, ErrorCode::Unsupported, "unknown tensor type 4");
  expect_error(one_tensor(99, {32}).bytes, ErrorCode::Unsupported, "unknown tensor type 99");
  expect_error(one_tensor(2, {33}).bytes, ErrorCode::Format, "not a multiple of the Q4_0 block size 32");
  expect_error(one_tensor(0, {4}, 8).bytes, ErrorCode::Format, "not a multiple of the alignment");
  expect_error(one_tensor(0, {4}, 1ull << 62).bytes, ErrorCode::Format, "lies past the end of the file");
  expect_error(one_tensor(0, {100}, 0, 64).bytes, ErrorCode::Format, "lies past the end of the file");
  expect_error(R().header(1, 0).str("tensor").u32(1).i64(4).u32(0).bytes, ErrorCode::Format,
               "data offset of tensor 'tensor'");
  expect_error(R().header(1, 0).str("tensor_name").u32(1).i64(4).bytes, ErrorCode::Format,
               "type of tensor 'tensor_name'");
  expect_error(R().header(1, 0).str("tensor_name").u32(2).i64(4).bytes, ErrorCode::Format,
               "dimension 1 of tensor 'tensor_name'");
  {
    R r;
    r.header(2, 0).str("a").u32(1).i64(16).u32(0).u64(0).str("a").u32(1).i64(16).u32(0).u64(64).pad_to(32).zeros(128);
    expect_error(r.bytes, ErrorCode::Format, "duplicate tensor 'a'");
  }
  {
    R r;
    r.header(2, 0).str("a").u32(1).i64(16).u32(0).u64(0).str("b").u32(1).i64(16).u32(0).u64(32).pad_to(32).zeros(128);
    expect_error(r.bytes, ErrorCode::Format, "overlap");
  }
  {
    R r;  // the directory claims data but the file ends before the data section
    r.header(1, 0).str("t").u32(1).i64(8).u32(0).u64(0);
    expect_error(r.bytes, ErrorCode::Format, "past the end of the file");
  }
}

TEST_CASE("truncating a valid file at every length gives an error, never a crash") {
  const auto full = sample_writer().to_bytes();
  int errors = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    std::string msg;
    const ErrorCode code = code_of([&] { GgufFile::from_bytes(cut, "cut.gguf"); }, msg);
    // The last tensor's alignment padding may be cut without losing data.
    if (code == ErrorCode::Internal) continue;
    CHECK(code == ErrorCode::Format);
    ++errors;
  }
  CHECK(errors >= static_cast<int>(full.size()) - 32);
}

TEST_CASE("files that cannot be read give an Io error naming the path") {
  std::string msg;
  CHECK(code_of([] { GgufFile::open("/nonexistent/dir/model.gguf"); }, msg) == ErrorCode::Io);
  CHECK(msg.find("/nonexistent/dir/model.gguf") != std::string::npos);
  CHECK(code_of([] { GgufFile::open(std::filesystem::temp_directory_path()); }, msg) == ErrorCode::Io);
}

TEST_CASE("every shared model and vocabulary opens") {
  auto models = inkling::test::require_shared("models/stories260K-f32.gguf");
  if (!models) return;
  const auto f = GgufFile::open(*models);
  CHECK(f->get_string("general.architecture") == "llama");
  CHECK(f->get_array("tokenizer.ggml.tokens")->items.size() == 512);
  const auto& embd = f->require_tensor("token_embd.weight");
  CHECK(embd.shape[0] == 64);
  CHECK(embd.shape[1] == 512);
  int opened = 0;
  for (const char* sub : {"models", "vocab"})
    for (const auto& e : std::filesystem::directory_iterator(inkling::test::shared_dir() / sub))
      if (e.path().extension() == ".gguf") {
        CHECK_NOTHROW(GgufFile::open(e.path()));
        ++opened;
      }
  CHECK(opened >= 20);
}
