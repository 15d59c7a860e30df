"""HTML to PDF with the Chromium the app already drives for screenshots (Playwright's page.pdf).

The HTML is our own (the case report), rendered with the network cut off all the same: the
same Chromium switches as screenshots (evidence/screenshot.py: a dead proxy, no DNS, no
WebRTC or QUIC), and every request the page makes is aborted, so the report carries its CSS
inline. `_context()` is the one place that launches Chromium here: where the isolated,
unprivileged launcher exists (evidence/browser.py, isolated_context), it yields that
session's context instead.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.html import escape

from .screenshot import CHROMIUM, CHROMIUM_ARGS

PDF_TIMEOUT_MS = 120_000


@contextmanager
def _context() -> Iterator[Any]:
    """A browser context of a headless Chromium with the network cut off (the screenshots'
    switches), no JavaScript, offline."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(java_script_enabled=False, offline=True)
            try:
                yield context
            finally:
                context.close()
        finally:
            browser.close()


def html_to_pdf(html: str, *, title: str = "") -> bytes:
    """An A4 PDF of `html` (which must carry its styles inline), with page numbers."""
    with _context() as context:
        page = context.new_page()
        page.set_default_timeout(PDF_TIMEOUT_MS)
        page.route("**/*", lambda route: route.abort())
        page.set_content(html, wait_until="load")
        footer = (
            '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
            f"{escape(title)} · page <span class=pageNumber></span> of "
            "<span class=totalPages></span></div>"
        )
        return page.pdf(
            format="A4",
            print_background=True,
            display_header_footer=True,
            header_template="<div></div>",
            footer_template=footer,
            margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
        )
