"""Write one web capture as a WARC/1.1 file (gzip per record) with warcio.

Layout of every file we write, in this order:

1. ``warcinfo``: software, format, conformsTo, and operator / description when given.
2. For every exchange, redirect hops first, the final page last: a ``request`` record (request
   line and headers as sent) and a ``response`` record (status line, headers as received,
   ``raw_body`` as payload). The request carries ``WARC-Concurrent-To`` pointing at its
   response; both carry ``WARC-IP-Address`` (the address the SSRF guard let us connect to).
3. One ``metadata`` record about the capture (who asked, when, requested and final URL, the
   address of every hop, truncation), ``WARC-Refers-To`` and ``WARC-Concurrent-To`` the final
   response.

Digests are ``sha256:<lowercase hex>``: the IIPC's WARC 1.1 annotations recommend base16 for
SHA-256 (base32 is the SHA-1 habit, and base32 of a SHA-256 ends in ``====``, which is not a
valid WARC token). ``warcio check`` recognises the hex form by its length and verifies it.

Determinism: record ids are UUIDv5 values derived from a hash of everything the file says
(capture, metadata, software), and every WARC-Date comes from the capture's own timestamps, so
writing the same capture twice gives byte-identical files with the same SHA-256 (zlib output is
stable for a given zlib build). Ids stay unique across different captures because any change of
input (another time, body, requester) changes the derivation.
"""

import datetime
import hashlib
import io
import json
import re
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Final
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import GzippingWrapper, WARCWriter

from evidence.capture_types import Capture, Exchange

WARC_VERSION: Final = "WARC/1.1"
WARC_FORMAT: Final = "WARC File Format 1.1"
WARC_CONFORMS_TO: Final = (
    "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
)
CHUNK_SIZE: Final = 1024 * 1024

# Original transport headers that no longer describe the stored payload are kept under these
# names, the convention of Common Crawl / Apache Nutch that WARC readers already know.
ORIGINAL_TRANSFER_ENCODING: Final = "X-Crawler-Transfer-Encoding"
ORIGINAL_CONTENT_LENGTH: Final = "X-Crawler-Content-Length"

# Fields of the metadata record that write_warc computes; callers cannot override them.
COMPUTED_FIELDS: Final = frozenset(
    {
        "software",
        "captured_at",
        "requested_url",
        "final_url",
        "final_status",
        "truncated",
        "hop_count",
        "final_payload_sha256",
        "final_body_sha256",
    }
)
_HOP_FIELD = re.compile(r"^hop_\d+_")
# RFC 9110 token: what a warc-fields name may be made of.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# UUIDv5 namespace for our record ids (itself uuid5 of a fixed name, so it never changes).
_RECORD_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:casefile:warc-record-id")


@dataclass(frozen=True)
class WarcInfo:
    """What write_warc wrote: enough to store, verify and cite the file without re-reading it."""

    sha256: str  # hex digest of every byte written, i.e. of the .warc.gz file
    size: int  # bytes written
    record_count: int
    warcinfo_id: str
    request_record_ids: tuple[str, ...]  # one per exchange, in capture order
    response_record_ids: tuple[str, ...]  # one per exchange; the last is the final page
    metadata_record_id: str
    payload_sha256: str  # hex digest of the final response's raw_body (the stored payload)

    @property
    def final_response_record_id(self) -> str:
        return self.response_record_ids[-1]


class _Sha256HexDigester:
    """warcio's digester interface (update, str) producing ``sha256:<hex>``."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def __str__(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class _FastGzip(GzippingWrapper):
    """One gzip member per record at zlib's default level 6: warcio uses 9, which spent ~10% of
    a capture's time in bench/snapshots.py for a few percent smaller files."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(out)
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)


