#!/usr/bin/env bash
# Configures and builds inkling (Release) into ./build, or for INKLING_TARGET into its
# own folder (see scripts/target.sh; INKLING_BUILD_DIR overrides the folder).
# INKLING_BUILD_TARGETS (space separated) limits the build to those targets (the
# quickstart builds only the program).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/target.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${TARGET_ARGS[@]}" "$@" >/dev/null
targets=()
for t in ${INKLING_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
