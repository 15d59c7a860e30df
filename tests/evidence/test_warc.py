"""WARC writing: what `warcio check` / `warcio index` and warcio's reader see in our files."""

import datetime
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from evidence.capture_types import Capture, Exchange
from evidence.warc import archived_response_headers, sha256_file, write_warc

WARCIO = Path(sys.executable).parent / "warcio"
UA = "Casefile/0.1 (+https://casefile.example/about; evidence capture)"
STARTED = datetime.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=datetime.UTC)

HTML = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Поставки микросхем через Казахстан</title>
</head><body><h1>Поставки микросхем через Казахстан</h1>
<p>ТОО «Степь Электроникс» получило партию микроконтроллеров из Германии.</p>
</body></html>
""".encode()

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def request_headers(host: str) -> list[tuple[str, str]]:
    return [
        ("Host", host),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Connection", "keep-alive"),
        ("User-Agent", UA),
    ]


def redirect_capture() -> Capture:
    """http -> https redirect (301), then a gzip-encoded Cyrillic page sent chunked."""
    gzipped = gzip.compress(HTML, mtime=0)
    return Capture(
        requested_url="http://news.example.org/story?id=7",
        exchanges=[
            Exchange(
                url="http://news.example.org/story?id=7",
                method="GET",
                request_headers=request_headers("news.example.org"),
                status=301,
                reason="Moved Permanently",
                http_version="HTTP/1.1",
                response_headers=[
                    ("Server", "nginx"),
                    ("Date", "Fri, 14 Mar 2025 09:26:53 GMT"),
                    ("Content-Type", "text/html"),
                    ("Content-Length", "162"),
                    ("Location", "https://news.example.org/story/7"),
                ],
                raw_body=b"<html><body>Moved</body></html>",
                body=b"<html><body>Moved</body></html>",
                peer_ip="203.0.113.10",
                started_at=STARTED,
            ),
            Exchange(
                url="https://news.example.org/story/7",
                method="GET",
                request_headers=request_headers("news.example.org"),
                status=200,
                reason="OK",
                http_version="HTTP/1.1",
                response_headers=[
                    ("Server", "nginx"),
                    ("Date", "Fri, 14 Mar 2025 09:26:54 GMT"),
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Transfer-Encoding", "chunked"),
                    ("Connection", "keep-alive"),
                    ("Content-Encoding", "gzip"),
                    ("Set-Cookie", "sid=abc; Path=/; HttpOnly"),
                    ("Set-Cookie", "lang=ru; Path=/"),
                ],
                raw_body=gzipped,
                body=HTML,
                peer_ip="2001:db8::20",
                started_at=STARTED + datetime.timedelta(milliseconds=412),
            ),
        ],
    )


def pdf_capture() -> Capture:
    """One HTTP/2 hop (no reason phrase, lower-case header names) returning a PDF."""
    return Capture(
        requested_url="https://registry.example.kz/extract/123456.pdf",
        exchanges=[
            Exchange(
                url="https://registry.example.kz/extract/123456.pdf",
                method="GET",
                request_headers=request_headers("registry.example.kz"),
                status=200,
                reason="",
                http_version="HTTP/2",
                response_headers=[
                    ("content-type", "application/pdf"),
                    ("content-length", str(len(PDF))),
                    ("content-disposition", 'attachment; filename="extract.pdf"'),
                ],
                raw_body=PDF,
                body=PDF,
                peer_ip="198.51.100.7",
                started_at=STARTED,
            )
        ],
    )


def truncated_capture(size: int = 64 * 1024) -> Capture:
    """A body cut at our size cap: the server announced far more than we kept."""
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    return Capture(
        requested_url="https://data.example.net/dump.csv",
        exchanges=[
            Exchange(
                url="https://data.example.net/dump.csv",
                method="GET",
                request_headers=request_headers("data.example.net"),
                status=200,
                reason="OK",
                http_version="HTTP/1.1",
                response_headers=[
                    ("Content-Type", "text/csv"),
                    ("Content-Length", "104857600"),
                ],
                raw_body=body,
                body=body,
                peer_ip="192.0.2.44",
                started_at=STARTED,
                truncated=True,
            )
        ],
    )


METADATA = {"requested_by": "bob", "snapshot": "0b6f3c1e-8f7a-4a57-9a7e-2f0d1c9e4b11"}


def write(capture: Capture, path: Path, **metadata: str):
    with path.open("wb") as out:
        return write_warc(capture, out, metadata=metadata or METADATA)


def records(path: Path) -> list[tuple[object, bytes]]:
    """(record, raw payload) pairs, read with warcio's own reader."""
    with path.open("rb") as stream:
        return [(record, record.raw_stream.read()) for record in ArchiveIterator(stream)]


