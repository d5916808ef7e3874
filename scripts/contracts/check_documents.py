#!/usr/bin/python3
"""Validates the contract documents with real validators (ctest ContractsDocumentsValidate):

  * every services/*/openapi.json with openapi-spec-validator (OpenAPI 3.1);
  * docs/asyncapi.yaml against the official AsyncAPI 3.0.0 JSON Schema (npm @asyncapi/specs),
    every $ref in it resolving (the payloads' refs to files under schemas/ included);
  * every event schema under schemas/ against the JSON Schema 2020-12 meta-schema, with an $id
    equal to its path (the ce_dataschema the services send);
  * docs/asyncapi.yaml and the event table of docs/events.md up to date with schemas/.

    /usr/bin/python3 scripts/contracts/check_documents.py [--repo DIR]
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import catalog  # noqa: E402
import tools  # noqa: E402


def resolve_local(document, pointer):
    node = document
    for part in pointer.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=os.path.join(HERE, "..", ".."))
    args = parser.parse_args()
    tools.load()
    import jsonschema
    import yaml
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    problems = []
    openapi_docs = sorted(glob.glob(os.path.join(args.repo, "services", "*", "openapi.json")))
    for path in openapi_docs:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        if not str(document.get("openapi", "")).startswith("3.1"):
            problems.append(f"{path}: openapi is {document.get('openapi')}, expected 3.1.x")
        try:
            validate(document)  # picks the 3.1 validator from the document's version
        except OpenAPIValidationError as error:
            lines = str(error).splitlines()  # the message and where, without the schema dump
            problems.append(f"{path}: {lines[0]} " + " ".join(l for l in lines if l.startswith("On ")))

    asyncapi_path = os.path.join(args.repo, "docs", "asyncapi.yaml")
    with open(asyncapi_path, encoding="utf-8") as f:
        asyncapi = yaml.safe_load(f)
    with open(tools.asyncapi_schema("3.0.0"), encoding="utf-8") as f:
        meta = json.load(f)
    validator = jsonschema.validators.validator_for(meta)(meta)
    for error in sorted(validator.iter_errors(asyncapi), key=lambda e: list(e.absolute_path))[:20]:
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{asyncapi_path}: at {where}: {error.message[:300]}")
    for ref in sorted(set(refs(asyncapi))):
        if ref.startswith("#/"):
            try:
                resolve_local(asyncapi, ref)
            except (KeyError, TypeError):
                problems.append(f"{asyncapi_path}: $ref {ref} does not resolve")
        elif not os.path.exists(os.path.join(args.repo, "docs", ref)):
            problems.append(f"{asyncapi_path}: $ref {ref} names no file")

    schemas = catalog.event_schemas(args.repo)
    for schema in schemas:
        try:
            jsonschema.Draft202012Validator.check_schema(schema.schema)
        except jsonschema.SchemaError as error:
            problems.append(f"{schema.relpath}: not a valid 2020-12 schema: {error.message}")
        if schema.schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(f"{schema.relpath}: $schema is not draft 2020-12")
        if not schema.key_field:
            problems.append(f'{schema.relpath}: no "x-key" naming the payload field that is the '
                            "Kafka message key (the aggregate id; docs/events.md)")
        else:
            for field in schema.key_fields():
                # A tombstone has no payload: its key is the id its "x-key" names.
                if not schema.tombstone and field not in schema.schema.get("required", []):
                    problems.append(f'{schema.relpath}: "x-key" names {field!r}, not a required '
                                    "property")
        if schema.schema.get("$id") != schema.dataschema:
            problems.append(f"{schema.relpath}: $id {schema.schema.get('$id')} is not {schema.dataschema}")
    stray = [p for p in glob.glob(os.path.join(args.repo, "schemas", "**", "*.json"), recursive=True)
             if catalog.SCHEMA_PATH.match(os.path.relpath(p, args.repo).replace(os.sep, "/")) is None
             and os.path.basename(p) != "baseline.json"]
    problems += [f"{p}: not at schemas/<service>/<aggregate>.<what>/v<N>.json" for p in stray]

    generated = subprocess.run([sys.executable, os.path.join(HERE, "gen_asyncapi.py"), "--repo",
                                args.repo, "--check"], capture_output=True, text=True)
    if generated.returncode != 0:
        problems.append(generated.stdout.strip() + generated.stderr.strip())

    for problem in problems:
        print(problem)
    print(f"{len(openapi_docs)} OpenAPI 3.1 documents, docs/asyncapi.yaml (AsyncAPI 3.0.0, "
          f"{len(asyncapi.get('channels', {}))} channels, {len(asyncapi['components']['messages'])} "
          f"messages) and {len(schemas)} event schemas: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
