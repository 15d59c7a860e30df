"""Text extraction from evidence files, for full-text search and citations.

Every extractor streams or caps its input and stops at max_chars; ExtractLimits caps what is
read besides (PDF pages, spreadsheet cells, and the ZIP containers of DOCX and XLSX through
newsroom/ziplimits.py). Damaged files and files over a limit do not raise: the reason comes
back in Extracted.error for the document page. A missing or unreadable file (OSError from
opening it) is a storage problem, not bad input, and does propagate; so does MemoryError, which
evidence/extract_child.py reports (workers extract there, in a process with memory limits).
"""

import codecs
import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx
import pypdfium2 as pdfium
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

from evidence.detect import DetectedType, decode_head
from newsroom.xlsx import StringLimits, open_workbook
from newsroom.ziplimits import SafeZipFile, ZipLimits, ZipRefused, xml_only_copy

# Lexbor needs several times the input size in memory; past this, only the start of an HTML
# file is parsed (the text of a page this big is mostly in its first megabytes anyway).
HTML_MAX_BYTES = 32 * 1024 * 1024
_CHUNK = 1024 * 1024

# Control characters other than whitespace, dropped from PDF and HTML text.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")

# Callers split PDF text on this to find page numbers, so it never appears inside a page.
PAGE_BREAK = "\f"


@dataclass(frozen=True)
class Extracted:
    text: str
    page_count: int | None
    error: str | None
    truncated: bool = False  # text was cut at max_chars, or at a limit of ExtractLimits
    peak_memory_kb: int | None = None  # of the extraction process, when it ran in one


@dataclass(frozen=True)
class ExtractLimits:
    """What extraction reads at most, besides max_chars of text."""

    zip: ZipLimits
    strings: StringLimits
    max_pdf_pages: int
    max_cells: int

    @classmethod
    def from_settings(cls) -> "ExtractLimits":
        from django.conf import settings

        return cls(
            zip=ZipLimits.for_documents(),
            strings=StringLimits.from_settings(),
            max_pdf_pages=settings.EXTRACT_MAX_PDF_PAGES,
            max_cells=settings.EXTRACT_MAX_CELLS,
        )


class _Full(Exception):
    """The text reached max_chars; stop reading."""


class _PasswordProtected(Exception):
    pass


class _TextBuffer:
    """Collects text up to a limit, so extractors can stream and stop early."""

    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.max_chars = max_chars
        self.truncated = False

    def add(self, text: str) -> None:
        # PostgreSQL text cannot hold NUL.
        text = text.replace("\x00", "")
        room = self.max_chars - self.size
        if len(text) > room:
            text = text[:room]
            self.truncated = True
        self.parts.append(text)
        self.size += len(text)
        if self.truncated:
            raise _Full

    def text(self) -> str:
        return "".join(self.parts)

    def clear(self) -> None:
        self.parts, self.size, self.truncated = [], 0, False


def extract_text(
    path: Path | str,
    detected: DetectedType,
    *,
    max_chars: int = 5_000_000,
    limits: ExtractLimits | None = None,
) -> Extracted:
    """Extract the text (and page count, for PDFs) of a file of a detected type.

    In this process: workers call evidence.extract_child.extract_text_limited() instead.
    """
    path = Path(path)
    path.stat()  # a missing file raises here, before any "damaged file" handling
    if detected.kind in ("image", "binary"):
        return Extracted(text="", page_count=None, error=None)
    if detected.kind not in _EXTRACTORS:
        raise ValueError(f"Unknown document kind: {detected.kind!r}")
    extractor, what = _EXTRACTORS[detected.kind]
    buffer = _TextBuffer(max_chars)
    page_count = None
    try:
        page_count = extractor(path, buffer, limits or ExtractLimits.from_settings())
    except _Full:
        pass
    except _PasswordProtected:
        return Extracted(text="", page_count=None, error=f"The {what} is password-protected.")
    except ZipRefused as exc:
        return Extracted(
            text="",
            page_count=None,
            error=f"The {what} {exc.reason}: its text was not extracted.",
        )
    except MemoryError:
        raise  # the caller knows the memory limit and says so
    # Parsers of untrusted files fail in many ways (zipfile, XML, pdfium, KeyError on a missing
    # part); any of them means this file cannot be read, which is a result, not a crash.
    except Exception as exc:
        if _out_of_memory(exc):
            raise MemoryError(str(exc)) from exc
        reason = str(exc) or type(exc).__name__
        return Extracted(
            text="",
            page_count=None,
            error=f"The {what} is damaged or not really a {what}: {reason}",
        )
    return Extracted(
        text=buffer.text(), page_count=page_count, error=None, truncated=buffer.truncated
    )


