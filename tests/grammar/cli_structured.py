#!/usr/bin/env python3
"""`inkling run` with --json-schema / --json-value / --grammar / --grammar-file on real
models, many seeds each: every complete output must parse and validate against its
schema with an independent validator (python3-jsonschema, with format checking), every
incomplete one must say grammar_incomplete, and bad grammars / flag combinations must be
refused with the position of the problem.

usage: cli_structured.py INKLING_CLI SHARED_DIR WORK_DIR
Exit 77 (ctest skip) when jsonschema or the shared models are missing.
"""
import json
import os
import re
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("SKIPPED: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

CLI, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
MODELS = ["stories260K-f32.gguf", "synth-qwen2.gguf", "synth-phi3.gguf"]  # SPM 512, BPE 50k, SPM 32k
SEEDS = int(os.environ.get("INKLING_GRAMMAR_SEEDS", "8"))

SCHEMAS = {
    "person": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 10},
            "age": {"type": "integer", "minimum": 18, "maximum": 120},
            "role": {"enum": ["admin", "user", "guest"]},
            "score": {"type": "number"},
            "emails": {"type": "array", "items": {"type": "string", "maxLength": 6}, "minItems": 1, "maxItems": 2},
            "active": {"type": "boolean"},
        },
        "required": ["name", "age", "role", "emails"],
        "additionalProperties": False,
    },
    "tree": {
        "$defs": {"node": {"type": "object", "properties": {
            "v": {"type": "integer", "minimum": -5, "maximum": 5},
            "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
            "required": ["v"], "additionalProperties": False}},
        "$ref": "#/$defs/node",
    },
    "mixed": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "kind": {"const": "event"},
            "note": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 4}]},
            "level": {"oneOf": [{"type": "integer", "exclusiveMinimum": 0, "maximum": 3}, {"type": "boolean"}]},
        },
        "required": ["id", "day", "kind", "note", "level"],
        "additionalProperties": False,
    },
    "open": {  # extra keys after the listed ones, valued by additionalProperties
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 0, "maximum": 99}, "tag": {"enum": ["a", "b"]}},
        "required": ["id"],
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 9},
    },
    "loose": {  # additionalProperties absent: any other key, any value
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "n": {"type": "null"}},
        "required": ["ok"],
    },
    "shape": {  # a tagged union: oneOf kept exclusive
        "$defs": {
            "circle": {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "integer", "minimum": 1, "maximum": 9}},
                       "required": ["kind", "r"], "additionalProperties": False},
            "rect": {"type": "object", "properties": {"kind": {"const": "rect"}, "w": {"type": "integer", "minimum": 1, "maximum": 9},
                                                      "h": {"type": "integer", "minimum": 1, "maximum": 9}},
                     "required": ["kind", "w", "h"], "additionalProperties": False},
        },
        "oneOf": [{"$ref": "#/$defs/circle"}, {"$ref": "#/$defs/rect"}, {"type": "null"}, {"type": "integer", "maximum": -1}],
    },
    "list": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
        "type": "object", "properties": {"k": {"enum": ["x", "y"]}, "v": {"type": ["integer", "null"]}},
        "required": ["k", "v"], "additionalProperties": False}},
}

failures = []


