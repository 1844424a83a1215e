#!/usr/bin/env python3
"""Check that a generated case directory has the format of the shipped one.

    python3 check_format.py GENERATED_DIR SHIPPED_CASES_DIR [--index-gen F] [--index-ref F]
                            [--allow-missing] [--quiet]

For every case name present in both directories the JSON *structure* must be
identical: the same keys at every level (``format_version`` ignored), the same
kind of value at each key (null / bool / int / float / string / tensor / list /
object), tensors of the same rank with int (mask) vs float data, lists of
tensors or objects of the same length.  Values are not compared (seeds
differ), except the ``config`` key set, which must match key for key.

Each file is also checked on its own: a tensor's data length equals the
product of its shape, floats are finite, masks are 0/1, and in float32 cases
the float32 tensors (weights, inputs, initial states, outputs, dropout masks,
stateful steps) hold float32-exact values (widened float32, not rounded
doubles).

index.json (found beside or one level above each cases dir, or given) must
have the same structure per entry, and every entry must match its file
(bytes, shapes, flags).

Exit status: 0 when everything matches, 1 on any mismatch, 2 on bad usage.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

IGNORED_KEYS = {"format_version"}
# Top-level keys whose tensors are float32 in a float32 case.
FLOAT32_KEYS = {"weights", "inputs", "initial_state", "outputs", "dropout_mask",
                "recurrent_dropout_mask", "states_initial", "steps"}


def is_tensor(v):
    return isinstance(v, dict) and set(v) == {"shape", "data"}


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if is_tensor(v):
        return "tensor"
    if isinstance(v, list):
        return "list"
    return "object"


def tensor_sig(t):
    ints = all(isinstance(x, int) and not isinstance(x, bool) for x in t["data"])
    return f"tensor(rank={len(t['shape'])},{'int' if ints and t['data'] else 'float'})"


# Shipped files generate_cases.py does not write (see README.md), by name.
NOT_GENERATED = {"cross_backend": "needs the tensorflow and jax backends"}


def compare(gen, ref, path, errors):
    """Structural comparison of two JSON values; appends to errors."""
    kg, kr = kind(gen), kind(ref)
    # An int where the reference has a float (or vice versa) is a real format
    # difference except for numbers json writes as ints, e.g. 0 vs 0.0: Python's
    # json always writes floats with a '.', so no exception is needed here.
    if kg != kr:
        errors.append(f"{path}: {kg} in generated, {kr} in reference")
        return
    if kg == "tensor":
        if tensor_sig(gen) != tensor_sig(ref):
            errors.append(f"{path}: {tensor_sig(gen)} vs {tensor_sig(ref)}")
    elif kg == "object":
        keys_g, keys_r = set(gen) - IGNORED_KEYS, set(ref) - IGNORED_KEYS
        for k in sorted(keys_r - keys_g):
            errors.append(f"{path}.{k}: missing in generated")
        for k in sorted(keys_g - keys_r):
            errors.append(f"{path}.{k}: not in reference")
        for k in sorted(keys_g & keys_r):
            compare(gen[k], ref[k], f"{path}.{k}", errors)
    elif kg == "list":
        structured = [x for x in gen + ref if kind(x) in ("tensor", "object", "list")]
        if structured:  # lists of tensors/objects: same length, item by item
            if len(gen) != len(ref):
                errors.append(f"{path}: {len(gen)} items in generated, {len(ref)} in reference")
            for i, (a, b) in enumerate(zip(gen, ref)):
                compare(a, b, f"{path}[{i}]", errors)
        else:  # lists of numbers (e.g. per-timestep diffs): element kinds only
            kinds_g = {kind(x) for x in gen}
            kinds_r = {kind(x) for x in ref}
            if gen and ref and kinds_g != kinds_r:
                errors.append(f"{path}: element kinds {sorted(kinds_g)} vs {sorted(kinds_r)}")


def check_values(case, errors):
    """Checks of one file on its own."""
    name = case.get("name", "?")

    def walk(v, path, float32):
        if is_tensor(v):
            n = math.prod(v["shape"])
            if len(v["data"]) != n:
                errors.append(f"{name}{path}: {len(v['data'])} values for shape {v['shape']}")
                return
            data = v["data"]
            if all(isinstance(x, int) and not isinstance(x, bool) for x in data):
                if any(x not in (0, 1) for x in data):
                    errors.append(f"{name}{path}: int tensor that is not 0/1")
                return
            a = np.array(data, dtype=np.float64)
            if not np.all(np.isfinite(a)):
                errors.append(f"{name}{path}: non-finite value")
            if float32 and not np.array_equal(a.astype(np.float32).astype(np.float64), a):
                errors.append(f"{name}{path}: float32 case value that is not float32-exact")
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}", float32)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]", float32)
        elif isinstance(v, float) and not math.isfinite(v):
            errors.append(f"{name}{path}: non-finite number")

    for k, v in case.items():
        walk(v, f".{k}", case.get("dtype") == "float32" and k in FLOAT32_KEYS)


def load_cases(d):
    cases = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".json") and f != "index.json":
            with open(os.path.join(d, f)) as fh:
                cases[f[:-5]] = json.load(fh)
    return cases


def find_index(cases_dir, given):
    if given:
        return given
    for p in (os.path.join(cases_dir, "index.json"),
              os.path.join(os.path.dirname(os.path.abspath(cases_dir)), "index.json")):
        if os.path.exists(p):
            return p
    return None


def index_fields(c):
    """What an index.json entry must say about case file c (bytes aside)."""
    return {
        "layer": c["layer"], "dtype": c["dtype"], "inputs_shape": c["inputs"]["shape"],
        "units": c["config"]["units"], "outputs_shapes": [o["shape"] for o in c["outputs"]],
        "mask": c["mask"] is not None, "initial_state": c["initial_state"] is not None,
        "training": c["training"], "grads": "grads" in c, "stateful": "steps" in c,
        "outputs_backend": c["outputs_backend"], "description": c["description"],
    }


def check_index(index_path, cases_dir, cases, errors):
    """Each entry agrees with its file; returns the entries by name."""
    with open(index_path) as f:
        index = json.load(f)
    by_name = {}
    for e in index.get("cases", []):
        n = e.get("name")
        by_name[n] = e
        if n not in cases:
            errors.append(f"{index_path}: entry {n} has no file")
            continue
        c = cases[n]
        try:
            want = index_fields(c)
        except (KeyError, TypeError, IndexError) as exc:
            errors.append(f"{index_path}: cannot check entry {n}: its file lacks {exc}")
            continue
        want["bytes"] = os.path.getsize(os.path.join(cases_dir, f"{n}.json"))
        for k, v in want.items():
            if e.get(k) != v:
                errors.append(f"{index_path}: {n}.{k} = {e.get(k)!r}, file says {v!r}")
    for n, c in cases.items():
        # errors.json, config_cases.json, cross_backend.json have no index entry.
        if n not in by_name and "layer" in c and "inputs" in c:
            errors.append(f"{index_path}: no entry for {n}.json")
    return index, by_name


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("generated", help="directory of generated <name>.json files")
    p.add_argument("reference", help="shipped cases directory (e.g. shared/keras-refs/cases)")
    p.add_argument("--index-gen", help="generated index.json (default: found beside the cases)")
    p.add_argument("--index-ref", help="shipped index.json (default: found beside or above)")
    p.add_argument("--allow-missing", action="store_true",
                   help="do not fail when a shipped case has no generated counterpart")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    for d in (args.generated, args.reference):
        if not os.path.isdir(d):
            p.error(f"not a directory: {d}")

    gen, ref = load_cases(args.generated), load_cases(args.reference)
    errors, notes = [], []
    for n in sorted(set(ref) - set(gen)):
        if n in NOT_GENERATED:
            notes.append(f"{n}: shipped file the generator does not write ({NOT_GENERATED[n]})")
        else:
            (notes if args.allow_missing else errors).append(f"{n}: shipped case not generated")
    for n in sorted(set(gen) - set(ref)):
        notes.append(f"{n}: generated case with no shipped counterpart (structure not compared)")
    for n in sorted(set(gen) & set(ref)):
        compare(gen[n], ref[n], n, errors)
        if set(gen[n].get("config") or {}) != set(ref[n].get("config") or {}):
            errors.append(f"{n}.config: key sets differ")
    for n, c in gen.items():
        check_values(c, errors)
        if "format_version" in c and c["format_version"] != 1:
            errors.append(f"{n}: format_version {c['format_version']!r} (this checker knows 1)")
    for n, c in ref.items():
        check_values(c, errors)

    ig = find_index(args.generated, args.index_gen)
    ir = find_index(args.reference, args.index_ref)
    if ig is None or ir is None:
        errors.append(f"index.json not found (generated: {ig}, reference: {ir})")
    else:
        index_g, entries_g = check_index(ig, args.generated, gen, errors)
        index_r, entries_r = check_index(ir, args.reference, ref, errors)
        top_g = {k: v for k, v in index_g.items() if k != "cases"}
        top_r = {k: v for k, v in index_r.items() if k != "cases"}
        compare(top_g, top_r, "index.json", errors)
        for n in sorted(set(entries_g) & set(entries_r)):
            compare(entries_g[n], entries_r[n], f"index.json[{n}]", errors)

    if not args.quiet:
        for m in notes:
            print(f"note: {m}")
    for m in errors:
        print(f"MISMATCH: {m}")
    print(f"{len(set(gen) & set(ref))} cases compared, {len(gen)} generated, "
          f"{len(ref)} shipped: {len(errors)} mismatch(es)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