def warc_fields(payload: bytes) -> list[tuple[str, str]]:
    lines = payload.decode().split("\r\n")
    return [tuple(line.split(": ", 1)) for line in lines if line]


def run_warcio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WARCIO), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("build", [redirect_capture, pdf_capture, truncated_capture])
def test_warcio_check_accepts_the_file(tmp_path, build):
    path = tmp_path / "capture.warc.gz"
    write(build(), path)
    result = run_warcio("check", "-v", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    # -v reports each record; every digest was checked, none only "present".
    assert result.stdout.count("digest pass") == len(records(path))


def test_warcio_index_lists_request_response_per_hop_and_metadata(tmp_path):
    path = tmp_path / "capture.warc.gz"
    write(redirect_capture(), path)
    result = run_warcio("index", "-f", "warc-type,warc-target-uri,content-type", str(path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    first, final = "http://news.example.org/story?id=7", "https://news.example.org/story/7"
    assert [(row["warc-type"], row.get("warc-target-uri")) for row in rows] == [
        ("warcinfo", None),
        ("request", first),
        ("response", first),
        ("request", final),
        ("response", final),
        ("metadata", final),
    ]
    assert rows[-1]["content-type"] == "application/warc-fields"


def test_returned_hash_size_and_ids_describe_the_file(tmp_path):
    path = tmp_path / "capture.warc.gz"
    info = write(redirect_capture(), path)
    data = path.read_bytes()
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size == len(data)
    assert info.record_count == 6
    ids = [record.rec_headers.get_header("WARC-Record-ID") for record, _ in records(path)]
    assert ids == [
        info.warcinfo_id,
        info.request_record_ids[0],
        info.response_record_ids[0],
        info.request_record_ids[1],
        info.response_record_ids[1],
        info.metadata_record_id,
    ]
    assert info.final_response_record_id == info.response_record_ids[1]
    assert len(set(ids)) == 6


def test_final_response_payload_is_the_raw_body(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    info = write(capture, path)
    with path.open("rb") as stream:
        # What replay serves: content_stream() reads the stored payload as the archived
        # headers describe it (gzip content-encoding, no chunked framing).
        decoded = {
            r.rec_headers.get_header("WARC-Target-URI"): (
                r.http_headers.get_statuscode(),
                r.content_stream().read(),
            )
            for r in ArchiveIterator(stream)
            if r.rec_type == "response"
        }
    assert decoded[capture.final_url] == ("200", capture.final.body)
    raw = [payload for record, payload in records(path) if record.rec_type == "response"][-1]
    assert raw == capture.final.raw_body
    assert info.payload_sha256 == hashlib.sha256(capture.final.raw_body).hexdigest()


def test_digests_are_sha256_hex(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    write(capture, path)
    final = [r for r, _ in records(path) if r.rec_type == "response"][-1]
    payload_digest = "sha256:" + hashlib.sha256(capture.final.raw_body).hexdigest()
    assert final.rec_headers.get_header("WARC-Payload-Digest") == payload_digest
    for record, _ in records(path):
        assert record.rec_headers.get_header("WARC-Block-Digest").startswith("sha256:")
        assert len(record.rec_headers.get_header("WARC-Block-Digest")) == len("sha256:") + 64


def test_transfer_encoding_is_renamed_and_content_length_matches_payload(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    write(capture, path)
    final = [r for r, _ in records(path) if r.rec_type == "response"][-1]
    headers = final.http_headers
    assert headers.get_header("Transfer-Encoding") is None
    assert headers.get_header("X-Crawler-Transfer-Encoding") == "chunked"
    assert headers.get_header("Content-Length") == str(len(capture.final.raw_body))
    assert headers.get_header("Content-Encoding") == "gzip"
    # Everything else as received, in order, duplicates kept.
    assert [v for k, v in headers.headers if k == "Set-Cookie"] == [
        "sid=abc; Path=/; HttpOnly",
        "lang=ru; Path=/",
    ]
    assert headers.protocol == "HTTP/1.1"
    assert headers.statusline == "200 OK"


def test_redirect_hop_keeps_location_and_fixes_its_content_length(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    write(capture, path)
    first = next(r for r, _ in records(path) if r.rec_type == "response")
    assert first.http_headers.statusline == "301 Moved Permanently"
    assert first.http_headers.get_header("Location") == "https://news.example.org/story/7"
    assert first.http_headers.get_header("Content-Length") == str(
        len(capture.exchanges[0].raw_body)
    )
    assert first.http_headers.get_header("X-Crawler-Content-Length") == "162"


def test_request_records_carry_request_line_headers_ip_and_link(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    info = write(capture, path)
    requests = [r for r, _ in records(path) if r.rec_type == "request"]
    assert [r.http_headers.protocol for r in requests] == ["GET", "GET"]
    assert [r.http_headers.statusline for r in requests] == [
        "/story?id=7 HTTP/1.1",
        "/story/7 HTTP/1.1",
    ]
    for request, exchange, response_id in zip(
        requests, capture.exchanges, info.response_record_ids, strict=True
    ):
        assert request.http_headers.headers == exchange.request_headers
        assert request.rec_headers.get_header("WARC-Concurrent-To") == response_id
        assert request.rec_headers.get_header("WARC-IP-Address") == exchange.peer_ip
    assert requests[0].rec_headers.get_header("WARC-Date") == "2025-03-14T09:26:53.589793Z"


def test_responses_carry_ip_address_and_date_of_their_hop(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    write(capture, path)
    responses = [r for r, _ in records(path) if r.rec_type == "response"]
    assert [r.rec_headers.get_header("WARC-IP-Address") for r in responses] == [
        "203.0.113.10",
        "2001:db8::20",
    ]
    assert [r.rec_headers.get_header("WARC-Date") for r in responses] == [
        "2025-03-14T09:26:53.589793Z",
        "2025-03-14T09:26:54.001793Z",
    ]


def test_metadata_record_says_who_when_what_and_where(tmp_path):
    capture = redirect_capture()
    path = tmp_path / "capture.warc.gz"
    info = write(capture, path)
    (record, payload) = next((r, p) for r, p in records(path) if r.rec_type == "metadata")
    assert record.rec_headers.get_header("WARC-Refers-To") == info.final_response_record_id
    assert record.rec_headers.get_header("WARC-Concurrent-To") == info.final_response_record_id
    assert record.rec_headers.get_header("Content-Type") == "application/warc-fields"
    fields = dict(warc_fields(payload))
    assert fields["requested_by"] == "bob"
    assert fields["snapshot"] == METADATA["snapshot"]
    assert fields["captured_at"] == "2025-03-14T09:26:53.589793Z"
    assert fields["requested_url"] == "http://news.example.org/story?id=7"
    assert fields["final_url"] == "https://news.example.org/story/7"
    assert fields["final_status"] == "200"
    assert fields["truncated"] == "false"
    assert fields["hop_count"] == "2"
    assert fields["hop_1_ip"] == "203.0.113.10"
    assert fields["hop_2_ip"] == "2001:db8::20"
    assert fields["hop_1_status"] == "301"
    assert fields["hop_2_response_record_id"] == info.final_response_record_id
    assert fields["final_payload_sha256"] == info.payload_sha256
    assert fields["final_body_sha256"] == hashlib.sha256(HTML).hexdigest()


def test_warcinfo_names_software_format_and_operator(tmp_path):
    path = tmp_path / "capture.warc.gz"
    write(pdf_capture(), path, requested_by="alice", operator="OCCRP data desk")
    record, payload = records(path)[0]
    assert record.rec_type == "warcinfo"
    assert record.rec_headers.protocol == "WARC/1.1"
    fields = dict(warc_fields(payload))
    assert fields["software"] == "Casefile"
    assert fields["format"] == "WARC File Format 1.1"
    assert "warc-1.1" in fields["conformsTo"]
    assert fields["operator"] == "OCCRP data desk"
    assert fields["http-header-user-agent"] == UA


def test_http2_pdf_response_reads_back(tmp_path):
    path = tmp_path / "capture.warc.gz"
    write(pdf_capture(), path)
    response, payload = next((r, p) for r, p in records(path) if r.rec_type == "response")
    assert response.http_headers.protocol == "HTTP/2"
    assert response.http_headers.get_statuscode() == "200"
    assert response.http_headers.get_header("content-type") == "application/pdf"
    # content-length was right: kept under its own (lower-case) name, no duplicate added.
    assert [k for k, _ in response.http_headers.headers].count("Content-Length") == 1
    assert response.http_headers.get_header("X-Crawler-Content-Length") is None
    assert payload == PDF


def test_truncated_body_is_flagged(tmp_path):
    capture = truncated_capture()
    path = tmp_path / "capture.warc.gz"
    write(capture, path)
    response, payload = next((r, p) for r, p in records(path) if r.rec_type == "response")
    assert response.rec_headers.get_header("WARC-Truncated") == "length"
    assert response.http_headers.get_header("Content-Length") == str(64 * 1024)
    assert response.http_headers.get_header("X-Crawler-Content-Length") == "104857600"
    assert payload == capture.final.raw_body
    _, metadata = next((r, p) for r, p in records(path) if r.rec_type == "metadata")
    fields = dict(warc_fields(metadata))
    assert fields["truncated"] == "true"
    assert fields["hop_1_truncated"] == "true"


def test_same_input_gives_the_same_bytes(tmp_path):
    first, second, other = tmp_path / "1.warc.gz", tmp_path / "2.warc.gz", tmp_path / "3.warc.gz"
    a = write(redirect_capture(), first)
    b = write(redirect_capture(), second)
    c = write(redirect_capture(), other, requested_by="alice")
    assert first.read_bytes() == second.read_bytes()
    assert a == b
    assert c.sha256 != a.sha256
    assert not set(c.response_record_ids) & set(a.response_record_ids)


def test_sha256_file_streams_from_current_position():
    data = b"x" * (3 * 1024 * 1024 + 7)
    assert sha256_file(io.BytesIO(data)) == hashlib.sha256(data).hexdigest()
    stream = io.BytesIO(b"headerBODY")
    stream.seek(6)
    assert sha256_file(stream) == hashlib.sha256(b"BODY").hexdigest()


@pytest.mark.parametrize(
    ("headers", "length", "expected"),
    [
        (
            [("Content-Length", "5"), ("Content-Type", "text/plain")],
            5,
            [("Content-Length", "5"), ("Content-Type", "text/plain")],
        ),
        (
            [("Transfer-Encoding", "chunked")],
            9,
            [("X-Crawler-Transfer-Encoding", "chunked"), ("Content-Length", "9")],
        ),
        (
            [("Content-Length", "100"), ("Content-Length", "100")],
            10,
            [
                ("Content-Length", "10"),
                ("X-Crawler-Content-Length", "100"),
                ("X-Crawler-Content-Length", "100"),
            ],
        ),
        ([], 0, [("Content-Length", "0")]),
    ],
)
def test_archived_response_headers(headers, length, expected):
    assert archived_response_headers(headers, length) == expected


def test_refuses_what_it_cannot_archive_honestly():
    out = io.BytesIO()
    with pytest.raises(ValueError, match="exchanges"):
        write_warc(Capture(requested_url="https://example.org/"), out, metadata=METADATA)
    with pytest.raises(ValueError, match="requested_by"):
        write_warc(redirect_capture(), out, metadata={"snapshot": "x"})
    with pytest.raises(ValueError, match="computed"):
        write_warc(redirect_capture(), out, metadata={**METADATA, "final_url": "x"})
    with pytest.raises(ValueError, match="not a valid"):
        write_warc(redirect_capture(), out, metadata={**METADATA, "bad key": "x"})
    unknown_peer = pdf_capture()
    unknown_peer.final.peer_ip = ""
    with pytest.raises(ValueError, match="peer_ip"):
        write_warc(unknown_peer, out, metadata=METADATA)
    naive = pdf_capture()
    naive.final.started_at = naive.final.started_at.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        write_warc(naive, out, metadata=METADATA)
