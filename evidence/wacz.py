"""Package WARC files as one WACZ (Web Archive Collection Zipped) that ReplayWeb.page opens.

Follows WACZ 1.2.0 (https://specs.webrecorder.net/wacz/1.2.0/) with one deliberate exception:
``datapackage.json`` says ``"profile": "data-package"`` (and keeps ``wacz_version``), not 1.2.0's
``"profile": "wacz"``. wabac.js, the engine of ReplayWeb.page, accepts only "data-package",
"wacz-package" or no profile and throws "Unknown package profile" on anything else, so the
1.2.0 value would make the file unopenable where people actually open it.

Layout::

    archive/<name>.warc.gz    ZIP_STORED: already gzipped per record, and replay reads records
                              by byte range, which a deflated entry would make impossible
    indexes/index.cdx         CDXJ, one line per response record, sorted
    pages/pages.jsonl         header line, then one page per entry
    datapackage.json          every file above with its sha256 and size
    datapackage-digest.json   sha256 of datapackage.json

WARCs are streamed: each is read once, in chunks, into its ZIP entry while being hashed and
indexed, so memory use does not grow with their size.
"""

import contextlib
import datetime
import hashlib
import io
import json
import posixpath
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, BinaryIO, Final
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import iso_date_to_timestamp

WACZ_VERSION: Final = "1.2.0"
PAGES_PATH: Final = "pages/pages.jsonl"
INDEX_PATH: Final = "indexes/index.cdx"
DATAPACKAGE_PATH: Final = "datapackage.json"
DIGEST_PATH: Final = "datapackage-digest.json"
PAGES_HEADER: Final = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
CHUNK_SIZE: Final = 1024 * 1024

_WARC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.warc(\.gz)?$")
_PAGE_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:casefile:wacz-page-id")


@dataclass(frozen=True, kw_only=True)
class WaczEntry:
    """One WARC to package, and the page it captured."""

    warc_name: str  # file name inside archive/, e.g. "snapshot-<uuid>.warc.gz"
    # Called once, when the WARC is copied; returns a binary file object (closed after use)
    # or the bytes themselves.
    open_warc: Callable[[], IO[bytes] | bytes]
    url: str  # the final page URL, as in the WARC's response record
    ts: datetime.datetime  # when the page was captured (timezone-aware)
    title: str = ""
    text: str | None = None  # extracted text: ReplayWeb.page searches it


def write_wacz(
    entries: Iterable[WaczEntry],
    out: BinaryIO,
    *,
    title: str,
    description: str = "",
    created: datetime.datetime | None = None,
    software: str = "Casefile",
) -> None:
    """Write a WACZ of ``entries`` to ``out`` (seekable or not).

    ``created`` defaults to now; it also stamps every ZIP entry, so the same entries, title
    and ``created`` give the same bytes.
    """
    created = created or datetime.datetime.now(datetime.UTC)
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    stamp = _zip_timestamp(created)
    resources: list[dict[str, object]] = []
    cdx_lines: list[str] = []
    pages: list[dict[str, object]] = []
    seen: set[str] = set()

    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for entry in entries:
            if not _WARC_NAME.match(entry.warc_name):
                raise ValueError(f"not a plain .warc / .warc.gz file name: {entry.warc_name!r}")
            if entry.warc_name in seen:
                raise ValueError(f"two entries are named {entry.warc_name!r}")
            seen.add(entry.warc_name)
            path = f"archive/{entry.warc_name}"
            info = _zip_info(path, stamp, zipfile.ZIP_STORED)
            source = entry.open_warc()
            stream = io.BytesIO(source) if isinstance(source, bytes) else source
            with stream, archive.open(info, "w", force_zip64=True) as target:
                tee = _TeeReader(stream, target)
                cdx_lines += _index_warc(tee, entry.warc_name)
                tee.drain()
            resources.append(_resource(path, tee.hexdigest(), tee.size))
            pages.append(_page(entry))

        cdx_lines.sort()
        index = "".join(cdx_lines).encode()
        _write_small(archive, INDEX_PATH, index, stamp)
        resources.append(_resource(INDEX_PATH, hashlib.sha256(index).hexdigest(), len(index)))

        lines = [PAGES_HEADER, *pages]
        pages_bytes = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        pages_data = pages_bytes.encode()
        _write_small(archive, PAGES_PATH, pages_data, stamp)
        resources.append(
            _resource(PAGES_PATH, hashlib.sha256(pages_data).hexdigest(), len(pages_data))
        )

        datapackage: dict[str, object] = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title,
            "description": description,
            "created": _rfc3339(created),
            "software": software,
        }
        if pages:
            first = pages[0]
            datapackage["home"] = {"url": first["url"], "ts": first["ts"]}
        datapackage["resources"] = resources
        package = json.dumps(datapackage, ensure_ascii=False, indent=2).encode()
        _write_small(archive, DATAPACKAGE_PATH, package, stamp)
        digest = {"path": DATAPACKAGE_PATH, "hash": "sha256:" + hashlib.sha256(package).hexdigest()}
        _write_small(archive, DIGEST_PATH, json.dumps(digest, indent=2).encode(), stamp)


