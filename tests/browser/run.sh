#!/usr/bin/env bash
# Browser test of the web visualizer: starts `inkling serve`, drives the page in
# headless Debian Chromium (playwright-core, no browser download), stops the server.
#
# usage: tests/browser/run.sh INKLING_BIN MODEL [PORT] [SCREENSHOT] [MODEL2]
#   or env: INKLING, MODEL, PORT (default 18080; 0 = any free port), INKLING_SCREENSHOT, MODEL2
# With MODEL2 the server serves both (the page's compare-across-models checks run).
# Exit status is the test's; 1 if a prerequisite is missing or the server
# never became healthy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INKLING="${1:-${INKLING:-}}"
MODEL="${2:-${MODEL:-}}"
PORT="${3:-${PORT:-18080}}"
SHOT="${4:-${INKLING_SCREENSHOT:-${TMPDIR:-/tmp}/inkling-visualizer.png}}"
MODEL2="${5:-${MODEL2:-}}"
CHROMIUM=/usr/bin/chromium

die() { echo "run.sh: $*" >&2; exit 1; }
[ -n "$INKLING" ] && [ -x "$INKLING" ] || die "inkling binary not given or not executable: '${INKLING}'"
[ -n "$MODEL" ] && [ -f "$MODEL" ] || die "model not found: '${MODEL}'"
models=(-m "$MODEL")
if [ -n "$MODEL2" ]; then
  [ -f "$MODEL2" ] || die "second model not found: '${MODEL2}'"
  models+=(-m "$MODEL2")
fi
[ -x "$CHROMIUM" ] || die "$CHROMIUM missing (apt-get install chromium)"
command -v node >/dev/null || die "node missing"
command -v npm >/dev/null || die "npm missing"
command -v curl >/dev/null || die "curl missing"

# The lock pins playwright-core; it ships no browser, and nothing downloads one.
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
  || die "npm ci failed in $here"

log="$(mktemp "${TMPDIR:-/tmp}/inkling-serve.XXXXXX.log")"
# A context longer than the tiny test models' 128 positions (stretched by --rope-scale):
# the Stop check needs a run that is still going when the page aborts it (128 tokens take
# a few milliseconds).
# One thread: the tiny models gain nothing from more, and on a busy CI machine threads
# waiting for each other at every layer slow a token down a hundredfold.
"$INKLING" serve "${models[@]}" --port "$PORT" --ctx 4096 --rope-scale 32 --threads 1 >"$log" 2>&1 &
server_pid=$!
cleanup() {
  # Only the server this script started, by its pid.
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

# Bounded wait for /health (model load is quick for the test models; 30 s is generous).
# PORT=0 lets the server pick a free port; it prints "serving on http://HOST:PORT/".
want_port="$PORT"
healthy=0
for _ in $(seq 1 150); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: server exited early; its log:" >&2; cat "$log" >&2; exit 1
  fi
  if [ "$want_port" = 0 ]; then
    PORT="$(sed -n 's|.*serving on http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$log" | head -n 1)"
    [ -n "$PORT" ] || { sleep 0.2; continue; }
    want_port="$PORT"
  fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health" || true)" = 200 ]; then
    healthy=1; break
  fi
  sleep 0.2
done
if [ "$healthy" != 1 ]; then
  echo "run.sh: server not healthy on port $PORT after 30 s; its log:" >&2; cat "$log" >&2; exit 1
fi

status=0
(cd "$here" && timeout 300 node visualizer.test.mjs "http://127.0.0.1:$PORT/" "$SHOT") || status=$?
if [ "$status" != 0 ]; then echo "run.sh: server log:" >&2; tail -n 40 "$log" >&2; fi
exit "$status"
