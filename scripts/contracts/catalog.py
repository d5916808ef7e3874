"""What the repository says about its events: the schemas under schemas/ and the topics of
scripts/kafka/topics.txt. Shared by the contract checks and the AsyncAPI generator."""

import json
import os
import re

SCHEMA_PATH = re.compile(r"^schemas/([a-z_]+)/([a-z_]+)\.([a-z_]+)/v([0-9]+)\.json$")


class EventSchema:
    """One version of one event type: schemas/<service>/<aggregate>.<what>/v<N>.json."""

    def __init__(self, repo, relpath):
        match = SCHEMA_PATH.match(relpath)
        if match is None:
            raise ValueError(f"{relpath}: not schemas/<service>/<aggregate>.<what>/v<N>.json")
        self.service, self.aggregate, self.what, version = match.groups()
        self.version = int(version)
        self.relpath = relpath
        self.type = f"jilaf.{self.service}.{self.aggregate}.{self.what}"
        self.dataschema = "/" + relpath  # the ce_dataschema the services send
        with open(os.path.join(repo, relpath), encoding="utf-8") as f:
            self.schema = json.load(f)
        # "x-topic" names another topic of the service (the compacted people topic).
        self.topic = self.schema.get("x-topic", f"jilaf.{self.service}.events")
        # "x-tombstone": the message value is null (a compaction tombstone), the key the id.
        self.tombstone = bool(self.schema.get("x-tombstone"))

    @property
    def key_field(self):
        """The schema's "x-key": the payload field that is the Kafka message key, or a template
        of fields such as "{event_type}/{channel}/{locale}"."""
        return self.schema.get("x-key")

    def expected_key(self, data):
        """The message key an event with payload `data` must carry (None when not derivable)."""
        field = self.key_field
        if not field or not isinstance(data, dict):
            return None
        if "{" in field:
            try:
                return field.format(**data)
            except (KeyError, IndexError, ValueError):
                return None
        value = data.get(field)
        return value if isinstance(value, str) else None

    def key_fields(self):
        field = self.key_field or ""
        return re.findall(r"\{([a-z_]+)\}", field) if "{" in field else [field]

    @property
    def key(self):
        """Identity across versions of the catalogue: service/aggregate.what/vN."""
        return f"{self.service}/{self.aggregate}.{self.what}/v{self.version}"


def event_schemas(repo):
    """Every event schema, sorted by service, type and version."""
    found = []
    root = os.path.join(repo, "schemas")
    for dirpath, _, files in os.walk(root):
        for name in files:
            relpath = os.path.relpath(os.path.join(dirpath, name), repo).replace(os.sep, "/")
            if name.endswith(".json") and SCHEMA_PATH.match(relpath):
                found.append(EventSchema(repo, relpath))
    return sorted(found, key=lambda s: (s.service, s.aggregate, s.what, s.version))


class Topic:
    def __init__(self, name, partitions, config):
        self.name = name
        self.partitions = partitions
        self.config = config  # Kafka topic configs (retention.ms, cleanup.policy, ...)
        parts = name.split(".")
        self.service = parts[1] if len(parts) == 3 else None
        self.dead_letter = name.endswith(".dlq")


def topics(repo):
    """scripts/kafka/topics.txt: NAME PARTITIONS [CONFIG=VALUE ...] per line."""
    found = []
    with open(os.path.join(repo, "scripts/kafka/topics.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            partitions = int(fields[1]) if len(fields) > 1 else 3
            config = dict(field.split("=", 1) for field in fields[2:])
            found.append(Topic(fields[0], partitions, config))
    return found
