"""Says whether templates mean the same to CloudFormation: each pair is loaded with cfn-lint's
decoder (YAML 1.1, short-form tags as `Fn::` keys, JSON) and compared with types kept apart
(True is not 1, a date is not its text, key order does not matter).

Reads a JSON list of [label, before_path, after_path] on standard input and prints one JSON
line per pair that differs or does not load: {"label": ..., "problem": ...}.
"""

import datetime
import json
import math
import sys

from cfnlint.decode import cfn_json, decode_str


def load(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("{"):
        # cfn-lint reads JSON with its YAML reader first, which refuses escaped surrogate
        # pairs ("\ud83d\ude00"); its JSON reader does not.
        try:
            return cfn_json.loads(text)
        except Exception:  # YAML in flow style: read below
            pass
    template, matches = decode_str(text)
    if matches:
        raise ValueError("; ".join(str(m) for m in matches))
    return template


def norm(value):
    """A JSON-able form of a decoded value that keeps each scalar's type."""
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else repr(value)]
    if isinstance(value, str):
        return ["str", str(value)]
    if value is None:
        return ["null"]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return ["date", value.isoformat()]
    if isinstance(value, dict):
        entries = [[norm(k), norm(v)] for k, v in value.items()]
        entries.sort(key=json.dumps)
        return ["map", entries]
    if isinstance(value, list):
        return ["seq", [norm(item) for item in value]]
    return ["other", repr(value)]


def first_difference(before, after, path="$"):
    """The path of the first place two normalised values differ, or None."""
    if before == after:
        return None
    if before[0] != after[0]:
        return f"{path}: {json.dumps(before)[:200]} became {json.dumps(after)[:200]}"
    if before[0] == "map":
        keys_before = {json.dumps(k): v for k, v in before[1]}
        keys_after = {json.dumps(k): v for k, v in after[1]}
        for key in keys_before:
            if key not in keys_after:
                return f"{path}: key {key} is gone"
            found = first_difference(keys_before[key], keys_after[key], f"{path}.{key}")
            if found:
                return found
        extra = [k for k in keys_after if k not in keys_before]
        return f"{path}: new keys {extra}"
    if before[0] == "seq":
        if len(before[1]) != len(after[1]):
            return f"{path}: {len(before[1])} items became {len(after[1])}"
        for i, (b, a) in enumerate(zip(before[1], after[1])):
            found = first_difference(b, a, f"{path}[{i}]")
            if found:
                return found
    return f"{path}: {json.dumps(before)[:200]} became {json.dumps(after)[:200]}"


def main():
    pairs = json.load(sys.stdin)
    for label, before_path, after_path in pairs:
        try:
            before = norm(load(before_path))
            after = norm(load(after_path))
        except Exception as error:  # report and go on with the next pair
            print(json.dumps({"label": label, "problem": f"does not load: {error}"}))
            continue
        found = first_difference(before, after)
        if found:
            print(json.dumps({"label": label, "problem": found}))


main()
