"""The one HTTP call every Python client of the project makes (demo loaders, fault suite, bench).

The services answer 429 (rate limit) and 503 (connection cap, not ready) with `Retry-After`, and
docs/api.md tells clients to wait that long and try again. This module does so, within a bound:
at most `attempts` tries and `budget` seconds of waiting in all, after which the last answer is
returned to the caller as it came. Both answers are sent before the request reaches its handler,
so repeating a POST after one of them cannot apply it twice.

Standard library only: the loaders run on Debian's /usr/bin/python3 with nothing installed.
"""
import email.utils
import json
import sys
import time
import urllib.error
import urllib.request

RETRYABLE = (429, 503)
DEFAULT_ATTEMPTS = 20
DEFAULT_BUDGET = 60.0


def retry_after_seconds(value, default=1.0):
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date, RFC 9110)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def with_retry(attempt, attempts=DEFAULT_ATTEMPTS, budget=DEFAULT_BUDGET, sleep=time.sleep,
               label=""):
    """Calls `attempt()` -> (status, body, headers) until its status is not 429/503, the attempts
    are used up, or waiting longer would exceed `budget` seconds. `headers` must support
    .get("Retry-After") (case-insensitive mappings, or a dict with lower-case keys)."""
    waited = 0.0
    for number in range(1, attempts + 1):
        status, body, headers = attempt()
        if status not in RETRYABLE or number == attempts:
            return status, body, headers
        delay = retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))
        delay = min(max(delay, 0.05), 30.0)
        if waited + delay > budget:
            return status, body, headers
        if label:
            print(f"{label}: {status}, retrying after {delay:g} s", file=sys.stderr)
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable")


def request(method, url, data=None, headers=None, timeout=30, attempts=DEFAULT_ATTEMPTS,
            budget=DEFAULT_BUDGET, label=""):
    """One HTTP exchange through urllib, honouring 429/503 + Retry-After.
    Returns (status, raw body bytes, response headers)."""

    def attempt():
        req = urllib.request.Request(url, data=data, method=method)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    return with_retry(attempt, attempts=attempts, budget=budget, label=label)


def json_parts(body=None, token=None, headers=None):
    """(data, headers) of a JSON request: `body` serialised with its Content-Type (None: no
    body), `token` as a bearer Authorization, `headers` added and left unchanged."""
    all_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = "Bearer " + token
    return data, all_headers


def parse_json(raw):
    """The JSON value of a response body; None when it is empty or not JSON (an error page)."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
