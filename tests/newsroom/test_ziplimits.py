"""newsroom/ziplimits.py: what a ZIP declares is checked before parsing and held to after."""

import io
import zipfile
from dataclasses import replace

import pytest

from evidence.detect import detect_file
from evidence.extract import extract_text
from newsroom import ziplimits
from newsroom.ziplimits import (
    BoundedMember,
    SafeZipFile,
    ZipLimits,
    ZipRefused,
    directory_extent,
)
from tests import zipbombs

MB = 1024 * 1024
LIMITS = ZipLimits(
    max_total_bytes=10 * MB,
    max_member_bytes=5 * MB,
    max_members=100,
    max_ratio=100,
    ratio_min_bytes=MB,
    max_xml_bytes=2 * MB,
)


def _zip(members: dict[str, bytes], *, comment: bytes = b"") -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.comment = comment
    data.seek(0)
    return data


def _refusal(data: io.BytesIO, limits: ZipLimits = LIMITS, **kwargs) -> str:
    with pytest.raises(ZipRefused) as refused:
        SafeZipFile(data, limits, **kwargs)
    return refused.value.reason


def test_item7_entries_are_counted_from_the_end_record_before_the_directory_is_parsed():
    members = {f"{n}.txt": b"" for n in range(101)}
    entries, size = directory_extent(_zip(members, comment=b"c" * 60_000))
    assert (entries, size) == (101, sum(46 + len(name) for name in members))
    assert directory_extent(io.BytesIO(b"not a zip")) is None
    assert _refusal(_zip(members)) == "holds 101 files, over the 100 limit"


def test_item7_zip64_end_records_are_read_too():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as archive:
        for n in range(65_536):  # one more than the classic record can count
            archive.writestr(f"{n}", b"")
    assert directory_extent(data)[0] == 65_536


def test_item7_a_directory_too_large_to_parse_is_refused_before_it_is(monkeypatch):
    monkeypatch.setattr(ziplimits, "MAX_DIRECTORY_BYTES", 1000)
    members = {f"{'long-name-' * 5}{n}.txt": b"" for n in range(20)}
    assert (
        _refusal(_zip(members)) == "has a 2 KB directory of its files, over the 1,000 bytes limit"
    )


def test_item7_sizes_then_ratios_are_refused_from_what_the_directory_declares():
    assert _refusal(_zip({"a.bin": b"\0" * (6 * MB)})) == (
        "expands to 6 MB in a.bin, over the 5 MB limit for one part"
    )
    two = {"a.bin": b"\0" * (4 * MB), "b.bin": b"\0" * (4 * MB), "c.bin": b"\0" * (3 * MB)}
    assert _refusal(_zip(two)) == "expands to 11 MB, over the 10 MB limit"
    assert _refusal(_zip({"a.bin": b"\0" * (2 * MB)})) == (
        "expands 1,024 times in a.bin (2 KB to 2 MB), over the 100:1 limit"
    )
    # Under ratio_min_bytes a member may compress as well as it likes.
    with SafeZipFile(_zip({"a.bin": b"\0" * (MB - 1)}), LIMITS) as archive:
        assert len(archive.read("a.bin")) == MB - 1


def test_item7_xml_read_whole_is_held_to_its_own_limit():
    xml = b"<p>" + b"x" * (3 * MB) + b"</p>"
    lenient = replace(LIMITS, max_ratio=10_000)
    assert _refusal(_zip({"d.xml": xml}), lenient, xml_read_whole=True) == (
        "expands to 3 MB of XML, over the 2 MB limit"
    )
    with SafeZipFile(_zip({"d.xml": xml}), lenient) as archive:
        with pytest.raises(ZipRefused) as refused:
            archive.read("d.xml")  # parsed whole: the XML limit
        assert refused.value.reason == "expands to 3 MB of XML in d.xml, over the 2 MB limit"
        with archive.open("d.xml") as stream:  # streamed: the member limit
            assert len(stream.read()) == len(xml)


def test_item7_a_bounded_member_stops_at_its_limit_whatever_the_stream_holds():
    stream = BoundedMember(io.BytesIO(b"x" * 100), max_bytes=64, refusal="holds too much")
    reader = io.BufferedReader(stream, 16)
    assert len(reader.read(64)) == 64
    with pytest.raises(ZipRefused, match="holds too much"):
        reader.read()


def test_item7_the_read_budget_counts_every_byte_decompressed():
    data = _zip({"a.xml": b"a" * 600_000, "b.xml": b"b" * 600_000})
    with SafeZipFile(data, replace(LIMITS, read_budget=1_000_000)) as archive:
        archive.read("a.xml")
        with pytest.raises(ZipRefused) as refused:
            archive.read("b.xml")
    assert refused.value.reason == "needs more than 977 KB read to show its first rows"


def test_item7_a_lying_member_yields_no_more_than_it_declares(tmp_path):
    path = zipbombs.docx(tmp_path / "liar.docx", xml_bytes=10 * MB)
    zipbombs.declare_size(path, "word/document.xml", 1000)
    received = 0
    with (
        SafeZipFile(path, LIMITS) as archive,
        pytest.raises(zipfile.BadZipFile, match="CRC"),
        archive.open("word/document.xml") as stream,
    ):
        while chunk := stream.read(100):
            received += len(chunk)
    assert received <= 1000


def test_item7_a_nested_archive_counts_with_its_size_and_is_never_opened(tmp_path):
    inner = _zip({"bomb.xml": b"\0" * (20 * MB)}).getvalue()  # 20 MB in 20 KB
    path = zipbombs.docx(tmp_path / "embedded.docx", paragraphs=("Справка",))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("word/embeddings/sheet.xlsx", inner)
    result = extract_text(path, detect_file(path))
    assert (result.error, result.text) == (None, "Справка\n")