class _Sha256WARCWriter(WARCWriter):
    """warcio's writer with SHA-256 block and payload digests instead of SHA-1."""

    @staticmethod
    def _create_digester() -> _Sha256HexDigester:
        return _Sha256HexDigester()

    def _write_warc_record(self, out, record) -> None:
        if not self.gzip:
            super()._write_warc_record(out, record)
            return
        # warcio wraps `out` itself when gzip is on; wrap it with our level instead.
        self.gzip = False
        try:
            super()._write_warc_record(_FastGzip(out), record)
        finally:
            self.gzip = True


class _HashingWriter:
    """Passes bytes through to the real output, hashing and counting them on the way."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def sha256_file(fileobj: BinaryIO) -> str:
    """Hex SHA-256 of a binary file object, read in chunks from its current position."""
    digest = hashlib.sha256()
    while chunk := fileobj.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


def write_warc(
    capture: Capture,
    out: BinaryIO,
    *,
    metadata: dict[str, str],
    software: str = "Casefile",
    filename: str | None = None,
) -> WarcInfo:
    """Write ``capture`` to ``out`` as a gzipped WARC/1.1 and return its hashes and record ids.

    ``metadata`` must hold ``requested_by``; ``operator`` and ``description`` also go into the
    warcinfo record; every entry goes into the metadata record (line breaks become spaces,
    since warc-fields hold one line per field). ``out`` only needs ``write`` and ``flush``.
    """
    if not capture.exchanges:
        raise ValueError("a capture without exchanges has nothing to archive")
    if not metadata.get("requested_by"):
        raise ValueError("metadata must say who asked for the capture (requested_by)")
    if any(not exchange.peer_ip for exchange in capture.exchanges):
        raise ValueError("every exchange must record the address it connected to (peer_ip)")
    for key in metadata:
        if not _TOKEN.match(key):
            raise ValueError(f"metadata key {key!r} is not a valid warc-fields name")
        if key in COMPUTED_FIELDS or _HOP_FIELD.match(key):
            raise ValueError(f"metadata key {key!r} is computed by write_warc")

    ids = _RecordIds(_input_fingerprint(capture, metadata, software))
    sink = _HashingWriter(out)
    writer = _Sha256WARCWriter(sink, gzip=True, warc_version=WARC_VERSION)
    record_count = 0

    def write(record: ArcWarcRecord) -> None:
        nonlocal record_count
        writer.write_record(record)
        record_count += 1

    warcinfo_id = ids.next()
    write(_warcinfo_record(writer, capture, metadata, software, filename, warcinfo_id))

    request_ids: list[str] = []
    response_ids: list[str] = []
    for exchange in capture.exchanges:
        request_id, response_id = ids.next(), ids.next()
        common = {
            "WARC-Date": _warc_date(exchange.started_at),
            "WARC-IP-Address": exchange.peer_ip,
            "WARC-Warcinfo-ID": warcinfo_id,
        }
        write(_request_record(writer, exchange, request_id, response_id, common))
        write(_response_record(writer, exchange, response_id, common))
        request_ids.append(request_id)
        response_ids.append(response_id)

    metadata_id = ids.next()
    fields = _capture_fields(capture, metadata, software, request_ids, response_ids)
    write(_metadata_record(writer, capture, fields, metadata_id, response_ids[-1], warcinfo_id))

    return WarcInfo(
        sha256=sink.hexdigest(),
        size=sink.size,
        record_count=record_count,
        warcinfo_id=warcinfo_id,
        request_record_ids=tuple(request_ids),
        response_record_ids=tuple(response_ids),
        metadata_record_id=metadata_id,
        payload_sha256=hashlib.sha256(capture.final.raw_body).hexdigest(),
    )


def archived_response_headers(
    headers: Iterable[tuple[str, str]], payload_length: int
) -> list[tuple[str, str]]:
    """The response headers as written to the WARC, given the length of the stored payload.

    We store the payload transfer-decoded (httpx removed the chunked framing) but with its
    content-encoding kept, and possibly cut short at the size cap. Readers decide how to read
    the payload from these headers: warcio's content_stream() de-chunks whenever it sees
    ``Transfer-Encoding: chunked`` and replay (pywb, wabac.js) forwards Content-Length to the
    browser. So, as Common Crawl does for the same situation:

    * ``Transfer-Encoding`` is renamed to ``X-Crawler-Transfer-Encoding`` (value kept, so the
      original framing stays on record without anyone trying to de-chunk the payload);
    * ``Content-Length`` always states the stored payload's length; an original value that
      differs (chunked responses have none, truncated ones announced more) is kept as
      ``X-Crawler-Content-Length``;
    * ``Content-Encoding`` stays: the payload still is gzip/br/... encoded as it says.

    Everything else is written as received, in the order received.
    """
    actual = str(payload_length)
    result: list[tuple[str, str]] = []
    length_written = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "transfer-encoding":
            result.append((ORIGINAL_TRANSFER_ENCODING, value))
        elif lowered == "content-length":
            if length_written:
                result.append((ORIGINAL_CONTENT_LENGTH, value))
                continue
            result.append(("Content-Length", actual))
            length_written = True
            if value.strip() != actual:
                result.append((ORIGINAL_CONTENT_LENGTH, value))
        else:
            result.append((name, value))
    if not length_written:
        result.append(("Content-Length", actual))
    return result


class _RecordIds:
    """``<urn:uuid:...>`` ids derived from the input fingerprint and the record's position."""

    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        self._count = 0

    def next(self) -> str:
        self._count += 1
        value = uuid.uuid5(_RECORD_ID_NAMESPACE, f"{self._fingerprint}/{self._count}")
        return f"<urn:uuid:{value}>"