def surt(url: str) -> str:
    """The SURT sort key of ``url`` as pywb and cdxj-indexer compute it (``surt.surt``).

    Reimplemented rather than imported: the surt package pulls in tldextract and, for hosts
    that look numeric, does DNS look-ups. Covered: scheme, user info and fragment dropped, host
    lower-cased, IDNA-encoded, ``www``/``wwwN`` stripped and reversed, default port dropped,
    dot segments resolved, escapes normalised, path and query lower-cased, query arguments
    sorted, trailing slash dropped. Not covered: session-id stripping and numeric IP forms.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _unquote_repeatedly(parts.hostname or "")
    if not host.isascii():
        # Not a valid IDN: keep the bytes as they are, as surt does.
        with contextlib.suppress(UnicodeError):
            host = host.decode("utf-8", "ignore").encode("idna")
    host = host.replace(b"..", b".").strip(b".").lower()
    host = re.sub(rb"^www\d*\.", b"", host)
    key = b",".join(reversed(host.split(b".")))
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        key += b":%d" % port
    key += b")"

    path = _escape_once(_normalize_path(_unquote_repeatedly(parts.path))).lower()
    if path.endswith(b"/") and len(path) > 1:
        path = path[:-1]
    key += path
    if parts.query:
        query = _escape_once(_unquote_repeatedly(parts.query)).lower()
        arguments = sorted(tuple(arg.split(b"=", 1)) for arg in query.split(b"&"))
        query = b"&".join(b"=".join(arg) for arg in arguments)
        if query:
            key += b"?" + query
    return key.decode("ascii")


def _unquote_repeatedly(text: str | bytes) -> bytes:
    """Undo percent-encoding until nothing changes (``%2541`` -> ``%41`` -> ``A``)."""
    current = text.encode() if isinstance(text, str) else text
    while True:
        decoded = unquote_to_bytes(current)
        if decoded == current:
            return current
        current = decoded


def _normalize_path(path: bytes) -> bytes:
    """Resolve ``.`` and ``..`` segments and collapse repeated slashes; "" becomes "/"."""
    if not path:
        return b"/"
    kept: list[bytes] = []
    segments = path.split(b"/")[1:]
    for segment in segments:
        if segment == b".":
            continue
        if segment == b".." and kept:
            kept.pop()
        else:
            kept.append(segment)
    if not kept:
        return b"/"
    *directories, last = kept
    return b"/" + b"".join(d + b"/" for d in directories if d) + last


def _escape_once(data: bytes) -> bytes:
    """Escape everything outside printable ASCII, plus ``#`` and ``%``."""
    return quote_from_bytes(data, safe="!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~").encode("ascii")


class _TeeReader:
    """A readable stream that copies what is read into ``target`` and hashes it on the way.

    ``tell`` reports bytes read so far, which is what warcio needs for record offsets.
    """

    def __init__(self, source: IO[bytes], target: IO[bytes]) -> None:
        self._source = source
        self._target = target
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data:
            self._target.write(data)
            self._hash.update(data)
            self.size += len(data)
        return data

    def tell(self) -> int:
        return self.size

    def drain(self) -> None:
        """Copy whatever the indexer did not need to read (nothing, for a well-formed WARC)."""
        while self.read(CHUNK_SIZE):
            pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _index_warc(stream: _TeeReader, warc_name: str) -> list[str]:
    """CDXJ lines (newline-terminated) for the response records of one WARC, as cdxj-indexer
    writes them: ``<surt> <14-digit timestamp> {url, mime, status, digest, length, offset,
    filename}``, with offset and length of the record's gzip member in the file."""
    lines: list[str] = []
    records = ArchiveIterator(stream)
    for record in records:
        if record.rec_type != "response":
            continue
        url = record.rec_headers.get_header("WARC-Target-URI")
        fields: dict[str, str] = {"url": url}
        mime = _mime(record)
        if mime:
            fields["mime"] = mime
        if record.http_headers:
            fields["status"] = record.http_headers.get_statuscode()
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        if digest:
            fields["digest"] = digest
        # Reads the rest of the record, so must come after everything taken from it above.
        fields["length"] = str(records.get_record_length())
        fields["offset"] = str(records.get_record_offset())
        fields["filename"] = warc_name
        timestamp = iso_date_to_timestamp(record.rec_headers.get_header("WARC-Date"))
        lines.append(f"{surt(url)} {timestamp} {json.dumps(fields)}\n")
    return lines


def _mime(record: ArcWarcRecord) -> str:
    content_type = record.http_headers.get_header("Content-Type") if record.http_headers else ""
    return (content_type or "").split(";", 1)[0].strip()


def _page(entry: WaczEntry) -> dict[str, object]:
    if entry.ts.tzinfo is None:
        raise ValueError(f"{entry.warc_name}: ts must be timezone-aware")
    page: dict[str, object] = {
        "id": uuid.uuid5(_PAGE_ID_NAMESPACE, f"{entry.warc_name} {entry.url}").hex,
        "url": entry.url,
        "ts": _rfc3339(entry.ts),
        "title": entry.title or entry.url,
    }
    if entry.text:
        page["text"] = entry.text
    return page


def _resource(path: str, sha256_hex: str, size: int) -> dict[str, object]:
    return {
        "name": posixpath.basename(path),
        "path": path,
        "hash": "sha256:" + sha256_hex,
        "bytes": size,
    }


def _rfc3339(moment: datetime.datetime) -> str:
    utc = moment.astimezone(datetime.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _zip_timestamp(moment: datetime.datetime) -> tuple[int, int, int, int, int, int]:
    utc = moment.astimezone(datetime.UTC)
    # ZIP (DOS) dates start in 1980.
    utc = max(utc, datetime.datetime(1980, 1, 1, tzinfo=datetime.UTC))
    return (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


def _zip_info(
    path: str, stamp: tuple[int, int, int, int, int, int], compression: int
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=stamp)
    info.compress_type = compression
    info.external_attr = 0o644 << 16  # a plain file, readable by all, once extracted
    return info


def _write_small(
    archive: zipfile.ZipFile, path: str, data: bytes, stamp: tuple[int, int, int, int, int, int]
) -> None:
    archive.writestr(_zip_info(path, stamp, zipfile.ZIP_DEFLATED), data)
