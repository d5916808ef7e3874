#!/usr/bin/env python3
"""Demo loader for the missions service: research missions with published findings, education
programmes with attendance and certificates, ITUC-AP seminars with registration and a waitlist,
and invitations for the alumni the invitations demo produced. Public HTTP APIs only; stdlib only.

Safe to run twice: creations carry Idempotency-Keys (per fiscal year: scripts/demo loads a new
year on a second run), and a replayed creation is not driven again.
"""
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
import jilaf_http  # noqa: E402 - the shared client: honours 429/503 with Retry-After

URL = os.environ.get("JILAF_MISSIONS_URL", "http://127.0.0.1:8083")
TOKEN = os.environ["JILAF_DEMO_TOKEN"]
FY = int(os.environ.get("JILAF_DEMO_FISCAL_YEAR", "2026"))


def call(method, path, body=None, etag=None, key=None, expect=(200, 201)):
    headers = {"Authorization": "Bearer " + TOKEN}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if etag:
        headers["If-Match"] = etag
    if key:
        headers["Idempotency-Key"] = f"demo-missions-{FY}-{key}"
    status, raw, hdrs = jilaf_http.request(method, URL + path, data, headers, label="demo")
    text = raw.decode()
    if status not in expect:
        sys.exit(f"demo: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else {}, hdrs


def create(path, body, key):
    """Creates once; returns (document, True if this run created it)."""
    doc, headers = call("POST", path, body, key=key)
    return doc, headers.get("Idempotent-Replayed") != "true"


def move(path, doc, to, reason=None):
    body = {"to": to}
    if reason:
        body["reason"] = reason
    updated, _ = call("POST", path + "/transitions", body, etag='"v%d"' % doc["version"])
    return updated


MISSIONS = [
    ("ベトナム最低賃金調査団", "Viet Nam minimum wage research mission", ["VN"], f"{FY}-05-11",
     f"{FY}-05-16", ["How the National Wage Council sets regional minimum wages",
                    "Collective bargaining in foreign-invested enterprises"],
     [("VGCL", "union"), ("MOLISA", "government"), ("VCCI", "employer"), ("ILO Hanoi", "ILO")]),
    ("インドネシア・カンボジア労働安全衛生調査団", "Indonesia and Cambodia OSH research mission",
     ["ID", "KH"], f"{FY}-08-03", f"{FY}-08-12", ["Occupational safety in garment factories"],
     [("KSPI", "union"), ("Ministry of Manpower", "government"), ("GMAC", "employer")]),
    ("インド非正規労働者調査団", "India informal workers research mission", ["IN"], f"{FY}-11-09",
     f"{FY}-11-14", ["Organising informal workers", "Social security for platform workers"],
     [("INTUC", "union"), ("SEWA", "union"), ("Ministry of Labour and Employment", "government")]),
]


def load_missions():
    for i, (ja, en, countries, start, end, objectives, meetings) in enumerate(MISSIONS):
        body = {"title": {"ja": ja, "en": en}, "countries": countries, "start_date": start,
                "end_date": end, "objectives": objectives,
                "delegation": [{"name": "Sato Kenji", "organisation": "RENGO", "role": "head"},
                               {"name": "Tanaka Yuki", "organisation": "JILAF", "role": "staff"},
                               {"name": "Nguyen Thi Mai", "organisation": "JILAF",
                                "role": "interpreter"}],
                "meetings": [{"date": start, "counterpart": who, "kind": kind}
                             for who, kind in meetings]}
        doc, fresh = create("/v1/missions", body, f"mission-{i}")
        if not fresh:
            continue
        path = "/v1/missions/" + doc["id"]
        doc = move(path, doc, "in_progress")
        report = {"title": {"ja": ja + " 報告書", "en": en + ": findings"},
                  "summary": {"ja": "調査団の主な所見の要約。", "en": "Summary of the delegation's main findings."},
                  "findings": {"ja": "各国の労使関係の現状と課題。",
                               "en": "The state of industrial relations and the issues ahead."}}
        doc, _ = call("PUT", path + "/report", report, etag='"v%d"' % doc["version"])
        doc = move(path, doc, "completed")
        doc, _ = call("POST", path + "/report/transitions", {"to": "in_review"},
                      etag='"v%d"' % doc["version"])
        doc, _ = call("POST", path + "/report/transitions", {"to": "published"},
                      etag='"v%d"' % doc["version"])
        move(path, doc, "reported")
    print(f"demo: {len(MISSIONS)} research missions, reports published", file=sys.stderr)


PROGRAMMES = [
    ({"ja": "労使関係セミナー(ジャカルタ)", "en": "Industrial relations course, Jakarta"}, "abroad",
     "ID", f"{FY}-07-06", f"{FY}-07-08",
     [("Collective bargaining", [f"{FY}-07-06", f"{FY}-07-07"]), ("Dispute resolution", [f"{FY}-07-08"])],
     [("Siti Rahma", "siti.rahma@example.org", "ID"), ("Agus Salim", "agus.salim@example.org", "ID"),
      ("Dewi Lestari", "dewi.lestari@example.org", "ID")]),
    ({"ja": "日本の労働運動研修(東京)", "en": "Japanese labour movement course, Tokyo"}, "japan",
     None, f"{FY}-10-19", f"{FY}-10-21",
     [("RENGO and its affiliates", [f"{FY}-10-19", f"{FY}-10-20"]), ("Spring wage offensive", [f"{FY}-10-21"])],
     [("Maria Santos", "maria.santos@example.org", "PH"), ("Tran Van Minh", "tran.minh@example.org", "VN"),
      ("Aung Ko", "aung.ko@example.org", "MM"), ("Nimal Perera", "nimal.perera@example.org", "LK")]),
]


def load_education():
    certificates = []
    for i, (title, location, country, start, end, courses, people) in enumerate(PROGRAMMES):
        body = {"title": title, "location": location, "start_date": start, "end_date": end,
                "attendance_threshold_percent": 66,
                "courses": [{"title": t, "sessions": [{"date": d} for d in dates]} for t, dates in courses]}
        if country:
            body["country"] = country
        doc, fresh = create("/v1/education-programmes", body, f"education-{i}")
        if not fresh:
            continue
        path = "/v1/education-programmes/" + doc["id"]
        ids = []
        for j, (name, email, nationality) in enumerate(people):
            participant, _ = call("POST", path + "/participants",
                                  {"name": name, "email": email, "country": nationality},
                                  key=f"education-{i}-participant-{j}")
            ids.append(participant["id"])
        doc, _ = call("GET", path)
        doc = move(path, doc, "in_progress")
        sessions = [s["id"] for c in doc["courses"] for s in c["sessions"]]
        for k, session in enumerate(sessions):
            # The last participant misses all but the first session and does not complete.
            present = ids if k == 0 else ids[:-1]
            doc, _ = call("PUT", f"{path}/sessions/{session}/attendance", {"present": present},
                          etag='"v%d"' % doc["version"])
        doc = move(path, doc, "completed")
        certificates += [p["certificate_code"] for p in doc["participants"] if "certificate_code" in p]
    for code in certificates:
        status, _, _ = jilaf_http.request("GET", URL + "/v1/certificates/" + code, label="demo")
        if status != 200:
            sys.exit("demo: certificate " + code + " does not verify")
    print(f"demo: {len(PROGRAMMES)} education programmes, {len(certificates)} certificates verified",
          file=sys.stderr)


def alumni():
    """Alumni the invitations demo produced (the consumer may still be catching up)."""
    deadline = time.time() + 30
    while True:
        page, _ = call("GET", "/v1/alumni?page_size=200")
        if page["items"] or time.time() > deadline:
            return page["items"]
        time.sleep(1)


SEMINARS = [
    ({"ja": "アジア太平洋地域 若年労働者の雇用セミナー", "en": "Asia-Pacific seminar on youth employment"},
     {"name": "Royal Orchid", "city": "Bangkok", "country": "TH"}, f"{FY}-09-14", f"{FY}-09-15", 4),
    ({"ja": "南アジア 労働安全衛生セミナー", "en": "South Asia seminar on occupational safety and health"},
     {"name": "Hotel Shanker", "city": "Kathmandu", "country": "NP"}, f"{FY + 1}-02-08", f"{FY + 1}-02-09", 30),
]


def load_seminars(alumni_list):
    for i, (title, venue, start, end, capacity) in enumerate(SEMINARS):
        body = {"title": title, "venue": venue, "start_date": start, "end_date": end,
                "capacity": capacity, "co_organisers": ["ITUC-AP", "JILAF"],
                "agenda": [{"title": "Opening", "date": start, "speaker": "ITUC-AP General Secretary"},
                           {"title": "Country reports", "date": start},
                           {"title": "Action plans", "date": end}]}
        doc, fresh = create("/v1/seminars", body, f"seminar-{i}")
        if not fresh:
            continue
        path = "/v1/seminars/" + doc["id"]
        if alumni_list:
            call("POST", "/v1/alumni/invitations",
                 {"target": {"kind": "seminar", "id": doc["id"]},
                  "alumni_ids": [a["id"] for a in alumni_list]}, key=f"seminar-{i}-invite")
        doc = move(path, doc, "registration_open")
        # Alumni erased since (no e-mail left) cannot register.
        people = [(a["given_name"] + " " + a["family_name"], a["email"], a["country"])
                  for a in alumni_list if a.get("email")][:3]
        people += [("Kim Min-jun", f"kim{i}@example.org", "KR"), ("Lee Ji-woo", f"lee{i}@example.org", "KR"),
                   ("Rahul Singh", f"rahul{i}@example.org", "IN"), ("Ayesha Khan", f"ayesha{i}@example.org", "PK")]
        registrations = []
        for j, (name, email, country) in enumerate(people):
            registration, _ = call("POST", path + "/registrations",
                                   {"name": name, "email": email, "country": country},
                                   key=f"seminar-{i}-registration-{j}")
            registrations.append(registration)
        # Someone with a seat cancels: the first on the waitlist moves up.
        call("POST", f"{path}/registrations/{registrations[0]['id']}/cancel")
        doc, _ = call("GET", path)
        doc = move(path, doc, "registration_closed")
        if i == 0:
            doc = move(path, doc, "held")
            move(path, doc, "reported", "Action plans adopted by 9 national centres")
    print(f"demo: {len(SEMINARS)} seminars with registrations", file=sys.stderr)


def main():
    load_missions()
    load_education()
    found = alumni()
    if not found:
        print("demo: no alumni yet (the invitations demo completes none); seminars get walk-ins only",
              file=sys.stderr)
    load_seminars(found)
    report, _ = call("GET", f"/v1/reports/fiscal-years/{FY}")
    print("demo: FY%d missions by country %s" % (FY, json.dumps(report["missions"]["by_country"])),
          file=sys.stderr)


if __name__ == "__main__":
    main()
