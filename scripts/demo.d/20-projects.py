#!/usr/bin/env python3
"""Demo data for the projects service, through its public API only (stdlib only).

Loads partner organisations and 14 field projects across the four areas and ten countries, with
reviews, disbursement tranches in local currencies (converted at rates fixed on their value
dates), expert dispatches, reporting obligations (some left overdue) and indicators with actuals
broken down by sex. Then checks GET /v1/reports/fiscal-years/{FY} against what it loaded, to the
yen: it reads the report before and after loading and compares the difference with its own
figures, computed independently with exact fractions. Exits non-zero on the first surprise.
"""
import json
import os
import pathlib
import sys
import uuid
from fractions import Fraction

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
import jilaf_http  # noqa: E402 - the shared client: honours 429/503 with Retry-After

URL = os.environ.get("JILAF_PROJECTS_URL", "http://127.0.0.1:8082")
TOKEN = os.environ["JILAF_DEMO_TOKEN"]
ADMIN = os.environ.get("JILAF_DEMO_ADMIN_TOKEN", TOKEN)
# A second staff member: the service lets no one approve their own proposal or pay a tranche they
# approved (docs/api.md, "Separation of duties"). TOKEN proposes and approves tranches; REVIEWER
# approves proposals and pays.
REVIEWER = os.environ["JILAF_DEMO_REVIEWER_TOKEN"]
RUN = uuid.uuid4().hex[:8]
FY = int(os.environ.get("JILAF_DEMO_FISCAL_YEAR", "2026"))
EXPONENT = {"JPY": 0, "USD": 2, "VND": 0, "IDR": 2, "PHP": 2, "NPR": 2, "BDT": 2, "LKR": 2,
            "MNT": 2, "INR": 2, "KHR": 2, "MMK": 2}


def call(method, path, body=None, expect=(200, 201), token=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Authorization": "Bearer " + (token or TOKEN)}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    status, raw, response_headers = jilaf_http.request(method, URL + path, data, all_headers,
                                                       label="projects demo")
    text = raw.decode()
    etag = response_headers.get("ETag") if status < 300 else None
    if status not in expect:
        sys.exit(f"projects demo: {method} {path} answered {status}: {text}")
    return (json.loads(text) if text else None), etag


def create(path, body, token=None):
    return call("POST", path, body, expect=(201,), token=token,
                headers={"Idempotency-Key": f"demo-{RUN}-{uuid.uuid4().hex[:8]}"})[0]


def move(resource, to, expect=(200,), token=None, **extra):
    _, etag = call("GET", resource)
    return call("POST", resource + "/transitions", {"to": to, **extra}, expect=expect,
                token=token, headers={"If-Match": etag})[0]


def to_jpy(amount, currency, rate):
    """The documented rule, independently: exact fraction, half up."""
    value = Fraction(amount) * Fraction(rate) / (10 ** EXPONENT[currency])
    return int(value + Fraction(1, 2)) if value >= 0 else None


PARTNERS = [
    ("VN", "Vietnam General Confederation of Labour", "VGCL", "national_centre"),
    ("KH", "Cambodian Labour Confederation", "CLC", "national_centre"),
    ("ID", "Confederation of Indonesia Prosperity Trade Union", "KSBSI", "national_centre"),
    ("PH", "Trade Union Congress of the Philippines", "TUCP", "national_centre"),
    ("MM", "Confederation of Trade Unions Myanmar", "CTUM", "national_centre"),
    ("NP", "Nepal Trade Union Congress", "NTUC", "national_centre"),
    ("BD", "Bangladesh Jatiyatabadi Sramik Dal", "BJSD", "federation"),
    ("LK", "Ceylon Workers' Congress", "CWC", "trade_union"),
    ("MN", "Confederation of Mongolian Trade Unions", "CMTU", "national_centre"),
    ("IN", "Hind Mazdoor Sabha", "HMS", "national_centre"),
]
# country, area, support, title, budget (JPY), local currency, rate, final status, report approved
PROJECTS = [
    ("VN", "occupational_safety_health", "both", "Safety committees in garment factories", 12_000_000, "VND", "0.0059", "active", True),
    ("KH", "industrial_relations", "financing", "Collective bargaining clinics", 6_500_000, "USD", "150.25", "active", False),
    ("ID", "family_planning", "financing", "Workplace family planning services", 5_000_000, "IDR", "0.0094", "active", True),
    ("PH", "community_development", "both", "Cooperatives for informal workers", 9_800_000, "PHP", "2.61", "active", False),
    ("MM", "occupational_safety_health", "expert_dispatch", "Mine safety trainers", 4_200_000, "USD", "151.10", "active", True),
    ("NP", "industrial_relations", "both", "Labour law awareness for migrant workers", 7_300_000, "NPR", "1.12", "suspended", True),
    ("BD", "occupational_safety_health", "financing", "Fire safety in ready-made garments", 15_000_000, "BDT", "1.25", "active", True),
    ("LK", "family_planning", "financing", "Estate workers' health education", 3_900_000, "LKR", "0.50", "completed", True),
    ("MN", "community_development", "both", "Vocational training for herder families", 8_800_000, "MNT", "0.044", "active", False),
    ("IN", "industrial_relations", "financing", "Social dialogue in special economic zones", 10_500_000, "INR", "1.80", "closed", True),
    ("VN", "family_planning", "financing", "Maternity protection outreach", 2_400_000, "JPY", "1", "approved", True),
    ("KH", "community_development", "expert_dispatch", "Union savings groups", 3_000_000, "USD", "149.80", "under_review", True),
    ("ID", "occupational_safety_health", "financing", "Chemical safety in palm oil mills", 6_000_000, "IDR", "0.0093", "rejected", True),
    ("PH", "industrial_relations", "both", "Young leaders' negotiation school", 4_800_000, "PHP", "2.58", "proposed", True),
]
COUNTED = {"approved", "active", "suspended", "completed", "closed"}


