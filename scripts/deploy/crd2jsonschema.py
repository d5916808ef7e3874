#!/usr/bin/python3
"""Turns CustomResourceDefinition YAML files into strict JSON schemas for kubeconform.

Usage: crd2jsonschema.py OUT_DIR CRD.yaml...

Writes OUT_DIR/<group>/<kind lower case>_<version>.json for every served version, the layout
that `kubeconform -schema-location 'OUT_DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'`
reads. "Strict" as in kubeconform's own openapi2jsonschema: an object that lists its properties
rejects unknown ones (a typo in a field name fails instead of being silently ignored), unless the
CRD marks it x-kubernetes-preserve-unknown-fields. The Kubernetes OpenAPI extensions become plain
JSON Schema (int-or-string, nullable).
"""
import json
import os
import sys

import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict(value) for key, value in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in node and "additionalProperties" not in node and not preserve:
        node["additionalProperties"] = False
    # Other x-kubernetes-* keys (list types, validations in CEL) mean nothing to JSON Schema.
    for key in [k for k in node if k.startswith("x-kubernetes-")]:
        del node[key]
    return node


def main(out_dir, paths):
    written = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                group, kind = spec["group"], spec["names"]["kind"]
                for version in spec["versions"]:
                    if not version.get("served", True):
                        continue
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    # metadata is validated by the API server, not by the CRD: keep it open.
                    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
                    target = os.path.join(out_dir, group, f"{kind.lower()}_{version['name']}.json")
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "w", encoding="utf-8") as out:
                        json.dump(schema, out, indent=1, sort_keys=True)
                    written += 1
    if written == 0:
        sys.exit("crd2jsonschema: no CustomResourceDefinition found in " + " ".join(paths))
    print(f"crd2jsonschema: {written} schema(s) in {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
