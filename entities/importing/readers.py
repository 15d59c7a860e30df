"""Read an uploaded CSV, TSV or XLSX file as a header row and a stream of rows.

The format is detected from the content, never from the file name: a PDF renamed to .csv is
still a PDF. Rows are streamed (csv module over a text stream, openpyxl in read-only mode), so
memory stays flat whatever the file size. Each row carries the physical line number where it
starts in the file, which is what the rejected-rows report shows.

open_table() and preview() run inside a web request (the upload and the mapping screen), so
they read only the header and the first rows, within a bound whatever the file holds: an
XLSX's ZIP container is checked first (newsroom/ziplimits.py) and only the shared strings the
first rows use are read (newsroom/xlsx.py); a CSV's first rows are read from its first
PREVIEW_MAX_CHARS characters. Table.rows(), in the worker, reads everything.
"""

import codecs
import csv
import dataclasses
import datetime
import io
import os
import re
import zipfile
from collections.abc import Generator, Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path

from newsroom.xlsx import StringLimits, Workbook, open_workbook
from newsroom.ziplimits import SafeZipFile, ZipLimits, ZipRefused

SNIFF_CHARS = 64 * 1024
SCAN_CHUNK = 1024 * 1024
DELIMITERS = ",;\t|"
# A field longer than this is not a value but a broken file (an unclosed quote swallowing the
# rest of it); the limit also keeps memory bounded. The csv module's default is 128 KiB.
FIELD_LIMIT = 16 * 1024 * 1024
# What the web request reads at most to show the header and the first rows: characters of a
# CSV; bytes decompressed from an XLSX (its sheet's first rows, the shared strings they use,
# workbook and styles). HEAD_ROWS: the header must be within a sheet's first rows.
PREVIEW_MAX_CHARS = 16 * 1024 * 1024
PREVIEW_MAX_XLSX_BYTES = 64 * 1024 * 1024
HEAD_ROWS = 1000

_NON_ASCII = re.compile(rb"[\x80-\xff]")
_NON_ASCII_TEXT = re.compile("[^\x00-\x7f]")
UNDECODABLE = "\ufffd"  # what errors="replace" puts for bytes that do not decode
_CYRILLIC_WORDS = re.compile("[а-яёА-ЯЁіїєўґІЇЄЎҐ]{2,}")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_JSON_START = re.compile(r'\{|\[\s*[\[{"0-9\]]')
_XLSX_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"')

# Leading bytes of formats people upload by mistake -> what to call them in the error.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (or Word .doc) file; save it as XLSX or CSV"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3", "an SQLite database"),
)


class UnreadableFile(Exception):
    """A file that is not a table we can read, with a one-line reason for the person."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Table:
    """A file's header row and a way to stream its data rows; rows() may be called again."""

    format: str = ""
    encoding: str = ""
    delimiter: str = ""

    def __init__(self, path: Path, *, filename: str, headers: list[str], header_line: int) -> None:
        self.path = path
        self.filename = filename
        self.headers = headers
        self.header_line = header_line  # last physical line (sheet row) of the header row

    def rows(self) -> Generator[tuple[int, list[str]]]:
        """(line of the row's first line, values as strings) for every non-blank data row.

        A row shorter than the header is padded with empty values; a longer one is yielded as
        it is (the parser rejects it) unless the extra values are all empty.
        """
        raise NotImplementedError

    def preview(self, n: int) -> list[tuple[int, list[str]]]:
        """The first n data rows, as rows() gives them, read within the preview's bound."""
        raise NotImplementedError


class CsvTable(Table):
    format = "csv"

    def __init__(
        self,
        path: Path,
        *,
        filename: str,
        headers: list[str],
        header_line: int,
        encoding: str,
        delimiter: str,
    ) -> None:
        super().__init__(path, filename=filename, headers=headers, header_line=header_line)
        self.encoding = encoding
        self.delimiter = delimiter

    def rows(self, *, max_chars: int | None = None) -> Generator[tuple[int, list[str]]]:
        _raise_field_limit()
        width = len(self.headers)
        # errors="replace": a stray undecodable byte becomes U+FFFD and the parser rejects
        # that row, instead of the whole file failing half-way through.
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as stream:
            lines = stream if max_chars is None else _bounded_lines(stream, max_chars)
            reader = csv.reader(lines, delimiter=self.delimiter)
            previous = self.header_line
            try:
                for _ in reader:
                    if reader.line_num >= self.header_line:
                        break
                previous = reader.line_num
                for values in reader:
                    start = previous + 1  # line_num is the record's last line; it began here
                    previous = reader.line_num
                    size = len(values)
                    if size != width:
                        if size < width:
                            if not size:
                                continue  # blank line
                            values += [""] * (width - size)
                        elif not any(values[width:]):
                            del values[width:]  # trailing delimiters, as Excel writes them
                    if any(values):
                        yield start, values
            except csv.Error as error:
                raise UnreadableFile(
                    f"line {previous + 1}: {error} (an unclosed quote?)"
                ) from error

    def preview(self, n: int) -> list[tuple[int, list[str]]]:
        rows = self.rows(max_chars=PREVIEW_MAX_CHARS)
        try:
            return list(islice(rows, n))
        finally:
            rows.close()  # closes the file now, not when garbage-collected