def empty_groups():
    return {"totals": {}, "by_area": {}, "by_country": {}, "by_support_type": {}}


def add(expected, project, projects, committed, disbursed):
    for group, key in (("totals", None), ("by_area", project["area"]),
                       ("by_country", project["country"]),
                       ("by_support_type", project["support_type"])):
        row = expected[group] if key is None else expected[group].setdefault(key, {})
        row["projects"] = row.get("projects", 0) + projects
        row["committed_jpy"] = row.get("committed_jpy", 0) + committed
        row["disbursed_jpy"] = row.get("disbursed_jpy", 0) + disbursed


def main():
    before, _ = call("GET", f"/v1/reports/fiscal-years/{FY}")
    partners = {}
    for country, name, acronym, kind in PARTNERS:
        partners[country] = create("/v1/partners", {
            "name": name, "acronym": acronym, "country": country, "kind": kind,
            "contact": {"name": f"International department ({acronym})",
                        "email": f"international@{acronym.lower()}.example.org"}})["id"]

    expected = empty_groups()
    overdue = holds = 0
    expert_number = 0
    for index, (country, area, support, title, budget, currency, rate, final, report_ok) in \
            enumerate(PROJECTS):
        start = f"{FY}-{4 + index % 3:02d}-01"
        project = create("/v1/projects", {
            "title": {"ja": f"{title}（{country}）", "en": title},
            "country": country, "partner_id": partners[country], "area": area,
            "support_type": support, "description": f"{title}: demo project {index + 1}",
            "funding_source": "JILAF own funds" if index % 2 else "MHLW ODA grant",
            "start_date": start, "end_date": f"{FY + 1}-03-31",
            "budget": {"amount": budget, "currency": "JPY"}})
        path = f"/v1/projects/{project['id']}"
        if final == "proposed":
            continue
        move(path, "under_review")
        if final == "under_review":
            create(path + "/reviews", {"decision": "request_changes", "comment": "Clarify the target group"})
            continue
        decision = "reject" if final == "rejected" else "approve"
        if decision == "approve":
            # The author's own approval is refused, naming the rule.
            refused = call("POST", path + "/reviews", {"decision": "approve", "comment": "Mine"},
                           expect=(403,))[0]
            if refused.get("rule") != "author-cannot-approve":
                sys.exit(f"projects demo: the author approved their own proposal: {refused}")
        create(path + "/reviews", {"decision": decision, "comment": "Reviewed by the projects committee"},
               token=REVIEWER)
        if final == "rejected":
            move(path, "rejected", comment="Overlaps an ILO project")
            continue
        move(path, "approved")
        if final != "approved":
            move(path, "active")
        paid_jpy = 0
        if final != "approved":
            # Reporting: a progress report due at the end of September, a final one next spring.
            progress = create(path + "/reports", {"kind": "progress", "due_date": f"{FY}-09-30",
                                                  "period_from": start, "period_to": f"{FY}-09-30"})
            create(path + "/reports", {"kind": "final", "due_date": f"{FY + 1}-05-31"})
            if report_ok:
                move(f"/v1/reports/{progress['id']}", "submitted", document_url=f"https://example.org/r/{index}")
                move(f"/v1/reports/{progress['id']}", "approved")
            else:
                overdue += 1
        if support in ("financing", "both") and final != "approved":
            # Two tranches in local currency: 40% in spring, 35% in autumn (behind the report).
            for share, planned, value_date in ((40, f"{FY}-05-15", f"{FY}-05-20"),
                                               (35, f"{FY}-10-15", f"{FY}-10-20")):
                jpy_target = budget * share // 100
                local = int(Fraction(jpy_target) / Fraction(rate) * 10 ** EXPONENT[currency])
                tranche = create(path + "/tranches", {
                    "amount": local, "currency": currency, "exchange_rate": rate,
                    "planned_date": planned, "value_date": value_date})
                expected_jpy = to_jpy(local, currency, rate)
                if tranche["amount_jpy"] != expected_jpy:
                    sys.exit(f"projects demo: tranche converted to {tranche['amount_jpy']}, expected {expected_jpy}")
                resource = f"/v1/tranches/{tranche['id']}"
                move(resource, "requested")
                if planned > f"{FY}-09-30" and not report_ok:
                    refused = move(resource, "approved", expect=(409,))
                    if refused.get("report_id") != progress["id"]:
                        sys.exit(f"projects demo: hold did not name the report: {refused}")
                    holds += 1
                    continue
                move(resource, "approved")
                move(resource, "paid", token=REVIEWER, value_date=value_date, exchange_rate=rate)
                paid_jpy += expected_jpy
            # The ceiling holds: a tranche for more than what remains is refused with the rest.
            over = create(path + "/tranches", {"amount": budget, "currency": "JPY", "planned_date": f"{FY}-06-01"})
            move(f"/v1/tranches/{over['id']}", "requested")
            refused = move(f"/v1/tranches/{over['id']}", "approved", expect=(409,))
            if refused.get("remaining_jpy") != budget - paid_jpy:
                sys.exit(f"projects demo: ceiling should leave JPY {budget - paid_jpy}: {refused}")
            move(f"/v1/tranches/{over['id']}", "cancelled")
        if support in ("expert_dispatch", "both") and final != "approved":
            expert_number += 1
            expert = {"id": f"demo-{RUN}-expert-{expert_number}", "name": f"Expert {expert_number}"}
            create(path + "/dispatches", {"expert": expert, "role": "Trainer", "country": country,
                                          "from_date": f"{FY}-07-06", "to_date": f"{FY}-07-24"})
            create(path + "/dispatches", {"expert": expert, "role": "Follow-up mission", "country": country,
                                          "from_date": f"{FY}-11-09", "to_date": f"{FY}-11-20"})
            call("POST", path + "/dispatches", {"expert": expert, "role": "Overlap", "country": country,
                                                 "from_date": f"{FY}-07-20", "to_date": f"{FY}-07-30"},
                 expect=(409,))
        indicator = create(path + "/indicators", {
            "name": "Union members trained", "unit": "persons", "baseline": 0, "target": 120,
            "disaggregation": ["female", "male"]})
        etag = '"v1"'
        for period, female, male in ((f"{FY}-Q2", 14 + index, 20), (f"{FY}-Q3", 22, 18 + index)):
            _, etag = call("PUT", f"/v1/indicators/{indicator['id']}/actuals/{period}",
                           {"value": female + male, "breakdown": {"female": female, "male": male}},
                           headers={"If-Match": etag})
        if final == "suspended":
            move(path, "suspended", comment="Political unrest")
        if final in ("completed", "closed"):
            move(path, "completed")
        if final == "closed":
            move(path, "closed")
        if final in COUNTED:
            add(expected, project, 1, budget, paid_jpy)

    after, _ = call("GET", f"/v1/reports/fiscal-years/{FY}")
    for group in ("totals", "by_area", "by_country", "by_support_type"):
        rows = {None: expected["totals"]} if group == "totals" else expected[group]
        for key, figures in rows.items():
            now = after[group] if key is None else after[group].get(key, {})
            then = before[group] if key is None else before[group].get(key, {})
            for figure, value in figures.items():
                delta = now.get(figure, 0) - then.get(figure, 0)
                if delta != value:
                    sys.exit(f"projects demo: fiscal-year report {group}/{key}/{figure} grew by {delta}, loaded {value}")
    totals = expected["totals"]
    print(f"projects: {len(PROJECTS)} projects in {len({p[0] for p in PROJECTS})} countries; FY{FY} "
          f"report agrees to the yen: {totals['projects']} projects, committed JPY {totals['committed_jpy']:,}, "
          f"disbursed JPY {totals['disbursed_jpy']:,}; {overdue} progress reports left overdue, "
          f"{holds} tranches held for them", file=sys.stderr)


if __name__ == "__main__":
    main()