def _out_of_memory(exc: BaseException | None) -> bool:
    """Whether an error comes from a failed allocation: a MemoryError raised on the way (a
    parser that then fails on a closed file), or libxml2's syntax error ERR_NO_MEMORY."""
    while exc is not None:
        if isinstance(exc, MemoryError):
            return True
        if isinstance(exc, etree.LxmlError) and any(
            entry.type == etree.ErrorTypes.ERR_NO_MEMORY for entry in exc.error_log
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


# PDF


def _extract_pdf(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> int:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise _PasswordProtected from exc
        raise
    try:
        page_count = len(pdf)
        for index in range(min(page_count, limits.max_pdf_pages)):
            if index:
                try:
                    buffer.add(PAGE_BREAK)
                except _Full:
                    return page_count
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace(PAGE_BREAK, "\n")
            # PDFium marks soft hyphens and unmapped glyphs with control characters.
            text = _CONTROLS.sub("", text)
            try:
                buffer.add(text)
            except _Full:
                return page_count
        # The page count stays true; the text stopped at the page limit. (Set last: a
        # truncated buffer takes no more text.)
        buffer.truncated = page_count > limits.max_pdf_pages
        return page_count
    finally:
        pdf.close()


# HTML and SVG

_META_CHARSET = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE
)
# WHATWG: these labels are decoded as windows-1252, and a <meta> cannot declare UTF-16.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
_DROP_TAGS = "script, style, noscript, template, head, svg, canvas, iframe, object, embed"
_BLOCK_TAGS = (
    "p, div, section, article, main, header, footer, nav, aside, h1, h2, h3, h4, h5, h6, "
    "ul, ol, li, dl, dt, dd, table, tr, caption, blockquote, figure, figcaption, form, "
    "fieldset, address, hr, details, summary"
)
# Private-use characters stand for line and cell breaks while the source's own whitespace is
# collapsed; any already in the document are removed first.
_BLOCK = "\ue000"
_CELL = "\ue001"
_MARKERS = re.compile("[\ue000\ue001]")
_SPACES = re.compile(r"\s+")
_BREAKS = re.compile(r" *\ue000[\ue000 ]*")
_CELLS = re.compile(r" *\ue001 *")


def decode_html(html_bytes: bytes) -> str:
    """Decode an HTML document: BOM, then <meta charset>, then UTF-8, then Windows-1251."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if html_bytes.startswith(bom):
            return html_bytes[len(bom) :].decode(encoding, "replace")
    declared = _declared_charset(html_bytes)
    if declared:
        try:
            return html_bytes.decode(declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common; guess as if there were none
    as_utf8 = html_bytes.decode("utf-8", "replace")
    invalid = as_utf8.count("\ufffd")
    if not invalid:
        return as_utf8
    # Windows-1251 Cyrillic almost never forms valid UTF-8 sequences, so a page that has more
    # valid multi-byte characters than broken ones (say, behind a binary prefix) is UTF-8.
    valid = sum(1 for ch in as_utf8 if ord(ch) > 127) - invalid
    if valid > invalid:
        return as_utf8
    try:
        return html_bytes.decode("cp1251")
    except UnicodeDecodeError:
        return as_utf8


def _declared_charset(html_bytes: bytes) -> str | None:
    match = _META_CHARSET.search(html_bytes[:8192])
    if match is None:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def extract_html_text(html_bytes: bytes, *, url: str = "") -> tuple[str, str]:
    """Return (title, text) of an HTML page; the text is the visible body text.

    The title is <title>, else og:title, else the first <h1>, else the url (as browsers show
    an untitled page).
    """
    tree = LexborHTMLParser(_MARKERS.sub("", decode_html(html_bytes)))
    title = _title(tree) or url
    for node in tree.css(_DROP_TAGS):
        node.decompose()
    root = tree.body or tree.root
    if root is None:
        return title, ""
    for pre in root.css("pre"):
        # Preformatted text keeps its line breaks.
        pre.replace_with(_BLOCK + pre.text().replace("\n", _BLOCK) + _BLOCK)
    for node in root.css(_BLOCK_TAGS):
        node.insert_before(_BLOCK)
        node.insert_after(_BLOCK)
    for node in root.css("br"):
        node.replace_with(_BLOCK)
    for node in root.css("td, th"):
        node.insert_after(_CELL)
    return title, _normalise(root.text())


def _title(tree: LexborHTMLParser) -> str:
    node: LexborNode | None = tree.css_first("title")
    if node is not None and (title := _SPACES.sub(" ", node.text()).strip()):
        return title
    og = tree.css_first('meta[property="og:title"]')
    if og is not None and (title := _SPACES.sub(" ", og.attributes.get("content") or "").strip()):
        return title
    h1 = tree.css_first("h1")
    return _SPACES.sub(" ", h1.text()).strip() if h1 is not None else ""


def _normalise(raw: str) -> str:
    """Collapse the source's whitespace, then turn break markers into newlines and tabs."""
    text = _SPACES.sub(" ", _CONTROLS.sub("", raw))
    lines = []
    for line in _BREAKS.split(text):
        line = _CELLS.sub("\t", line).strip(" \t")
        if line:
            lines.append(line)
    return "\n".join(lines)


def _read_capped(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(limit)


def _extract_html(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> None:
    data = _read_capped(path, HTML_MAX_BYTES + 1)
    cut = len(data) > HTML_MAX_BYTES
    title, text = extract_html_text(data[:HTML_MAX_BYTES])
    # Search finds a page by its title too.
    if title and not text.startswith(title):
        buffer.add(title + "\n\n")
    buffer.add(text)
    buffer.truncated = buffer.truncated or cut  # last: a truncated buffer takes no more text


def _extract_svg(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> None:
    tree = LexborHTMLParser(decode_html(_read_capped(path, HTML_MAX_BYTES)))
    for node in tree.css("script, style"):
        node.decompose()
    texts = [node.text(separator=" ", strip=True) for node in tree.css("svg > title, svg text")]
    buffer.add("\n".join(text for text in texts if text))


# Plain text and CSV


def _extract_plain(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> None:
    with path.open("rb") as fh:
        decoded = decode_head(fh.read(8192))
    first = decoded[1] if decoded else "utf-8"
    if first == "utf-16":
        encodings = ["utf-16"]
    elif first == "cp1251":
        encodings = ["cp1251", "utf-8-sig"]
    else:
        encodings = ["utf-8-sig", "cp1251"]
    # The head chose the first encoding to try; later bytes may still disagree, and then the
    # next one is tried from the start. Replacement characters are the last resort.
    for encoding in encodings:
        try:
            _decode_stream(path, encoding, "strict", buffer)
        except UnicodeDecodeError:
            buffer.clear()
        else:
            return
    _decode_stream(path, encodings[0], "replace", buffer)


def _decode_stream(path: Path, encoding: str, errors: str, buffer: _TextBuffer) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            buffer.add(decoder.decode(chunk))
        buffer.add(decoder.decode(b"", final=True))


# XLSX

_CELL_BREAKS = re.compile(r"[\t\r\n]")


def _extract_xlsx(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> None:
    workbook = open_workbook(path, limits=limits.zip, strings=limits.strings)
    cells_left = limits.max_cells
    try:
        for index, sheet in enumerate(workbook.worksheets):
            buffer.add(("\n" if index else "") + f"# {sheet.title}\n")
            # The stored dimensions can be wrong; without this, rows past them are skipped.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                # Empty rows and cells cost time without adding text; they count too.
                cells_left -= max(len(row), 1)
                if cells_left < 0:
                    buffer.truncated = True
                    return
                cells = [_cell_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    buffer.add("\t".join(cells) + "\n")
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.date | datetime.time):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    # Tabs and newlines separate cells and rows.
    return _SPACES.sub(" ", text).strip() if _CELL_BREAKS.search(text) else text


# DOCX


def _extract_docx(path: Path, buffer: _TextBuffer, limits: ExtractLimits) -> None:
    # python-docx opens its own ZipFile and loads every part, images included: it gets a copy
    # of the XML parts, read within the limits, with the other parts left empty.
    with SafeZipFile(path, limits.zip, xml_read_whole=True) as archive:
        package = xml_only_copy(archive)
    document = docx.Document(package)
    for block in document.iter_inner_content():
        for line in _block_lines(block):
            buffer.add(line + "\n")


def _block_lines(block: Paragraph | Table) -> Iterator[str]:
    if isinstance(block, Paragraph):
        if block.text.strip():
            yield block.text
        return
    for row in block.rows:
        cells = []
        seen = set()
        for cell in row.cells:
            # A merged cell is repeated for every grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_SPACES.sub(" ", cell.text).strip())
            for nested in cell.tables:
                cells.extend(line.replace("\t", " ") for line in _block_lines(nested))
        if any(cells):
            yield "\t".join(cells)


_EXTRACTORS: dict[str, tuple[Callable[[Path, _TextBuffer, ExtractLimits], int | None], str]] = {
    "pdf": (_extract_pdf, "PDF"),
    "html": (_extract_html, "HTML file"),
    "svg": (_extract_svg, "SVG file"),
    "text": (_extract_plain, "text file"),
    "csv": (_extract_plain, "CSV file"),
    "spreadsheet": (_extract_xlsx, "XLSX spreadsheet"),
    "docx": (_extract_docx, "DOCX document"),
}