def _input_fingerprint(capture: Capture, metadata: dict[str, str], software: str) -> str:
    document = {
        "software": software,
        "metadata": sorted(metadata.items()),
        "requested_url": capture.requested_url,
        "exchanges": [
            {
                "url": e.url,
                "method": e.method,
                "request_headers": e.request_headers,
                "status": e.status,
                "reason": e.reason,
                "http_version": e.http_version,
                "response_headers": e.response_headers,
                "raw_body": hashlib.sha256(e.raw_body).hexdigest(),
                "peer_ip": e.peer_ip,
                "started_at": e.started_at.isoformat(),
                "truncated": e.truncated,
            }
            for e in capture.exchanges
        ],
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _warc_date(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with microseconds when there are any (WARC 1.1 allows fractions)."""
    if moment.tzinfo is None:
        raise ValueError("capture timestamps must be timezone-aware")
    utc = moment.astimezone(datetime.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _ascii(text: str) -> str:
    """Percent-encode non-ASCII characters: HTTP start lines are ASCII on the wire."""
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return _ascii(target)


def _warc_fields(fields: Iterable[tuple[str, str]]) -> bytes:
    lines = (f"{name}: {' '.join(str(value).splitlines())}\r\n" for name, value in fields)
    return "".join(lines).encode("utf-8")


def _warcinfo_record(
    writer: WARCWriter,
    capture: Capture,
    metadata: dict[str, str],
    software: str,
    filename: str | None,
    record_id: str,
) -> ArcWarcRecord:
    fields = [("software", software), ("format", WARC_FORMAT), ("conformsTo", WARC_CONFORMS_TO)]
    fields += [(key, metadata[key]) for key in ("operator", "description") if metadata.get(key)]
    user_agent = StatusAndHeaders("", capture.exchanges[0].request_headers).get_header("User-Agent")
    if user_agent:
        # Heritrix's name for it; readers use it to tell how the site saw the crawler.
        fields.append(("http-header-user-agent", user_agent))
    payload = _warc_fields(fields)
    headers = {
        "WARC-Record-ID": record_id,
        # The capture's start, not the wall clock, so the same capture gives the same bytes.
        "WARC-Date": _warc_date(capture.exchanges[0].started_at),
    }
    if filename:
        headers["WARC-Filename"] = filename
    return writer.create_warc_record(
        "",
        "warcinfo",
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type="application/warc-fields",
        warc_headers_dict=headers,
    )


def _request_record(
    writer: WARCWriter,
    exchange: Exchange,
    record_id: str,
    response_id: str,
    common: dict[str, str],
) -> ArcWarcRecord:
    request_line = f"{exchange.method} {_request_target(exchange.url)} {exchange.http_version}"
    http_headers = StatusAndHeaders(
        request_line, list(exchange.request_headers), is_http_request=True
    )
    return writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        http_headers=http_headers,
        warc_headers_dict={
            "WARC-Record-ID": record_id,
            **common,
            "WARC-Concurrent-To": response_id,
        },
    )


def _response_record(
    writer: WARCWriter, exchange: Exchange, record_id: str, common: dict[str, str]
) -> ArcWarcRecord:
    status_line = str(exchange.status)
    if exchange.reason:  # HTTP/2 has no reason phrase; write "HTTP/2 200", not "200 "
        status_line += " " + _ascii(exchange.reason)
    http_headers = StatusAndHeaders(
        status_line,
        archived_response_headers(exchange.response_headers, len(exchange.raw_body)),
        protocol=exchange.http_version,
    )
    warc_headers = {"WARC-Record-ID": record_id, **common}
    if exchange.truncated:
        warc_headers["WARC-Truncated"] = "length"  # WARC 1.1 §5.13: cut at our size cap
    return writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(exchange.raw_body),
        length=len(exchange.raw_body),
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )


def _capture_fields(
    capture: Capture,
    metadata: dict[str, str],
    software: str,
    request_ids: list[str],
    response_ids: list[str],
) -> list[tuple[str, str]]:
    final = capture.final
    fields: list[tuple[str, str]] = [("requested_by", metadata["requested_by"])]
    fields += [(key, value) for key, value in metadata.items() if key != "requested_by"]
    fields += [
        ("software", software),
        ("captured_at", _warc_date(capture.exchanges[0].started_at)),
        ("requested_url", capture.requested_url),
        ("final_url", capture.final_url),
        ("final_status", str(final.status)),
        ("truncated", _bool(any(e.truncated for e in capture.exchanges))),
        ("hop_count", str(len(capture.exchanges))),
    ]
    for number, (exchange, request_id, response_id) in enumerate(
        zip(capture.exchanges, request_ids, response_ids, strict=True), start=1
    ):
        prefix = f"hop_{number}_"
        fields += [
            (prefix + "url", exchange.url),
            (prefix + "method", exchange.method),
            (prefix + "status", str(exchange.status)),
            (prefix + "ip", exchange.peer_ip),
            (prefix + "started_at", _warc_date(exchange.started_at)),
            (prefix + "truncated", _bool(exchange.truncated)),
            (prefix + "request_record_id", request_id),
            (prefix + "response_record_id", response_id),
        ]
    fields += [
        ("final_payload_sha256", hashlib.sha256(final.raw_body).hexdigest()),
        ("final_body_sha256", hashlib.sha256(final.body).hexdigest()),
    ]
    return fields


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _metadata_record(
    writer: WARCWriter,
    capture: Capture,
    fields: list[tuple[str, str]],
    record_id: str,
    final_response_id: str,
    warcinfo_id: str,
) -> ArcWarcRecord:
    # application/warc-fields rather than JSON: it is the WARC spec's format for metadata
    # records, and replay indexers (pywb, cdxj-indexer) skip warc-fields metadata, whereas a
    # JSON record with the page's URI would be indexed and could be replayed as the page.
    payload = _warc_fields(fields)
    return writer.create_warc_record(
        capture.final_url,
        "metadata",
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Record-ID": record_id,
            "WARC-Date": _warc_date(capture.final.started_at),
            "WARC-Refers-To": final_response_id,
            "WARC-Concurrent-To": final_response_id,
            "WARC-Warcinfo-ID": warcinfo_id,
        },
    )
