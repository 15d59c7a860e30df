"""WACZ export: layout, fixity, pages, and a CDXJ index that points at real records."""

import datetime
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from functools import partial
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from evidence.capture_types import Capture, Exchange
from evidence.wacz import WaczEntry, surt, write_wacz
from evidence.warc import write_warc
from tests.evidence.test_warc import (
    METADATA,
    STARTED,
    pdf_capture,
    redirect_capture,
    request_headers,
    truncated_capture,
)

CREATED = datetime.datetime(2025, 3, 15, 12, 0, tzinfo=datetime.UTC)
BIN = Path(sys.executable).parent


def write_capture(capture: Capture, path: Path) -> Path:
    with path.open("wb") as out:
        write_warc(capture, out, metadata=METADATA)
    return path


@pytest.fixture
def warcs(tmp_path):
    return {
        "story": write_capture(redirect_capture(), tmp_path / "story.warc.gz"),
        "extract": write_capture(pdf_capture(), tmp_path / "extract.warc.gz"),
        "dump": write_capture(truncated_capture(), tmp_path / "dump.warc.gz"),
    }


@pytest.fixture
def entries(warcs):
    story, extract, dump = warcs["story"], warcs["extract"], warcs["dump"]
    return [
        WaczEntry(
            warc_name="snapshot-story.warc.gz",
            open_warc=partial(story.open, "rb"),  # a file object, as from storage.open()
            url="https://news.example.org/story/7",
            title="Поставки микросхем через Казахстан",
            ts=STARTED,
            text="ТОО «Степь Электроникс» получило партию микроконтроллеров из Германии.",
        ),
        WaczEntry(
            warc_name="snapshot-extract.warc.gz",
            open_warc=extract.read_bytes,  # or the bytes themselves
            url="https://registry.example.kz/extract/123456.pdf",
            title="",
            ts=STARTED,
        ),
        WaczEntry(
            warc_name="snapshot-dump.warc.gz",
            open_warc=lambda: dump.open("rb"),
            url="https://data.example.net/dump.csv",
            ts=STARTED,
        ),
    ]


@pytest.fixture
def wacz(tmp_path, entries):
    path = tmp_path / "case.wacz"
    with path.open("wb") as out:
        write_wacz(
            entries,
            out,
            title="Chips to Russia",
            description="Snapshots for the *Kazakh reseller* case.",
            created=CREATED,
        )
    return path


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_zip_layout_and_compression(wacz):
    with zipfile.ZipFile(wacz) as archive:
        assert archive.testzip() is None
        listing = {info.filename: info.compress_type for info in archive.infolist()}
    assert listing == {
        "archive/snapshot-story.warc.gz": zipfile.ZIP_STORED,
        "archive/snapshot-extract.warc.gz": zipfile.ZIP_STORED,
        "archive/snapshot-dump.warc.gz": zipfile.ZIP_STORED,
        "indexes/index.cdx": zipfile.ZIP_DEFLATED,
        "pages/pages.jsonl": zipfile.ZIP_DEFLATED,
        "datapackage.json": zipfile.ZIP_DEFLATED,
        "datapackage-digest.json": zipfile.ZIP_DEFLATED,
    }


def test_warcs_are_copied_byte_for_byte(wacz, warcs):
    assert member(wacz, "archive/snapshot-story.warc.gz") == warcs["story"].read_bytes()
    assert member(wacz, "archive/snapshot-dump.warc.gz") == warcs["dump"].read_bytes()


def test_datapackage_lists_every_file_with_its_hash_and_size(wacz):
    package = json.loads(member(wacz, "datapackage.json"))
    assert package["profile"] == "data-package"
    assert package["wacz_version"] == "1.2.0"
    assert package["title"] == "Chips to Russia"
    assert package["description"] == "Snapshots for the *Kazakh reseller* case."
    assert package["created"] == "2025-03-15T12:00:00Z"
    assert package["software"] == "Casefile"
    assert package["home"] == {
        "url": "https://news.example.org/story/7",
        "ts": "2025-03-14T09:26:53.589793Z",
    }
    with zipfile.ZipFile(wacz) as archive:
        names = set(archive.namelist()) - {"datapackage.json", "datapackage-digest.json"}
        assert {resource["path"] for resource in package["resources"]} == names
        for resource in package["resources"]:
            data = archive.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
            assert resource["name"] == resource["path"].rsplit("/", 1)[-1]


def test_datapackage_digest_matches(wacz):
    digest = json.loads(member(wacz, "datapackage-digest.json"))
    package = member(wacz, "datapackage.json")
    assert digest == {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package).hexdigest(),
    }


