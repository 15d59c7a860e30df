"""fetch(): every hop recorded and SSRF-checked, bodies capped and decoded, failures classified."""

import datetime
import gzip
import socket
import time
import tracemalloc
import zlib

import pytest

from evidence.capture_types import Capture
from evidence.fetch import FetchError, fetch, status_error
from tests.evidence.httpserver import (
    COMPANY_HTML,
    CUT_SENT,
    HUGE_SIZE,
    MISSING_HTML,
    LoopbackServer,
    make_certificate,
    no_network,  # noqa: F401
    server_context,
    small_pdf,
    web,  # noqa: F401
)
from tests.evidence.test_ssrf import BAD_URLS

USER_AGENT = "Casefile/0.1 (+evidence capture)"
LIMITS = {
    "max_bytes": 1024 * 1024,
    "max_redirects": 5,
    "connect_timeout": 1.0,
    "read_timeout": 1.0,
    "total_timeout": 3.0,
    "user_agent": USER_AGENT,
}


def get(url: str, **overrides) -> Capture:
    return fetch(url, **{**LIMITS, **overrides})


def test_a_page_is_captured_with_what_was_sent_and_received(web):  # noqa: F811
    capture = get(web.url("/company#about"))

    assert capture.requested_url == web.url("/company#about")
    assert capture.final_url == web.url("/company")  # fragments never reach the server
    [page] = capture.exchanges
    assert page.method == "GET"
    assert page.status == 200
    assert page.reason == "OK"
    assert page.http_version == "HTTP/1.1"
    assert page.peer_ip == "127.0.0.1"
    assert page.body == page.raw_body == COMPANY_HTML
    assert "ТОВ «Степ Агро Трейд»" in page.body.decode()
    assert not page.truncated
    assert page.started_at.tzinfo is not None
    assert abs(datetime.datetime.now(tz=datetime.UTC) - page.started_at).total_seconds() < 10
    # Request headers as the server received them, in order; response headers as sent.
    assert page.request_headers == web.requests[0].headers
    assert ("User-Agent", USER_AGENT) in page.request_headers
    assert ("Content-Type", "text/html; charset=utf-8") in page.response_headers
    assert ("Content-Length", str(len(COMPANY_HTML))) in page.response_headers


def test_every_redirect_hop_is_recorded(web):  # noqa: F811
    capture = get(web.url("/redirect/1"))

    assert [e.status for e in capture.exchanges] == [301, 302, 302, 200]
    assert [e.url for e in capture.exchanges] == [
        web.url("/redirect/1"),
        web.url("/redirect/2"),
        web.url("/redirect/3"),  # from the relative Location "3"
        web.url("/company"),
    ]
    assert [e.reason for e in capture.exchanges] == ["Moved Permanently", "Found", "Found", "OK"]
    assert {e.peer_ip for e in capture.exchanges} == {"127.0.0.1"}
    assert ("Location", "/redirect/2") in capture.exchanges[0].response_headers
    assert capture.final_url == web.url("/company")
    assert capture.final.body == COMPANY_HTML
    assert [r.path for r in web.requests] == [
        "/redirect/1",
        "/redirect/2",
        "/redirect/3",
        "/company",
    ]


def test_redirects_beyond_the_cap_fail(web):  # noqa: F811
    assert len(get(web.url("/redirect/1"), max_redirects=3).exchanges) == 4
    with pytest.raises(FetchError) as error:
        get(web.url("/redirect/1"), max_redirects=2)
    assert not error.value.transient
    assert "more than 2 redirects" in error.value.reason
    with pytest.raises(FetchError) as error:
        get(web.url("/loop"), max_redirects=3)
    assert not error.value.transient
    assert len(error.value.capture.exchanges) == 4


