#!/usr/bin/env python3
"""The four services as a browser sees them (ctest label `browser`, docs/api.md).

Debian's Chromium, headless, driven by Playwright for Python (PyPI; it drives /usr/bin/chromium,
it downloads no browser of its own):

  * portal: a page served from an allowed origin (a static server of this test on another port)
    calls every service with a development token: a GET, a POST with Idempotency-Key (twice: the
    replay and its Idempotent-Replayed header are readable), a GET whose exposed ETag goes back
    in If-Match on a PATCH (or the service's PUT), then the same update again (412). All succeed.
  * the same page from an origin that is not allowed: the browser blocks every call, and nothing
    was created.
  * /docs of each service renders one block per operation of its OpenAPI document (screenshot in
    the output directory), loads nothing from another origin, logs no console error and no
    Content-Security-Policy violation; "Authorize" with the token, then "Try it out" on a list
    operation, gets 200 from the service.

Chromium missing is a failure, not a skip: scripts/test installs it (Debian's `chromium`).

Usage: browser_test.py --repo DIR --build-dir DIR --out DIR
       browser_test.py --fetch     (only install Playwright into the cache)
"""
import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT = "playwright==1.65.2"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import jilaf_http  # noqa: E402  (the project's one HTTP client: honours Retry-After)
from jilaf_services import SERVICES, FourServices, free_port, poll  # noqa: E402

# What the portal page does with each service: a list to GET, a create to POST (twice, with one
# Idempotency-Key), and the update that takes If-Match. Missions and notifications have no PATCH
# on these resources: their If-Match updates are a transition (POST) and a PUT. Routing rules
# are an admin's business, the rest a staff member's.
PORTAL = {
    "invitations": {
        "list": "/v1/programmes",
        "create": {"path": "/v1/programmes", "body": {
            "fiscal_year": 2026, "title": {"ja": "ブラウザ試験", "en": "Browser test"},
            "track": "developing", "region": "Asia", "start_date": "2026-06-01",
            "end_date": "2026-06-20", "seats": 12, "country_quotas": {"VN": 2}, "status": "open"}},
        "update": {"method": "PATCH", "body": {"seats": 14}},
    },
    "projects": {
        "list": "/v1/partners",
        "create": {"path": "/v1/partners", "body": {
            "name": "Federation of Independent Trade Unions", "acronym": "FITU", "country": "KH",
            "kind": "federation", "contact": {"name": "Mr Sok", "email": "sok@example.org"}}},
        "update": {"method": "PATCH", "body": {
            "name": "Federation of Independent Trade Unions", "acronym": "FITU-KH",
            "country": "KH", "contact": {"name": "Mr Sok", "email": "sok@example.org"}}},
    },
    "missions": {
        "list": "/v1/missions",
        "create": {"path": "/v1/missions", "body": {
            "title": {"ja": "調査", "en": "Study"}, "countries": ["KH"],
            "start_date": "2026-05-01", "end_date": "2026-05-09", "objectives": ["wages"]}},
        "update": {"method": "POST", "suffix": "/transitions",
                   "body": {"to": "in_progress", "reason": "delegation left"}},
    },
    "notifications": {
        "role": "admin",
        "list": "/v1/rules",
        # The rule's webhook endpoint is created first (Services.prepare): {"endpoint": id}.
        "create": {"path": "/v1/rules", "body": {
            "name": "Programmes to the partner CRM", "event_type": "jilaf.invitations.*",
            "channel": "webhook", "recipients": []}},
        "update": {"method": "PUT", "body": {
            "name": "Programmes to the partner CRM (renamed)", "event_type": "jilaf.invitations.*",
            "channel": "webhook", "recipients": []}},
    },
}
# The list operation "Try it out" runs on each /docs page.
TRY_IT = {name: spec["list"] for name, spec in PORTAL.items()}


class Failures:
    def __init__(self):
        self.items = []

    def check(self, condition, message):
        if not condition:
            self.items.append(message)
            print("FAIL: " + message, flush=True)
        return condition


# ---- tools ----------------------------------------------------------------------------------

def cache_dir():
    base = os.environ.get("JILAF_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jilaf")
    return os.path.join(base, "browser-tools", PLAYWRIGHT.replace("==", "-"))