def _bounded_lines(stream: io.TextIOBase, max_chars: int) -> Iterator[str]:
    """The stream's lines, refusing to go past its first max_chars characters."""
    left = max_chars
    while line := stream.readline(left + 1):
        left -= len(line)
        if left < 0:
            raise UnreadableFile(
                f"the first rows take more than {max_chars:,} characters (an unclosed quote?), "
                "too many to show them"
            )
        yield line


class XlsxTable(Table):
    format = "xlsx"

    def __init__(
        self,
        path: Path,
        *,
        filename: str,
        headers: list[str],
        header_line: int,
        sheet: int,
        head: list[tuple[int, list[str]]],
    ) -> None:
        super().__init__(path, filename=filename, headers=headers, header_line=header_line)
        self.sheet = sheet
        self.head = head  # the data rows among the sheet's first HEAD_ROWS, for preview()

    def rows(self) -> Generator[tuple[int, list[str]]]:
        try:
            workbook = open_workbook(
                self.path, limits=ZipLimits.for_imports(), strings=StringLimits.from_settings()
            )
        except ZipRefused as exc:
            raise UnreadableFile(f"the file {exc.reason}") from exc
        try:
            sheet = workbook.worksheets[self.sheet]
            sheet.reset_dimensions()
            cells = sheet.iter_rows(min_row=self.header_line + 1, values_only=True)
            for number, row in enumerate(cells, start=self.header_line + 1):
                values = self._fit([_cell_text(v) for v in row])
                if any(values):
                    yield number, values
        except ZipRefused as exc:
            raise UnreadableFile(f"the file {exc.reason}") from exc
        finally:
            workbook.close()

    def preview(self, n: int) -> list[tuple[int, list[str]]]:
        return self.head[:n]

    def _fit(self, values: list[str]) -> list[str]:
        width = len(self.headers)
        size = len(values)
        if size < width:
            values += [""] * (width - size)
        elif size > width and not any(values[width:]):
            del values[width:]
        return values


