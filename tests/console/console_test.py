#!/usr/bin/env python3
"""The staff console in a real browser (ctest labels `console` and `idp`, docs/console.md).

Debian's Chromium, headless, driven by Playwright for Python, against the real stack: the four
services on the test Kafka broker, trusting the test Keycloak's realm, with the demo year loaded
by scripts/demo; the console built by scripts/lib/console.sh and served by nginx with its
same-origin proxy. The journeys:

  * sign in as staff through Keycloak (authorization code + PKCE);
  * find a demo invitee by name;
  * select a screened nomination and see the seat count change; select beyond the seats and see
    the refusal naming the limit; withdraw a seated participant and see the waitlisted one
    promoted; see the inbox item of that withdrawal arrive (through Kafka and notifications);
  * open a guarantor letter;
  * see a tranche held by a missing progress report, fail to approve it, approve the report,
    then approve the tranche;
  * switch to Japanese and see the screen translated;
  * sign in as a viewer: no write buttons, personal data masked.

Every screen is screenshotted into --out, checked by axe-core (no serious or critical
violation) and watched for console errors and Content-Security-Policy violations. The time each
screen takes to become interactive (performance timeline) and the first load's gzipped
JavaScript are printed; the JavaScript must stay within 250 KB gzipped.

Usage: console_test.py --repo DIR --build-dir DIR --out DIR
Needs JILAF_TEST_KAFKA_BOOTSTRAP, JILAF_TEST_KAFKA_CTL and JILAF_TEST_KEYCLOAK_URL (scripts/test
sets them).
"""
import argparse
import datetime
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "browser"))
import jilaf_http  # noqa: E402  (the project's one HTTP client: honours Retry-After)
from browser_test import CHROMIUM, Failures, fetch_playwright, watch  # noqa: E402
from jilaf_procs import stop  # noqa: E402
from jilaf_services import SERVICES, FourServices, free_port, poll  # noqa: E402

JS_BUDGET = 250 * 1024
OIDC_FLAGS = [
    "--oidc-audience", "jilaf-backoffice",
    "--oidc-role-claims", "realm_access.roles,resource_access.jilaf-backoffice.roles",
    "--oidc-role-map", "jilaf-viewer=viewer,jilaf-staff=staff,jilaf-admin=admin,"
                       "jilaf-service=service",
    "--oidc-user-id-claim", "preferred_username",
    "--oidc-refresh-min-s", "10",
]


def tokyo_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=9)).date()


# The consumer groups of the console's missions and notifications, and the topics each reads.
GROUP_TOPICS = {
    "console-missions-{}": ["jilaf.invitations.events"],
    "console-missions-{}-people": ["jilaf.invitations.events", "jilaf.missions.events"],
    "console-missions-{}-person-records": ["jilaf.invitations.people"],
    "console-notifications-{}": ["jilaf.invitations.events", "jilaf.projects.events",
                                 "jilaf.missions.events"],
    "console-notifications-{}-people": ["jilaf.invitations.people"],
}


def start_groups_at_the_end(suffix):
    """Creates the console's consumer groups at the end of the shared broker's topics. A new
    group would otherwise replay every event the earlier tests wrote: tens of thousands of inbox
    items, among which the journeys' own would not be on the inbox's first page."""
    ctl = os.environ["JILAF_TEST_KAFKA_CTL"]
    for group, topics in GROUP_TOPICS.items():
        for topic in topics:
            subprocess.run([ctl, "reset-offsets", group.format(suffix), topic, "latest"],
                           check=True, stdout=subprocess.DEVNULL)


