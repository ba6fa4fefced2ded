#!/usr/bin/env bash
# README command 1: install dependencies, build the `inkling` program, and watch a real
# model write a story: the built-in stories260K (models/stories260K.gguf), so nothing
# beside the repository is needed. Its context is 128 positions: 100 new tokens fit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
INKLING_BUILD_TARGETS=inkling_cli bash scripts/build.sh
./build/inkling run -p "Once upon a time" -n 100 --seed 42
