#!/usr/bin/env python3
"""The request schemas and parameters of services/*/openapi.json, generated from C++.

`jilaf-request-schemas` (tools/request_schemas_main.cpp) prints, per service, the JSON Schema that
each request body reader describes (http::DescribeBody) and the JSON pointer of that schema in the
service's document. This script writes those schemas into the documents (--write, the
`openapi-request-schemas` build target) or fails listing every difference (--check, the
ContractsRequestSchemasAreTheReaders test), so a document cannot say other than its reader.

What the reader owns replaces what the document had: the member list, `required`, `type`,
lengths, bounds, `enum`, `pattern`, `format`, items, `additionalProperties`. What it cannot know
stays as written: descriptions, defaults, examples, rules across members (`if`/`then`, `not`), and
the schema of a member the reader reads by hand (`ObjectReader::Raw`, marked `x-read-by-hand`).

Parameters alike: each operation's query and path parameters are the C++ table the pipeline
checks requests against (common/http/parameters.hpp, the services' `Parameters()`); an operation
without a table takes its `{name}` captures as text and no query parameter. The table owns the
list, `name`, `in`, `required` and the schema; a parameter's description and examples stay as
written, header parameters stay as written, and a `$ref` to `#/components/parameters/...` is kept
while that component says exactly what the table does.
"""

import argparse
import difflib
import json
import pathlib
import re
import subprocess
import sys

OWNED = {
    "type", "minLength", "maxLength", "pattern", "format", "enum", "minimum", "maximum",
    "items", "minItems", "maxItems", "properties", "required", "additionalProperties", "$ref",
    "anyOf", "const",
}
BY_HAND = "x-read-by-hand"
COMPONENTS = "#/components/schemas/"


def merge(written, described, where, problems, doc, patch=False):
    """`described` with what only the document knows kept from `written`, in `written`'s order.

    A member the document gives as a `$ref` to a shared component is generated into that
    component (several readers may share it); inside a merge patch such a `$ref` is kept as
    written, since the component states the create's form.
    """
    if not isinstance(written, dict):
        written = {}
    if BY_HAND in described:
        if not written:
            problems.append(f"{where}: read by hand, so the document must describe it")
        return written
    ref = written.get("$ref", "")
    if ref.startswith(COMPONENTS) and "properties" in described:
        if not patch:
            name = ref[len(COMPONENTS):]
            schemas = doc["components"]["schemas"]
            schemas[name] = merge(schemas[name], described, ref, problems, doc)
        return written
    out = {}
    for key, value in written.items():
        if key == "anyOf" and "properties" in described and "anyOf" not in described:
            out[key] = value  # a rule across members ("at least one of"), not a member's type
        elif key not in OWNED:
            out[key] = value
        elif key in described:
            out[key] = None  # placeholder keeps the document's key order
    for key, value in described.items():
        if key == "properties":
            old = written.get("properties", {}) if isinstance(written.get("properties"), dict) else {}
            names = [n for n in old if n in value] + [n for n in value if n not in old]
            out[key] = {n: merge(old.get(n, {}), value[n], f"{where}/properties/{n}", problems,
                                 doc, patch) for n in names}
        elif key == "items" and isinstance(value, dict):
            out[key] = merge(written.get("items", {}), value, f"{where}/items", problems, doc,
                             patch)
        elif key == "anyOf" and isinstance(value, list):
            old = written.get("anyOf") if isinstance(written.get("anyOf"), list) else []
            out[key] = [merge(old[i] if i < len(old) else {}, v, f"{where}/anyOf/{i}", problems,
                              doc, patch) for i, v in enumerate(value)]
        elif key == "required":
            old = [n for n in written.get("required", []) if n in value]
            out[key] = old + [n for n in value if n not in old]
        else:
            out[key] = value
    return {k: v for k, v in out.items() if not (k in OWNED and v is None)}


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAMETERS = "#/components/parameters/"


