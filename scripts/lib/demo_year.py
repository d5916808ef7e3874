#!/usr/bin/env python3
"""Prints the fiscal year scripts/demo loads: the first one from FROM on (April-March years)
in which the demo is not loaded yet. A year counts as loaded when invitations holds the demo's
Asia-Pacific programme in it (10-invitations.py creates it first, and the other loaders follow in
the same run). Reads only the public API, through the shared client (429/503 + Retry-After).

Usage: demo_year.py FROM  (JILAF_INVITATIONS_URL and JILAF_DEMO_TOKEN from scripts/demo)
"""
import json
import os
import pathlib
import sys
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import jilaf_http  # noqa: E402

MARKER = "Asia-Pacific Young Trade Union Leaders"  # the title 10-invitations.py gives it
URL = os.environ.get("JILAF_INVITATIONS_URL", "http://127.0.0.1:8081")
TOKEN = os.environ["JILAF_DEMO_TOKEN"]


def loaded(year):
    token = None
    while True:
        query = {"fiscal_year": str(year), "page_size": "200"}
        if token:
            query["page_token"] = token
        status, raw, _ = jilaf_http.request(
            "GET", URL + "/v1/programmes?" + urllib.parse.urlencode(query), None,
            {"Authorization": "Bearer " + TOKEN}, label="demo")
        if status != 200:
            sys.exit(f"demo: GET /v1/programmes?fiscal_year={year} answered {status}: "
                     f"{raw.decode(errors='replace')}")
        page = json.loads(raw)
        if any(item.get("title", {}).get("en") == MARKER for item in page.get("items", [])):
            return True
        token = page.get("next_page_token")
        if not token:
            return False


def main():
    year = int(sys.argv[1])
    while loaded(year):
        year += 1
        if year > 2100:
            sys.exit("demo: every fiscal year up to 2100 is loaded")
    print(year)


if __name__ == "__main__":
    main()