def test_pages_jsonl(wacz):
    lines = member(wacz, "pages/pages.jsonl").decode().splitlines()
    assert json.loads(lines[0]) == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    pages = [json.loads(line) for line in lines[1:]]
    assert [(p["url"], p["ts"], p["title"]) for p in pages] == [
        (
            "https://news.example.org/story/7",
            "2025-03-14T09:26:53.589793Z",
            "Поставки микросхем через Казахстан",
        ),
        (
            "https://registry.example.kz/extract/123456.pdf",
            "2025-03-14T09:26:53.589793Z",
            "https://registry.example.kz/extract/123456.pdf",  # no title: the URL stands in
        ),
        (
            "https://data.example.net/dump.csv",
            "2025-03-14T09:26:53.589793Z",
            "https://data.example.net/dump.csv",
        ),
    ]
    assert len({p["id"] for p in pages}) == 3
    assert pages[0]["text"].startswith("ТОО «Степь Электроникс»")
    assert "text" not in pages[1]


def parse_index(wacz: Path) -> list[tuple[str, str, dict]]:
    lines = member(wacz, "indexes/index.cdx").decode().splitlines()
    rows = []
    for line in lines:
        key, timestamp, fields = line.split(" ", 2)
        rows.append((key, timestamp, json.loads(fields)))
    return rows


def test_index_is_sorted_and_has_one_line_per_response(wacz):
    lines = member(wacz, "indexes/index.cdx").decode().splitlines()
    assert lines == sorted(lines)
    rows = parse_index(wacz)
    assert [(key, ts, f["status"], f.get("mime")) for key, ts, f in rows] == [
        ("kz,example,registry)/extract/123456.pdf", "20250314092653", "200", "application/pdf"),
        ("net,example,data)/dump.csv", "20250314092653", "200", "text/csv"),
        ("org,example,news)/story/7", "20250314092654", "200", "text/html"),
        ("org,example,news)/story?id=7", "20250314092653", "301", "text/html"),
    ]
    for _, _, fields in rows:
        assert set(fields) == {"url", "mime", "status", "digest", "length", "offset", "filename"}
        assert fields["digest"].startswith("sha256:")


def test_index_offsets_point_at_the_response_records(wacz):
    for _, _, fields in parse_index(wacz):
        warc = member(wacz, "archive/" + fields["filename"])
        offset, length = int(fields["offset"]), int(fields["length"])
        # The exact byte range replay will fetch holds one whole record: that response.
        records = list(ArchiveIterator(io.BytesIO(warc[offset : offset + length])))
        assert len(records) == 1
        assert records[0].rec_type == "response"
        assert records[0].rec_headers.get_header("WARC-Target-URI") == fields["url"]
        assert records[0].rec_headers.get_header("WARC-Payload-Digest") == fields["digest"]
        # And seeking into the whole file lands on a record start too.
        stream = io.BytesIO(warc)
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_headers.get_header("WARC-Target-URI") == fields["url"]


def test_final_payload_reads_back_through_the_index(wacz):
    row = next(f for _, _, f in parse_index(wacz) if f["url"].endswith("/story/7"))
    warc = member(wacz, "archive/" + row["filename"])
    offset, length = int(row["offset"]), int(row["length"])
    record = next(iter(ArchiveIterator(io.BytesIO(warc[offset : offset + length]))))
    assert record.raw_stream.read() == redirect_capture().final.raw_body


def test_same_input_and_created_give_the_same_bytes(tmp_path, entries):
    outputs = []
    for name in ("a.wacz", "b.wacz"):
        with (tmp_path / name).open("wb") as out:
            write_wacz(entries, out, title="T", created=CREATED)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


