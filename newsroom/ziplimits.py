"""Limits for the ZIP containers people upload (XLSX, DOCX), checked before anything parses them.

A ZIP's central directory declares each member's sizes, and a few kilobytes can expand to
gigabytes. SafeZipFile counts the directory's entries before parsing it, then refuses an
archive with too many members, a member too large or expanding too many times its compressed
size, or too many bytes in all. What it declares is then held to while decompressing: every
member is read through BoundedMember, which counts the bytes decompression really produced and
stops at the limit. (CPython's zipfile also cuts a member at its declared size and then fails
its CRC, so a member that holds more than it declares is stopped either way.)

Nested archives (a spreadsheet embedded in a DOCX) are never opened here or by the parsers
behind it: they count with their declared size like any other member.

Document extraction (evidence/extract.py) and the importer (entities/importing/readers.py)
both open Office files through this module, workbooks through newsroom/xlsx.py.
"""

import io
import os
import posixpath
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import BinaryIO

from defusedxml import ElementTree

MB = 1024 * 1024
# The central directory of 10,000 members with long names fits in a few megabytes; a larger
# one is parsed into a ZipInfo per entry before any limit could look at it.
MAX_DIRECTORY_BYTES = 16 * MB
_CHUNK = 64 * 1024
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


class ZipRefused(Exception):
    """An archive over a limit. The reason reads after a subject: "The DOCX document <reason>"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ZipLimits:
    max_total_bytes: int  # all members, uncompressed
    max_member_bytes: int  # any one member, uncompressed
    max_members: int
    max_ratio: float  # uncompressed / compressed size of a member ...
    ratio_min_bytes: int  # ... that expands to more than this
    # Parts a reader parses whole, into memory (a DOCX's XML; an XLSX's workbook, styles,
    # theme), together. Streamed parts (worksheets, shared strings) are not counted.
    max_xml_bytes: int
    # Every byte decompressed through one SafeZipFile, or None: the import preview's bound.
    read_budget: int | None = None

    @classmethod
    def for_documents(cls) -> "ZipLimits":
        """Limits for documents whose text is extracted (DOCX, XLSX evidence)."""
        from django.conf import settings

        return cls(
            max_total_bytes=settings.ZIP_MAX_BYTES,
            max_member_bytes=settings.ZIP_MAX_MEMBER_BYTES,
            max_members=settings.ZIP_MAX_MEMBERS,
            max_ratio=settings.ZIP_MAX_RATIO,
            ratio_min_bytes=settings.ZIP_RATIO_MIN_BYTES,
            max_xml_bytes=settings.OOXML_MAX_XML_BYTES,
        )

    @classmethod
    def for_imports(cls) -> "ZipLimits":
        """Limits for XLSX imports: their sheets are streamed, so they may be larger."""
        from django.conf import settings

        total = max(settings.IMPORT_XLSX_MAX_BYTES, settings.ZIP_MAX_BYTES)
        return replace(cls.for_documents(), max_total_bytes=total, max_member_bytes=total)


def size_text(size: int) -> str:
    """Bytes for people: 48 MB, 97 KB."""
    if size >= MB:
        return f"{size / MB:,.0f} MB"
    if size >= 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size:,} bytes"


def directory_extent(fh: BinaryIO) -> tuple[int, int] | None:
    """(entries, bytes) of the central directory, as the end of central directory record
    declares them, without parsing the directory; None if there is no such record. The file
    position is not restored."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    tail_size = min(size, _EOCD.size + 65535)  # the record, then a comment of up to 64 KB
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    fields = _EOCD.unpack_from(tail, at)
    extent = fields[4], fields[5]
    if 0xFFFF not in extent and 0xFFFFFFFF not in extent:
        return extent
    # ZIP64: the real figures are in the ZIP64 record its locator points at.
    locator_at = size - tail_size + at - _ZIP64_LOCATOR.size
    if locator_at < 0:
        return extent
    fh.seek(locator_at)
    locator = _ZIP64_LOCATOR.unpack(fh.read(_ZIP64_LOCATOR.size))
    if locator[0] != b"PK\x06\x07":
        return extent
    fh.seek(locator[2])
    record = fh.read(_ZIP64_EOCD.size)
    if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
        return extent
    fields = _ZIP64_EOCD.unpack(record)
    return fields[7], fields[8]


class BoundedMember(io.RawIOBase):
    """A member's decompressed stream that refuses to produce more than max_bytes."""

    def __init__(
        self,
        raw: BinaryIO,
        *,
        max_bytes: int,
        on_read: Callable[[int], None] | None = None,
        refusal: str,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._left = max_bytes
        self._on_read = on_read
        self._refusal = refusal

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        # One byte more than allowed tells "exactly at the limit" from "over it".
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise ZipRefused(self._refusal)
        self._left -= len(data)
        if self._on_read is not None:
            self._on_read(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class SafeZipFile(zipfile.ZipFile):
    """A read-only ZipFile that checks its directory against limits and bounds every read.

    open() streams a member (at most max_member_bytes); read() reads one whole, and whole reads
    together may not exceed max_xml_bytes: readers parse those parts into memory.
    """

    def __init__(
        self,
        file: str | os.PathLike[str] | BinaryIO,
        limits: ZipLimits,
        *,
        xml_read_whole: bool = False,
    ) -> None:
        """Open and check an archive. xml_read_whole: its reader parses every XML part whole
        (python-docx), so their declared sizes together are held to max_xml_bytes too."""
        if isinstance(file, str | os.PathLike):
            with open(file, "rb") as fh:
                _check_directory_size(fh, limits)
        else:
            _check_directory_size(file, limits)
            file.seek(0)
        super().__init__(file)
        self.limits = limits
        self._whole_left = limits.max_xml_bytes
        self._budget_left = limits.read_budget
        try:
            # Sizes first: "48 MB of XML, over the 20 MB limit" says more than a ratio.
            check_sizes(self.infolist(), limits)
            if xml_read_whole:
                declared = sum(info.file_size for info in xml_parts(self))
                if declared > limits.max_xml_bytes:
                    raise ZipRefused(
                        f"expands to {size_text(declared)} of XML, "
                        f"over the {size_text(limits.max_xml_bytes)} limit"
                    )
            check_ratios(self.infolist(), limits)
        except BaseException:
            self.close()
            raise

    def open_bounded(self, name: str, *, max_bytes: int, what: str) -> BinaryIO:
        """A member as a buffered stream of at most max_bytes, refused at once if it declares
        more. `what` names its content in the refusal: "XML", "shared strings"."""
        info = self.getinfo(name)
        if info.file_size > max_bytes:
            raise ZipRefused(
                f"expands to {size_text(info.file_size)} of {what} in {name}, "
                f"over the {size_text(max_bytes)} limit"
            )
        raw = super().open(info)
        stream = BoundedMember(
            raw,
            max_bytes=max_bytes,
            on_read=self._spend,
            refusal=f"expands to more than {size_text(max_bytes)} of {what} in {name}",
        )
        return io.BufferedReader(stream, _CHUNK)

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):  # type: ignore[override]
        if mode != "r":
            raise ValueError("SafeZipFile is read-only")
        return self.open_bounded(name, max_bytes=self.limits.max_member_bytes, what="data")

    def read(self, name, pwd=None) -> bytes:  # type: ignore[override]
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        with self.open_bounded(info.filename, max_bytes=self._whole_left, what="XML") as fh:
            data = fh.read()
        self._whole_left -= len(data)
        return data

    def _spend(self, size: int) -> None:
        if self._budget_left is None:
            return
        self._budget_left -= size
        if self._budget_left < 0:
            budget = self.limits.read_budget or 0
            raise ZipRefused(f"needs more than {size_text(budget)} read to show its first rows")


def _check_directory_size(fh: BinaryIO, limits: ZipLimits) -> None:
    extent = directory_extent(fh)
    if extent is None:
        return  # not a ZIP, or a damaged one: ZipFile says which
    entries, size = extent
    if entries > limits.max_members:
        raise ZipRefused(f"holds {entries:,} files, over the {limits.max_members:,} limit")
    if size > MAX_DIRECTORY_BYTES:
        raise ZipRefused(
            f"has a {size_text(size)} directory of its files, "
            f"over the {size_text(MAX_DIRECTORY_BYTES)} limit"
        )


def check_sizes(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse more members, or more bytes in one or in all, than the limits allow."""
    if len(members) > limits.max_members:
        raise ZipRefused(f"holds {len(members):,} files, over the {limits.max_members:,} limit")
    for info in members:
        if info.file_size > limits.max_member_bytes:
            raise ZipRefused(
                f"expands to {size_text(info.file_size)} in {info.filename}, "
                f"over the {size_text(limits.max_member_bytes)} limit for one part"
            )
    total = sum(info.file_size for info in members)
    if total > limits.max_total_bytes:
        raise ZipRefused(
            f"expands to {size_text(total)}, over the {size_text(limits.max_total_bytes)} limit"
        )


def check_ratios(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse a member that expands more than max_ratio times (past a small size)."""
    for info in members:
        size, packed = info.file_size, max(info.compress_size, 1)
        if size > limits.ratio_min_bytes and size > limits.max_ratio * packed:
            raise ZipRefused(
                f"expands {size / packed:,.0f} times in {info.filename} "
                f"({size_text(packed)} to {size_text(size)}), "
                f"over the {limits.max_ratio:,.0f}:1 limit"
            )


def xml_parts(archive: SafeZipFile) -> list[zipfile.ZipInfo]:
    """The members of an Office Open XML package that hold XML.

    By their content type in [Content_Types].xml (what readers go by), and by name (.xml,
    .rels) too, so renaming a part does not hide it.
    """
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    if _CONTENT_TYPES in archive.NameToInfo:
        limit = archive.limits.max_xml_bytes
        with archive.open_bounded(_CONTENT_TYPES, max_bytes=limit, what="XML") as fh:
            root = ElementTree.fromstring(fh.read())
        for node in root.iter(f"{_CT_NS}Default"):
            defaults[node.get("Extension", "").lower()] = node.get("ContentType", "")
        for node in root.iter(f"{_CT_NS}Override"):
            overrides[node.get("PartName", "").lstrip("/").lower()] = node.get("ContentType", "")
    parts = []
    for info in archive.infolist():
        name = info.filename.lower()
        # By the last dot of the file name: "_rels/.rels" is a .rels part.
        base = posixpath.basename(name)
        extension = base.rpartition(".")[2] if "." in base else ""
        content_type = overrides.get(name) or defaults.get(extension, "")
        if extension in ("xml", "rels") or content_type.endswith("xml"):
            parts.append(info)
    return parts


def xml_only_copy(archive: SafeZipFile) -> io.BytesIO:
    """An uncompressed copy of an Office package holding its XML parts, every other member
    present but empty: for readers that open their own ZipFile and load every part (python-docx)
    when only the text is wanted. Open the archive with xml_read_whole=True."""
    keep = {info.filename for info in xml_parts(archive)}
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        for name, info in archive.NameToInfo.items():  # the last of duplicates, as ZipFile reads
            out.writestr(name, archive.read(info) if name in keep else b"")
    copy.seek(0)
    return copy
