#!/usr/bin/env bash
# Runs inkling-desktop under Xvfb (software rendering) through one scenario and checks
# what it printed and the screenshot it saved.
# usage: tests/desktop/run.sh WORK_DIR MODEL SCENARIO
#   stream   a greedy story streams, the screenshot shows coloured tokens
#   stop     Stop, pressed 40 ms after the first token, cancels a long generation
#   badfile  a file that is not a model: the library's error in the window, then a
#            real model opens in the same window and generates
#   sampling the top-k and top-p sliders: with k = 1 (or p tiny) a hot temperature
#            still gives the greedy story
#   chat     the prompt goes through a chat template (more prompt tokens than the text)
set -euo pipefail
work="$(realpath -m "$1")"
model="$2"
scenario="$3"
app="$work/app/inkling-desktop"
[ -x "$app" ] || { echo "run.sh: $app missing (tests/desktop/build.sh first)" >&2; exit 1; }
[ -f "$model" ] || { echo "run.sh: model not found: $model" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "run.sh: xvfb-run missing (apt-get install xvfb)" >&2; exit 1; }
out="$work/$scenario.out"
shot="$work/$scenario.png"
rm -f "$out" "$shot"

# No GPU and no desktop session under Xvfb: cairo renders, no accessibility bus.
# The auth file is ours (-f): without it xvfb-run makes a temporary directory and, when
# removing it fails on a busy machine, exits 5 instead of with the app's status.
desktop() {
  local status=0 auth="$work/$scenario.Xauthority"
  : >"$auth"
  env GSK_RENDERER=cairo GDK_BACKEND=x11 GTK_A11Y=none NO_AT_BRIDGE=1 LD_LIBRARY_PATH= \
    timeout 120 xvfb-run -a -f "$auth" -s "-screen 0 1280x900x24" "$app" "$@" >"$out" 2>"$work/$scenario.err" || status=$?
  rm -f "$auth" "$auth"-c "$auth"-l
  cat "$out"
  return $status
}
fail() { echo "run.sh ($scenario): $*" >&2; echo "--- stderr:" >&2; cat "$work/$scenario.err" >&2; exit 1; }
expect() { grep -qE -- "$1" "$out" || fail "expected /$1/ in the output"; }

case "$scenario" in
  stream)
    desktop --model "$model" --prompt "Once upon a time" --max-tokens 60 --temperature 0 \
            --describe-token 1 --screenshot "$shot" --quit-when-done || fail "exit status $?"
    expect "^text: , there was a little girl named Lily"
    expect "^result: stop=max_tokens tokens=60 received=60 "
    expect "^metrics: first token after [0-9.]+ ms .* tokens/s .*peak RSS"
    expect "^screenshot: .* saved"
    # hovering the second token (" there"): its numbers and both lists of alternatives
    expect "^tooltip 1: <b>' there'</b> token [0-9]+, step 1"
    expect "probability [0-9.]+% \\(model's own [0-9.]+%\\)"
    expect "<b>after the sampler's filters</b>"
    expect "<b>the model's own distribution</b>"
    expect "<tt> there +[0-9.]+% .*</tt> ◀"
    "$work/png_check" "$shot" 800 500 tokens || fail "screenshot check failed"
    ;;
  stop)
    # 4000 positions so that the run is still going when Stop is pressed (beyond the
    # model's 128 trained positions: stretched by --rope-scale).
    desktop --model "$model" --prompt "Once upon a time" --ctx 4096 --rope-scale 32 --max-tokens 4000 --temperature 0.8 \
            --stop-after-ms 40 --screenshot "$shot" --quit-when-done || fail "exit status $?"
    expect "^pressing Stop after [0-9]+ tokens"
    expect "^result: stop=cancelled "
    expect "^status: Done: stopped"
    n="$(sed -n 's/^result: stop=cancelled tokens=\([0-9]*\) .*/\1/p' "$out")"
    [ -n "$n" ] && [ "$n" -lt 4000 ] || fail "expected fewer than 4000 tokens after Stop, got '$n'"
    ;;
  badfile)
    bad="$work/not-a-model.gguf"
    printf 'this is not a GGUF file, just text\n' >"$bad"
    status=0
    desktop --model "$bad" --screenshot "$shot" --quit-when-done || status=$?
    [ "$status" = 1 ] || fail "a bad file alone should end with status 1, got $status"
    expect "^status: Could not open .*not-a-model.gguf: .*GGUF"
    "$work/png_check" "$shot" 800 500 error || fail "screenshot does not show the error"
    # The same window recovers: the next file opens and generates.
    desktop --model "$bad" --model "$model" --prompt "Once upon a time" --max-tokens 20 --temperature 0 \
            --quit-when-done || fail "exit status $? after recovering from the bad file"
    expect "^status: Could not open .*not-a-model.gguf"
    expect "^status: Model loaded"
    expect "^text: , there was a little girl named Lily"
    ;;
  sampling)
    desktop --model "$model" --prompt "Once upon a time" --max-tokens 18 --temperature 1.8 --top-k 1 \
            --quit-when-done || fail "exit status $?"
    expect "^text: , there was a little girl named Lily. She loved to play out$"
    desktop --model "$model" --prompt "Once upon a time" --max-tokens 18 --temperature 1.8 --top-k 0 --top-p 0.01 \
            --quit-when-done || fail "exit status $?"
    expect "^text: , there was a little girl named Lily. She loved to play out$"
    ;;
  chat)
    desktop --model "$model" --chat --template chatml --prompt "Hi" --max-tokens 8 --temperature 0 \
            --quit-when-done || fail "exit status $?"
    n="$(sed -n 's/^result: .* prompt_tokens=\([0-9]*\) .*/\1/p' "$out")"
    [ -n "$n" ] && [ "$n" -ge 10 ] || fail "chatml should wrap 'Hi' in many tokens, got prompt_tokens='$n'"
    ;;
  *) echo "run.sh: unknown scenario '$scenario'" >&2; exit 2 ;;
esac
echo "run.sh ($scenario): passed"