def test_a_redirect_to_the_metadata_address_is_refused(web):  # noqa: F811
    with pytest.raises(FetchError) as error:
        get(web.url("/to-metadata"))
    assert error.value.refused
    assert not error.value.transient
    assert "169.254.169.254 is a link-local address" in error.value.reason
    # The hop that pointed there is kept: it is evidence too.
    assert [e.status for e in error.value.capture.exchanges] == [302]
    assert [r.path for r in web.requests] == ["/to-metadata"]


def test_a_redirect_to_a_loopback_address_not_allowed_is_refused(web, settings):  # noqa: F811
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]  # the server's own address, nothing else
    with pytest.raises(FetchError) as error:
        get(web.url("/to-loopback"))
    assert error.value.refused
    assert not error.value.transient
    assert "127.0.0.2 is a loopback address" in error.value.reason
    assert [r.path for r in web.requests] == ["/to-loopback"]


@pytest.mark.parametrize(("url", "words"), BAD_URLS)
def test_bad_urls_fail_without_touching_the_network(url, words, settings, no_network):  # noqa: F811
    settings.FETCH_ALLOW_NETWORKS = []
    with pytest.raises(FetchError) as error:
        get(url)
    assert error.value.refused
    assert not error.value.transient
    assert words in error.value.reason


def test_a_name_resolving_to_loopback_is_refused(settings):
    settings.FETCH_ALLOW_NETWORKS = []
    with pytest.raises(FetchError) as error:
        get("http://localhost:1/")
    assert error.value.refused
    assert not error.value.transient
    assert "localhost resolves to" in error.value.reason
    assert "loopback" in error.value.reason


def test_a_slow_drip_is_cut_off_at_the_total_timeout(web):  # noqa: F811
    # A byte every 0.2 s never trips the 1 s read timeout; the 1 s total does.
    started = time.monotonic()
    with pytest.raises(FetchError) as error:
        get(web.url("/slow"), read_timeout=1.0, total_timeout=1.0)
    elapsed = time.monotonic() - started
    assert error.value.transient
    assert "longer than 1 s" in error.value.reason
    assert 0.9 < elapsed < 2.5


def test_a_server_that_never_answers_times_out(web):  # noqa: F811
    started = time.monotonic()
    with pytest.raises(FetchError) as error:
        get(web.url("/stall"), read_timeout=0.3)
    assert error.value.transient
    assert "stopped answering" in error.value.reason
    assert time.monotonic() - started < 2.5


def test_a_huge_body_is_capped_early_and_kept_as_truncated(web):  # noqa: F811
    cap = 256 * 1024
    tracemalloc.start()
    started = time.monotonic()
    try:
        capture = get(web.url("/huge"), max_bytes=cap)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    page = capture.final
    assert page.truncated
    assert len(page.raw_body) == len(page.body) == cap
    assert ("Content-Length", str(50 * 1024 * 1024)) in page.response_headers
    assert peak < 8 * cap  # memory follows the cap, not the response
    assert elapsed < 3
    # The client hung up after the cap: the server got a few socket buffers out, not 50 MB.
    assert web.huge_done.wait(5)
    assert web.huge_sent < HUGE_SIZE // 4


def test_a_body_exactly_at_the_cap_is_not_truncated(web):  # noqa: F811
    web.route("/exact", 200, [("Content-Type", "text/plain")], b"x" * 1000)
    assert not get(web.url("/exact"), max_bytes=1000).final.truncated
    assert get(web.url("/exact"), max_bytes=999).final.truncated


def test_gzip_is_kept_raw_and_decoded(web):  # noqa: F811
    page = get(web.url("/gzip")).final
    assert page.raw_body.startswith(b"\x1f\x8b")
    assert gzip.decompress(page.raw_body) == page.body == COMPANY_HTML
    assert ("Content-Encoding", "gzip") in page.response_headers
    assert not page.truncated


