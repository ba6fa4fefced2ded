// Finding the test data in ../shared (models/, vocab/, golden/).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace inkling {
class Model;
}

namespace inkling::test {

// The shared data folder: $INKLING_SHARED if set, else the CMake option
// INKLING_SHARED_DIR (default: ../shared beside the source tree).
std::filesystem::path shared_dir();

// Returns the path of shared/<relative> if it exists. If it does not, prints a loud
// "SKIPPED-SHARED-DATA" message and records the skip (the test program then exits with
// ctest's skip code) — or, when INKLING_REQUIRE_SHARED=1, fails the current test.
std::optional<std::filesystem::path> require_shared(const std::string& relative);

bool shared_data_was_missing();

// stories260K-f32 loaded once per test program (1 thread), or null (skipped) when the
// shared data is missing.
std::shared_ptr<const Model> stories_model();

// How much slower than native this build's tests run: INKLING_TEST_TIME_SCALE, which
// cross builds set for tests under an emulator (qemu, wine); 1 otherwise. Loose time
// bounds against pathological behaviour are multiplied by it.
double time_scale();

// Reads a whole file; throws std::runtime_error if it cannot.
std::string read_file(const std::filesystem::path& path);

}  // namespace inkling::test
