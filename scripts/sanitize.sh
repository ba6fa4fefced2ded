#!/usr/bin/env bash
# Builds inkling with clang-14, AddressSanitizer + UndefinedBehaviorSanitizer and
# libFuzzer instrumentation into ./build-san, runs the test suite there, then runs each
# fuzz target for FUZZ_SECONDS (default 30) from seeds written by fuzz_seeds, and finally
# builds the concurrency tests with ThreadSanitizer into ./build-tsan and runs them. Any
# sanitizer report or fuzzer finding fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${INKLING_SHARED:-$(cd .. && pwd)/shared}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
missing=()
for p in clang-14 libclang-rt-14-dev libomp-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="$SAN -fsanitize=fuzzer-no-link" -DCMAKE_EXE_LINKER_FLAGS="$SAN" \
  -DCMAKE_SHARED_LINKER_FLAGS="$SAN" -DINKLING_BUILD_BENCH=OFF -DINKLING_FUZZ=ON -DINKLING_BUILD_C_PROGRAMS=OFF \
  -DINKLING_SHARED_DIR="$SHARED" >/dev/null
cmake --build build-san -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export INKLING_SHARED="$SHARED"
# The foreign-language and installed-package examples load the shared library into
# programs built without the sanitizer runtime; they run in the normal build.
# The browser test drives the server from Chromium; it runs in the normal build (the
# server's own HTTP tests run here).
# The structured-output check validates every seed's JSON with python3-jsonschema; its
# grammar code is the same for each seed, so under the sanitizers (about 10x slower) two
# seeds per schema and model exercise it, against eight in the normal build.
INKLING_GRAMMAR_SEEDS=2 ctest --test-dir build-san --output-on-failure -j2 -E "rust_example|go_example|c_example_installed|capi_exports|browser_visualizer"
rm -rf build-san/corpus && build-san/tests/fuzz/fuzz_seeds build-san/corpus
for target in fuzz_gguf fuzz_gguf_metadata fuzz_tokenizer fuzz_sampler fuzz_capi fuzz_server_request; do
  echo "fuzzing $target for ${FUZZ_SECONDS}s"
  mkdir -p build-san/corpus/$target build-san/findings/$target
  build-san/tests/fuzz/$target build-san/corpus/$target -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
    -artifact_prefix=build-san/findings/$target/ -print_final_stats=1 2>&1 | tail -n 4
done
# ThreadSanitizer on the concurrency tests: several generators on one shared model on
# several threads, create/free races, cancellation from another thread, the
# forward pass run by the thread team on 2 threads, a batch
# fed and cancelled from other threads, the HTTP server with concurrent clients, and the
# blocked attention's tiles shared out over 2 threads.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" -DINKLING_BUILD_BENCH=OFF -DINKLING_BUILD_C_PROGRAMS=OFF \
  -DINKLING_SHARED_DIR="$SHARED" >/dev/null
TSAN_TESTS="test_capi test_model test_generator test_batch_generator test_server test_blocked_attention"
cmake --build build-tsan --target $TSAN_TESTS -j"$(nproc)"
export TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1"
for t in $TSAN_TESTS; do
  echo "ThreadSanitizer: $t"
  build-tsan/tests/$t | tail -n 2
done
echo "sanitizers and fuzzing: no findings"
