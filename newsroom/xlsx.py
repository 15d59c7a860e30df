"""Open XLSX workbooks from users with openpyxl, within the limits of newsroom/ziplimits.py.

openpyxl's read-only mode streams worksheets, but it loads every shared string when the
workbook opens, and parses the other parts (workbook, styles, theme) whole. Here the package
is read through a SafeZipFile, so those parts are bounded as they are decompressed, and the
shared strings are read by our own loop: all of them up to a count and a size limit, or, for
a preview, only the ones the first rows use (SharedStringRef placeholders, then
Workbook.resolve()).

Used by document extraction (evidence/extract.py) and the importer's reader
(entities/importing/readers.py). Written against openpyxl 3.1 (pinned in pyproject.toml).
"""

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from lxml import etree
from openpyxl.cell.text import Text
from openpyxl.packaging.manifest import Manifest
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from .ziplimits import SafeZipFile, ZipLimits, ZipRefused

_SI = f"{{{SHEET_MAIN_NS}}}si"
_T = f"{{{SHEET_MAIN_NS}}}t"


@dataclass(frozen=True)
class StringLimits:
    max_count: int
    max_bytes: int  # of the shared strings part, uncompressed

    @classmethod
    def from_settings(cls) -> "StringLimits":
        from django.conf import settings

        return cls(
            max_count=settings.XLSX_MAX_SHARED_STRINGS,
            max_bytes=settings.XLSX_MAX_SHARED_STRINGS_BYTES,
        )


class SharedStringRef(int):
    """A shared string cell's index, standing for its text until it is resolved."""


class _References:
    """Shared strings that are not read: each cell gets a reference to its string."""

    def __getitem__(self, index: int) -> SharedStringRef:
        return SharedStringRef(index)


class _Reader(ExcelReader):
    """openpyxl's reader, on a SafeZipFile, reading shared strings our way."""

    def __init__(self, archive: SafeZipFile, strings: StringLimits | None) -> None:
        # ExcelReader.__init__ would open its own ZipFile; these are the attributes it sets,
        # for a read-only, values-only, no-links, no-VBA read.
        self.archive = archive
        self.valid_files = archive.namelist()
        self.read_only = True
        self.keep_vba = False
        self.data_only = True
        self.keep_links = False
        self.rich_text = False
        self.shared_strings: Any = []
        self._string_limits = strings

    def read_strings(self) -> None:
        path = _strings_path(self.package)
        if path is None:
            return
        if self._string_limits is None:
            self.shared_strings = _References()
        else:
            self.shared_strings = list(_iter_strings(self.archive, path, self._string_limits))


def _strings_path(package: Manifest) -> str | None:
    part = package.find(SHARED_STRINGS)
    return part.PartName[1:] if part is not None else None


class Workbook:
    """An openpyxl read-only workbook, with what resolving shared strings needs; close() it."""

    def __init__(self, book, archive: SafeZipFile, strings_path: str | None) -> None:
        self.book = book  # openpyxl Workbook (openpyxl ships no type hints)
        self.archive = archive
        self.strings_path = strings_path

    @property
    def worksheets(self) -> list:
        return self.book.worksheets

    def close(self) -> None:
        self.book.close()  # closes the archive too

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def resolve(
        self, rows: Iterable[tuple[Any, ...]], *, limits: StringLimits
    ) -> list[tuple[Any, ...]]:
        """The rows with their SharedStringRef placeholders replaced by the strings' text.

        Reads the shared strings part only as far as the highest index the rows use, keeping
        the strings they use and no others.
        """
        rows = list(rows)
        wanted = {value for row in rows for value in row if type(value) is SharedStringRef}
        if not wanted:
            return rows
        found: dict[int, str] = {}
        if self.strings_path is not None:
            last = max(wanted)
            for index, text in enumerate(_iter_strings(self.archive, self.strings_path, limits)):
                if index in wanted:
                    found[index] = text
                if index >= last:
                    break
        missing = wanted - found.keys()
        if missing:
            raise ZipRefused(f"refers to shared string {min(missing):,}, which it does not hold")
        return [tuple(found[v] if type(v) is SharedStringRef else v for v in row) for row in rows]


def open_workbook(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    limits: ZipLimits,
    strings: StringLimits | None,
) -> Workbook:
    """Open a workbook read-only, values only (cached formula results), without links.

    With strings=None, shared string cells hold SharedStringRef placeholders: pass the rows
    you read to Workbook.resolve(). Raises ZipRefused over a limit; anything else openpyxl
    raises means a damaged file.
    """
    archive = SafeZipFile(source, limits)
    try:
        reader = _Reader(archive, strings)
        reader.read()
    except BaseException:
        archive.close()
        raise
    return Workbook(reader.wb, archive, _strings_path(reader.package))


def _iter_strings(archive: SafeZipFile, path: str, limits: StringLimits) -> Iterator[str]:
    """Each shared string's text, as openpyxl reads it, in index order.

    lxml's iterparse, without entities, DTDs or the network (openpyxl's ElementTree loop runs
    its handlers in Python: three times slower); each string's element is dropped once read.
    """
    with archive.open_bounded(path, max_bytes=limits.max_bytes, what="shared strings") as src:
        strings = etree.iterparse(
            src, events=("end",), tag=_SI, resolve_entities=False, no_network=True, load_dtd=False
        )
        for count, (_event, node) in enumerate(strings, start=1):
            if count > limits.max_count:
                raise ZipRefused(
                    f"holds more than {limits.max_count:,} shared strings, over the limit"
                )
            yield _string_text(node)
            node.clear()
            while node.getprevious() is not None:
                del node.getparent()[0]


def _string_text(node) -> str:  # node: an <si> element
    """A shared string's text as openpyxl's Text.from_tree(node).content gives it; the
    plain <si><t>...</t></si> of most strings without building openpyxl's objects."""
    if len(node) == 1 and node[0].tag == _T and not len(node[0]):
        text = node[0].text or ""
    else:
        text = Text.from_tree(node).content
    return text.replace("x005F_", "")