def run(args):
    p = subprocess.run([CLI, "run"] + args, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def whitespace_outside_strings(text):
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in " \t\n\r":
            return True
    return False


def summary(out):
    for line in reversed(out.strip().splitlines()):
        obj = json.loads(line)
        if obj.get("done"):
            return obj
    raise ValueError("no summary line")


def check_schema_runs(model, name, schema, flexible, require_half=True):
    path = os.path.join(WORK, f"schema-{name}.json")
    with open(path, "w") as f:
        json.dump(schema, f)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    complete = spaced = 0
    for seed in range(SEEDS):
        args = ["-m", os.path.join(SHARED, "models", model), "-p", "Here is the record:", "-n", "200", "--ctx", "512", "--rope-scale", "4",
                "--temp", "1", "--seed", str(seed), "--json-schema", path, "--json", "--top-n", "0"]
        if flexible:
            args += ["--json-whitespace", "flexible"]
        rc, out, err = run(args)
        if rc != 0:
            failures.append(f"{model} {name} seed {seed}: exit {rc}: {err.strip()}")
            continue
        s = summary(out)
        text, reason = s["text"], s["stop_reason"]
        if reason == "grammar_incomplete":
            continue
        if reason != "end_of_sequence":
            failures.append(f"{model} {name} seed {seed}: stop reason {reason}: {text!r}")
            continue
        try:
            value = json.loads(text)
            errors = list(validator.iter_errors(value))
        except json.JSONDecodeError as e:
            failures.append(f"{model} {name} seed {seed}: not JSON ({e}): {text!r}")
            continue
        if errors:
            failures.append(f"{model} {name} seed {seed}: invalid: {errors[0].message}: {text!r}")
        if not flexible and whitespace_outside_strings(text):
            failures.append(f"{model} {name} seed {seed}: whitespace in compact output: {text!r}")
        if flexible and whitespace_outside_strings(text):
            spaced += 1
        complete += 1
    # Most seeds must finish within the token limit, or the test proves little.
    if require_half and complete < SEEDS // 2:
        failures.append(f"{model} {name}: only {complete} of {SEEDS} seeds completed")
    if flexible and spaced == 0:  # sampling at temperature 1 picks a whitespace token sometimes
        failures.append(f"{model} {name}: --json-whitespace flexible never produced whitespace")
    return complete


def check_other_flags(model):
    m = os.path.join(SHARED, "models", model)
    rc, out, err = run(["-m", m, "-p", "x", "-n", "60", "--seed", "3", "--json-value", "--json", "--top-n", "0"])
    s = summary(out)
    if s["stop_reason"] == "end_of_sequence":
        json.loads(s["text"])
    elif s["stop_reason"] != "grammar_incomplete":
        failures.append(f"--json-value: stop reason {s['stop_reason']}")
    grammar = 'root ::= ("yes" | "no") ", " [0-9]{2} "!"'
    pattern = re.compile(r"(yes|no), [0-9]{2}!")
    gfile = os.path.join(WORK, "answer.gbnf")
    with open(gfile, "w") as f:
        f.write("# answer grammar\n" + grammar + "\n")
    for flag, value in (("--grammar", grammar), ("--grammar-file", gfile)):
        for seed in range(4):
            rc, out, err = run(["-m", m, "-p", "Answer:", "-n", "30", "--seed", str(seed), flag, value, "--json", "--top-n", "0"])
            s = summary(out)
            if s["stop_reason"] != "end_of_sequence" or not pattern.fullmatch(s["text"]):
                failures.append(f"{flag} seed {seed}: {s['stop_reason']} {s['text']!r}")
    # Errors: the grammar's line and column, the file named, combinations refused.
    rc, out, err = run(["-m", m, "-p", "x", "--grammar", 'root ::= "a"\nb ::= [x'])
    if rc == 0 or "line 2, column 7" not in err:
        failures.append(f"bad --grammar: exit {rc}, {err.strip()!r}")
    bad = os.path.join(WORK, "bad.gbnf")
    with open(bad, "w") as f:
        f.write("root ::= undefined\n")
    rc, out, err = run(["-m", m, "-p", "x", "--grammar-file", bad])
    if rc == 0 or "bad.gbnf" not in err or "line 1, column 10" not in err:
        failures.append(f"bad --grammar-file: exit {rc}, {err.strip()!r}")
    rc, out, err = run(["-m", m, "-p", "x", "--grammar", grammar, "--json-value"])
    if rc == 0 or "cannot be combined" not in err:
        failures.append(f"--grammar with --json-value: exit {rc}, {err.strip()!r}")
    rc, out, err = run(["-m", m, "-p", "x", "--grammar", grammar, "--json-whitespace", "flexible"])
    if rc == 0 or "--json-whitespace needs" not in err:
        failures.append(f"--json-whitespace with --grammar: exit {rc}, {err.strip()!r}")
    schema = os.path.join(WORK, "unsupported.json")
    with open(schema, "w") as f:
        json.dump({"type": "string", "pattern": "^a+$"}, f)
    rc, out, err = run(["-m", m, "-p", "x", "--json-schema", schema])
    if rc == 0 or "'pattern'" not in err:
        failures.append(f"unsupported keyword: exit {rc}, {err.strip()!r}")
    with open(schema, "w") as f:  # oneOf whose alternatives overlap: refused, not weakened to anyOf
        json.dump({"oneOf": [{"type": "integer"}, {"type": "integer", "minimum": 5}]}, f)
    rc, out, err = run(["-m", m, "-p", "x", "--json-schema", schema])
    if rc == 0 or "oneOf at #/oneOf: alternatives 0 and 1" not in err:
        failures.append(f"overlapping oneOf: exit {rc}, {err.strip()!r}")


def check_server(model):
    """The same schemas through `inkling serve`'s response_format, validated the same way."""
    import urllib.request
    import time
    log = open(os.path.join(WORK, "serve.log"), "w+")
    proc = subprocess.Popen([CLI, "serve", "-m", os.path.join(SHARED, "models", model), "--port", "0", "--parallel", "1"],
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    try:
        port = None
        for _ in range(300):
            log.seek(0)
            m = re.search(r"serving on http://[^ ]*:(\d+)/", log.read())
            if m:
                port = int(m.group(1))
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        if port is None:
            failures.append(f"serve {model}: did not start")
            return 0
        complete = 0

        def post(body):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        for name, schema in SCHEMAS.items():
            validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
            for seed in range(SEEDS):
                status, r = post({"prompt": "Here is the record:", "max_tokens": 200, "temperature": 1, "seed": seed,
                                  "response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}})
                if status != 200:
                    failures.append(f"server {name} seed {seed}: HTTP {status}: {r}")
                    continue
                choice = r["choices"][0]
                if choice["finish_reason"] != "stop":
                    continue
                try:
                    errors = list(validator.iter_errors(json.loads(choice["text"])))
                except json.JSONDecodeError as e:
                    failures.append(f"server {name} seed {seed}: not JSON ({e}): {choice['text']!r}")
                    continue
                if errors:
                    failures.append(f"server {name} seed {seed}: invalid: {errors[0].message}: {choice['text']!r}")
                complete += 1
        status, r = post({"prompt": "x", "response_format": {"type": "json_schema", "json_schema": {
            "schema": {"oneOf": [{"type": "string"}, {"enum": ["a", 1]}]}}}})
        if status != 400 or "alternatives 0 and 1" not in json.dumps(r):
            failures.append(f"server: overlapping oneOf: HTTP {status} {r}")
        return complete
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def main():
    for model in MODELS:
        if not os.path.exists(os.path.join(SHARED, "models", model)):
            print(f"SKIPPED-SHARED-DATA: {model} missing")
            sys.exit(77)
    os.makedirs(WORK, exist_ok=True)
    total = 0
    # Schemas whose extra keys are free strings: a model closes such a key only when it
    # happens to pick a quote, which the story model (writing prose inside any string)
    # rarely does within the token limit. For these the completions of all models count
    # together; every output that completes is still validated.
    open_ended = {"open", "loose"}
    open_complete = {name: 0 for name in open_ended}
    for model in MODELS:
        for name, schema in SCHEMAS.items():
            done = check_schema_runs(model, name, schema, flexible=(name == "person" and model == MODELS[1]),
                                     require_half=name not in open_ended)
            total += done
            if name in open_ended:
                open_complete[name] += done
    for name, done in open_complete.items():
        if done < SEEDS // 2:
            failures.append(f"{name}: only {done} of {SEEDS * len(MODELS)} runs over all models completed")
    check_other_flags(MODELS[0])
    served = check_server(MODELS[1])
    print(f"{total} complete CLI outputs and {served} complete server outputs validated")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


main()
