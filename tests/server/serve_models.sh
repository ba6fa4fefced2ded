#!/usr/bin/env bash
# `inkling serve --models DIR`: every .gguf in the folder is served under its file name,
# other files are ignored; an empty folder and --name with several models are refused.
# usage: tests/server/serve_models.sh INKLING MODEL_A MODEL_B WORK_DIR
set -euo pipefail
inkling="$1"; model_a="$2"; model_b="$3"; work="$4"
dir="$work/serve-models"
rm -rf "$dir"; mkdir -p "$dir/models" "$dir/empty"
ln -s "$(realpath "$model_a")" "$dir/models/alpha.gguf"
ln -s "$(realpath "$model_b")" "$dir/models/beta.gguf"
echo "not a model" >"$dir/models/notes.txt"
fail() { echo "serve_models.sh: $*" >&2; [ -f "$dir/log" ] && cat "$dir/log" >&2; exit 1; }

"$inkling" serve --models "$dir/models" --port 0 --threads 1 >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || fail "the server exited early"
  port="$(sed -n 's|.*serving on http://[^ ]*:\([0-9][0-9]*\)/.*|\1|p' "$dir/log" | head -n 1)"
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "$port" ] || fail "the server did not start"
models="$(curl -s --max-time 10 "http://127.0.0.1:$port/v1/models")"
echo "$models" | grep -q '"id":"alpha"' || fail "alpha not listed: $models"
echo "$models" | grep -q '"id":"beta"' || fail "beta not listed: $models"
[ "$(echo "$models" | grep -o '"object":"model"' | wc -l)" = 2 ] || fail "expected exactly two models: $models"
reply="$(curl -s --max-time 60 "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
         -d '{"model": "beta", "prompt": "Once upon a time", "max_tokens": 4, "temperature": 0}')"
echo "$reply" | grep -q '"model":"beta"' || fail "a request for beta was not served by it: $reply"
kill "$pid"; wait "$pid" 2>/dev/null || true
trap - EXIT

out="$("$inkling" serve --models "$dir/empty" --port 0 2>&1)" && fail "an empty folder was accepted"
echo "$out" | grep -q "no .gguf file" || fail "unexpected message for an empty folder: $out"
out="$("$inkling" serve -m "$model_a" -m "$model_b" --name x --port 0 2>&1)" && fail "--name with two models was accepted"
echo "$out" | grep -q -- "--name names one model" || fail "unexpected message for --name: $out"
echo "serve_models.sh: passed"