def fetch_playwright():
    """Installs Playwright for Python from PyPI into the cache once; returns the directory."""
    target = cache_dir()
    stamp = os.path.join(target, ".jilaf-complete")
    if os.path.exists(stamp):
        return target
    print(f"fetching {PLAYWRIGHT} (pip) into {target}", file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp.", dir=os.path.dirname(target))
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--target", tmp, PLAYWRIGHT], check=True)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(PLAYWRIGHT + "\n")
    return target


# ---- the system under test -------------------------------------------------------------------

class Services(FourServices):
    """The four services, with staff and admin tokens, CORS open to the portal's origin."""

    def __init__(self, build_dir, work, allowed_origin):
        # No broker: the services keep their events in the outbox and stay ready (docs/
        # architecture.md); this test is about HTTP only, and leaves the shared test broker alone.
        extra = {name: ["--cors-allowed-origins", allowed_origin] for name in SERVICES}
        extra["notifications"] += ["--webhook-dev-hosts", "127.0.0.1"]  # prepare()'s webhook
        super().__init__(build_dir, work, f"127.0.0.1:{free_port()}", ("staff", "admin"),
                         "browser", extra)
        self.prepare()

    def prepare(self):
        """What the portal's calls rely on: a webhook endpoint for the notification rule."""
        status, body, _ = jilaf_http.request(
            "POST", self.api["notifications"] + "/v1/webhooks",
            data=json.dumps({"url": f"http://127.0.0.1:{free_port()}/hook",
                             "secret": "whsec_browser_0123456789abcdef"}).encode(),
            headers={"Authorization": "Bearer " + self.tokens["admin"],
                     "Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"POST /v1/webhooks: {status} {body[:300]!r}")
        endpoint = [{"endpoint": json.loads(body)["id"]}]
        PORTAL["notifications"]["create"]["body"]["recipients"] = endpoint
        PORTAL["notifications"]["update"]["body"]["recipients"] = endpoint

    def token(self, name):
        return self.tokens[PORTAL[name].get("role", "staff")]

    def get(self, name, path):
        status, body, _ = jilaf_http.request(
            "GET", self.api[name] + path, headers={"Authorization": "Bearer " + self.token(name)})
        if status != 200:
            raise RuntimeError(f"GET {name} {path}: {status} {body[:300]!r}")
        return json.loads(body)


class StaticSite:
    """tests/browser/portal/ on its own port: one origin."""

    def __init__(self):
        handler = functools.partial(_QuietHandler, directory=os.path.join(HERE, "portal"))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def operation_count(document):
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return sum(1 for item in document["paths"].values() for m in item if m in methods)


# ---- the checks ------------------------------------------------------------------------------

def watch(page, sink):
    """Collects console errors, page errors and CSP violations of `page` into `sink`."""
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));")
    page.on("console", lambda m: sink.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: sink.append("page error: " + str(e)))


def portal_config(services):
    return {name: dict(PORTAL[name], base=services.api[name], token=services.token(name))
            for name in SERVICES}


def check_portal(browser, services, site, f):
    page = browser.new_page()
    console = []
    watch(page, console)
    page.goto(site.origin + "/index.html")
    results = page.evaluate("(config) => window.runPortal(config)",
                            {"services": portal_config(services), "key": "allowed"})
    for name in SERVICES:
        r = results[name]
        where = f"allowed origin, {name}"
        print(f"{where}: " + json.dumps({k: {"status": v.get("status"), "blocked": v.get("blocked")}
                                         for k, v in r.items()}), flush=True)
        if not f.check(not r["list"].get("blocked") and r["list"]["status"] == 200,
                       f"{where}: GET {PORTAL[name]['list']} -> {r['list']}"):
            continue
        if not f.check(r["create"].get("status") == 201,
                       f"{where}: POST with Idempotency-Key -> {r['create']}"):
            continue
        f.check(bool(r["create"]["location"]), f"{where}: Location not readable on the 201")
        f.check(r["replay"].get("status") == 201 and r["replay"].get("replayed") == "true"
                and r["replay"]["body"]["id"] == r["create"]["body"]["id"],
                f"{where}: the replayed POST -> {r['replay']}")
        f.check(r["read"].get("status") == 200 and bool(r["read"].get("etag")),
                f"{where}: GET of the created item, ETag readable -> {r['read']}")
        update = r.get("update", {})
        f.check(update.get("status") == 200 and update.get("etag") not in (None, r["read"]["etag"]),
                f"{where}: {PORTAL[name]['update']['method']} with If-Match -> {update}")
        f.check(r.get("stale", {}).get("status") == 412,
                f"{where}: the same If-Match again -> {r.get('stale')}")
    # Chromium logs every 4xx answer as "Failed to load resource"; the 412s are expected.
    unexpected = [line for line in console if not line.startswith("Failed to load resource")]
    f.check(not unexpected, f"allowed origin: console errors {unexpected}")
    page.close()


def check_refused(browser, services, site, f):
    before = {name: len(services.get(name, PORTAL[name]["list"] + "?page_size=100")["items"])
              for name in SERVICES}
    page = browser.new_page()
    console = []
    watch(page, console)
    page.goto(site.origin + "/index.html")
    results = page.evaluate("(config) => window.runPortal(config)",
                            {"services": portal_config(services), "key": "refused"})
    for name in SERVICES:
        r = results[name]
        f.check(r["list"].get("blocked") is True, f"refused origin, {name}: GET -> {r['list']}")
        f.check(r["create"].get("blocked") is True,
                f"refused origin, {name}: POST -> {r['create']}")
    f.check(any("CORS policy" in line for line in console),
            f"refused origin: no CORS message in the console: {console}")
    page.close()
    for name in SERVICES:
        after = len(services.get(name, PORTAL[name]["list"] + "?page_size=100")["items"])
        f.check(after == before[name],
                f"refused origin, {name}: {after - before[name]} item(s) created behind the block")


def check_docs(browser, services, out, f):
    for name in SERVICES:
        base = services.api[name]
        document = services.get(name, "/openapi.json")
        expected = operation_count(document)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console, foreign = [], []
        watch(page, console)
        page.on("request", lambda req, b=base: foreign.append(req.url)
                if not (req.url.startswith(b + "/") or req.url.startswith("data:")) else None)
        response = page.goto(base + "/docs")
        csp = response.headers.get("content-security-policy", "")
        f.check("script-src 'self'" in csp and "unsafe-inline" not in csp
                and "unsafe-eval" not in csp, f"{name} /docs: Content-Security-Policy {csp!r}")
        try:
            poll(lambda: page.locator(".opblock").count() >= expected,
                 f"{name} /docs to render {expected} operations", timeout=60)
        except RuntimeError as error:
            f.check(False, f"{name} /docs: {error} (rendered {page.locator('.opblock').count()})")
        rendered = page.locator(".opblock").count()
        f.check(rendered == expected, f"{name} /docs: {rendered} operations, document has {expected}")
        f.check(page.locator(".info .title").inner_text().startswith(document["info"]["title"]),
                f"{name} /docs: title")
        page.screenshot(path=os.path.join(out, f"{name}-docs.png"))
        try_it(page, name, services, f)
        page.screenshot(path=os.path.join(out, f"{name}-docs-try-it.png"))
        f.check(not console, f"{name} /docs: console errors or CSP violations {console}")
        f.check(not foreign, f"{name} /docs: requests to other origins {foreign}")
        page.close()


def try_it(page, name, services, f):
    """Authorize with the token, then Try it out + Execute on the list operation: 200."""
    page.locator(".auth-wrapper .authorize").click()
    modal = page.locator(".modal-ux")
    modal.locator("input").first.fill(services.token(name))
    modal.locator("button.authorize").click()
    modal.locator("button.btn-done").click()
    path = TRY_IT[name]
    block = page.locator(f".opblock-get:has(.opblock-summary-path[data-path='{path}'])")
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    try:
        status.wait_for(timeout=30000)
        text = status.inner_text().strip()
    except Exception as error:  # Playwright's TimeoutError: report, keep checking the rest
        text = f"no response ({error})"
    f.check(text.startswith("200"), f"{name} /docs: Try it out on GET {path} -> {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--build-dir")
    parser.add_argument("--out")
    parser.add_argument("--fetch", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, fetch_playwright())
    if args.fetch:
        return 0
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        print(f"FAIL: {CHROMIUM} is missing: install Debian's chromium (scripts/test does)",
              flush=True)
        return 1
    from playwright.sync_api import sync_playwright

    out = args.out
    os.makedirs(out, exist_ok=True)
    f = Failures()
    work = tempfile.mkdtemp(prefix="jilaf-browser.")
    allowed, refused = StaticSite(), StaticSite()
    services = None
    try:
        services = Services(args.build_dir, work, allowed.origin)
        with sync_playwright() as p:
            # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox"])
            try:
                check_portal(browser, services, allowed, f)
                check_refused(browser, services, refused, f)
                check_docs(browser, services, out, f)
            finally:
                browser.close()
    finally:
        if services:
            services.stop()
        allowed.stop()
        refused.stop()
    if f.items:
        print(f"{len(f.items)} failure(s); service logs kept in {work}; screenshots in {out}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"browser checks passed; screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
