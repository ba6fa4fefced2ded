#!/usr/bin/env bash
# README command 2: build and run the whole test suite through ctest.
# Tests that need ../shared skip loudly when it is missing; under CI (CI=true) or with
# INKLING_REQUIRE_SHARED=1, missing test data is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
if [ "${CI:-}" = "true" ]; then export INKLING_REQUIRE_SHARED=1; fi
ctest --test-dir build --output-on-failure -j2
# Under CI (or with INKLING_SANITIZE=1) the suite runs again under ASan + UBSan, and each
# fuzz target runs for a bounded time (scripts/sanitize.sh).
if [ "${CI:-}" = "true" ] || [ "${INKLING_SANITIZE:-}" = "1" ]; then bash scripts/sanitize.sh; fi
