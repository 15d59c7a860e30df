"""Screenshots of captured pages, rendered by Debian's chromium with the network cut off.

The isolation tests serve a hostile page "from" a real HTTP server on 127.0.0.1 that records
every connection it accepts, next to a UDP socket that records every datagram (STUN, QUIC).
The page tries every way out we know of; the server and the socket must hear nothing. Two
control tests remove one layer each and show the leak it stops, so no layer is decoration.
"""

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evidence import screenshot
from evidence.screenshot import ScreenshotError, screenshots_available, take_screenshot

browser = pytest.mark.browser
needs_chromium = pytest.mark.skipif(
    not Path(screenshot.CHROMIUM).exists(),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GREEN = (0, 128, 0)


# --- Reading our PNGs without Pillow ----------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def png_top_rows(png: bytes, rows: int) -> list[list[tuple[int, int, int]]]:
    """The RGB pixels of the first rows (8-bit RGB or RGBA, non-interlaced)."""
    width, _ = png_size(png)
    bit_depth, color_type, interlace = png[24], png[25], png[28]
    assert bit_depth == 8 and color_type in (2, 6) and interlace == 0
    channels = 3 if color_type == 2 else 4
    idat, offset = b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    stride = width * channels
    raw = zlib.decompressobj().decompress(idat, (stride + 1) * rows)
    previous = bytearray(stride)
    result = []
    for row in range(rows):
        line = raw[row * (stride + 1) : (row + 1) * (stride + 1)]
        kind, data, out = line[0], line[1:], bytearray(stride)
        for i in range(stride):
            left = out[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
            out[i] = (data[i] + predictor) & 0xFF
        result.append([tuple(out[x : x + 3]) for x in range(0, stride, channels)])
        previous = out
    return result


# --- A listener that must hear nothing ----------------------------------------------------------


@dataclass
class Listener:
    """A TCP HTTP server and a UDP socket on 127.0.0.1, recording whatever reaches them."""

    port: int
    udp_port: int
    heard: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    heard: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            heard.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secret")

        do_GET = do_POST = do_HEAD = do_OPTIONS = do_CONNECT = _record

        def log_message(self, format, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):
            connection, address = super().get_request()
            heard.append(f"TCP connection from {address[0]}:{address[1]}")
            return connection, address

    server = Server(("127.0.0.1", 0), Handler)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.1)
    stop = threading.Event()

    def listen_udp() -> None:
        while not stop.is_set():
            try:
                data, _ = udp.recvfrom(65536)
            except TimeoutError:
                continue
            heard.append(f"UDP datagram of {len(data)} bytes")

    threads = [
        threading.Thread(target=server.serve_forever, daemon=True),
        threading.Thread(target=listen_udp, daemon=True),
    ]
    for thread in threads:
        thread.start()
    yield Listener(port=server.server_port, udp_port=udp.getsockname()[1], heard=heard)
    stop.set()
    server.shutdown()
    server.server_close()
    for thread in threads:
        thread.join(timeout=5)
    udp.close()


def hostile_page(listener: Listener) -> bytes:
    """A page that tries every way out to the listener, then turns its background green."""
    origin = listener.origin
    udp = listener.udp_port
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Звіт</title>
<link rel="stylesheet" href="{origin}/style.css">
<link rel="preconnect" href="{origin}">
<link rel="dns-prefetch" href="//internal.example">
<link rel="prefetch" href="{origin}/prefetch">
<link rel="preload" as="script" href="{origin}/preload.js">
<link rel="icon" href="{origin}/favicon.ico">
<link rel="manifest" href="{origin}/manifest.json">
<script src="{origin}/script.js"></script>
<script type="speculationrules">
{{"prerender": [{{"source": "list", "urls": ["{origin}/prerender"]}}],
  "prefetch": [{{"source": "list", "urls": ["{origin}/speculative-prefetch"]}}]}}
</script>
<style>@import url("{origin}/import.css"); @font-face {{ font-family: x;
  src: url("{origin}/font.woff2"); }} h2 {{ background: url("{origin}/background.png"); }}</style>
</head>
<body style="margin: 0; background: rgb(200, 0, 0)">
<h1 style="font-family: x">ТОВ «Степ Агро Трейд»</h1>
<h2>relative</h2>
<img src="{origin}/pixel.png"><img src="/relative-pixel.png">
<iframe src="{origin}/frame"></iframe>
<object data="{origin}/object"></object><embed src="{origin}/embed">
<video src="{origin}/video.mp4" autoplay muted></video><audio src="{origin}/audio.mp3"></audio>
<a id="ping" href="#here" ping="{origin}/ping">ping</a>
<form id="form" method="post" action="{origin}/form" target="_self"><input name="q" value="1">
</form>
<script>
const origin = "{origin}";
const attempt = (what, fn) => {{ try {{ const r = fn(); if (r && r.catch) r.catch(() => {{}}); }}
  catch (e) {{ console.log(what, String(e)); }} }};
attempt("fetch", () => fetch(origin + "/secret"));
attempt("fetch no-cors", () => fetch(origin + "/no-cors", {{mode: "no-cors"}}));
attempt("xhr", () => {{
  const x = new XMLHttpRequest(); x.open("GET", origin + "/xhr"); x.send(); }});
attempt("beacon", () => navigator.sendBeacon(origin + "/beacon", "payload"));
attempt("keepalive", () => fetch(origin + "/keepalive", {{method: "POST", keepalive: true}}));
attempt("websocket", () => new WebSocket("ws://127.0.0.1:{listener.port}/socket"));
attempt("eventsource", () => new EventSource(origin + "/events"));
attempt("worker", () => new Worker(origin + "/worker.js"));
attempt("blob worker", () => new Worker(URL.createObjectURL(new Blob(
  ["fetch('" + origin + "/from-worker').catch(() => {{}})"], {{type: "text/javascript"}}))));
attempt("service worker", () => navigator.serviceWorker.register("/sw.js"));
attempt("webrtc", () => {{
  const pc = new RTCPeerConnection({{iceServers: [
    {{urls: "stun:127.0.0.1:{udp}"}},
    {{urls: "turn:127.0.0.1:{udp}?transport=udp", username: "u", credential: "p"}},
    {{urls: "turn:127.0.0.1:{listener.port}?transport=tcp", username: "u", credential: "p"}}]}});
  pc.createDataChannel("x");
  return pc.createOffer().then(offer => pc.setLocalDescription(offer));
}});
attempt("webtransport", () => new WebTransport("https://127.0.0.1:{udp}/wt").ready);
attempt("image", () => {{ new Image().src = origin + "/js-image.png"; }});
attempt("ping", () => document.getElementById("ping").click());
attempt("popup", () => window.open(origin + "/popup"));
addEventListener("load", () => {{
  attempt("form", () => document.getElementById("form").submit());
  attempt("navigate", () => {{ location.href = origin + "/away"; }});
  document.body.style.background = "rgb(0, 128, 0)";
}});
</script>
</body></html>
""".encode()


def assert_green_page(png: bytes) -> None:
    """The page itself was screenshotted (not an error page) and its script ran to the end."""
    assert png_size(png)[0] == 1280
    top = png_top_rows(png, 2)
    assert top[1][1279] == GREEN, top[1][1279]


# --- Tests ------------------------------------------------------------------------------------


@browser
@needs_chromium
def test_a_cyrillic_page_renders_in_full_to_a_png_of_the_viewport_width():
    body = """<!doctype html><html lang="uk"><head><meta charset="utf-8">
    <title>Компанія</title></head>
    <body style="margin: 0; background: rgb(0, 128, 0)">
    <h1 style="margin: 0; padding: 8px; color: black; background: white; font-size: 40px">
    ТОВ «Степ Агро Трейд» — експорт зерна</h1>
    <p style="height: 2300px">Директор: Олена Коваленко. Київ, вул. Хрещатик, 22.</p>
    </body></html>""".encode()

    png = take_screenshot(
        url="https://step-agro.example/about", body=body, content_type="text/html"
    )

    assert png is not None
    assert png[:8] == PNG_SIGNATURE
    width, height = png_size(png)
    assert width == 1280
    assert 2300 < height < 2500  # the whole page, not just the 800 px viewport
    rows = png_top_rows(png, 40)
    # The heading is black text on white: dark pixels where the glyphs are.
    assert any(max(pixel) < 100 for pixel in rows[30][:700])
    assert rows[0][5] == (255, 255, 255)


@browser
@needs_chromium
def test_the_page_reaches_nothing_not_even_its_own_server(listener):
    # The page "lives" on the listener: relative URLs, reloads and the like all point there.
    png = take_screenshot(
        url=f"{listener.origin}/report#section",
        body=hostile_page(listener),
        content_type="text/html; charset=utf-8",
    )
    time.sleep(0.3)  # let a straggler reach the listener, if any got out

    assert png is not None
    assert_green_page(png)
    assert listener.heard == []


@browser
@needs_chromium
def test_a_very_tall_page_is_clipped_to_max_height():
    body = b"""<!doctype html><html><body style="margin: 0">
    <div style="height: 50000px; background: linear-gradient(red, blue)"></div></body></html>"""

    png = take_screenshot(
        url="https://example.test/long", body=body, content_type="text/html", max_height=3000
    )

    assert png is not None
    assert png_size(png) == (1280, 3000)


@browser
@needs_chromium
def test_a_page_that_never_finishes_loading_is_a_screenshot_error():
    body = b"<!doctype html><p>busy</p><script>while (true) {}</script>"

    with pytest.raises(ScreenshotError, match="could not be rendered"):
        take_screenshot(
            url="https://example.test/", body=body, content_type="text/html", timeout_s=1
        )


@pytest.mark.parametrize(
    "content_type", ["application/pdf", "image/png", "text/plain; charset=utf-8", ""]
)
def test_only_html_is_rendered(content_type, monkeypatch):
    def no_browser(**kwargs):
        raise AssertionError("the browser was started")

    monkeypatch.setattr(screenshot, "_isolated_context", no_browser)

    assert (
        take_screenshot(
            url="https://example.test/r.pdf", body=b"%PDF-1.7", content_type=content_type
        )
        is None
    )


def test_without_chromium_there_is_no_screenshot_and_no_error(monkeypatch, tmp_path):
    monkeypatch.setattr(screenshot, "CHROMIUM", str(tmp_path / "no-chromium"))

    assert not screenshots_available()
    assert (
        take_screenshot(url="https://example.test/", body=b"<p>hi</p>", content_type="text/html")
        is None
    )


@needs_chromium
def test_only_http_and_https_urls_are_rendered():
    with pytest.raises(ScreenshotError, match="only http and https"):
        take_screenshot(url="file:///etc/passwd", body=b"<p>hi</p>", content_type="text/html")
