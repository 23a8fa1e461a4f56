"""Fixtures of the browser tests: Debian's Chromium driven by Playwright.

The browser is /usr/bin/chromium from Debian's package, which
scripts/test.sh installs (with fonts-noto-cjk, so Japanese text renders);
Playwright never downloads a browser of its own here. A missing Chromium
fails the tests with a message: it never skips them.

Pages are served by pytest-django's `live_server` on 127.0.0.1. It runs
every test in a transactional database that is flushed afterwards, so each
test asks for `network` (which re-seeds the organisations) and makes its
own users and companies.

Every page a test opens is watched: a JavaScript error, a console error or
a 4xx/5xx response (a missing static file, say) fails the test. Screenshots
of each step go to var/screenshots/<test-name>-<step>.png.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

# pytest-django's live server binds "localhost" by default; the suite only
# allows sockets to loopback (pytest-socket), and 127.0.0.1 names exactly
# one address whichever way localhost resolves. Read when the session-scoped
# `live_server` starts, so it must be set before any test runs.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = "/usr/bin/chromium"
# Headless, as root, on a machine whose only network is the loopback: the
# background services (updates, sync, QUIC probes) would only try to reach
# the outside and be refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Static files every page of the UI must load (base.html).
REQUIRED_ASSETS = (
    "/static/css/app.css",
    "/static/vendor/htmx/htmx-2.0.11.min.js",
    "/static/js/app.js",
)
# Fail fast: a page of this app answers in well under a second.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Launch Debian's Chromium once for the browser tests.

    Package-scoped, not session-scoped: Playwright's sync API keeps an
    asyncio event loop running in the main thread (its greenlets switch in
    and out of it) for as long as it is open, and Django changes behaviour
    while a loop runs, so the rest of the suite must not run under it.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "Run `bash scripts/test.sh` (it installs it) or "
            "`apt-get install chromium fonts-noto-cjk` as root.",
            pytrace=False,
        )
    # With a loop running, Django's async-safety check raises
    # SynchronousOnlyOperation on every ORM call in the main thread: the
    # tests' factories, the `network` fixture, the flush after each test.
    # Nothing here is async: those calls run synchronously in the main
    # thread and the live server answers in its own thread, so the check is
    # turned off while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
                # While a loop runs, Django keeps the main thread's database
                # connections apart (per context, not per thread): close the
                # ones opened meanwhile, or they outlive the tests and keep
                # the test database from being dropped at the end.
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server, network) -> Iterator[Page]:
    """A fresh browser tab (own cookies) as a Tokyo user with a Japanese browser.

    Fails the test afterwards if any page logged a JavaScript or console
    error or got a 4xx/5xx response.
    """
    context = chromium.new_context(
        viewport=VIEWPORT,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        base_url=live_server.url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    tab = context.new_page()
    # Fetch every file from the live server on every page: a cached copy
    # would hide a static file the server no longer serves, and Chromium
    # leaves memory-cache hits out of the page's resource timings, which
    # assert_assets_loaded reads.
    cdp = context.new_cdp_session(tab)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def on_console(msg) -> None:
        if msg.type == "error" and not _is_favicon(msg.location.get("url", "")):
            problems.append(f"console error: {msg.text} ({msg.location})")

    def on_response(response) -> None:
        if response.status >= 400 and not _is_favicon(response.url):
            problems.append(f"HTTP {response.status} for {response.url}")

    tab.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    tab.on("console", on_console)
    tab.on("response", on_response)

    def on_request_failed(request) -> None:
        # ERR_ABORTED is a request cancelled on purpose: htmx replacing a
        # search still under way (hx-sync), or a page left while loading.
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed: {request.url} ({request.failure})")

    tab.on("requestfailed", on_request_failed)
    yield tab
    context.close()
    if problems:
        pytest.fail(
            "the browser reported problems:\n  " + "\n  ".join(problems),
            pytrace=False,
        )


def _is_favicon(url: str) -> bool:
    # Pages link static/favicon.svg; a browser may still probe /favicon.ico on
    # its own, which is not a resource of the page.
    return urlsplit(url).path == "/favicon.ico"


def assert_assets_loaded(page: Page) -> None:
    """Check that this document loaded the stylesheet, htmx and app.js (HTTP 200).

    Read from the document's own resource timings (the `page` fixture
    turns the browser cache off, so every file is listed).
    """
    page.wait_for_load_state("load")
    statuses = page.evaluate(
        """() => Object.fromEntries(performance.getEntriesByType("resource")
              .map(e => [new URL(e.name).pathname, e.responseStatus]))"""
    )
    for asset in REQUIRED_ASSETS:
        assert statuses.get(asset) == 200, (
            f"{asset} did not load on {page.url}: {statuses}"
        )
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not start"


@pytest.fixture
def shot(request, page) -> Callable[[str], Path]:
    """Return a function saving a full-page screenshot of the current step."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()

    def take(step: str) -> Path:
        path = SCREENSHOTS / f"{name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(page) -> Callable[[str, str], float]:
    """Return a function logging in through the login form; returns seconds taken."""

    def submit(username: str, password: str) -> float:
        started = time.perf_counter()
        page.goto("/login/")
        assert_assets_loaded(page)
        page.get_by_label("ユーザー名").fill(username)
        page.get_by_label("パスワード").fill(password)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(re.compile(r"/$"))
        return time.perf_counter() - started

    return submit
