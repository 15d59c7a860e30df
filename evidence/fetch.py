"""Fetch a web page for the evidence record: every redirect hop kept, every hop SSRF-checked.

Behaviour a caller can rely on:

- Only network-level problems raise FetchError. Any HTTP answer, 404 and 503 included, comes back
  as a Capture: a page that says "not found" or "unavailable" is still what the site showed.
  status_error(capture.final.status) says whether the caller should treat the status as a
  failure and whether retrying might help (429 and 5xx).
- The body is read up to max_bytes and no further. A longer body is kept as far as it was read
  and the exchange is marked truncated=True; the capture is not failed for it. The decoded body
  is capped at max_bytes too (a small gzip body can inflate to gigabytes).
- gzip and deflate are decoded into Exchange.body; raw_body keeps the bytes as sent. brotli is
  not installed, so br is not asked for; a body in an encoding we cannot decode (br, zstd sent
  anyway, or corrupt gzip) is kept undecoded in body too, and the Content-Encoding header in
  response_headers says so.
- total_timeout bounds the whole capture, all hops, lookups and reads included, so a server that
  drips one byte a second cannot hold a worker past it.
- Redirects are followed here, one hop at a time, so each hop is recorded and its URL and
  connection go through the SSRF guard again.
"""

import datetime
import http
import logging
import ssl
import time
import zlib

import httpx

from evidence import ssrf
from evidence.capture_types import Capture, Exchange

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Only what _decode() can undo: asking for br without brotli installed would get us bodies we
# cannot read.
ACCEPT_ENCODING = "gzip, deflate"


class FetchError(Exception):
    """A capture that could not be made.

    reason is written for the reporter. transient says whether trying again later may succeed
    (timeouts, dropped connections, DNS hiccups, 429, 5xx). refused marks an SSRF refusal.
    capture holds the hops recorded before the failure, if any (e.g. the redirect that pointed
    at 169.254.169.254).
    """

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        refused: bool = False,
        capture: Capture | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.refused = refused
        self.capture = capture


def status_error(status: int) -> FetchError | None:
    """The failure an HTTP status stands for, or None for 1xx-3xx.

    fetch() returns 4xx and 5xx pages as captures; the caller decides, with this, whether to keep
    the capture, give up, or retry (429 and 5xx are transient).
    """
    if status < 400:
        return None
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    return FetchError(
        f"the server answered {status} {phrase}", transient=status == 429 or status >= 500
    )


def fetch(
    url: str,
    *,
    max_bytes: int,
    max_redirects: int,
    connect_timeout: float,
    read_timeout: float,
    total_timeout: float,
    user_agent: str,
) -> Capture:
    """GET url through the SSRF guard and return every exchange, redirects included.

    Raises FetchError for refusals, invalid URLs, too many redirects and network failures.
    """
    try:
        current = ssrf.check_url(url)
    except ssrf.Refused as exc:
        raise FetchError(exc.reason, transient=False, refused=True) from exc

    capture = Capture(requested_url=url.strip())
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
    started = time.monotonic()
    with (
        ssrf.guarded_client(timeout=timeout, headers=headers, follow_redirects=False) as client,
        ssrf.deadline(total_timeout),
    ):
        while True:
            try:
                exchange, location = _exchange(client, current, max_bytes=max_bytes)
            except ssrf.Refused as exc:
                raise FetchError(
                    _hop_reason(capture, current, exc.reason),
                    transient=False,
                    refused=True,
                    capture=capture,
                ) from exc
            except httpx.HTTPError as exc:
                late = time.monotonic() - started >= total_timeout
                raise _network_error(
                    exc, current, late=late, total_timeout=total_timeout, capture=capture
                ) from exc
            capture.exchanges.append(exchange)
            if location is None:
                return capture
            if len(capture.exchanges) > max_redirects:
                raise FetchError(
                    f"more than {max_redirects} redirects, stopped at {current}",
                    transient=False,
                    capture=capture,
                )
            current = _next_hop(capture, current, location)


def _exchange(client: httpx.Client, url: str, *, max_bytes: int) -> tuple[Exchange, str | None]:
    """One request and its response; the Location to follow, if this was a redirect."""
    request = client.build_request("GET", url)
    started_at = datetime.datetime.now(tz=datetime.UTC)
    response = client.send(request, stream=True)
    try:
        raw, truncated = _read_capped(response, max_bytes)
        peer_ip = ssrf.peer_address(response)
    finally:
        response.close()
    response_headers = _text_headers(response.headers.raw)
    body, body_truncated = _decode(raw, _content_encodings(response_headers), max_bytes)
    exchange = Exchange(
        url=url,
        method=request.method,
        request_headers=_text_headers(request.headers.raw),
        status=response.status_code,
        reason=response.extensions.get("reason_phrase", b"").decode("latin-1"),
        http_version=response.http_version,
        response_headers=response_headers,
        raw_body=raw,
        body=body,
        peer_ip=peer_ip,
        started_at=started_at,
        truncated=truncated or body_truncated,
    )
    location = response.headers.get("Location")
    if response.status_code in REDIRECT_STATUSES and location:
        return exchange, location
    return exchange, None