class Stack(FourServices):
    """The four services on the test broker, trusting the test Keycloak, with their own
    consumer groups (the broker is shared with other tests)."""

    def __init__(self, build_dir, work, brokers, keycloak):
        suffix = uuid.uuid4().hex[:8]
        oidc = ["--oidc-issuer", keycloak + "/realms/jilaf"] + OIDC_FLAGS
        extra = {name: list(oidc) for name in SERVICES}
        extra["projects"] += ["--overdue-scan-interval-ms", "1000"]
        extra["missions"] += ["--consumer-group", "console-missions-" + suffix]
        extra["notifications"] += ["--consumer-group", "console-notifications-" + suffix]
        start_groups_at_the_end(suffix)
        super().__init__(build_dir, work, brokers, ("staff", "admin"), "console", extra)

    def call(self, service, method, path, body=None, role="staff", if_match=None, expect=None):
        headers = {"Authorization": "Bearer " + self.tokens[role]}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = uuid.uuid4().hex
        if if_match:
            headers["If-Match"] = if_match
        status, raw, response_headers = jilaf_http.request(method, self.api[service] + path, data,
                                                           headers)
        if expect and status not in expect:
            raise RuntimeError(f"{method} {service} {path}: {status} {raw[:400]!r}")
        return status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw), \
            response_headers.get("ETag")

    def move(self, service, path, to, role="staff", **extra):
        _, _, etag = self.call(service, "GET", path, role=role, expect=(200,))
        return self.call(service, "POST", path + "/transitions", dict(extra, to=to), role=role,
                         if_match=etag, expect=(200,))[1]


class Fixtures:
    """What the journeys act on, made through the public APIs: a programme of two seats with
    three screened candidates, and a financed project whose tranche a missing report holds."""

    def __init__(self, stack):
        fy = 2026
        tag = uuid.uuid4().hex[:4]
        programme = stack.call("invitations", "POST", "/v1/programmes", {
            "fiscal_year": fy, "title": {"ja": f"コンソール試験 {tag}", "en": f"Console trial {tag}"},
            "track": "developing", "region": "Asia", "start_date": f"{fy}-11-01",
            "end_date": f"{fy}-11-20", "seats": 2, "country_quotas": {"VN": 2, "KH": 2},
            "status": "open"}, expect=(201,))[1]
        self.programme = programme["id"]
        people = [("Trần", "Thị Hoa", "VN"), ("Sok", "Dara", "KH"), ("Lê", "Minh Châu", "VN")]
        self.nominations, self.names = [], []
        for i, (family, given, country) in enumerate(people):
            given = f"{given} {tag}{i}"
            doc = stack.call("invitations", "POST", f"/v1/programmes/{self.programme}/nominations", {
                "candidate": {"family_name": family, "given_name": given, "gender": "female",
                              "date_of_birth": f"199{i}-04-0{i + 1}", "nationality": country,
                              "email": f"console-{tag}-{i}@example.org", "languages": ["en"],
                              "union": "Test union", "position": "Organiser",
                              "passport_number": f"{country}{7654320 + i}"},
                "nominating_organisation": {"name": "Test centre", "country": country,
                                            "contact_email": "centre@example.org"}},
                expect=(201,))[1]
            self.nominations.append(doc["id"])
            self.names.append((family, given))
            stack.move("invitations", f"/v1/nominations/{doc['id']}", "screened")
        stack.move("invitations", f"/v1/programmes/{self.programme}", "selection")
        self.project, self.tranche, self.report = self.held_tranche(stack, tag)

    @staticmethod
    def held_tranche(stack, tag):
        today = tokyo_today()
        partner = stack.call("projects", "POST", "/v1/partners", {
            "name": f"Console Federation {tag}", "acronym": "CF", "country": "KH",
            "kind": "federation", "contact": {"name": "Ms Chan", "email": "chan@example.org"}},
            expect=(201,))[1]
        start = today - datetime.timedelta(days=60)
        project = stack.call("projects", "POST", "/v1/projects", {
            "title": {"ja": f"労働安全衛生 {tag}", "en": f"Safety at work {tag}"}, "country": "KH",
            "partner_id": partner["id"], "area": "occupational_safety_health",
            "support_type": "financing", "description": "Console journey",
            "funding_source": "grant", "start_date": start.isoformat(),
            "end_date": (today + datetime.timedelta(days=300)).isoformat(),
            "budget": {"amount": 5000000, "currency": "JPY"}}, expect=(201,))[1]
        path = f"/v1/projects/{project['id']}"
        stack.move("projects", path, "under_review")
        # A second person approves (separation of duties: the author may not).
        stack.call("projects", "POST", path + "/reviews", {"decision": "approve",
                                                          "comment": "sound plan"},
                   role="admin", expect=(201,))
        stack.move("projects", path, "approved")
        report = stack.call("projects", "POST", path + "/reports", {
            "kind": "progress", "due_date": (today - datetime.timedelta(days=2)).isoformat(),
            "title": "First quarter"}, expect=(201,))[1]
        tranche = stack.call("projects", "POST", path + "/tranches", {
            "amount": 1200000, "currency": "JPY",
            "planned_date": (today + datetime.timedelta(days=20)).isoformat()},
            expect=(201,))[1]
        return project["id"], tranche["id"], report["id"]


