"""The browser suite's harness: a real `liveroom-local` on a free loopback port, Debian's Chromium
driven by Playwright (launched from /usr/bin/chromium, never a downloaded browser), a small client
of the HTTP API for setting a scene up, and a registry of scenarios.

Every page a scenario opens records its JavaScript errors, its console errors (a CSP refusal is
one) and any `alert`/`confirm` dialog: a scenario fails if its pages had any of them, whatever it
asserted itself.
"""

import json
import os
import socket
import subprocess
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "target" / "browser"
CHROMIUM = "/usr/bin/chromium"
ADMIN = "opsadmin"
PASSWORD = "correct horse battery staple"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

SCENARIOS = []


def scenario(fn):
    """Registers a scenario: a function of a `Ctx`, which raises (an `assert`) to fail."""
    SCENARIOS.append(fn)
    return fn


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Api:
    """The HTTP API, as a client calls it (JSON in, JSON out)."""

    def __init__(self, base):
        self.base = base

    def call(self, path, body=None, token=None, expect=200):
        data = json.dumps({} if body is None else body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        parsed = json.loads(text) if text else None
        if expect is not None and status != expect:
            raise ApiError(status, text)
        return parsed

    def get(self, path, headers=None):
        req = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def user(self, name, password=PASSWORD, nick=None):
        """Registers `name` (if new) and returns an access token for it."""
        self.call(
            "/api/v1/live/register",
            {"username": name, "password": password, "nick": nick or name},
            expect=None,
        )
        return self.call("/api/v1/live/login", {"username": name, "password": password})["token"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`liveroom-local` in a fresh data dir, with `admin` in ADMIN_USERS."""

    def __init__(self, binary):
        self.dir = tempfile.TemporaryDirectory(prefix="liveroom-browser-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(self.dir.name) / "server.log", "w+")
        env = dict(os.environ)
        env.update(
            {
                "ADMIN_USERS": ADMIN,
                "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": "1000",
                "ROOM_CREATIONS_PER_USER_PER_MINUTE": "1000",
                "HEARTBEAT_TIMEOUT_SECONDS": "600",
                "ANCHOR_TIMEOUT_SECONDS": "600",
                "RUST_LOG": "warn",
            }
        )
        self.proc = subprocess.Popen(
            [binary, "--addr", f"127.0.0.1:{self.port}", "--data-dir", f"{self.dir.name}/data"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError(f"liveroom-local exited at start:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/api/v1/live/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"liveroom-local did not answer on {self.base}:\n{self.tail()}")

    def tail(self):
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-40:])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()


class Ctx:
    """What a scenario is given: the server's address, the API, the browser, a signed-in admin."""

    def __init__(self, server, browser, name):
        self.base = server.base
        self.api = Api(server.base)
        self.browser = browser
        self.name = name
        self.problems = []
        self.contexts = []
        self.admin = self.api.user(ADMIN)

    def page(self, viewport=DESKTOP):
        """A new page in its own browser context (its own session storage)."""
        context = self.browser.new_context(viewport=viewport, accept_downloads=True)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)

        def on_dialog(dialog):
            self.problems.append(f"a {dialog.type} dialog opened: {dialog.message!r}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        def on_console(message):
            if message.type != "error":
                return
            # An API call answered 4xx is the page's to handle (and the scenario's to check);
            # a file of the page that fails to load, or a CSP refusal, is a problem.
            url = (message.location or {}).get("url", "")
            path = urllib.parse.urlsplit(url).path
            own = path.startswith(("/console", "/docs", "/favicon"))
            if message.text.startswith("Failed to load resource") and not own:
                return
            self.problems.append(f"console error: {message.text} ({url})")

        page.on("console", on_console)
        return page

    def sign_in(self, page, username=ADMIN, password=PASSWORD):
        page.goto(self.base + "/console")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()

    def shot(self, page, label, full_page=True):
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{label}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self):
        for c in self.contexts:
            c.close()


def run(binary, only=()):
    """Runs every registered scenario (or those named in `only`); returns (passed, failed)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    server = Server(binary)
    passed, failed = 0, 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            for fn in SCENARIOS:
                if only and fn.__name__ not in only:
                    continue
                ctx = Ctx(server, browser, fn.__name__)
                started = time.monotonic()
                try:
                    fn(ctx)
                    if ctx.problems:
                        raise AssertionError("; ".join(ctx.problems))
                    passed += 1
                    print(f"browser {fn.__name__} ... ok ({time.monotonic() - started:.1f}s)")
                except Exception:
                    failed += 1
                    print(f"browser {fn.__name__} ... FAILED")
                    traceback.print_exc()
                    for c in ctx.contexts:
                        for i, pg in enumerate(c.pages):
                            try:
                                ctx.shot(pg, f"failed-{i}")
                            except Exception:
                                pass
                finally:
                    ctx.close()
            browser.close()
    finally:
        if failed:
            print("server log (last lines):\n" + server.tail())
        server.stop()
    return passed, failed
