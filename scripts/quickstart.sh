#!/usr/bin/env bash
# README command 1: install dependencies, build, and watch a real model write a story.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
MODEL="${INKLING_SHARED:-../shared}/models/stories260K-f32.gguf"
./build/inkling run -m "$MODEL" -p "Once upon a time" -n 200 --seed 42
