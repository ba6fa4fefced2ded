#!/usr/bin/env bash
# Side-by-side speed: runs llama.cpp's llama-bench and `inkling bench` on the same GGUF
# files, threads, sizes and machine, one right after the other, and prints one markdown
# table with both figures and the ratio inkling / llama.cpp. Nothing is compared across
# machines or runs: take the table as it comes out of one invocation.
#
#   scripts/compare-llama-bench.sh LLAMA_BENCH MODEL.gguf [MODEL.gguf ...]
#
# Environment (defaults in brackets): THREADS [1,2], PP [512], TG [128], DEPTH [0]
# (e.g. 0,2048 for long-context rows), REPS [3], KV [f16: the KV cache type of both,
# llama-bench's default], INKLING [./build/inkling], BUSY [0]:
# with BUSY=1 a busy loop runs beside both benchmarks, as a desktop app's other work
# would load one core (how each thread pool copes with a shared machine).
# Write TinyLlama-shaped test files with e.g.
#   ./build/inkling synth --shape tinyllama-1.1b --type q4_0 -o /tmp/tl-q4_0.gguf
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
LLAMA_BENCH="$1"
shift
INKLING="${INKLING:-$(cd "$(dirname "$0")/.." && pwd)/build/inkling}"
THREADS="${THREADS:-1,2}" PP="${PP:-512}" TG="${TG:-128}" DEPTH="${DEPTH:-0}" REPS="${REPS:-3}" KV="${KV:-f16}"
[ -x "$LLAMA_BENCH" ] || { echo "compare-llama-bench: '$LLAMA_BENCH' is not an executable" >&2; exit 2; }
[ -x "$INKLING" ] || { echo "compare-llama-bench: build inkling first ($INKLING is missing)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare-llama-bench: needs python3" >&2; exit 2; }

work="$(mktemp -d)"
busy=""
trap 'rm -rf "$work"; [ -z "$busy" ] || kill "$busy" 2>/dev/null || true' EXIT
if [ "${BUSY:-0}" = "1" ]; then
  sh -c 'while :; do :; done' &
  busy=$!
  echo "a busy loop (pid $busy) loads one core during both runs"
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //' || uname -m), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
for model in "$@"; do
  [ -f "$model" ] || { echo "compare-llama-bench: no file '$model'" >&2; exit 2; }
  tag="$(basename "$model")"
  "$LLAMA_BENCH" -m "$model" -t "$THREADS" -p "$PP" -n "$TG" -d "$DEPTH" -r "$REPS" -ctk "$KV" -ctv "$KV" -o json >"$work/$tag.llama.json"
  "$INKLING" bench -m "$model" -t "$THREADS" -p "$PP" -n "$TG" -d "$DEPTH" -r "$REPS" --kv-type "$KV" --no-probe --json >"$work/$tag.inkling.jsonl"
done
python3 - "$work" "$@" <<'EOF'
import json, os, sys
work, models = sys.argv[1], sys.argv[2:]
print("| model | threads | test | inkling t/s | llama.cpp t/s | inkling / llama.cpp |")
print("|---|---|---|---|---|---|")
for path in models:
    tag = os.path.basename(path)
    peer = {}
    for r in json.load(open(os.path.join(work, tag + ".llama.json"))):
        test = ("pp%d" % r["n_prompt"]) if r["n_gen"] == 0 else ("tg%d" % r["n_gen"])
        if r.get("n_depth", 0):
            test += " @ d%d" % r["n_depth"]
        peer[(r["n_threads"], test)] = (r["avg_ts"], r["stddev_ts"])
    for line in open(os.path.join(work, tag + ".inkling.jsonl")):
        r = json.loads(line)
        if "tps_mean" not in r:
            continue
        key = (r["threads"], r["test"])
        ours = "%.2f ± %.2f" % (r["tps_mean"], r["tps_sd"])
        if key in peer:
            theirs = "%.2f ± %.2f" % peer[key]
            ratio = "%.2fx" % (r["tps_mean"] / peer[key][0]) if peer[key][0] > 0 else "-"
        else:
            theirs, ratio = "-", "-"
        print("| %s | %d | %s | %s | %s | %s |" % (tag, key[0], key[1], ours, theirs, ratio))
EOF
