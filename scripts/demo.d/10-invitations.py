#!/usr/bin/env python3
"""Loads a realistic invitation-programme year through the invitations API only.

Two programmes of one fiscal year (Asia-Pacific and Africa/Americas/Europe), 120 nominations from
30 countries, selection up to seats and country quotas, a waitlist, withdrawals and a visa denial
with automatic promotions, visas, arrivals, completions, follow-up reports and an overdue scan;
one duplicate refused and one earlier participant flagged. At the end the fiscal-year report must
have grown by exactly what was loaded (nominated, selected, completed, per country)."""

import json
import os
import random
import pathlib
import sys
import urllib.parse
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
import jilaf_http  # noqa: E402 - the shared client: honours 429/503 with Retry-After

URL = os.environ.get("JILAF_INVITATIONS_URL", "http://127.0.0.1:8081")
TOKEN = os.environ["JILAF_DEMO_TOKEN"]
ADMIN = os.environ["JILAF_DEMO_ADMIN_TOKEN"]
FY = int(os.environ.get("JILAF_DEMO_FISCAL_YEAR", "2026"))
rng = random.Random()


def call(method, path, body=None, token=TOKEN, headers=None, expect=(200, 201, 204)):
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Authorization": "Bearer " + token}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    status, raw, response_headers = jilaf_http.request(method, URL + path, data, all_headers,
                                                       label="demo")
    etag = response_headers.get("ETag")
    if status not in expect:
        sys.exit(f"demo: {method} {path} answered {status}: {raw.decode(errors='replace')}")
    return status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw), etag


# country -> (family names, given names, national centre)
PEOPLE = {
    "VN": (["Nguyễn", "Trần", "Lê", "Phạm"], ["Thị Lan", "Văn Hùng", "Minh Anh"], "VGCL"),
    "ID": (["Saputra", "Wijaya", "Siregar"], ["Dewi", "Agus", "Rina"], "KSPSI"),
    "PH": (["Santos", "Reyes", "Cruz"], ["Maria", "Jose", "Angelica"], "TUCP"),
    "TH": (["Srisuk", "Chaiyaporn", "Boonmee"], ["Somchai", "Nattaya", "Kittisak"], "LCT"),
    "MY": (["Abdullah", "Lim", "Raman"], ["Siti", "Wei Ming", "Kumar"], "MTUC"),
    "KH": (["Sok", "Chan", "Heng"], ["Sreymom", "Dara", "Vanna"], "CLC"),
    "LA": (["Phommachanh", "Sisouk"], ["Khamla", "Bounmy"], "LFTU"),
    "MM": (["Aung", "Htun", "Win"], ["Myint", "Thandar", "Zaw"], "CTUM"),
    "MN": (["Batbayar", "Dorj"], ["Oyun", "Bold"], "CMTU"),
    "NP": (["Shrestha", "Gurung", "Thapa"], ["Sita", "Ram", "Binita"], "GEFONT"),
    "BD": (["Rahman", "Akter", "Hossain"], ["Nasrin", "Karim", "Shirin"], "BJSD"),
    "LK": (["Perera", "Fernando"], ["Nimal", "Chamari"], "CWC"),
    "IN": (["Sharma", "Patel", "Iyer"], ["Anita", "Rajesh", "Lakshmi"], "HMS"),
    "PK": (["Khan", "Ahmed"], ["Ayesha", "Imran"], "PWF"),
    "FJ": (["Naidu", "Tuilagi"], ["Mere", "Josefa"], "FTUC"),
    "KE": (["Otieno", "Wanjiru", "Kamau"], ["Grace", "Peter", "Achieng"], "COTU"),
    "TZ": (["Mwakyusa", "Said"], ["Neema", "Juma"], "TUCTA"),
    "UG": (["Okello", "Namubiru"], ["Sarah", "Moses"], "NOTU"),
    "GH": (["Mensah", "Owusu", "Boateng"], ["Akosua", "Kwame", "Efua"], "GTUC"),
    "NG": (["Adeyemi", "Okafor", "Bello"], ["Ngozi", "Tunde", "Aisha"], "NLC"),
    "ZA": (["Dlamini", "Naidoo"], ["Thandiwe", "Sipho"], "COSATU"),
    "ZM": (["Banda", "Phiri"], ["Mwila", "Chanda"], "ZCTU"),
    "SN": (["Diop", "Ndiaye"], ["Awa", "Mamadou"], "CNTS"),
    "BR": (["Silva", "Gonçalves", "Araújo"], ["João", "Ana Luíza", "Mariana"], "CUT"),
    "MX": (["Hernández", "López"], ["José Luis", "Guadalupe"], "CTM"),
    "PE": (["Quispe", "Mamani"], ["Rosa", "Julián"], "CATP"),
    "CO": (["Rodríguez", "Gómez"], ["Camila", "Andrés"], "CGT"),
    "TR": (["Yılmaz", "Şahin"], ["Ayşe", "Mehmet"], "Türk-İş"),
    "PL": (["Kowalski", "Wiśniewska"], ["Łukasz", "Agnieszka"], "NSZZ Solidarność"),
    "FR": (["Lefèvre", "Dubois"], ["Hélène", "François"], "CFDT"),
}
ASIA = ["VN", "ID", "PH", "TH", "MY", "KH", "LA", "MM", "MN", "NP", "BD", "LK", "IN", "PK", "FJ"]
OTHER = [c for c in PEOPLE if c not in ASIA]
POSITIONS = ["Youth committee member", "Women's committee chair", "Organiser", "Branch secretary",
             "Education officer", "Shop steward"]


