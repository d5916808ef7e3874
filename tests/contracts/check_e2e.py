#!/usr/bin/python3
"""The e2e suite's contract check (ctest E2eContractsStart / E2eContractsCheck, docs/events.md).

--start  before the first e2e test: clears the records and notes where every topic of the test
         broker ends now (so a broker reused across runs only contributes this run's records).
--check  after the last e2e test:
         * every API response the tests received (recorded by tests/e2e/contract_recorder.cpp)
           must be documented in the service's OpenAPI document (path, method, status, media
           type) and its JSON body must validate against the documented schema;
         * every record the run put on any topic of the broker, read back from the beginning
           with jilaf-topic-dump, must match docs/asyncapi.yaml: a known event type on its
           service's topic, a non-empty key, the CloudEvents headers of its message, and a
           value that validates against the event's JSON Schema (schemas/...) with the key its
           "x-key" names. A record a test produced itself is test input: when the test meant it
           as a service's event (ProduceEvent), its payload and key are still checked against
           the type's schema, so fabricated events cannot drift from the real producer's; a
           deliberately malformed one (ProduceRaw, ProduceMalformedEvent) is skipped. Dead
           letters' own headers are checked, and their payload like the original message's.
Exits 1 on any violation, listing each kind once with its count and the first test that saw it.
"""

import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "contracts"))
import catalog  # noqa: E402
import tools  # noqa: E402


class Violations:
    def __init__(self):
        self.seen = collections.OrderedDict()

    def add(self, kind, where, message, test=""):
        entry = self.seen.setdefault((kind, where, message), [0, test])
        entry[0] += 1

    def report(self):
        for (kind, where, message), (count, test) in self.seen.items():
            print(f"{kind}: {where}: {message} ({count}x{', first in ' + test if test else ''})")
        return len(self.seen)