def _next_hop(capture: Capture, current: str, location: str) -> str:
    try:
        target = str(httpx.URL(current).join(location.strip()))
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(
            f"{current} redirected to an invalid address: {location!r}",
            transient=False,
            capture=capture,
        ) from exc
    try:
        return ssrf.check_url(target)
    except ssrf.Refused as exc:
        raise FetchError(
            f"{current} redirected to {target}, which was {exc.reason}",
            transient=False,
            refused=True,
            capture=capture,
        ) from exc


def _hop_reason(capture: Capture, url: str, reason: str) -> str:
    if not capture.exchanges:
        return reason
    return f"{capture.final_url} redirected to {url}, which was {reason}"


def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The raw body, at most max_bytes of it, and whether there was more."""
    buffer = bytearray()
    for chunk in response.iter_raw():
        room = max_bytes - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:room]
            return bytes(buffer), True
        buffer += chunk
    return bytes(buffer), False


def _text_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    # latin-1 maps every byte to one character, so the WARC writer can get the bytes back.
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def _content_encodings(headers: list[tuple[str, str]]) -> list[str]:
    codings = [
        coding.strip().lower()
        for name, value in headers
        if name.lower() == "content-encoding"
        for coding in value.split(",")
    ]
    return [coding for coding in codings if coding and coding != "identity"]


def _decode(raw: bytes, encodings: list[str], limit: int) -> tuple[bytes, bool]:
    """Undo the content encodings (last applied, first undone); (body, hit the limit).

    A body we cannot decode is returned as it is: the capture still holds what was sent.
    """
    body = raw
    capped = False
    for coding in reversed(encodings):
        try:
            if coding in ("gzip", "x-gzip"):
                body, capped_now = _inflate(body, zlib.MAX_WBITS | 16, limit)
            elif coding == "deflate":
                # "deflate" should be zlib-wrapped, but some servers send a bare deflate stream.
                try:
                    body, capped_now = _inflate(body, zlib.MAX_WBITS, limit)
                except zlib.error:
                    body, capped_now = _inflate(body, -zlib.MAX_WBITS, limit)
            else:
                logger.info("cannot decode content-encoding %r; keeping the body as sent", coding)
                return raw, False
        except zlib.error as exc:
            logger.info("corrupt %s body (%s); keeping the body as sent", coding, exc)
            return raw, False
        capped = capped or capped_now
    return body, capped


def _inflate(data: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    """Decompress at most limit bytes; a truncated stream yields what it holds."""
    output = bytearray()
    while data:
        decompressor = zlib.decompressobj(wbits)
        output += decompressor.decompress(data, limit - len(output) + 1)
        if len(output) > limit:
            return bytes(output[:limit]), True
        # A gzip body may hold several members; anything else after the end is ignored.
        data = decompressor.unused_data if wbits & 16 and decompressor.eof else b""
    return bytes(output), False


def _network_error(
    exc: httpx.HTTPError,
    url: str,
    *,
    late: bool,
    total_timeout: float,
    capture: Capture,
) -> FetchError:
    """Name the failure for the reporter, and say whether a retry might succeed."""
    host = httpx.URL(url).host
    resolve_error = _in_chain(exc, ssrf.ResolveError)
    if late:
        reason, transient = f"the capture took longer than {total_timeout:g} s", True
    elif isinstance(exc, httpx.ConnectTimeout):
        reason, transient = f"{host} did not accept a connection in time", True
    elif isinstance(exc, httpx.TimeoutException):
        reason, transient = f"{host} stopped answering", True
    elif resolve_error is not None and resolve_error.temporary:
        reason, transient = f"looking up {host} failed for now ({resolve_error})", True
    elif resolve_error is not None:
        reason, transient = f"{host} was not found ({resolve_error})", False
    elif _in_chain(exc, ssl.SSLCertVerificationError) is not None:
        reason, transient = f"the TLS certificate of {host} could not be verified ({exc})", False
    elif isinstance(exc, httpx.ConnectError):
        reason, transient = f"could not connect to {host} ({exc})", True
    elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        # ReadError, WriteError, or the server closing the connection mid-response.
        reason, transient = f"{host} broke off the connection ({exc})", True
    else:
        reason, transient = f"{host} could not be fetched ({exc})", False
    return FetchError(reason, transient=transient, capture=capture)


def _in_chain[E: BaseException](exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of this kind among exc and its causes (httpx -> httpcore -> ours)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