def allow_origin(keycloak, origin):
    """Adds `origin` to the web origins of the realm's portal client (Keycloak's admin API), so
    the console on this test's free port may call the token endpoint (CORS). The realm file
    lists only scripts/run's console origin; a wildcard port is no web origin to Keycloak."""
    status, raw, _ = jilaf_http.request(
        "POST", keycloak + "/realms/master/protocol/openid-connect/token",
        urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli",
                                "username": "admin", "password": "admin"}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"Keycloak admin token: {status} {raw[:300]!r}")
    auth = {"Authorization": "Bearer " + json.loads(raw)["access_token"]}
    base = keycloak + "/admin/realms/jilaf/clients"
    status, raw, _ = jilaf_http.request("GET", base + "?clientId=jilaf-portal", None, auth)
    client = json.loads(raw)[0]
    client["webOrigins"] = sorted(set(client.get("webOrigins", [])) | {origin})
    status, raw, _ = jilaf_http.request("PUT", f"{base}/{client['id']}",
                                        json.dumps(client).encode(),
                                        dict(auth, **{"Content-Type": "application/json"}))
    if status != 204:
        raise RuntimeError(f"Keycloak: updating jilaf-portal's web origins: {status} {raw[:300]!r}")


class Console:
    """The console built into the build tree and served by nginx on a free port."""

    def __init__(self, repo, build_dir, work, stack, keycloak):
        self.static = os.path.join(os.path.abspath(build_dir), "web", "console")
        lib = os.path.join(repo, "scripts", "lib", "console.sh")
        subprocess.run(["bash", lib, "build", self.static], check=True)
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.dir = os.path.join(work, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        config = os.path.join(self.dir, "config.json")
        subprocess.run(["bash", lib, "config-json", config, keycloak + "/realms/jilaf",
                        "jilaf-portal"], check=True)
        subprocess.run(["bash", lib, "nginx-conf", self.dir, str(self.port), self.static, config]
                       + [stack.api[name] for name in SERVICES] + [keycloak], check=True)
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-e",
                                      os.path.join(self.dir, "logs", "error.log"), "-c",
                                      os.path.join(self.dir, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            poll(self.ready, "nginx serving the console", timeout=30)
        except BaseException:
            self.stop()
            raise

    def ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: see {self.dir}/logs/error.log")
        try:
            status, _, _ = jilaf_http.request("GET", self.origin + "/config.json", attempts=1)
            return status == 200
        except OSError:
            return False

    def first_load_js(self):
        """Bytes of JavaScript index.html loads (scripts and module preloads), gzipped."""
        with open(os.path.join(self.static, "index.html"), encoding="utf-8") as f:
            html = f.read()
        total = 0
        for src in re.findall(r'(?:src|href)="\.?/?(assets/[^"]+\.js)"', html):
            with open(os.path.join(self.static, src), "rb") as js:
                total += len(gzip.compress(js.read(), 9))
        return total

    def stop(self):
        stop(self.proc, timeout=10, sig=signal.SIGQUIT)  # nginx's graceful quit


class Journey:
    """One signed-in browser context: screenshots, axe and timings for each screen."""

    def __init__(self, browser, console, out, f, axe, who):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="en-GB")
        self.context.add_init_script(path=axe)  # through DevTools: the page's CSP stays whole
        self.page = self.context.new_page()
        self.errors = []
        watch(self.page, self.errors)
        self.console, self.out, self.f, self.who = console, out, f, who

    def sign_in(self, user):
        page = self.page
        page.goto(self.console.origin + "/#/nominations")
        page.get_by_role("button", name="Sign in with the identity provider").click()
        page.wait_for_selector("#username", timeout=30000)
        page.fill("#username", user)
        page.fill("#password", user + "-password")
        page.click("#kc-login")
        page.wait_for_selector("nav[aria-label=main]", timeout=30000)
        self.f.check(user in page.locator(".who").inner_text(),
                     f"{self.who}: signed in as {user}: {page.locator('.who').inner_text()}")

    def screen(self, name, hash_path, ready_selector, fresh=True):
        """Opens a screen, waits until it shows `ready_selector`, then measures, checks and
        screenshots it."""
        page = self.page
        if fresh:
            page.goto(self.console.origin + "/" + hash_path)
            page.reload()  # a full load of this screen, so the timeline measures it alone
        else:
            page.evaluate(f"location.hash = {json.dumps(hash_path)}")
        page.wait_for_selector(ready_selector, timeout=30000)
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            return {dom: nav ? Math.round(nav.domInteractive) : null,
                    ready: Math.round(performance.now())};
        }""")
        if fresh:
            print(f"time to interactive, {self.who} {name}: DOM {timing['dom']} ms, "
                  f"screen with data {timing['ready']} ms", flush=True)
        self.axe(name)
        page.screenshot(path=os.path.join(self.out, f"{self.who}-{name}.png"), full_page=True)

    def axe(self, name):
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
                    .map(n => n.target.join(' ')).join(', '));
        }""")
        self.f.check(not result, f"{self.who} {name}: axe violations {result}")

    def run(self, journey, *args):
        """Runs a journey; a step that times out is a failure, with the page kept as a PNG."""
        try:
            journey(self, *args)
        except Exception as error:  # Playwright's TimeoutError among others: report, go on
            path = os.path.join(self.out, f"{self.who}-failure.png")
            self.page.screenshot(path=path, full_page=True)
            self.f.check(False, f"{self.who}: {type(error).__name__}: {error} (page: {path}, "
                                f"at {self.page.url}; console: {self.errors})")

    def close(self):
        # Chromium logs each 4xx answer as "Failed to load resource"; the journeys provoke some.
        unexpected = [e for e in self.errors if not e.startswith("Failed to load resource")]
        self.f.check(not unexpected, f"{self.who}: console errors or CSP violations {unexpected}")
        self.context.close()