class WriteOnly:
    """An output that can only be written to, like a response stream or an upload pipe."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> int:
        return self.buffer.write(data)

    def flush(self) -> None:
        pass


def test_writes_to_an_unseekable_stream(entries):
    out = WriteOnly()
    write_wacz(entries, out, title="T", created=CREATED)
    with zipfile.ZipFile(io.BytesIO(out.buffer.getvalue())) as archive:
        assert archive.testzip() is None
        assert len(archive.namelist()) == 7


def test_streams_large_warcs_without_holding_them(tmp_path):
    body = os.urandom(12 * 1024 * 1024)  # incompressible, so the WARC is as large
    capture = Capture(
        requested_url="https://files.example.org/leak.bin",
        exchanges=[
            Exchange(
                url="https://files.example.org/leak.bin",
                method="GET",
                request_headers=request_headers("files.example.org"),
                status=200,
                reason="OK",
                http_version="HTTP/1.1",
                response_headers=[("Content-Type", "application/octet-stream")],
                raw_body=body,
                body=body,
                peer_ip="198.51.100.9",
                started_at=STARTED,
            )
        ],
    )
    warc = write_capture(capture, tmp_path / "big.warc.gz")
    del capture, body
    entry = WaczEntry(
        warc_name="big.warc.gz",
        open_warc=lambda: warc.open("rb"),
        url="https://files.example.org/leak.bin",
        ts=STARTED,
    )
    tracemalloc.start()
    try:
        with (tmp_path / "big.wacz").open("wb") as out:
            write_wacz([entry], out, title="T", created=CREATED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert warc.stat().st_size > 12 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, peak
    assert member(tmp_path / "big.wacz", "archive/big.warc.gz") == warc.read_bytes()


def test_refuses_bad_entries(tmp_path, entries):
    out = io.BytesIO()
    bad_name = WaczEntry(
        warc_name="../escape.warc.gz", open_warc=bytes, url="https://x.example/", ts=STARTED
    )
    with pytest.raises(ValueError, match="file name"):
        write_wacz([bad_name], out, title="T")
    with pytest.raises(ValueError, match="two entries"):
        write_wacz([entries[0], entries[0]], io.BytesIO(), title="T")
    naive = WaczEntry(
        warc_name="n.warc.gz",
        open_warc=entries[1].open_warc,
        url="https://x.example/",
        ts=STARTED.replace(tzinfo=None),
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        write_wacz([naive], io.BytesIO(), title="T")


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.Example.COM/Path/To/?b=2&a=1#frag", "com,example)/path/to?a=1&b=2"),
        ("http://user:pw@example.org:8080/a/./b/../c//d/", "org,example:8080)/a/c/d"),
        ("https://example.org:443/", "org,example)/"),
        ("https://пример.рф/путь", "xn--p1ai,xn--e1afmkfd)/%d0%bf%d1%83%d1%82%d1%8c"),
        ("https://example.org/%7Euser/%41b?x=%2F&A=1", "org,example)/~user/ab?a=1&x=/"),
    ],
)
def test_surt(url, key):
    assert surt(url) == key


SURT_SAMPLES = [
    "http://news.example.org/story?id=7",
    "https://www2.example.co.uk",
    "https://example.org/новости/статья?q=привет",
    "https://example.org/a%20b?c",
    "https://example.org/a?z&y=1&x=",
    "http://EXAMPLE.org:80/x/",
]


@pytest.mark.parametrize("url", SURT_SAMPLES)
def test_surt_agrees_with_the_surt_package(url):
    import surt as reference  # dev extra: the reference implementation

    assert surt(url) == reference.surt(url)


def test_index_agrees_with_cdxj_indexer(wacz, warcs):
    indexer = BIN / "cdxj-indexer"  # dev extra
    ours = {(key, ts, fields["url"]): fields for key, ts, fields in parse_index(wacz)}
    for name, path in warcs.items():
        result = subprocess.run(
            [str(indexer), str(path)], capture_output=True, text=True, timeout=60, check=True
        )
        for line in result.stdout.splitlines():
            key, ts, raw = line.split(" ", 2)
            theirs = json.loads(raw)
            mine = ours[(key, ts, theirs["url"])]
            assert mine["filename"] == f"snapshot-{name}.warc.gz"
            assert {k: v for k, v in mine.items() if k != "filename"} == {
                k: v for k, v in theirs.items() if k != "filename"
            }


def test_py_wacz_validator_accepts_it(wacz, capsys):
    from wacz import validate  # dev extra: py-wacz's validator

    # `wacz validate` only runs its checks for wacz_version "1.1.1" (py-wacz 0.6 predates 1.2.0)
    # and rejects any other version up front, so run the checks it would run ourselves.
    validation = validate.Validation(str(wacz))
    assert validation.version == "1.2.0"
    assert validation.check_required_contents() == 0
    assert validation.frictionless_validate() is True
    assert validation.check_file_paths() is True
    assert validation.check_file_hashes() is True
    assert validation.check_data_package_hash_and_sig() is True
    assert "does not match" not in capsys.readouterr().out


def test_warcio_check_accepts_the_packaged_warcs(tmp_path, wacz):
    if not shutil.which("warcio", path=str(BIN)):
        pytest.skip("warcio CLI not installed")
    with zipfile.ZipFile(wacz) as archive:
        archive.extractall(tmp_path / "unpacked")
    for path in sorted((tmp_path / "unpacked" / "archive").iterdir()):
        result = subprocess.run(
            [str(BIN / "warcio"), "check", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout
