#!/usr/bin/env bash
# Configures and builds inkling (Release) into ./build; INKLING_BUILD_TARGETS (space
# separated) limits the build to those targets (the quickstart builds only the program).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${INKLING_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