def inbox_has(stack, subject, event_type):
    _, page, _ = stack.call("notifications", "GET", "/v1/inbox?unread=true&page_size=200",
                            expect=(200,))
    return any(i.get("event", {}).get("subject") == "nominations/" + subject
               and i.get("event", {}).get("type") == event_type for i in page["items"])


def download(page, button):
    """Clicks a download button; the file's text (UTF-8, its byte order mark dropped)."""
    with page.expect_download() as info:
        button.click()
    with open(info.value.path(), encoding="utf-8-sig") as f:
        return f.read()


def stale_and_busy(j, stack, fx, f):
    """A record changed behind the screen's back (412: reload offered), and a service that
    answers 429 once (the console says it waits, then shows the screen)."""
    page, b = j.page, fx.nominations[1]
    page.evaluate(f"location.hash = '#/nominations/{b}'")
    page.wait_for_selector(f"h1:has-text('{fx.names[1][1]}')")
    _, _, etag = stack.call("invitations", "GET", f"/v1/nominations/{b}", expect=(200,))
    stack.call("invitations", "PATCH", f"/v1/nominations/{b}",
               {"candidate": {"position": "Branch chair"}}, if_match=etag, expect=(200,))
    page.click("button[data-to=invited]")
    page.get_by_role("button", name="Reload the record").click()
    page.wait_for_selector("dd:has-text('Branch chair')")
    f.check(stack.call("invitations", "GET", f"/v1/nominations/{b}")[1]["status"] == "selected",
            "the stale transition was applied")

    answered = []

    def busy_once(route):
        if answered:
            route.continue_()
            return
        answered.append(route.request.url)
        route.fulfill(status=429, headers={"Retry-After": "2",
                                           "Content-Type": "application/problem+json"},
                      body=json.dumps({"type": "/problems/too-many-requests", "status": 429,
                                       "title": "Too many requests"}))

    page.route("**/api/invitations/v1/programmes?*", busy_once)
    page.evaluate("location.hash = '#/programmes?fy=2026'")
    page.wait_for_selector("p.notice:has-text('trying again in 2 s')")
    page.wait_for_selector(".bar-row")
    page.unroute("**/api/invitations/v1/programmes?*")
    f.check(len(answered) == 1, f"the 429 was not met: {answered}")


