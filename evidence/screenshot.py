"""Full-page PNG screenshots of pages we already captured, rendered with the network cut off.

The browser never fetches anything. Through Playwright's request interception the page's own
URL is answered from the captured body, every sub-resource request (images, scripts, styles,
fetch/XHR, beacons, pings) is aborted, every later navigation (frames, popups, redirecting
scripts, form posts) is answered 204 No Content so it is cancelled and the document stays, and
WebSockets are answered by a mock that closes them. Page JavaScript cannot reach an internal
address: there is no second fetcher to guard. Interception does not see everything Chromium
does, so there are more layers; the control test in tests/evidence/test_screenshot.py removes
the Chromium switches and shows the page getting out without them:

- a dead proxy (127.0.0.1:9) for every scheme, with loopback no longer bypassing it, and
  resolver rules that resolve no host (IP literals included): preconnects and
  speculation-rules prefetch and prerender, which Playwright never intercepts, go nowhere, and
  there are no DNS lookups. Either of the two stops those connections on its own;
- WebRTC limited to proxied connections, so STUN/TURN cannot send UDP to an internal address;
- QUIC off (WebTransport), service workers blocked, background networking off;
- a Content-Security-Policy on the served page that allows inline styles, inline scripts and
  data: and blob: images and fonts, and nothing that loads from anywhere.

Only HTML is rendered. Sub-resources are not replayed from the WARC (they are blocked), so the
screenshot shows the captured document with its inline styles and scripts only.

The browser itself runs unprivileged and in its sandbox where the host allows it
(evidence/browser.py); which of these applied is returned with the screenshot.
"""

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import browser

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route, WebSocketRoute

CHROMIUM = browser.CHROMIUM
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Chromium's discard port on loopback: nothing useful listens there, so a proxied request
# fails (or, if a discard service runs, disappears).
DEAD_PROXY = "http://127.0.0.1:9"

# Headless in a container, quiet: no GPU or background traffic (the browser tests use these
# too). No --no-sandbox here: evidence/browser.py decides about the sandbox, and Playwright adds
# --no-sandbox by itself for a browser launched without chromium_sandbox=True (the tests').
CHROMIUM_BASE_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHROMIUM_ARGS = (
    *CHROMIUM_BASE_ARGS,
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--metrics-recording-only",
    f"--proxy-server={DEAD_PROXY}",
    # Chromium never proxies loopback unless told so; "<-loopback>" removes that exception.
    "--proxy-bypass-list=<-loopback>",
    # Every host, IP literals included, fails to resolve: no DNS traffic, no direct connection.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--disable-features=Prerender2,DnsOverHttps,MediaRouter,DialMediaRouteProvider,"
    "OptimizationHints,AutofillServerCommunication,InterestFeedContentSuggestions",
)

# Sent with the served page: inline styles and scripts render, nothing loads from anywhere.
PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data: blob:; media-src data: blob:; connect-src 'none'; "
    "frame-src 'none'; child-src 'none'; worker-src 'none'; object-src 'none'; "
    "manifest-src 'none'; form-action 'none'; base-uri 'none'"
)

_PAGE_HEIGHT_JS = (
    "html => Math.max(html.scrollHeight, document.body ? document.body.scrollHeight : 0)"
)


@dataclass(frozen=True)
class Rendered:
    png: bytes
    renderer: str  # who rendered it, in or out of the sandbox: browser.Isolation.describe()


class ScreenshotError(Exception):
    """Rendering failed (timeout, browser crash, a page that will not render)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def screenshots_available() -> bool:
    """Whether Debian's chromium is installed, so take_screenshot() can render."""
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _without_fragment(url: str) -> str:
    return urllib.parse.urldefrag(url).url


@contextlib.contextmanager
def _isolated_context(*, viewport: tuple[int, int], timeout_ms: float) -> Iterator[browser.Session]:
    """The browser, as evidence/browser.py isolates it, with the switches above."""
    with browser.isolated_context(
        timeout_ms=timeout_ms,
        executable=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport={"width": viewport[0], "height": viewport[1]},
        service_workers="block",
        accept_downloads=False,
        java_script_enabled=True,
    ) as session:
        yield session