def default_parameters(path):
    """An operation without a table: its captures as text, no query parameter."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in names]


def merge_parameter(written, described, where, problems, doc):
    out = {k: v for k, v in written.items()
           if k not in ("name", "in", "required", "schema")}
    out = {"name": described["name"], "in": described["in"], **out}
    if described.get("required"):
        out["required"] = True
    schema = merge(written.get("schema", {}), described["schema"], where + "/schema", problems,
                   doc)
    if "default" not in described["schema"]:
        schema.pop("default", None)
    out["schema"] = schema
    return out


def generate_parameters(doc, described, problems):
    """Writes each operation's path and query parameters from `described` into `doc`.

    A `$ref` to a shared parameter stays when every operation referring to it declares the same
    parameter (the component is then rewritten to it); otherwise each differing one is inlined.
    """
    components = doc.setdefault("components", {}).get("parameters", {})
    seen = set()
    planned = []  # (operation, [(written entry, merged parameter)], header entries)
    for path, item in doc["paths"].items():
        shared = item.pop("parameters", [])
        for method in [m for m in METHODS if m in item]:
            op = item[method]
            key = f"{method.upper()} {path}"
            seen.add(key)
            table = described.get(key, default_parameters(path))
            written = []
            names = {(p.get("name"), p.get("in")) for p in op.get("parameters", [])}
            for entry in shared + op.get("parameters", []):
                resolved = entry
                if "$ref" in entry:
                    resolved = components.get(entry["$ref"][len(PARAMETERS):], {})
                if entry in shared and (resolved.get("name"), resolved.get("in")) in names:
                    continue  # the operation's own declaration overrides the path's
                written.append((entry, resolved))
            out = []
            for param in table:
                match = [(e, r) for e, r in written
                         if r.get("name") == param["name"] and r.get("in") == param["in"]]
                entry, resolved = match[0] if match else ({}, {})
                merged = merge_parameter(resolved, param, f"{key} {param['name']}", problems, doc)
                out.append((entry, merged))
            headers = [e for e, r in written if r.get("in") not in ("path", "query")]
            planned.append((op, out, headers))
    wanted = {}
    for _, out, _ in planned:
        for entry, merged in out:
            if "$ref" in entry:
                wanted.setdefault(entry["$ref"][len(PARAMETERS):], []).append(merged)
    for name, versions in wanted.items():
        if all(v == versions[0] for v in versions):
            components[name] = versions[0]
    for op, out, headers in planned:
        params = [entry if "$ref" in entry and components.get(entry["$ref"][len(PARAMETERS):])
                  == merged else merged for entry, merged in out] + headers
        if params:
            op["parameters"] = params
        else:
            op.pop("parameters", None)
    for key in described:
        if key not in seen:
            problems.append(f"{key}: parameters declared for an operation the document lacks")
    used = json.dumps(doc["paths"])
    for name in list(components):
        if f'"{PARAMETERS}{name}"' not in used:
            del components[name]
    if "parameters" in doc["components"] and not components:
        del doc["components"]["parameters"]


READS = re.compile(r'(?:\.Query|QueryInt|QueryCountry)\((?:request, )?"([a-z_]+)"')


def unread_declarations(repo, service, declared):
    """Query parameters a handler of `service` reads that no table of it declares: the pipeline
    refuses them before any handler runs, so such a read is a parameter the document lacks."""
    names = {p["name"] for params in declared["parameters"].values() for p in params
             if p["in"] == "query"}
    problems = []
    for source in sorted((repo / "services" / service).glob("*.cpp")):
        for name in READS.findall(source.read_text(encoding="utf-8")):
            if name not in names:
                problems.append(f"{source.name} reads query parameter {name}, which no "
                                "parameter table of the service declares")
    return problems


def resolve(doc, pointer):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def indent_of(text):
    second = text.split("\n", 2)[1]
    return len(second) - len(second.lstrip(" "))


def generate(repo, described):
    """(path, current text, generated text, problems) per service."""
    results = []
    for service, declared in sorted(described.items()):
        path = repo / "services" / service / "openapi.json"
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        problems = []
        generate_parameters(doc, declared["parameters"], problems)
        problems += unread_declarations(repo, service, declared)
        for pointer, entry in declared["bodies"].items():
            try:
                parent, key = resolve(doc, pointer)
            except (KeyError, IndexError, TypeError):
                problems.append(f"{pointer}: no such place in {path.name}")
                continue
            parent[key] = merge(parent.get(key, {}), entry["schema"], pointer, problems, doc,
                                entry["merge_patch"])
        new = json.dumps(doc, indent=indent_of(text), ensure_ascii=False) + "\n"
        results.append((path, text, new, problems))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=pathlib.Path, required=True)
    parser.add_argument("--bin", required=True, help="the jilaf-request-schemas executable")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = parser.parse_args()

    described = json.loads(subprocess.run([args.bin], check=True, capture_output=True,
                                          text=True).stdout)
    failed = False
    for path, old, new, problems in generate(args.repo, described):
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
            failed = True
        if old == new:
            declared = described[path.parent.name]
            print(f"{path}: request schemas and parameters are the C++ declarations' "
                  f"({len(declared['bodies'])} bodies, {len(declared['parameters'])} tables)")
            continue
        if args.write:
            path.write_text(new, encoding="utf-8")
            print(f"{path}: request schemas and parameters rewritten from C++")
            continue
        failed = True
        print(f"{path}: request schemas or parameters differ from C++; run "
              "`cmake --build --preset release --target openapi-request-schemas`:", file=sys.stderr)
        diff = difflib.unified_diff(old.splitlines(), new.splitlines(), str(path),
                                    "generated", lineterm="", n=2)
        for line in list(diff)[:200]:
            print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