def staff_journeys(j, stack, fx, f):
    page = j.page
    j.sign_in("staff")
    # A demo invitee by name: the returning participant, accents folded.
    j.screen("nominations", "#/nominations?q=hoang", "table.grid tbody tr")
    f.check("Hoàng" in page.locator("table.grid tbody").inner_text(),
            "search 'hoang' did not list the demo's Hoàng")
    f.check("Hoàng" in download(page, page.get_by_role("button", name="Download CSV")),
            "the nominations CSV of the search lacks Hoàng")
    j.screen("programme-year", "#/programmes?fy=2026", ".bar-row")

    a, b, c = fx.nominations
    seats = page.locator("[data-testid=seats]")
    j.screen("nomination", f"#/nominations/{a}", "[data-testid=seats]")
    f.check(seats.inner_text() == "0 of 2 seats", f"seats before: {seats.inner_text()}")
    page.click("button[data-to=selected]")
    page.wait_for_selector("text=1 of 2 seats")
    page.evaluate(f"location.hash = '#/nominations/{b}'")
    page.wait_for_selector(f"h1:has-text('{fx.names[1][1]}')")
    page.click("button[data-to=selected]")
    page.wait_for_selector("text=2 of 2 seats")
    page.evaluate(f"location.hash = '#/nominations/{c}'")
    page.wait_for_selector(f"h1:has-text('{fx.names[2][1]}')")
    page.click("button[data-to=selected]")
    refusal = page.locator(".error[role=alert]")
    refusal.wait_for()
    text = refusal.inner_text()
    f.check("seats" in text and "2" in text, f"refusal beyond the seats: {text!r}")
    j.screen("refusal", f"#/nominations/{c}", ".error[role=alert]", fresh=False)
    page.click("button[data-to=waitlisted]")
    page.wait_for_selector("ol.waitlist li")

    stale_and_busy(j, stack, fx, f)

    # Withdraw a seated one: the reason is asked, the waitlisted one is promoted.
    page.evaluate(f"location.hash = '#/nominations/{a}'")
    page.wait_for_selector(f"h1:has-text('{fx.names[0][1]}')")
    page.click("button[data-to=withdrawn]")
    page.fill("#reason", "family emergency")
    page.click("form.reason button[type=submit]")
    promoted = page.locator("p.ok")
    promoted.wait_for()
    f.check(fx.names[2][1] in promoted.inner_text(), f"promotion message: {promoted.inner_text()!r}")
    f.check(stack.call("invitations", "GET", f"/v1/nominations/{c}")[1]["status"] == "selected",
            "the waitlisted nomination was not promoted")
    j.screen("withdrawn", f"#/nominations/{a}", "ol.history li", fresh=False)

    # The withdrawal reaches the inbox through Kafka and notifications (the screen polls).
    page.evaluate("location.hash = '#/inbox'")
    poll(lambda: inbox_has(stack, a, "jilaf.invitations.nomination.withdrawn"),
         "notifications to put the withdrawal in the staff inbox", timeout=180)
    item = page.locator(f"li[data-subject='nominations/{a}']"
                        "[data-event='jilaf.invitations.nomination.withdrawn']")
    item.wait_for(timeout=30000)
    j.screen("inbox", "#/inbox", f"li[data-subject='nominations/{a}']", fresh=False)
    item.get_by_role("button", name="Mark read").click()
    page.wait_for_selector(f"li.read[data-subject='nominations/{a}'][data-event$='withdrawn']")

    # A guarantor letter opens for printing.
    page.evaluate(f"location.hash = '#/nominations/{b}'")
    page.wait_for_selector(f"h1:has-text('{fx.names[1][1]}')")
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name="Guarantor letter", exact=True).click()
    letter = popup_info.value
    poll(lambda: fx.names[1][0] in letter.evaluate("document.body ? document.body.innerText : ''"),
         "the guarantor letter to name the participant", timeout=30)
    letter.screenshot(path=os.path.join(j.out, "staff-guarantor-letter.png"), full_page=True)
    letter.close()
    # The full passport number only as a recorded act, with its reason.
    page.fill("#disclosure", "visa application at the embassy in Tokyo")
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name="Guarantor letter with the full passport number").click()
    letter = popup_info.value
    poll(lambda: "KH7654321" in letter.evaluate("document.body ? document.body.innerText : ''"),
         "the guarantor letter to carry the full passport number", timeout=30)
    letter.close()
    page.reload()
    page.wait_for_selector("ul.disclosures li:has-text('visa application at the embassy')")

    # A tranche held by an overdue progress report, released by approving the report.
    j.screen("project", f"#/projects/{fx.project}", "[data-testid=held]")
    row = page.locator(f"tr[data-tranche='{fx.tranche}']")
    row.locator("button[data-to=requested]").click()
    page.wait_for_selector(f"tr[data-tranche='{fx.tranche}'] .s-requested")
    row.locator("button[data-to=approved]").click()
    held = page.locator(".error[role=alert]")
    held.wait_for()
    f.check("progress report" in held.inner_text(), f"tranche approval refusal: {held.inner_text()!r}")
    report = page.locator(f"tr[data-report='{fx.report}']")
    report.locator("button[data-to=submitted]").click()
    report.locator("button[data-to=approved]").wait_for()
    report.locator("button[data-to=approved]").click()
    page.wait_for_selector(f"tr[data-report='{fx.report}'] .s-approved")
    f.check(page.locator("[data-testid=held]").count() == 0, "the tranche still shows as held")
    row.locator("button[data-to=approved]").click()
    page.wait_for_selector(f"tr[data-tranche='{fx.tranche}'] .s-approved")
    j.screen("project-released", f"#/projects/{fx.project}", ".bar-row")

    j.screen("missions", "#/missions?fy=2026", "#seminars")
    page.locator("section[aria-labelledby=education] a").first.click()
    page.wait_for_selector("table.attendance tbody tr")
    f.check(page.locator("table.attendance td.present").count() > 0,
            "the demo's completed course shows no attendance")
    f.check(page.locator("section[aria-labelledby=certificates] li").count()
            > 0, "the demo's completed course shows no certificate")
    j.screen("education", page.evaluate("location.hash"), "table.attendance", fresh=False)
    page.evaluate("location.hash = '#/missions?fy=2026'")
    page.locator("section[aria-labelledby=seminars] a").first.click()
    page.wait_for_selector("section[aria-labelledby=registrations] table tbody tr")
    j.screen("seminar", page.evaluate("location.hash"), "section[aria-labelledby=registrations]",
             fresh=False)
    j.screen("reports", "#/reports?fy=2026", "canvas[data-ready=true]")
    csv = download(page, page.get_by_role("button", name="Download CSV").first)
    f.check(csv.startswith(",Nominated,Selected,Completed") and "Vietnam" in csv,
            f"the invitations report CSV: {csv[:200]!r}")
    j.screen("people", "#/people?q=hoang", "main ul li a")
    page.locator("main ul li a").first.click()
    page.wait_for_selector("ol.timeline li")
    j.screen("person", page.evaluate("location.hash"), "ol.timeline li")

    # Japanese: the same screen translated, remembered across a reload.
    j.screen("nomination-en", f"#/nominations/{b}", "[data-testid=seats]")
    page.locator("button.lang").click()  # labelled 日本語
    page.wait_for_selector("text=定員 2 席中 2 席")
    page.reload()
    page.wait_for_selector("h2:has-text('状態の履歴')")
    f.check(page.locator("nav[aria-label=main]").inner_text().startswith("推薦"),
            "the navigation is not in Japanese")
    f.check(page.evaluate("document.documentElement.lang") == "ja", "html lang is not ja")
    j.screen("nomination-ja", f"#/nominations/{b}", "[data-testid=seats]", fresh=False)
    j.screen("programme-year-ja", "#/programmes?fy=2026", ".bar-row")
    page.locator("button.lang").click()  # back to English