def take_screenshot(**options: Any) -> bytes | None:
    """The PNG of render_screenshot(**options) alone."""
    rendered = render_screenshot(**options)
    return rendered.png if rendered else None


def render_screenshot(
    *,
    url: str,
    body: bytes,
    content_type: str,
    viewport: tuple[int, int] = (1280, 800),
    timeout_s: float = 20,
    max_height: int = 16000,
) -> Rendered | None:
    """A full-page PNG of a captured HTML page, at most max_height pixels tall, and who
    rendered it.

    Returns None when chromium is not installed or the body is not HTML (text/html,
    application/xhtml+xml): PDFs and images are evidence as they are. Raises ScreenshotError
    when rendering fails.
    """
    if _media_type(content_type) not in HTML_TYPES or not screenshots_available():
        return None
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ScreenshotError(f"only http and https pages can be rendered, not {url!r}")

    from playwright.sync_api import Error as PlaywrightError

    page_url = _without_fragment(url)
    width = viewport[0]
    served: list[str] = []
    page_headers = {
        "Content-Type": content_type,
        "Content-Security-Policy": PAGE_CSP,
        "Cache-Control": "no-store",
    }

    def is_the_page(request: "Request") -> bool:
        # The first main-frame navigation in a fresh profile is our goto(), whatever form
        # Chromium gave its URL (lower-case host, punycode, percent-encoding, a "/" path).
        if served:
            return False
        try:
            return request.frame.parent_frame is None
        except PlaywrightError:  # a popup's request comes before its frame exists
            return False

    def handle(route: "Route") -> None:
        request = route.request
        try:
            if not request.is_navigation_request():
                route.abort("blockedbyclient")
            elif is_the_page(request):
                served.append(request.url)
                route.fulfill(status=200, body=body, headers=page_headers)
            else:
                # A later navigation (a redirecting script, a reload, a frame, a popup): 204 No
                # Content cancels it and the document stays, where an abort would put
                # Chromium's "blocked" error page in the screenshot. Nothing leaves either way.
                route.fulfill(status=204, body=b"")
        except PlaywrightError:
            # The page or browser is closing; the request goes nowhere in any case.
            pass

    def refuse_websocket(websocket: "WebSocketRoute") -> None:
        # Not connecting to the server is what keeps it mocked; closing ends the page's wait.
        websocket.close(code=1008, reason="network is blocked")

    timeout_ms = timeout_s * 1000
    try:
        with _isolated_context(viewport=viewport, timeout_ms=timeout_ms) as session:
            context = session.context
            context.route("**/*", handle)
            context.route_web_socket("**/*", refuse_websocket)
            page = context.pages[0] if context.pages else context.new_page()
            # "commit", then readyState: Playwright's own "load" wait never ends once a
            # script's navigation has been cancelled, though the document did load.
            response = page.goto(page_url, wait_until="commit")
            if response is None or not served:
                raise ScreenshotError("the captured page was not loaded into the browser")
            page.wait_for_function("() => document.readyState === 'complete'")
            if not page.url.startswith(("http:", "https:")):
                raise ScreenshotError(f"the browser showed {page.url} instead of the page")
            # Locator.evaluate takes a timeout (Page.evaluate waits for ever on a busy page).
            height = page.locator("html").evaluate(_PAGE_HEIGHT_JS, timeout=timeout_ms)
            try:
                height = int(height)
            except (TypeError, ValueError):
                height = viewport[1]
            height = max(1, min(height, max_height))
            png = page.screenshot(
                type="png",
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": height},
                animations="disabled",
            )
            return Rendered(png=png, renderer=session.isolation.describe())
    except browser.BrowserUnavailable as exc:
        raise ScreenshotError(f"the page could not be rendered safely: {exc}") from exc
    except PlaywrightError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScreenshotError(f"the page could not be rendered: {message}") from exc