def person(country, index):
    families, givens, centre = PEOPLE[country]
    return {
        "family_name": families[index % len(families)],
        "given_name": givens[(index // len(families)) % len(givens)],
        "gender": rng.choice(["female", "female", "male", "male", "undisclosed"]),
        "nationality": country,
        "email": f"{uuid.uuid4().hex[:10]}@{centre.lower().replace(' ', '-')}.example.org",
        "languages": ["en"],
        "union": centre,
        "position": rng.choice(POSITIONS),
        "date_of_birth": f"{rng.randint(1984, 1998)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "passport_number": f"{country}{rng.randint(1000000, 9999999)}",
    }


def programme(title_en, title_ja, track, region, seats, quotas, start, end, fiscal_year=FY):
    body = {"fiscal_year": fiscal_year, "title": {"ja": title_ja, "en": title_en},
            "track": track, "region": region, "start_date": start, "end_date": end,
            "seats": seats, "country_quotas": quotas,
            "host_organisations": ["RENGO", "JILAF"], "status": "open"}
    _, doc, _ = call("POST", "/v1/programmes", body, headers={"Idempotency-Key": str(uuid.uuid4())})
    return doc


def move_programme(pid, to):
    _, _, etag = call("GET", f"/v1/programmes/{pid}")
    call("POST", f"/v1/programmes/{pid}/transitions", {"to": to}, headers={"If-Match": etag})


status = {}      # nomination id -> status, as the API answered
country_of = {}  # nomination id -> nationality


def move(nid, to, expect=(200,)):
    _, _, etag = call("GET", f"/v1/nominations/{nid}")
    code, body, _ = call("POST", f"/v1/nominations/{nid}/transitions", {"to": to},
                         headers={"If-Match": etag}, expect=expect)
    if code == 200:
        status[nid] = body["status"]
        for promoted in body.get("promoted", []):
            status[promoted] = "selected"
    return code, body


def nominate(pid, candidate):
    body = {"candidate": candidate,
            "nominating_organisation": {
                "name": candidate["union"], "country": candidate["nationality"],
                # Where notifications' acknowledgement mail goes (see 05-notifications.py).
                "contact_email": f"international@{candidate['nationality'].lower()}-union.example.org"}}
    code, doc, _ = call("POST", f"/v1/programmes/{pid}/nominations", body,
                        headers={"Idempotency-Key": str(uuid.uuid4())}, expect=(201, 409))
    return code, doc


def report():
    return call("GET", f"/v1/reports/fiscal-years/{FY}")[1]


def main():
    before = report()
    earlier = programme("Alumni pilot", "アルムナイ試行", "developing", "Asia", 5, {},
                        f"{FY - 1}-06-01", f"{FY - 1}-06-20", fiscal_year=FY - 1)
    asia = programme("Asia-Pacific Young Trade Union Leaders", "アジア太平洋青年労働組合指導者招へい",
                     "developing", "Asia-Pacific", 24, {c: 2 for c in ASIA},
                     f"{FY}-06-01", f"{FY}-06-20")
    world = programme("Africa, Americas and Europe Union Leaders", "アフリカ・米州・欧州労働組合指導者招へい",
                      "industrialized", "Africa, Americas and Europe", 20, {c: 1 for c in OTHER},
                      f"{FY}-10-05", f"{FY}-10-24")

    # An earlier participant, nominated again this year under another spelling: flagged.
    returning = person("VN", rng.randint(0, 99))
    returning["family_name"], returning["given_name"] = "Hoàng", f"Thị Mai {uuid.uuid4().hex[:4]}"
    returning["katakana_name"] = "ホアン・ティ・マイ"
    nominate(earlier["id"], returning)

    # 60 nominations per programme: 4 per Asian country; 4 or 3 per other country.
    plan = [(asia, c, i) for i in range(4) for c in ASIA]
    plan += [(world, c, i) for i in range(4) for c in OTHER][:60]
    nominated = []
    for index, (prog, country, i) in enumerate(plan):
        candidate = person(country, i)
        if index == 0:
            candidate = dict(returning)
            candidate["family_name"] = returning["family_name"].upper().replace("À", "A")
            candidate["email"] = f"{uuid.uuid4().hex[:10]}@vgcl.example.org"
            candidate["family_name"], candidate["given_name"] = (
                candidate["given_name"], candidate["family_name"])  # order swapped
        code, doc = nominate(prog["id"], candidate)
        while code == 409 and index != 0 and doc.get("existing_nomination_id"):
            # The same name and birth date as someone a previous demo run loaded: another person.
            candidate["date_of_birth"] = person(country, i)["date_of_birth"]
            code, doc = nominate(prog["id"], candidate)
        if code != 201:
            sys.exit(f"demo: nomination {index} refused: {doc}")
        if index == 0 and not doc.get("previous_participation"):
            sys.exit("demo: the returning participant was not flagged")
        status[doc["id"]] = doc["status"]
        country_of[doc["id"]] = country
        nominated.append((prog, doc["id"], candidate))
    # The same person again in the same year, spelled differently: refused with a pointer.
    again = dict(nominated[5][2])
    again["family_name"] = again["family_name"].lower()
    code, problem = nominate(asia["id"], again)
    if code != 409 or problem.get("existing_nomination_id") != nominated[5][1]:
        sys.exit(f"demo: the duplicate was not refused: {problem}")
    print(f"  120 nominations from {len(set(country_of.values()))} countries; 1 duplicate refused",
          file=sys.stderr)
    # The returning participant is found across both years by accented, reordered, upper-case
    # or katakana spellings, and both nominations name the same person.
    suffix = returning["given_name"].split()[-1]
    for q in (f"hoang mai {suffix}", f"MAI {suffix} Hoàng", f"ホアン {suffix}", f"ほあん {suffix}"):
        found = call("GET", "/v1/nominations?q=" + urllib.parse.quote(q))[1]["items"]
        if len(found) != 2 or len({n.get("person_id") for n in found}) != 1:
            sys.exit(f"demo: searching {q!r} found {[n['id'] for n in found]}")
    print("  the returning participant is found by four spellings, one person across two years",
          file=sys.stderr)

    # Screening: a few rejected outright, the rest screened, then selected until a limit says no.
    for n, (prog, nid, _) in enumerate(nominated):
        move(nid, "rejected" if n % 17 == 16 else "screened")
    for prog in (asia, world):
        move_programme(prog["id"], "selection")
    limits = {"seats": 0, "country_quota": 0}
    for prog, nid, _ in nominated:
        if status[nid] != "screened":
            continue
        code, body = move(nid, "selected", expect=(200, 409))
        if code == 409:
            limits[body.get("limit", "other")] = limits.get(body.get("limit", "other"), 0) + 1
            move(nid, "waitlisted")
    print(f"  selection: {sum(s == 'selected' for s in status.values())} selected, "
          f"{sum(s == 'waitlisted' for s in status.values())} waitlisted "
          f"(refused by seats {limits['seats']}, by country quota {limits['country_quota']})",
          file=sys.stderr)

    # Withdrawals free seats: the first eligible waitlisted candidate is promoted each time.
    promotions = 0
    seated = [nid for prog, nid, _ in nominated if prog is asia and status[nid] == "selected"]
    for nid in seated[:3]:
        promotions += len(move(nid, "withdrawn")[1]["promoted"])
    seated_world = [nid for prog, nid, _ in nominated if prog is world and status[nid] == "selected"]
    promotions += len(move(seated_world[0], "withdrawn")[1]["promoted"])

    # The Asia-Pacific programme runs: invitations, visas (one denied), travel, completion.
    for prog, nid, _ in nominated:
        if prog is asia and status[nid] == "selected":
            move(nid, "invited")
    denied = None
    for prog, nid, _ in nominated:
        if prog is asia and status[nid] == "invited":
            move(nid, "visa_applied")
            if denied is None:
                denied = nid
                promotions += len(move(nid, "visa_denied")[1]["promoted"])
            else:
                move(nid, "visa_granted")
    # Whoever the denial promoted still gets invited and a visa.
    for prog, nid, _ in nominated:
        if prog is asia and status[nid] == "selected":
            for to in ("invited", "visa_applied", "visa_granted"):
                move(nid, to)
    move_programme(asia["id"], "confirmed")
    for day, (org, city, topic) in enumerate([
            ("RENGO", "Tokyo", "Japanese industrial relations and shuntō"),
            ("Ministry of Health, Labour and Welfare", "Tokyo", "Labour law and inspection"),
            ("Toyota Motor Workers' Union", "Toyota", "Enterprise unions and labour-management consultation"),
            ("Osaka Rengo", "Osaka", "Regional organising and youth activities")]):
        call("POST", f"/v1/programmes/{asia['id']}/itinerary",
             {"starts_at": f"{FY}-06-{2 + day * 3:02d}T10:00", "organisation": org, "city": city,
              "topic": topic, "interpreter_needed": True},
             headers={"Idempotency-Key": str(uuid.uuid4())})
    granted = [nid for prog, nid, _ in nominated if prog is asia and status[nid] == "visa_granted"]
    for k, nid in enumerate(granted):
        call("PUT", f"/v1/nominations/{nid}/logistics",
             {"arrival": {"flight": f"JL{700 + k}", "airport": "NRT", "at": f"{FY}-05-31T08:30"},
              "departure": {"flight": f"JL{800 + k}", "airport": "NRT", "at": f"{FY}-06-21T11:00"},
              "hotel": {"name": "Hotel East 21", "city": "Tokyo", "check_in": f"{FY}-05-31",
                        "check_out": f"{FY}-06-21"}})
        move(nid, "travel_booked")
    letter = call("GET", f"/v1/nominations/{granted[0]}/documents/invitation-letter?lang=ja")[1]
    if "招へい状".encode() not in letter:
        sys.exit("demo: the Japanese invitation letter is missing its title")
    move_programme(asia["id"], "running")
    for k, nid in enumerate(granted):
        if k == len(granted) - 1:
            move(nid, "no_show")
            continue
        move(nid, "arrived")
        move(nid, "completed")
    completed = [nid for nid in granted if status[nid] == "completed"]

    # Alumni follow-ups: some reports submitted, the rest found overdue by the scan.
    submitted = 0
    for nid in completed[: len(completed) // 2]:
        followups = call("GET", f"/v1/nominations/{nid}/followups")[1]["items"]
        call("POST", f"/v1/followups/{followups[0]['id']}/report",
             {"summary": "Set up a youth network and trained 40 shop stewards.",
              "activities": ["youth network", "steward training"]},
             headers={"Idempotency-Key": str(uuid.uuid4())})
        submitted += 1
    overdue = call("POST", "/v1/admin/followup-scans", {"as_of": f"{FY}-12-31"}, token=ADMIN)[1]
    move_programme(asia["id"], "completed")
    # The second programme is mid-year: a visa under way for its first participants.
    for prog, nid, _ in nominated[:]:
        if prog is world and status[nid] == "selected":
            move(nid, "invited")
            move(nid, "visa_applied")
            break
    print(f"  {promotions} promotions from the waitlist; {len(completed)} completed; "
          f"{submitted} follow-up reports; {overdue['overdue']} follow-ups overdue", file=sys.stderr)

    # The report must have grown by exactly what was loaded.
    after = report()
    seated_states = {"selected", "invited", "visa_applied", "visa_granted", "travel_booked",
                     "arrived", "completed"}
    expected = {"nominated": len(status), "selected": sum(s in seated_states for s in status.values()),
                "completed": sum(s == "completed" for s in status.values())}
    for key, value in expected.items():
        if after[key] - before[key] != value:
            sys.exit(f"demo: report {key} grew by {after[key] - before[key]}, loaded {value}")
    for country in set(country_of.values()):
        ids = [nid for nid, c in country_of.items() if c == country]
        want = {"nominated": len(ids), "selected": sum(status[n] in seated_states for n in ids),
                "completed": sum(status[n] == "completed" for n in ids)}
        got_after = after["by_country"].get(country, {})
        got_before = before["by_country"].get(country, {})
        for key, value in want.items():
            if got_after.get(key, 0) - got_before.get(key, 0) != value:
                sys.exit(f"demo: report by_country {country} {key} does not match what was loaded")
    print(f"  FY{FY} report matches: {expected['nominated']} nominated, {expected['selected']} "
          f"selected, {expected['completed']} completed, completion rate "
          f"{after['completion_rate']:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
