"""Unit tests of the schema compatibility checker (ctest ContractsCompatibilityCheckerUnitTests).

    cd scripts/contracts && /usr/bin/python3 -m unittest -v compat_test
"""

import copy
import json
import os
import tempfile
import unittest

import compat

BASE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/schemas/demo/thing.created/v1.json",
    "type": "object",
    "required": ["thing_id", "status", "amount"],
    "properties": {
        "thing_id": {"type": "string", "format": "uuid"},
        "status": {"enum": ["draft", "active"]},
        "amount": {"type": "integer", "minimum": 0},
        "note": {"type": ["string", "null"]},
        "kind": {"const": "thing"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "owner": {"type": "object", "required": ["name"],
                  "properties": {"name": {"type": "string"}, "email": {"type": "string"}}},
        "previous": {"oneOf": [{"enum": ["draft"]}, {"type": "null"}]},
    },
}


def changed(mutate):
    schema = copy.deepcopy(BASE)
    mutate(schema)
    return compat.breaking_changes(BASE, schema)


class CompatibleChanges(unittest.TestCase):
    def test_identical(self):
        self.assertEqual(compat.breaking_changes(BASE, copy.deepcopy(BASE)), [])

    def test_new_optional_property(self):
        self.assertEqual(changed(lambda s: s["properties"].update(extra={"type": "string"})), [])

    def test_new_optional_nested_property(self):
        self.assertEqual(changed(lambda s: s["properties"]["owner"]["properties"].update(
            phone={"type": "string"})), [])

    def test_enum_widened(self):
        self.assertEqual(changed(lambda s: s["properties"]["status"]["enum"].append("closed")), [])

    def test_enum_dropped_altogether_widens(self):
        self.assertEqual(changed(lambda s: s["properties"].update(status={})), [])

    def test_annotations(self):
        def mutate(s):
            s["description"] = "Now better explained."
            s["properties"]["amount"]["description"] = "In yen."
            s["properties"]["amount"]["examples"] = [1000]
            s["title"] = "thing created"
        self.assertEqual(changed(mutate), [])


class BreakingChanges(unittest.TestCase):
    def assertBreaks(self, mutate, *fragments):
        problems = changed(mutate)
        self.assertTrue(problems, "expected a breaking change")
        text = "\n".join(problems)
        for fragment in fragments:
            self.assertIn(fragment, text)

    def test_property_removed(self):
        self.assertBreaks(lambda s: s["properties"].pop("note"), "$.note: property removed")

    def test_required_property_removed(self):
        def mutate(s):
            s["properties"].pop("amount")
            s["required"].remove("amount")
        self.assertBreaks(mutate, "$.amount: property removed", "$.amount: no longer required")

    def test_newly_required(self):
        self.assertBreaks(lambda s: s["required"].append("note"), "$.note: newly required")

    def test_nested_newly_required(self):
        self.assertBreaks(lambda s: s["properties"]["owner"]["required"].append("email"),
                          "$.owner.email: newly required")

    def test_type_changed(self):
        self.assertBreaks(lambda s: s["properties"]["amount"].update(type="number"),
                          "$.amount: type changed from ['integer'] to ['number']")

    def test_nullable_dropped(self):
        self.assertBreaks(lambda s: s["properties"]["note"].update(type="string"), "$.note: type")

    def test_nullable_added(self):  # old consumers never expected null
        self.assertBreaks(lambda s: s["properties"]["amount"].update(type=["integer", "null"]),
                          "$.amount: type")

    def test_item_type_changed(self):
        self.assertBreaks(lambda s: s["properties"]["tags"]["items"].update(type="integer"),
                          "$.tags[]: type")

    def test_enum_narrowed(self):
        self.assertBreaks(lambda s: s["properties"]["status"]["enum"].remove("draft"),
                          "$.status: enum narrowed", '"draft"')

    def test_enum_added_to_free_field(self):
        self.assertBreaks(lambda s: s["properties"]["note"].update(enum=["a"]), "$.note: enum")

    def test_const_changed(self):
        self.assertBreaks(lambda s: s["properties"]["kind"].update(const="other"), "$.kind: const")

    def test_constraint_tightened(self):
        self.assertBreaks(lambda s: s["properties"]["amount"].update(minimum=1),
                          "$.amount: minimum changed from 0 to 1")

    def test_pattern_added(self):
        self.assertBreaks(lambda s: s["properties"]["owner"]["properties"]["name"].update(
            pattern="^[A-Z]"), "$.owner.name: pattern")

    def test_additional_properties_forbidden(self):
        self.assertBreaks(lambda s: s.update(additionalProperties=False), "additionalProperties")

    def test_alternative_removed(self):
        self.assertBreaks(lambda s: s["properties"]["previous"]["oneOf"].pop(), "$.previous: oneOf")

    def test_alternative_narrowed(self):
        self.assertBreaks(lambda s: s["properties"]["previous"]["oneOf"][1].update(type="string"),
                          "$.previous.oneOf[1]: type")

    def test_key_changed(self):
        self.assertBreaks(lambda s: s.update({"x-key": "owner_id"}), "x-key")


class Catalogue(unittest.TestCase):
    def test_removed_version_fails_unless_retired(self):
        baseline = {"demo/thing.created/v1": BASE, "demo/thing.created/v2": BASE}
        current = {"demo/thing.created/v2": BASE}
        problems, added = compat.compare(baseline, current)
        self.assertEqual(len(problems), 1)
        self.assertIn("demo/thing.created/v1: event type or version removed", problems[0])
        problems, _ = compat.compare(baseline, current, retired={"demo/thing.created/v1"})
        self.assertEqual(problems, [])

    def test_new_version_and_new_type_are_additions(self):
        v2 = copy.deepcopy(BASE)
        v2["properties"].pop("note")  # breaking, but as a new version: allowed
        problems, added = compat.compare({"demo/thing.created/v1": BASE},
                                         {"demo/thing.created/v1": BASE, "demo/thing.created/v2": v2,
                                          "demo/thing.deleted/v1": BASE})
        self.assertEqual(problems, [])
        self.assertEqual(added, ["demo/thing.created/v2", "demo/thing.deleted/v1"])

    def test_main_against_a_repository(self):
        """End to end: a breaking edit in a schema file fails the command; restoring passes."""
        with tempfile.TemporaryDirectory() as repo:
            os.makedirs(os.path.join(repo, "schemas", "demo", "thing.created"))
            os.makedirs(os.path.join(repo, "scripts", "kafka"))
            path = os.path.join(repo, "schemas", "demo", "thing.created", "v1.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(BASE, f)
            self.assertEqual(run(repo, "--update-baseline"), 0)
            self.assertEqual(run(repo), 0)
            broken = copy.deepcopy(BASE)
            broken["required"].append("note")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(broken, f)
            self.assertEqual(run(repo), 1)
            self.assertEqual(run(repo, "--update-baseline"), 1)  # refuses to record it
            os.remove(path)
            self.assertEqual(run(repo), 1)  # a removed version
            self.assertEqual(run(repo, "--update-baseline", "--retire", "demo/thing.created/v1"), 0)
            self.assertEqual(run(repo), 0)


def run(repo, *args):
    import contextlib
    import io
    import sys
    argv = sys.argv
    sys.argv = ["compat.py", "--repo", repo, *args]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return compat.main()
    finally:
        sys.argv = argv


if __name__ == "__main__":
    unittest.main()
