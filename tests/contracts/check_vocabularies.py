#!/usr/bin/python3
"""The OpenAPI documents' closed lists are the validators' lists (docs/architecture.md, "One
contract for the readers and the documents").

The request readers check country codes, currencies and the built-in sample events against lists
that live once in the C++ sources; the documents declare the same lists as enums so that a
generated client refuses what the server refuses. This check fails when the two differ:

    /usr/bin/python3 tests/contracts/check_vocabularies.py --repo DIR

Stdlib only.
"""

import argparse
import json
import os
import re
import sys

SERVICES = ("invitations", "projects", "missions", "notifications")


def countries(repo):
    with open(os.path.join(repo, "common", "util", "iso3166.cpp"), encoding="utf-8") as f:
        source = f.read()
    table = source.split("kCodes =", 1)[1].split(";", 1)[0]
    letters = "".join(re.findall(r'"([A-Z]+)"', table))
    return sorted(letters[i:i + 2] for i in range(0, len(letters), 2))


def currencies(repo):
    with open(os.path.join(repo, "services", "projects", "money.cpp"), encoding="utf-8") as f:
        return sorted(set(re.findall(r'\{"([A-Z]{3})", \d\}', f.read())))


def samples(repo):
    with open(os.path.join(repo, "services", "notifications", "samples.json"),
              encoding="utf-8") as f:
        return sorted(json.load(f))


def document(repo, service):
    with open(os.path.join(repo, "services", service, "openapi.json"), encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    args = parser.parse_args()
    failures = []

    def same(what, declared, enforced):
        if sorted(declared) != enforced:
            missing = sorted(set(enforced) - set(declared))
            extra = sorted(set(declared) - set(enforced))
            failures.append(f"{what}: the document lacks {missing} and adds {extra}")

    codes = countries(args.repo)
    if len(codes) != 249:
        failures.append(f"common/util/iso3166.cpp: read {len(codes)} country codes, expected 249")
    for service in SERVICES:
        schemas = document(args.repo, service)["components"]["schemas"]
        if "CountryCode" not in schemas:
            failures.append(f"{service}: no CountryCode schema")
            continue
        same(f"{service} CountryCode", schemas["CountryCode"]["enum"], codes)
        text = json.dumps(document(args.repo, service))
        if '"pattern": "^[A-Z]{2}$"' in text:
            failures.append(f"{service}: a country declared by pattern instead of CountryCode")
    projects = document(args.repo, "projects")["components"]["schemas"]
    same("projects CurrencyCode", projects["CurrencyCode"]["enum"], currencies(args.repo))
    preview = document(args.repo, "notifications")["components"]["schemas"]["PreviewInput"]
    same("notifications PreviewInput built-in samples",
         preview["if"]["properties"]["event_type"]["enum"], samples(args.repo))
    for failure in failures:
        print("FAIL: " + failure)
    if not failures:
        print("the documents' country, currency and sample-event lists are the readers' lists")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
