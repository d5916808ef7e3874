#!/usr/bin/python3
"""Demo loader for notifications: ja/en templates, routing rules and a newsletter subscriber.

Runs before the other loaders, so the nominations they create with a `contact_email` are
acknowledged by mail (to the SMTP sink of scripts/run) and published mission reports reach the
staff inbox. Safe to run twice: templates already saved and rules already created are kept.
"""
import json
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
import jilaf_http  # noqa: E402 - the shared client: honours 429/503 with Retry-After

URL = os.environ.get("JILAF_NOTIFICATIONS_URL", "http://127.0.0.1:8084")
ADMIN = os.environ["JILAF_DEMO_ADMIN_TOKEN"]
STAFF = os.environ["JILAF_DEMO_TOKEN"]


def call(method, path, body, token, key=None):
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    status, raw, _ = jilaf_http.request(method, URL + path, json.dumps(body).encode(), headers,
                                        timeout=10, label="05-notifications")
    return status, json.loads(raw or b"null")


def expect(result, allowed, what):
    status, body = result
    if status not in allowed:
        sys.exit(f"05-notifications: {what}: HTTP {status}: {json.dumps(body, ensure_ascii=False)}")
    return body


NOMINATION = "jilaf.invitations.nomination.submitted"
REPORT = "jilaf.missions.report.published"
TEMPLATES = [
    (NOMINATION, "email", "ja",
     "【JILAF】{{data.candidate.family_name}} {{data.candidate.given_name}} 様のご推薦を受け付けました",
     "{{data.nominating_organisation.name}} 御中\n\n"
     "平素より大変お世話になっております。\n"
     "{{data.programme_title.ja}}への{{data.candidate.family_name}} {{data.candidate.given_name}} 様の"
     "ご推薦を確かに受け付けました。選考結果は追ってご連絡いたします。\n\n"
     "公益財団法人 国際労働財団（JILAF）"),
    (NOMINATION, "email", "en",
     "[JILAF] Nomination of {{data.candidate.given_name}} {{data.candidate.family_name}} received",
     "Dear colleagues at {{data.nominating_organisation.name}},\n\n"
     "we received your nomination of {{data.candidate.given_name}} {{data.candidate.family_name}} "
     "for {{data.programme_title.en}}. We will inform you of the selection.\n\n"
     "Japan International Labour Foundation (JILAF)"),
    (REPORT, "inbox", "ja", "報告書公開: {{data.title.ja}}", "{{data.summary.ja}}"),
    (REPORT, "inbox", "en", "Report published: {{data.title.en}}", "{{data.summary.en}}"),
]
for event_type, channel, locale, subject, body in TEMPLATES:
    expect(call("PUT", f"/v1/templates/{event_type}/{channel}/{locale}",
                {"subject": subject, "body": body}, ADMIN),
           (200, 201, 428), f"template {event_type}/{channel}/{locale}")  # 428: already saved

RULES = [
    ("demo-rule-ack", {"name": "Acknowledge nominations to the nominating organisation",
                       "event_type": NOMINATION, "channel": "email", "locale": "ja",
                       "category": "acknowledgements",
                       "recipients": [{"pointer": "/nominating_organisation/contact_email"}]}),
    ("demo-rule-reports", {"name": "Published reports to staff", "event_type": REPORT,
                           "channel": "inbox", "recipients": [{"role": "staff"}]}),
]
for key, rule in RULES:
    expect(call("POST", "/v1/rules", rule, ADMIN, key), (201,), f"rule {rule['name']}")

expect(call("POST", "/v1/subscribers",
            {"email": "reader@example.org", "locale": "ja",
             "consent": {"given": True, "method": "demo: newsletter form, double opt-in"}},
            STAFF, "demo-subscriber"), (201, 409), "subscriber")
print("05-notifications: templates, 2 rules and a newsletter subscriber in place")
