"""Schemathesis hooks of tests/schemathesis: the inputs no JSON Schema can describe.

Every hook here stands for a rule that docs/api.md ("The contract is tested") lists; the rest of
each generated request is left as generated.

- `page_token` is opaque: only a token the service issued in `next_page_token` is valid, and any
  other string is 400 by design. Generated values are dropped.
- `Idempotency-Key` must be new for each distinct request (the same key with another body is 422
  by design). Generated keys repeat across cases, so each request gets a fresh one.
- Orders between two fields of one body (an end before its start, an agenda day or a session
  outside the period, a country's quota above the seats, a programme's fiscal year against its
  start date; a corrected period, or a corrected agenda's days, against the record's stored
  dates, sessions and agenda; an education programme moved abroad without a country) and the
  JPY value of an
  amount (whose ceiling depends on the exchange rate) are business rules; the hook puts generated
  values in order and keeps amounts modest.
- A reference to another record (`partner_id` of a project) must name one that exists: the runner
  creates one and passes its id in JILAF_SCHEMATHESIS_PARTNER_ID.
"""
import datetime
import os
import re
import uuid

import schemathesis

DATE = re.compile(r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
RATE = re.compile(r"^(?=[0-9.]*[1-9])[0-9]{1,12}(\.[0-9]{1,10})?$")
# (start, end) pairs whose end may not come before the start.
ORDERED = (("start_date", "end_date"), ("from_date", "to_date"), ("period_from", "period_to"),
           ("starts_at", "ends_at"), ("planned_start", "planned_end"), ("check_in", "check_out"))

# PATCHes whose new period is checked against what the record already holds (its other date, its
# sessions, its agenda): a valid date there may still be refused, so the hook leaves it out.
PERIOD_CORRECTIONS = ("/v1/missions/{id}", "/v1/education-programmes/{id}", "/v1/seminars/{id}")


def _order(body):
    """Puts each (start, end) pair in order, in nested objects too (a hotel's check-in, ...)."""
    for start, end in ORDERED:
        first, last = body.get(start), body.get(end)
        if isinstance(first, str) and isinstance(last, str) and last < first:
            body[start], body[end] = last, first
    for value in body.values():
        if isinstance(value, dict):
            _order(value)


def _date(value):
    if not isinstance(value, str) or DATE.match(value) is None:
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _cap_amount(money):
    """The JPY value of an amount must fit (the ceiling depends on the rate): keep valid amounts
    and rates modest, and leave invalid ones as generated."""
    if not isinstance(money, dict):
        return
    amount, rate = money.get("amount"), money.get("exchange_rate")
    if isinstance(amount, int) and 10**9 < amount <= 10**15:
        money["amount"] = 10**9
    if isinstance(rate, str) and RATE.match(rate) and rate != "1":
        money["exchange_rate"] = "150"


def _fix_body(method, path, body):
    """Only values the schema already accepts are changed: a negative case stays negative."""
    _order(body)
    fiscal_year = body.get("fiscal_year")
    if method == "POST" and path == "/v1/programmes" and isinstance(fiscal_year, int) and (
            1989 <= fiscal_year <= 2100):
        body.pop("fiscal_year")
    seats, quotas = body.get("seats"), body.get("country_quotas")
    if path.startswith("/v1/programmes") and isinstance(seats, int) and isinstance(quotas, dict):
        for country, quota in quotas.items():  # a country's quota is at most the seats
            if isinstance(quota, int) and 1 <= quota and quota > seats >= 1:
                quotas[country] = seats
    if method == "POST" and path == "/v1/seminars" and isinstance(body.get("agenda"), list):
        for item in body["agenda"]:
            if isinstance(item, dict) and _date(item.get("date")) and _date(body.get("start_date")):
                item["date"] = body["start_date"]
    if method == "POST" and path == "/v1/education-programmes" and _date(body.get("start_date")):
        for course in body.get("courses") or []:
            for session in (course.get("sessions") or []) if isinstance(course, dict) else []:
                if isinstance(session, dict) and _date(session.get("date")):
                    session["date"] = body["start_date"]
    if method == "PATCH" and path in PERIOD_CORRECTIONS:
        for key in ("start_date", "end_date"):  # checked against the stored record
            if _date(body.get(key)):
                body.pop(key)
        for item in body.get("agenda") if isinstance(body.get("agenda"), list) else []:
            if isinstance(item, dict) and _date(item.get("date")):
                item.pop("date")  # an agenda day must fall in the stored period (date: optional)
    if method == "PATCH" and path == "/v1/education-programmes/{id}" and (
            body.get("location") == "abroad" and body.get("country") is None):
        body["country"] = "VN"  # held abroad needs a country (the stored one may be absent)
    if path == "/v1/projects/{id}/tranches":
        _cap_amount(body)
    if path == "/v1/projects":
        _cap_amount(body.get("budget"))
    partner = os.environ.get("JILAF_SCHEMATHESIS_PARTNER_ID")
    partner_id = body.get("partner_id")
    if partner and method == "POST" and path == "/v1/projects" and isinstance(partner_id, str) and (
            1 <= len(partner_id) <= 64):
        body["partner_id"] = partner
    # An e-mail rule needs a template per locale for its event type (PUT /v1/templates first).


@schemathesis.hook
def map_case(context, case):
    if case.query and "page_token" in case.query:
        case.query.pop("page_token")
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                case.headers[name] = str(uuid.uuid4())
    if isinstance(case.body, dict):
        _fix_body(case.method.upper(), case.operation.path, case.body)
    return case
