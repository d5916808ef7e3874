#!/usr/bin/python3
"""Schema evolution check (docs/events.md, "Schema evolution"; ctest
ContractsSchemasCompatibleWithBaseline).

Compares every event schema under schemas/ with schemas/baseline.json, the schemas as last
released, and fails on any breaking change that kept its version. New event types and versions
are additions and pass.

    /usr/bin/python3 scripts/contracts/compat.py [--repo DIR]            # check
    /usr/bin/python3 scripts/contracts/compat.py --update-baseline       # record a release
    /usr/bin/python3 scripts/contracts/compat.py --update-baseline --retire SERVICE/TYPE/vN

Stdlib only: the rules are structural (see breaking_changes), not a validator's.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import catalog  # noqa: E402

BASELINE = os.path.join("schemas", "baseline.json")
# Keywords that constrain values: adding one or changing its value can reject events that were
# valid, or hand consumers values they never expected.
CONSTRAINTS = ("pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
               "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "multipleOf",
               "minProperties", "maxProperties", "not", "$ref", "contains", "dependentRequired",
               "propertyNames", "patternProperties", "if", "then", "else", "x-key")
# Keywords that only annotate: free to change.
ANNOTATIONS = {"title", "description", "examples", "$comment", "default", "deprecated",
               "readOnly", "writeOnly", "$schema", "$id", "$defs"}


def _types(schema):
    """The JSON types a (sub)schema names, or None when it does not say."""
    if not isinstance(schema, dict) or "type" not in schema:
        return None
    value = schema["type"]
    return frozenset([value] if isinstance(value, str) else value)


def breaking_changes(old, new, path="$"):
    """Every change from `old` to `new` that docs/events.md calls breaking, as messages."""
    found = []
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            found.append(f"{path}: schema changed from {json.dumps(old)} to {json.dumps(new)}")
        return found

    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        if old_types is None:
            found.append(f"{path}: type restricted to {sorted(new_types)}")
        elif new_types is None:
            found.append(f"{path}: type {sorted(old_types)} dropped (any type now allowed)")
        else:
            found.append(f"{path}: type changed from {sorted(old_types)} to {sorted(new_types)}")

    if "const" in old or "const" in new:
        if old.get("const", None) != new.get("const", None) or ("const" in old) != ("const" in new):
            found.append(f"{path}: const changed from {json.dumps(old.get('const'))} "
                         f"to {json.dumps(new.get('const'))}")
    if "enum" in new:
        if "enum" not in old:
            found.append(f"{path}: enum {json.dumps(new['enum'])} added (narrows the values)")
        else:
            removed = [v for v in old["enum"] if v not in new["enum"]]
            if removed:
                found.append(f"{path}: enum narrowed, {json.dumps(removed)} removed")
    # An enum dropped altogether widens the values, like an added enum value: allowed.

    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        found.append(f"{path}.{name}: newly required (old events lack it)")
    for name in sorted(old_required - new_required):
        found.append(f"{path}.{name}: no longer required (consumers rely on it)")

    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in sorted(old_props):
        if name not in new_props:
            found.append(f"{path}.{name}: property removed")
        else:
            found += breaking_changes(old_props[name], new_props[name], f"{path}.{name}")

    old_additional = old.get("additionalProperties", True)
    new_additional = new.get("additionalProperties", True)
    if old_additional is not False and new_additional is False:
        found.append(f"{path}: additionalProperties now false (forbids what was allowed)")
    elif isinstance(old_additional, dict) or isinstance(new_additional, dict):
        found += breaking_changes(old_additional, new_additional, f"{path}.additionalProperties")

    if "items" in old or "items" in new:
        found += breaking_changes(old.get("items", {}), new.get("items", {}), f"{path}[]")
    if "prefixItems" in old or "prefixItems" in new:
        if old.get("prefixItems") != new.get("prefixItems"):
            found.append(f"{path}: prefixItems changed")

    for keyword in ("oneOf", "anyOf", "allOf"):
        old_branches, new_branches = old.get(keyword), new.get(keyword)
        if old_branches is None and new_branches is None:
            continue
        if old_branches is None or new_branches is None or len(old_branches) != len(new_branches):
            found.append(f"{path}: {keyword} changed its alternatives")
            continue
        for index, (before, after) in enumerate(zip(old_branches, new_branches)):
            found += breaking_changes(before, after, f"{path}.{keyword}[{index}]")

    for keyword in CONSTRAINTS:
        if old.get(keyword) != new.get(keyword):
            if keyword not in old:
                found.append(f"{path}: {keyword} {json.dumps(new[keyword])} added")
            elif keyword not in new:
                found.append(f"{path}: {keyword} removed")
            else:
                found.append(f"{path}: {keyword} changed from {json.dumps(old[keyword])} "
                             f"to {json.dumps(new[keyword])}")

    known = (ANNOTATIONS | set(CONSTRAINTS) | {"type", "const", "enum", "required", "properties",
             "additionalProperties", "items", "prefixItems", "oneOf", "anyOf", "allOf"})
    for keyword in sorted((set(old) | set(new)) - known):
        if old.get(keyword) != new.get(keyword):
            found.append(f"{path}: {keyword} changed (the checker treats unknown keywords as "
                         "constraints)")
    return found


def compare(baseline, current, retired=()):
    """Problems of `current` ({key: schema}) against `baseline`, and the keys not yet recorded."""
    problems = []
    for key in sorted(baseline):
        if key not in current:
            if key not in retired:
                problems.append(f"{key}: event type or version removed (the topics keep its events "
                                "forever; retire it explicitly with --retire)")
            continue
        problems += [f"{key}: {message}" for message in breaking_changes(baseline[key], current[key])]
    added = sorted(set(current) - set(baseline))
    return problems, added


def load_baseline(repo):
    path = os.path.join(repo, BASELINE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)["schemas"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=os.path.join(HERE, "..", ".."))
    parser.add_argument("--update-baseline", action="store_true")
    parser.add_argument("--retire", action="append", default=[],
                        help="SERVICE/AGGREGATE.WHAT/vN deliberately removed (with --update-baseline)")
    args = parser.parse_args()
    baseline = load_baseline(args.repo)
    current = {s.key: s.schema for s in catalog.event_schemas(args.repo)}
    problems, added = compare(baseline, current, set(args.retire))
    for problem in problems:
        print(f"INCOMPATIBLE {problem}")
    if problems:
        print(f"{len(problems)} breaking change(s) that kept their version: publish a new version "
              "instead (docs/events.md, Schema evolution)")
        return 1
    if args.update_baseline:
        with open(os.path.join(args.repo, BASELINE), "w", encoding="utf-8") as f:
            json.dump({"comment": "Event schemas as last released; written by "
                                  "scripts/contracts/compat.py --update-baseline. Do not edit.",
                       "schemas": current}, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        print(f"baseline updated: {len(current)} schemas ({len(added)} new)")
        return 0
    for key in added:
        print(f"new, not in the baseline yet: {key}")
    print(f"{len(current)} schemas compatible with {BASELINE} ({len(baseline)} recorded, "
          f"{len(added)} new)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
