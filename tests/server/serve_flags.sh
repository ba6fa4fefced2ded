#!/usr/bin/env bash
# `inkling serve`'s safety flags, each shown to take effect: the server runs on a free
# loopback port, is asked with curl (10 s limit per request) and is stopped by PID.
# usage: serve_flags.sh INKLING_CLI MODEL WORKDIR
set -u
CLI=$1
MODEL=$2
WORK=$3
LOG="$WORK/serve_flags.$$.log"
KEYFILE="$WORK/serve_flags.$$.key"
PID=""
PORT=""

fail() {
  echo "FAIL: $*"
  [ -f "$LOG" ] && sed 's/^/  serve: /' "$LOG"
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  exit 1
}

# Starts the server with extra arguments; sets PID and PORT (at most 20 s).
start() {
  : >"$LOG"
  "$CLI" serve -m "$MODEL" --port 0 --parallel 1 --max-queued 2 "$@" 2>"$LOG" &
  PID=$!
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(grep -o 'serving on http://[^ ]*' "$LOG" | grep -o '[0-9]*/$' | tr -d /)
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || fail "serve $* exited early"
    sleep 0.1
  done
  fail "serve $* did not start"
}
stop() {
  kill "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  PID=""
}
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }
expect() {  # expect WANT DESCRIPTION CURL-ARGS...
  local want=$1 what=$2
  shift 2
  local got
  got=$(code "$@")
  [ "$got" = "$want" ] || fail "$what: HTTP $got, expected $want"
  echo "ok: $what ($got)"
}
refused() {  # refused MESSAGE-PART ARGS...: serve exits with an error naming MESSAGE-PART
  local part=$1
  shift
  local out
  out=$(timeout 60 "$CLI" serve -m "$MODEL" --port 0 "$@" 2>&1) && fail "serve $* should have been refused"
  echo "$out" | grep -q -- "$part" || fail "serve $*: '$part' not in: $out"
  echo "ok: refused $*"
}

BODY='{"prompt": "Once", "max_tokens": 2}'
JSON=(-H 'Content-Type: application/json')
echo "the-key" >"$KEYFILE"

# Combinations that cannot work are refused before serving.
refused "needs an API key" --host 0.0.0.0
refused "not both" --api-key a --api-key-file "$KEYFILE"
refused "cannot combine" --no-api-key --api-key-file "$KEYFILE"
refused "must exceed" --http-threads 3
refused "cannot read the API key file" --api-key-file "$KEYFILE.absent"
# A context beyond the model's training context (128) is refused, naming the model, both
# numbers and the way beyond; --rope-scale grants it.
refused "model '.*': KVCache: n_ctx 256 exceeds this model's training context of 128 .*--rope-scale" --ctx 256
start --ctx 256 --rope-scale 2
curl -s -m 10 "http://127.0.0.1:$PORT/v1/models" | grep -Eq '"n_ctx": ?256' || fail "--ctx 256 --rope-scale 2 not served"
echo "ok: --ctx 256 --rope-scale 2"
stop

# --api-key-file: the file's first line is the key.
start --api-key-file "$KEYFILE"
expect 401 "api-key-file, no key" "${JSON[@]}" -d "$BODY" "http://127.0.0.1:$PORT/v1/completions"
expect 200 "api-key-file, right key" "${JSON[@]}" -H 'Authorization: Bearer the-key' -d "$BODY" "http://127.0.0.1:$PORT/v1/completions"
stop

# INKLING_API_KEY: the same from the environment.
INKLING_API_KEY=env-key start
expect 401 "INKLING_API_KEY, wrong key" -H 'Authorization: Bearer the-key' "http://127.0.0.1:$PORT/v1/models"
expect 200 "INKLING_API_KEY, right key" -H 'Authorization: Bearer env-key' "http://127.0.0.1:$PORT/v1/models"
stop

# --allowed-host and --cors-origin.
start --allowed-host inkling.lan --cors-origin http://app.example:3000
expect 200 "allowed host" -H 'Host: inkling.lan' "http://127.0.0.1:$PORT/health"
expect 403 "foreign host" -H 'Host: evil.example' "http://127.0.0.1:$PORT/health"
expect 200 "allowed origin" -H 'Origin: http://app.example:3000' "http://127.0.0.1:$PORT/v1/models"
expect 403 "foreign origin" -H 'Origin: http://evil.example' "http://127.0.0.1:$PORT/v1/models"
curl -s -m 10 -D - -o /dev/null -H 'Origin: http://app.example:3000' "http://127.0.0.1:$PORT/v1/models" |
  grep -qi '^Access-Control-Allow-Origin: http://app.example:3000' || fail "no Access-Control-Allow-Origin for the allowed origin"
stop

# --max-body: over the cap is 413 whether or not the length is announced.
start --max-body 2000
BIG=$(printf '{"prompt": "%03000d"}' 0)
expect 413 "max-body, Content-Length" "${JSON[@]}" -d "$BIG" "http://127.0.0.1:$PORT/v1/completions"
expect 413 "max-body, chunked" "${JSON[@]}" -H 'Transfer-Encoding: chunked' -d "$BIG" "http://127.0.0.1:$PORT/v1/completions"
expect 200 "max-body, small" "${JSON[@]}" -d "$BODY" "http://127.0.0.1:$PORT/v1/completions"
stop

# --read-timeout and --http-threads: 4 threads, all held by clients that send nothing;
# /health waits until the 2 s read deadline frees them.
start --read-timeout 2 --http-threads 4 --max-queued 1
HOLDERS=()
for _ in 1 2 3 4; do
  timeout 8 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3 >/dev/null" &
  HOLDERS+=($!)
done
sleep 0.3
[ "$(code -m 1 "http://127.0.0.1:$PORT/health")" = "000" ] || fail "--http-threads 4: /health answered while 4 clients held every thread"
echo "ok: http-threads 4 are all held"
START=$(date +%s)
for h in "${HOLDERS[@]}"; do
  wait "$h"
  [ $? -eq 124 ] && fail "--read-timeout 2: a silent client was still connected after 8 s"
done
echo "ok: read-timeout closed the silent clients after $(($(date +%s) - START)) s"
expect 200 "health after the deadline" "http://127.0.0.1:$PORT/health"
stop

rm -f "$LOG" "$KEYFILE"
echo "all serve flags take effect"