def open_table(path: Path | str, *, filename: str = "") -> Table:
    """Open a CSV/TSV or XLSX file, detecting format, encoding and delimiter from its content.

    Raises UnreadableFile with a one-line reason for anything else.
    """
    path = Path(path)
    filename = filename or path.name
    with open(path, "rb") as stream:
        head = stream.read(SNIFF_CHARS)
    if not head:
        raise UnreadableFile("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, filename)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnreadableFile(f"this looks like {what}, not a CSV or XLSX file")
    encoding = _detect_encoding(path, head)
    return _open_csv(path, filename, encoding)


def preview(table: Table, n: int = 10) -> list[tuple[int, list[str]]]:
    """The first n data rows, for the mapping screen (fewer if an XLSX's first HEAD_ROWS
    rows hold fewer)."""
    return table.preview(n)


def estimate_rows(path: Path | str) -> int | None:
    """Roughly how many data rows the file holds, for a progress bar; None if unknown."""
    path = Path(path)
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        if stream.read(4) == b"PK\x03\x04":
            return _xlsx_rows(path)
        stream.seek(0)
        lines = 0
        length = 0
        for line in islice(stream, 1000):
            lines += 1
            length += len(line)
    if not lines:
        return None
    if length >= size:  # the whole file was read: count exactly
        return max(lines - 1, 0)
    return max(round(size / (length / lines)) - 1, 0)


# --- text files -------------------------------------------------------------------------------


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1251, or a Western 8-bit code page.

    Decided on the first stretch of non-ASCII bytes, wherever it is: a Windows-1251 file whose
    first 64 KB happen to be ASCII must not be taken for UTF-8.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if b"\x00" in head:
        raise UnreadableFile("this looks like a binary file, not a CSV or XLSX file")
    sample = _non_ascii_sample(path, head)
    if sample is None:
        return "utf-8"  # plain ASCII: any of them would do
    # UTF-8 with a stray bad byte is still UTF-8 (the reader turns that byte into U+FFFD and
    # the parser rejects its row); other encodings give almost no valid multi-byte sequences.
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=False)
    errors = text.count(UNDECODABLE)
    if len(_NON_ASCII_TEXT.findall(text)) - errors >= 10 * errors:
        return "utf-8"
    try:
        text = sample.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    non_ascii = sum(1 for c in text if c >= "\x80")
    cyrillic = sum(len(w) for w in _CYRILLIC_WORDS.findall(text))
    # Russian text is runs of Cyrillic letters; Western text read as cp1251 gives isolated
    # letters ("Müller" -> "Mьller"), so most of its non-ASCII characters stay alone.
    if non_ascii and cyrillic >= 0.6 * non_ascii:
        return "cp1251"
    for encoding in ("cp1252", "latin-1"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        if len(_CONTROL.findall(text)) <= len(text) // 1000:
            return encoding
    raise UnreadableFile(
        "this is not text in a known encoding (UTF-8, Windows-1251 or Latin-1), so not a CSV file"
    )


def _non_ascii_sample(path: Path, head: bytes) -> bytes | None:
    """Up to 64 KB starting at the file's first non-ASCII byte; None if it is all ASCII."""
    match = _NON_ASCII.search(head)
    if match:
        return head[match.start() :]
    with open(path, "rb") as stream:
        stream.seek(len(head))
        offset = len(head)
        while chunk := stream.read(SCAN_CHUNK):
            match = _NON_ASCII.search(chunk)
            if match:
                stream.seek(offset + match.start())
                return stream.read(SNIFF_CHARS)
            offset += len(chunk)
    return None


def _open_csv(path: Path, filename: str, encoding: str) -> CsvTable:
    with open(path, encoding=encoding, errors="replace", newline="") as stream:
        sample = stream.read(SNIFF_CHARS)
        truncated = bool(stream.read(1))
    if not sample.strip():
        raise UnreadableFile("the file is empty" if not sample else "no header row")
    lower = sample.lstrip()[:200].lower()
    if lower.startswith(("<!doctype html", "<html")):
        raise UnreadableFile("this looks like a web page (HTML), not a CSV or XLSX file")
    if _JSON_START.match(lower):
        raise UnreadableFile(
            "this looks like JSON, not a CSV or XLSX file (FtM JSON lines have their own import)"
        )
    if truncated:  # cut at the last line break so the sniffer sees whole lines
        sample = sample[: max(sample.rfind("\n"), sample.rfind("\r")) + 1] or sample
    delimiter = _detect_delimiter(sample, truncated=truncated)
    _raise_field_limit()
    with open(path, encoding=encoding, errors="replace", newline="") as stream:
        reader = csv.reader(_bounded_lines(stream, PREVIEW_MAX_CHARS), delimiter=delimiter)
        try:
            header = next((r for r in reader if any(v.strip() for v in r)), None)
        except csv.Error as error:
            raise UnreadableFile(f"the header row cannot be read: {error}") from error
        header_line = reader.line_num
    if header is None:
        raise UnreadableFile("no header row")
    while not header[-1].strip():
        header.pop()  # trailing delimiters; their empty values are dropped from rows too
    return CsvTable(
        path,
        filename=filename,
        headers=_clean_headers(header),
        header_line=header_line,
        encoding=encoding,
        delimiter=delimiter,
    )


def _raise_field_limit() -> None:
    """The csv module's limit is process-wide; only ever raise it."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)


def _detect_delimiter(sample: str, *, truncated: bool) -> str:
    """csv.Sniffer's guess, checked against the field counts of the first lines.

    The sniffer is confused by quoted values and decimal commas; a delimiter that splits the
    header into several fields and splits the following lines the same way is the right one.
    """
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    scores = {d: _consistency(sample, d, truncated=truncated) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    if sniffed in scores and scores[sniffed][0] and scores[sniffed][1] >= scores[best][1]:
        return sniffed
    return best if scores[best][0] else ","


def _consistency(sample: str, delimiter: str, *, truncated: bool) -> tuple[bool, float, int]:
    """(splits the header, share of the next lines with as many fields, header field count)."""
    try:
        records = [
            r
            for r in islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 51)
            if r
        ]
    except csv.Error:
        return (False, 0.0, 0)
    if truncated and len(records) > 2:
        records.pop()  # may be cut in the middle of a quoted value
    if not records:
        return (False, 0.0, 0)
    width = len(records[0])
    rest = records[1:]
    same = sum(1 for r in rest if len(r) == width) / len(rest) if rest else 1.0
    return (width > 1, same, width)


def _clean_headers(raw: list[str]) -> list[str]:
    """Stripped; blank ones become "column N"; a repeated name gets " (2)", " (3)"..."""
    headers: list[str] = []
    seen: dict[str, int] = {}
    for number, value in enumerate(raw, start=1):
        name = " ".join(value.replace("\ufeff", "").split()) or f"column {number}"
        count = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = count
        headers.append(name if count == 1 else f"{name} ({count})")
    return headers


# --- XLSX -------------------------------------------------------------------------------------


def _preview_limits() -> ZipLimits:
    return dataclasses.replace(ZipLimits.for_imports(), read_budget=PREVIEW_MAX_XLSX_BYTES)


def _open_xlsx(path: Path, filename: str) -> XlsxTable:
    """The header and first rows of the first sheet that has any, read within the preview's
    bound: the shared strings are read only as far as those rows need."""
    limits = _preview_limits()
    try:
        with SafeZipFile(path, limits) as archive:
            names = archive.namelist()
    except ZipRefused as error:
        raise UnreadableFile(f"the file {error.reason}") from error
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise UnreadableFile("this looks like a damaged ZIP or XLSX file") from error
    if not any(n.startswith("xl/") for n in names):
        if any(n.startswith("word/") for n in names):
            what = "a Word document"
        elif any(n.startswith("ppt/") for n in names):
            what = "a PowerPoint file"
        elif "content.xml" in names:
            what = "an OpenDocument file; save it as XLSX or CSV"
        else:
            what = "a ZIP archive"
        raise UnreadableFile(f"this looks like {what}, not a CSV or XLSX file")
    try:
        workbook = open_workbook(path, limits=limits, strings=None)
    except ZipRefused as error:
        raise UnreadableFile(f"the file {error.reason}") from error
    except Exception as error:  # openpyxl raises anything from KeyError to XML errors
        raise UnreadableFile(f"this XLSX file cannot be opened ({error})") from error
    try:
        with workbook:
            table = _first_table(workbook, path, filename)
    except ZipRefused as error:
        raise UnreadableFile(f"the file {error.reason}") from error
    except UnreadableFile:
        raise
    except Exception as error:  # a damaged sheet fails as it is parsed
        raise UnreadableFile(f"this XLSX file cannot be read ({error})") from error
    if table is None:
        raise UnreadableFile(
            f"no header row: the workbook's sheets are empty (in their first {HEAD_ROWS:,} rows)"
        )
    return table


def _first_table(workbook: Workbook, path: Path, filename: str) -> XlsxTable | None:
    strings = StringLimits.from_settings()
    for index, sheet in enumerate(workbook.worksheets):
        sheet.reset_dimensions()  # some writers record wrong sizes, which would cut rows
        head = workbook.resolve(
            islice(sheet.iter_rows(values_only=True), HEAD_ROWS), limits=strings
        )
        for number, row in enumerate(head, start=1):
            values = [_cell_text(v) for v in row]
            if any(v.strip() for v in values):
                while values and not values[-1].strip():
                    values.pop()
                table = XlsxTable(
                    path,
                    filename=filename,
                    headers=_clean_headers(values),
                    header_line=number,
                    sheet=index,
                    head=[],
                )
                for line, data in enumerate(head[number:], start=number + 1):
                    values = table._fit([_cell_text(v) for v in data])
                    if any(values):
                        table.head.append((line, values))
                return table
    return None


def _cell_text(value: object) -> str:
    """A cell value as the text a person sees: dates as ISO dates, 12.0 as 12."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is float:
        number: float = value  # type: ignore[assignment]
        if number.is_integer() and abs(number) < 1e18:
            return str(int(number))
        text = repr(number)
        return format(Decimal(text), "f") if "e" in text else text
    if kind is int:
        return str(value)
    if kind is datetime.datetime:
        moment: datetime.datetime = value  # type: ignore[assignment]
        if moment.time() == datetime.time():
            return moment.date().isoformat()
        return moment.isoformat(sep=" ")
    if kind is datetime.date or kind is datetime.time:
        return value.isoformat()  # type: ignore[attr-defined]
    if kind is bool:
        return "TRUE" if value else "FALSE"
    return str(value)


def _xlsx_rows(path: Path) -> int | None:
    """The first sheet's row count from its <dimension> element, without parsing the sheet."""
    try:
        with SafeZipFile(path, ZipLimits.for_imports()) as archive:
            sheets = sorted(
                (n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n)),
            )
            if not sheets:
                return None
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096)
    except (zipfile.BadZipFile, KeyError, OSError, ZipRefused):
        return None
    match = _XLSX_DIMENSION.search(head)
    return max(int(match.group(1)) - 1, 0) if match else None
