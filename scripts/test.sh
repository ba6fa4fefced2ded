#!/usr/bin/env bash
# README command 2: build and run the whole test suite through ctest.
# Tests that need ../shared skip loudly when it is missing; under CI (CI=true) or with
# INKLING_REQUIRE_SHARED=1, missing test data is a failure.
#
# INKLING_TARGET (scripts/target.sh) cross-builds into the target's own folder and runs
# the tests there through an emulator (qemu-aarch64 or wine). A cross suite has to fit
# CI's time budget (.ci/run: all of CI within 45 minutes on 2 cores, the three cross steps
# within about 12 of them), and qemu runs ARM code 10-50 times slower than native, so a
# cross suite builds and runs what depends on the target, not the whole suite again:
#   - the kernel tests, which try every kernel level the (emulated) CPU has against the
#     scalar reference (ARM64 under -cpu max: NEON, dot product and i8mm; Windows: AVX2
#     and AVX-512 as the host has them), including the repacked layouts;
#   - the target's platform code: ISA detection, UTF-8 file names, mapped and read
#     files, peak memory (test_platform), and on Windows the lazily committed KV cache,
#     the copy-on-write repacking and the hostile-input checks (test_hardening);
#   - the C ABI as shipped: its exports, the C99 test and the C example over the
#     shared library (.so / DLL), and on Windows the C ABI's unit test;
#   - golden parity with llama.cpp on every shared model (ARM64: on the stories models,
#     under -cpu max);
#   - scripts/cross_parity.sh: the target's `inkling run` writes exactly what the native
#     build writes, greedy on every shared model plus a seeded stories260K story.
# What only exercises portable code already run natively and under the sanitizers (the
# generation soaks, samplers, grammars, tokenizer conformance, the server, the CLI's
# other commands) is not run again here: under qemu it alone would take over 30 minutes.
# `bash scripts/build.sh` with the same INKLING_TARGET builds everything; ctest in the
# target's folder then runs the whole suite (slowly).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/target.sh
bash scripts/deps.sh
if [ "${CI:-}" = "true" ]; then export INKLING_REQUIRE_SHARED=1; fi
# What each target builds and runs (ctest names; programs to build).
case "$INKLING_TARGET" in
  aarch64-linux-gnu)
    CROSS_TESTS="test_kernels|test_platform|test_golden_parity|capi_exports|test_capi_c|c_example|c_example_default_model"
    export INKLING_BUILD_TARGETS="inkling inkling_cli inkling_c_stream test_capi_c test_kernels test_platform test_golden_parity"
    ;;
  x86_64-w64-mingw32)
    CROSS_TESTS="test_kernels|test_platform|test_hardening|test_capi|test_golden_parity|capi_exports|test_capi_c|c_example|c_example_default_model"
    export INKLING_BUILD_TARGETS="inkling inkling_cli inkling_c_stream test_capi_c test_kernels test_platform test_hardening test_capi test_golden_parity"
    ;;