@pytest.mark.parametrize(
    "compress",
    [zlib.compress, lambda data: zlib.compress(data)[2:-4]],  # zlib-wrapped, and bare deflate
    ids=["zlib", "raw"],
)
def test_deflate_is_decoded(web, compress):  # noqa: F811
    web.route("/deflate", 200, [("Content-Encoding", "deflate")], compress(COMPANY_HTML))
    assert get(web.url("/deflate")).final.body == COMPANY_HTML


def test_a_gzip_bomb_is_decoded_only_up_to_the_cap(web):  # noqa: F811
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    web.route("/bomb", 200, [("Content-Encoding", "gzip")], bomb)
    page = get(web.url("/bomb"), max_bytes=1024 * 1024).final
    assert page.raw_body == bomb  # about 64 KB on the wire
    assert len(page.body) == 1024 * 1024
    assert page.truncated


def test_an_encoding_we_cannot_decode_is_kept_as_sent(web):  # noqa: F811
    web.route("/br", 200, [("Content-Encoding", "br")], b"\x1b\x03\x00\xf8brotli-ish")
    page = get(web.url("/br")).final
    assert page.body == page.raw_body == b"\x1b\x03\x00\xf8brotli-ish"
    assert ("Content-Encoding", "br") in page.response_headers

    web.route("/corrupt", 200, [("Content-Encoding", "gzip")], b"\x1f\x8bnot really gzip")
    assert get(web.url("/corrupt")).final.body == b"\x1f\x8bnot really gzip"


def test_a_pdf_arrives_byte_for_byte(web):  # noqa: F811
    page = get(web.url("/report.pdf")).final
    assert page.raw_body == page.body == small_pdf()
    assert ("Content-Type", "application/pdf") in page.response_headers


def test_a_404_page_is_a_capture_and_a_permanent_failure(web):  # noqa: F811
    capture = get(web.url("/missing"))
    assert capture.final.status == 404
    assert capture.final.body == MISSING_HTML
    error = status_error(capture.final.status)
    assert error is not None
    assert not error.transient
    assert error.reason == "the server answered 404 Not Found"


def test_a_503_page_is_a_capture_and_a_transient_failure(web):  # noqa: F811
    capture = get(web.url("/unavailable"))
    assert capture.final.status == 503
    assert ("Retry-After", "1") in capture.final.response_headers
    error = status_error(capture.final.status)
    assert error is not None
    assert error.transient


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        *[(200, None), (204, None), (304, None)],
        *[(400, False), (403, False), (410, False)],
        *[(429, True), (500, True), (502, True), (504, True), (599, True)],
    ],
)
def test_status_error(status, transient):
    error = status_error(status)
    assert (error.transient if error else None) is transient


def test_a_connection_closed_mid_response_is_transient(web):  # noqa: F811
    with pytest.raises(FetchError) as error:
        get(web.url("/cut"))
    assert error.value.transient
    assert f"received {CUT_SENT} bytes" in error.value.reason


def test_a_refused_connection_is_transient(settings):
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as error:
        get(f"http://127.0.0.1:{port}/")
    assert error.value.transient
    assert not error.value.refused
    assert "could not connect to 127.0.0.1" in error.value.reason


@pytest.mark.parametrize(
    ("code", "transient"),
    [(socket.EAI_NONAME, False), (socket.EAI_AGAIN, True)],
    ids=["no-such-name", "resolver-timeout"],
)
def test_dns_failures(code, transient, monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(code, "resolver says no")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(FetchError) as error:
        get("http://no-such-company.example/")
    assert error.value.transient is transient
    assert "no-such-company.example" in error.value.reason


def test_an_untrusted_certificate_is_a_permanent_failure(settings, tmp_path):
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    server = LoopbackServer(ssl_context=server_context(*make_certificate(tmp_path))).start()
    server.add_builtin_routes()
    try:
        with pytest.raises(FetchError) as error:
            get(server.url("/company"))
    finally:
        server.stop()
    assert not error.value.transient
    assert "certificate" in error.value.reason