def viewer_journey(j, fx, f):
    page = j.page
    j.sign_in("viewer")
    f.check("Read only" in page.locator(".who").inner_text(), "viewer: no read-only mark")
    b = fx.nominations[1]
    j.screen("nomination", f"#/nominations/{b}", "[data-testid=seats]")
    f.check(page.locator("button[data-to]").count() == 0, "viewer: transition buttons shown")
    f.check(page.get_by_role("button", name="Guarantor letter").count() == 0,
            "viewer: letter buttons shown")
    f.check(page.locator(".masked").count() >= 3, "viewer: personal data not shown as masked")
    body = page.locator("main").inner_text()
    f.check("example.org" not in body and "765432" not in body,
            "viewer: an e-mail or passport number is visible")
    j.screen("project", f"#/projects/{fx.project}", "#tranches")
    f.check(page.locator("button[data-to]").count() == 0, "viewer: tranche/report buttons shown")
    # A token the services no longer accept (401): the console asks to sign in again.
    page.route("**/api/projects/v1/projects/*",
               lambda route: route.fulfill(status=401, headers={
                   "Content-Type": "application/problem+json"},
                   body=json.dumps({"type": "/problems/unauthorized", "status": 401})))
    page.reload()
    page.wait_for_selector("text=Your sign-in has expired. Sign in again.")
    f.check(page.get_by_role("button", name="Sign in with the identity provider").count() == 1,
            "after a 401 the sign-in is not offered")
    page.unroute("**/api/projects/v1/projects/*")


