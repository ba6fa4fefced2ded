#include "shared_data.hpp"

#include <doctest/doctest.h>

#include "inkling/model.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace inkling::test {
namespace {
std::atomic<bool> g_missing{false};  // test-process state only, never in the library
}

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("INKLING_SHARED"); env && *env) return env;
  return INKLING_SHARED_DIR_DEFAULT;
}

std::optional<std::filesystem::path> require_shared(const std::string& relative) {
  const auto path = shared_dir() / relative;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return path;
  const char* required = std::getenv("INKLING_REQUIRE_SHARED");
  if (required && std::string(required) == "1") {
    FAIL("shared test data missing: " << path.string()
                                      << " (set INKLING_SHARED or -DINKLING_SHARED_DIR)");
    return std::nullopt;
  }
  std::fprintf(stderr,
               "\n*** SKIPPED-SHARED-DATA: %s not found. Set INKLING_SHARED or "
               "-DINKLING_SHARED_DIR to the shared/ folder to run this test. ***\n\n",
               path.string().c_str());
  g_missing = true;
  return std::nullopt;
}

bool shared_data_was_missing() { return g_missing; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<const Model> stories_model() {
  static const std::shared_ptr<const Model> model = [] {
    auto path = require_shared("models/stories260K-f32.gguf");
    return path ? Model::load(*path, {.threads = 1}) : nullptr;
  }();
  return model;
}

double time_scale() {
  const char* env = std::getenv("INKLING_TEST_TIME_SCALE");
  const double scale = env ? std::atof(env) : 1.0;
  return scale >= 1.0 ? scale : 1.0;
}

}  // namespace inkling::test