def read_lines(pattern):
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def short(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    text = error.message if len(error.message) < 300 else error.message[:300] + "..."
    return f"at {where}: {text}"


# ---------------------------------------------------------------- OpenAPI responses

class OpenApi:
    def __init__(self, service, path, jsonschema, referencing):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.uri = f"urn:jilaf:openapi:{service}"
        resource = referencing.Resource.from_contents(
            self.doc, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(self.uri, resource)
        self.jsonschema = jsonschema
        self.validators = {}  # pointer → validator: building one per response is slow
        self.routes = []  # (regex, template), literal paths first
        for template in self.doc.get("paths", {}):
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self.routes.append((re.compile(regex), template))
        self.routes.sort(key=lambda r: (r[1].count("{"), r[1]))

    def route(self, path):
        for regex, template in self.routes:
            if regex.match(path):
                return template
        return None

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"]
            assert pointer.startswith("#/"), pointer
            node = self.doc
            for part in pointer[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validate(self, pointer, instance):
        """Errors of `instance` against the schema at JSON pointer `pointer` of the document."""
        validator = self.validators.get(pointer)
        if validator is None:
            validator = self.validators[pointer] = self.jsonschema.Draft202012Validator(
                {"$ref": self.uri + "#" + pointer}, registry=self.registry,
                format_checker=self.jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return list(validator.iter_errors(instance))


def escape(part):
    return part.replace("~", "~0").replace("/", "~1")


def check_response(docs, record, violations):
    service, method, status = record["service"], record["method"].lower(), record["status"]
    test = record.get("test", "")
    doc = docs.get(service)
    path = record["target"].split("?", 1)[0]
    if doc is None:
        violations.add("openapi", service, "no services/<name>/openapi.json", test)
        return
    if path == "/openapi.json":
        return  # the document itself (validated by ContractsDocumentsValidate)
    template = doc.route(path)
    where = f"{service} {method.upper()} {template or path} → {status}"
    media = record.get("content_type", "").split(";", 1)[0].strip().lower()
    if template is None:
        # Unknown paths answer 404 problem+json from the router: not an API of the document.
        if status == 404 and media == "application/problem+json":
            return
        violations.add("openapi", where, "path not in the OpenAPI document", test)
        return
    operation = doc.doc["paths"][template].get(method)
    if operation is None:
        if status == 405 and media == "application/problem+json":
            return  # the router's answer to a method the path does not have
        violations.add("openapi", where, "method not in the OpenAPI document", test)
        return
    responses = operation.get("responses", {})
    code = next((c for c in (str(status), f"{status // 100}XX", "default") if c in responses), None)
    if code is None:
        violations.add("openapi", where, f"status not documented (documented: {', '.join(responses)})",
                       test)
        return
    response = doc.resolve(responses[code])
    content = response.get("content") or {}
    if not content:
        if record["body"] and method != "head":
            violations.add("openapi", where, f"documents no body, got {media or 'no content-type'}",
                           test)
        return
    if not record["body"] and (status == 304 or method == "head"):
        return
    if media not in content:
        violations.add("openapi", where, f"content-type {media or '(none)'} not documented "
                       f"({', '.join(content)})", test)
        return
    if not (media == "application/json" or media.endswith("+json")):
        return  # feeds, text: the media type is the contract
    schema_node = content[media].get("schema")
    if schema_node is None:
        return
    try:
        body = json.loads(record["body"])
    except ValueError:
        violations.add("openapi", where, "body is not JSON", test)
        return
    # The pointer of the schema, through a $ref'd response object if there is one.
    ref = responses[code].get("$ref") if isinstance(responses[code], dict) else None
    base = ref[1:] if ref else f"/paths/{escape(template)}/{method}/responses/{escape(code)}"
    for error in doc.validate(f"{base}/content/{escape(media)}/schema", body)[:3]:
        violations.add("openapi", where, short(error), test)


# ---------------------------------------------------------------- events

def load_asyncapi(repo):
    import yaml  # Debian's python3-yaml, or the cached PyYAML
    with open(os.path.join(repo, "docs", "asyncapi.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def check_records(repo, records_dir, start_offsets, violations, jsonschema, referencing):
    asyncapi = load_asyncapi(repo)
    schemas = {s.dataschema: s for s in catalog.event_schemas(repo)}
    messages = asyncapi["components"]["messages"]
    by_type_version = {}
    for message in messages.values():
        ext = message.get("x-jilaf") or {}
        if "dataschema" in ext:
            by_type_version[(ext["type"], ext["dataschema"])] = message
    dead_letter = messages["DeadLetter"]
    registry = referencing.Registry().with_resources(
        (s.dataschema, referencing.Resource.from_contents(
            s.schema, default_specification=referencing.jsonschema.DRAFT202012))
        for s in schemas.values())
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validators = {}

    def validate(schema, instance):
        cache_key = json.dumps(schema, sort_keys=True)
        validator = validators.get(cache_key)
        if validator is None:
            validator = validators[cache_key] = jsonschema.Draft202012Validator(
                schema, registry=registry, format_checker=checker)
        return list(validator.iter_errors(instance))

    produced = {}  # (topic, key, value) or ce_id → realistic (see contract_recorder.hpp)
    for item in read_lines(os.path.join(records_dir, "produced-*.jsonl")):
        realistic = bool(item.get("realistic"))
        produced[(item["topic"], item["key"], item["value"])] = realistic
        produced[("key", item["topic"], item["key"])] = realistic
        if item["headers"].get("ce_id"):
            produced[item["headers"]["ce_id"]] = realistic

    def by_test(topic, key, value, headers):
        """None for a service's record; else whether the test meant it as a realistic event."""
        found = produced.get((topic, key, value))
        if found is None and "dlq_value_omitted" in headers:
            # A dead letter of an oversized message carries no value: matched by topic and key.
            found = produced.get(("key", topic, key))
        return produced.get(headers.get("ce_id")) if found is None else found

    latest = {}
    for schema in schemas.values():
        if schema.type not in latest or latest[schema.type].version < schema.version:
            latest[schema.type] = schema

    def check_payload(where, schema, key, value):
        if schema.tombstone:
            if value:
                violations.add("schema", where, "a tombstone type with a non-null value")
            if not key:
                violations.add("asyncapi", where, "a tombstone without a key")
            return
        try:
            data = json.loads(value)
        except ValueError:
            violations.add("schema", where, "value is not JSON")
            return
        for error in validate({"$ref": schema.dataschema}, data)[:3]:
            violations.add("schema", where + f" ({schema.relpath})", short(error))
        expected = schema.expected_key(data)
        if key and expected != key:
            violations.add("asyncapi", where, f'key is not the payload\'s "x-key" '
                           f"{schema.key_field} ({expected!r})")

    counts = collections.Counter()
    types_seen = set()
    topics = {t.name: t for t in catalog.topics(repo)}
    for record in read_lines(os.path.join(records_dir, "topics.jsonl")):
        topic, key, value, headers = record["topic"], record["key"], record["value"], record["headers"]
        if topic not in topics:
            violations.add("asyncapi", topic, "record on a topic not in scripts/kafka/topics.txt")
            continue
        if topics[topic].dead_letter:
            counts["dead letters"] += 1
            for error in validate(dead_letter["headers"], headers)[:3]:
                violations.add("asyncapi", f"{topic} dead letter headers", short(error))
            origin = f"{headers.get('dlq_origin_topic')}/{headers.get('dlq_origin_partition')}"
            if int(headers.get("dlq_origin_offset") or 0) < start_offsets.get(origin, 0):
                # A consumer of this run replayed a message of an earlier run on a reused
                # broker: that run checked it (or knew it for test input), this one cannot.
                counts["dead letters of earlier runs' messages"] += 1
                continue
            topic = headers.get("dlq_origin_topic", topic)
        test_input = by_test(topic, key, value, headers)
        event_type = headers.get("ce_type", "(no ce_type)")
        where = f"{topic} {event_type}"
        if test_input is not None:
            # A test's own message. Deliberately malformed ones are skipped; a realistic one
            # stands for a service's event, so its payload must match that event's schema.
            if not test_input:
                counts["produced by tests as malformed (skipped)"] += 1
                continue
            schema = schemas.get(headers.get("ce_dataschema")) or latest.get(event_type)
            if schema is None:
                violations.add("schema", where + " (produced by a test)", "no schema for this type")
                continue
            if not headers.get("ce_dataschema"):
                # No version named: the test stands for an event of any version the producer
                # has published (the topics keep old versions; consumers read them all).
                versions = [s for s in schemas.values() if s.type == event_type]
                try:
                    data = json.loads(value)
                except ValueError:
                    data = None
                for candidate in sorted(versions, key=lambda s: -s.version):
                    if data is not None and not validate({"$ref": candidate.dataschema}, data):
                        schema = candidate
                        break
            counts["produced by tests as realistic events (payload checked)"] += 1
            check_payload(where + " (produced by a test)", schema, key, value)
            continue
        message = by_type_version.get((event_type, headers.get("ce_dataschema")))
        if message is None:
            violations.add("asyncapi", where, f"no message for dataschema {headers.get('ce_dataschema')}")
            continue
        counts["events"] += 1
        types_seen.add(event_type)
        schema = schemas[headers["ce_dataschema"]]
        if topic != schema.topic:
            violations.add("asyncapi", where, f"on {topic}, expected on {schema.topic}")
        if not key:
            violations.add("asyncapi", where, "empty message key (must be the aggregate id)")
        for error in validate(message["headers"], headers)[:3]:
            violations.add("asyncapi", where + " headers", short(error))
        check_payload(where, schema, key, value)
    print(f"coverage: {len(types_seen)} of {len(latest)} event types published by the services "
          "during the run; not published: " + (", ".join(sorted(set(latest) - types_seen)) or "none"))
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--records", required=True)
    parser.add_argument("--topic-dump", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--start", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args()
    bootstrap = os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP")
    if not bootstrap:
        sys.exit("JILAF_TEST_KAFKA_BOOTSTRAP is not set: run the e2e suite through scripts/test")
    offsets = os.path.join(args.records, "start-offsets.json")
    if args.start:
        os.makedirs(args.records, exist_ok=True)
        for path in glob.glob(os.path.join(args.records, "*.jsonl")):
            os.remove(path)
        subprocess.run([args.topic_dump, "--bootstrap", bootstrap, "--offsets-out", offsets], check=True)
        print(f"records cleared in {args.records}; topic ends noted in {offsets}")
        return 0

    tools.load()
    import jsonschema
    import referencing
    import referencing.jsonschema

    dump = os.path.join(args.records, "topics.jsonl")
    command = [args.topic_dump, "--bootstrap", bootstrap, "--out", dump]
    if os.path.exists(offsets):
        command += ["--from", offsets]
    subprocess.run(command, check=True)

    violations = Violations()
    docs = {}
    for path in glob.glob(os.path.join(args.repo, "services", "*", "openapi.json")):
        service = os.path.basename(os.path.dirname(path))
        docs[service] = OpenApi(service, path, jsonschema, referencing)
    responses = 0
    operations = set()
    for record in read_lines(os.path.join(args.records, "responses-*.jsonl")):
        responses += 1
        check_response(docs, record, violations)
        doc = docs.get(record["service"])
        template = doc.route(record["target"].split("?", 1)[0]) if doc else None
        if template and record["method"].lower() in doc.doc["paths"][template]:
            operations.add((record["service"], record["method"].lower(), template))
    documented = sum(1 for doc in docs.values() for item in doc.doc["paths"].values()
                     for method in item if method in ("get", "put", "post", "patch", "delete"))
    print(f"coverage: {len(operations)} of {documented} documented operations called")
    start_offsets = {}
    if os.path.exists(offsets):
        with open(offsets, encoding="utf-8") as f:
            start_offsets = json.load(f)
    counts = check_records(args.repo, args.records, start_offsets, violations, jsonschema,
                           referencing)
    print(f"checked {responses} API responses against services/*/openapi.json and "
          + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
          + " against docs/asyncapi.yaml and schemas/")
    failures = violations.report()
    if failures:
        print(f"{failures} kind(s) of contract violation")
        return 1
    print("every response and every event matches its contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
