#!/usr/bin/env bash
# README command 2: build and run the whole test suite through ctest.
# Tests that need ../shared skip loudly when it is missing; under CI (CI=true) or with
# INKLING_REQUIRE_SHARED=1, missing test data is a failure.
#
# INKLING_TARGET (scripts/target.sh) cross-builds into the target's own folder and runs
# the suite there through an emulator:
#   aarch64-linux-gnu   under qemu-aarch64, twice: QEMU_CPU=max (dot product and i8mm)
#                       and QEMU_CPU=cortex-a72 (plain ARMv8.0 NEON), so each kernel
#                       dispatch path runs (see below for what runs under which).
#   x86_64-w64-mingw32  everything built for Windows (unit tests, golden parity, the C
#                       example and C99 test, the DLL's exports, the CLI) under wine.
# Both then check that the target's `inkling run` writes exactly what the native build
# writes (scripts/cross_parity.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/target.sh
bash scripts/deps.sh
bash scripts/build.sh
if [ "${CI:-}" = "true" ]; then export INKLING_REQUIRE_SHARED=1; fi
SECONDS=0
case "$INKLING_TARGET" in
  native)
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
    # Under CI (or with INKLING_SANITIZE=1) the suite runs again under ASan + UBSan, and
    # each fuzz target runs for a bounded time (scripts/sanitize.sh).
    if [ "${CI:-}" = "true" ] || [ "${INKLING_SANITIZE:-}" = "1" ]; then bash scripts/sanitize.sh; fi
    ;;
  aarch64-linux-gnu)
    # qemu runs ARM code 10-50 times slower than native: -cpu max (all three kernel
    # levels are tested, whole models run on i8mm) takes the whole suite except the
    # memory soak (400 generation cycles; it runs natively, under ASan and under wine);
    # -cpu cortex-a72 takes what depends on the kernels (the plain NEON path): kernels,
    # models, golden parity, the KV cache, the C ABI and its example.
    export OMP_WAIT_POLICY=passive  # idle OpenMP threads sleep instead of spinning in qemu
    echo "== ctest under qemu-aarch64 -cpu max"
    QEMU_CPU=max ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 -E "^test_soak$"
    QEMU_CPU=max bash scripts/cross_parity.sh
    echo "== ctest under qemu-aarch64 -cpu cortex-a72"
    QEMU_CPU=cortex-a72 ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 \
      -R "^(test_kernels|test_model|test_golden_parity|test_kv_cache_q8|test_platform|test_capi|c_example)$"
    QEMU_CPU=cortex-a72 bash scripts/cross_parity.sh
    ;;
  x86_64-w64-mingw32)
    export WINEPREFIX="$(pwd)/$BUILD_DIR/wineprefix" WINEDEBUG=-all
    WINESERVER=/usr/lib/wine/wineserver
    [ -x "$WINESERVER" ] || WINESERVER=wineserver
    "$WINESERVER" -p  # one wine server for all the test programs, not one each
    trap '"$WINESERVER" -k || true' EXIT
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
    bash scripts/cross_parity.sh
    ;;
esac
echo "inkling: $INKLING_TARGET suite took ${SECONDS}s"