esac
SHARED="${INKLING_SHARED:-$(cd .. && pwd)/shared}"
# A shared-data folder with only the named models and their golden files (links), for a
# golden parity run on a few models.
golden_subset() {
  local dir="$BUILD_DIR/golden-subset"
  rm -rf "$dir"
  mkdir -p "$dir/golden" "$dir/models"
  for m in "$@"; do
    ln -s "$SHARED/golden/$m.json" "$dir/golden/$m.json"
    ln -s "$SHARED/models/$m.gguf" "$dir/models/$m.gguf"
  done
  echo "$(pwd)/$dir"
}
SECONDS=0
bash scripts/build.sh
echo "inkling: $INKLING_TARGET build took ${SECONDS}s"
SECONDS=0
case "$INKLING_TARGET" in
  native)
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
    # Under CI (or with INKLING_SANITIZE=1) the suite runs again under ASan + UBSan, and
    # each fuzz target runs for a bounded time (scripts/sanitize.sh).
    if [ "${CI:-}" = "true" ] || [ "${INKLING_SANITIZE:-}" = "1" ]; then bash scripts/sanitize.sh; fi
    ;;
  aarch64-linux-gnu)
    export OMP_WAIT_POLICY=passive  # idle OpenMP threads sleep instead of spinning in qemu
    # Each CPU model must select its kernel level: the run-time dispatch itself is tested.
    level() {
      QEMU_CPU="$1" qemu-aarch64 "$BUILD_DIR/inkling" info -m models/stories260K.gguf |
        sed -n 's/.*kernels chosen: \([a-z0-9]*\).*/\1/p'
    }
    for pair in max:i8mm cortex-a72:neon; do
      got="$(level "${pair%%:*}")"
      echo "qemu-aarch64 -cpu ${pair%%:*}: kernels chosen: $got"
      [ "$got" = "${pair#*:}" ] || { echo "expected ${pair#*:}" >&2; exit 1; }
    done
    # -cpu max (dot product and i8mm): the kernel tests cover all three ARM levels there;
    # whole models run on i8mm: golden parity on the stories models (F32, Q4_0, Q8_0;
    # every shared model takes over 3 minutes of CPU under qemu) and `inkling run` on
    # every shared model against the native build's output.
    echo "== ctest under qemu-aarch64 -cpu max"
    QEMU_CPU=max ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 -R "^($CROSS_TESTS)$" -E "^test_golden_parity$"
    QEMU_CPU=max INKLING_SHARED="$(golden_subset stories260K-f32 stories260K-pad192-q4_0 stories260K-pad192-q8_0)" \
      ctest --test-dir "$BUILD_DIR" --output-on-failure -R "^test_golden_parity$"
    QEMU_CPU=max bash scripts/cross_parity.sh
    # -cpu cortex-a72 (plain ARMv8.0 NEON): whole models on the NEON level, through the
    # C example and `inkling run` on one model of each weight type and kind (F32, Q4_0,
    # Q8_0, F16 embeddings with a mixture of experts, a Q4_0 output head) and on
    # synth15M-q4_0, whose random weights leave near-ties that another float summation
    # order tips after about 20 tokens: the NEON level keeps SDOT's int32 lanes and the
    # i8mm level's prefill tiles (lib/kernels/arm/common.inl), so it must write what
    # -cpu max writes. Golden parity on every shared model under both CPU models and
    # `inkling run` on every model under this one do not fit CI's budget (README,
    # Platforms, says how to run them by hand).
    echo "== under qemu-aarch64 -cpu cortex-a72"
    QEMU_CPU=cortex-a72 ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 -R "^(c_example|test_platform)$"
    QEMU_CPU=cortex-a72 INKLING_PARITY_MODELS="stories260K-pad192-f32.gguf stories260K-pad192-q4_0.gguf
      stories260K-pad192-q8_0.gguf synth-qwen3moe.gguf synth-olmo2.gguf synth15M-q4_0.gguf" bash scripts/cross_parity.sh
    ;;
  x86_64-w64-mingw32)
    export WINEPREFIX="$(pwd)/$BUILD_DIR/wineprefix" WINEDEBUG=-all
    WINESERVER=/usr/lib/wine/wineserver
    [ -x "$WINESERVER" ] || WINESERVER=wineserver
    WINE=/usr/lib/wine/wine64
    [ -x "$WINE" ] || WINE=wine
    mkdir -p "$WINEPREFIX"  # a clean clone has none yet; wineserver refuses a missing folder
    "$WINESERVER" -p  # one wine server for all the test programs, not one each
    trap '"$WINESERVER" -k || true' EXIT
    # Create or update the prefix, and start wine's services, before any test: started
    # from within a test they would inherit its output pipe and ctest would wait for
    # them to close it (i.e. until the end of the wine server).
    "$WINE" wineboot -u </dev/null >/dev/null 2>&1
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 -R "^($CROSS_TESTS)$"
    # The same x86 kernels as natively, and golden parity ran on every model above:
    # inkling.exe is compared on the seeded story and three models (Q4_0 repacked in a
    # copy-on-write mapping, a mixture of experts). All 22 took 3.8 min of CPU under wine.
    INKLING_PARITY_MODELS="stories260K-pad192-q4_0.gguf synth15M-q4_0.gguf synth-qwen3moe.gguf" \
      bash scripts/cross_parity.sh
    ;;
esac
echo "inkling: $INKLING_TARGET suite took ${SECONDS}s"
