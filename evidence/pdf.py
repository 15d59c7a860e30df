"""HTML to PDF with the Chromium the app already drives for screenshots (Playwright's page.pdf).

The HTML is our own (the case report), rendered with the network cut off all the same: the
same Chromium switches as screenshots (evidence/screenshot.py: a dead proxy, no DNS, no
WebRTC or QUIC), and every request the page makes is aborted, so the report carries its CSS
inline. The browser comes from the same launcher as screenshots (evidence/browser.py:
never as root, in Chromium's sandbox where the host allows it).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.html import escape

from .browser import isolated_context
from .screenshot import CHROMIUM_ARGS

PDF_TIMEOUT_MS = 120_000


@contextmanager
def _context() -> Iterator[Any]:
    """A browser context of a headless Chromium with the network cut off (the screenshots'
    switches), no JavaScript, offline."""
    with isolated_context(
        timeout_ms=PDF_TIMEOUT_MS, args=CHROMIUM_ARGS, java_script_enabled=False, offline=True
    ) as session:
        yield session.context


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