def load_demo(repo, stack):
    # The admin, a second person, approves proposals and pays tranches (separation of duties).
    env = dict(os.environ, JILAF_DEMO_TOKEN=stack.tokens["staff"],
               JILAF_DEMO_ADMIN_TOKEN=stack.tokens["admin"],
               JILAF_DEMO_REVIEWER_TOKEN=stack.tokens["admin"], JILAF_DEMO_FISCAL_YEAR="2026")
    for name in SERVICES:
        env[f"JILAF_{name.upper()}_URL"] = stack.api[name]
    subprocess.run([os.path.join(repo, "scripts", "demo")], env=env, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, fetch_playwright())
    brokers = os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP")
    keycloak = os.environ.get("JILAF_TEST_KEYCLOAK_URL")
    if not brokers or not keycloak or not os.environ.get("JILAF_TEST_KAFKA_CTL"):
        print("FAIL: JILAF_TEST_KAFKA_BOOTSTRAP, JILAF_TEST_KAFKA_CTL and JILAF_TEST_KEYCLOAK_URL "
              "must be set "
              "(run through scripts/test)", flush=True)
        return 1
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        print(f"FAIL: {CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
        return 1
    from playwright.sync_api import sync_playwright
    os.makedirs(args.out, exist_ok=True)
    f = Failures()
    work = tempfile.mkdtemp(prefix="jilaf-console.")
    os.chmod(work, 0o755)  # nginx's workers (user nobody when run as root) read config.json
    stack = console = None
    try:
        stack = Stack(args.build_dir, work, brokers, keycloak)
        load_demo(args.repo, stack)
        fx = Fixtures(stack)
        console = Console(args.repo, args.build_dir, work, stack, keycloak)
        allow_origin(keycloak, console.origin)
        js = console.first_load_js()
        print(f"first-load JavaScript: {js / 1024:.1f} KB gzipped (budget 250 KB)", flush=True)
        f.check(0 < js <= JS_BUDGET, f"first-load JavaScript {js} bytes gzipped")
        # axe-core comes with the console's pinned npm packages (package-lock.json).
        axe = os.path.join(args.repo, "web", "console", "node_modules", "axe-core", "axe.min.js")
        with sync_playwright() as p:
            # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox"])
            try:
                staff = Journey(browser, console, args.out, f, axe, "staff")
                staff.run(staff_journeys, stack, fx, f)
                staff.close()
                viewer = Journey(browser, console, args.out, f, axe, "viewer")
                viewer.run(viewer_journey, fx, f)
                viewer.close()
            finally:
                browser.close()
    finally:
        if console:
            console.stop()
        if stack:
            stack.stop()
    if f.items:
        print(f"{len(f.items)} failure(s); logs kept in {work}; screenshots in {args.out}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"console checks passed; screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
