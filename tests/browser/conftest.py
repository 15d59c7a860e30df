import os
import shutil
from contextlib import contextmanager

import pytest
from django.db import connections

from evidence.screenshot import CHROMIUM, CHROMIUM_BASE_ARGS


@contextmanager
def launch_chromium():
    """Debian's headless chromium driven by Playwright; skips the test without it."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_BASE_ARGS))
            try:
                yield browser
            finally:
                # While Playwright's loop runs, Django keeps this thread's connections per
                # context (asgiref's Local sees a running loop): the ORM calls the test made
                # used a connection of their own, which would otherwise stay open until the
                # test database is dropped.
                connections.close_all()
                browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(live_server):
    """A headless Chromium page at 1280 x 900, collecting JavaScript errors."""
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.js_errors = errors
        yield page
