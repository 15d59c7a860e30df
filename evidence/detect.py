"""Content-based file type detection for uploaded evidence.

The type decides how a document is extracted and, above all, how it is served: anything a browser
could render as HTML or SVG is reported as such, whatever its signature or file name claims, so
the app never serves it inline (stored XSS). The file name is only a tie-breaker between text
formats (CSV or plain text).
"""

import codecs
import csv
import os
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

import puremagic

from newsroom.ziplimits import MAX_DIRECTORY_BYTES, directory_extent

HEAD_SIZE = 8192

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OCTET_STREAM = "application/octet-stream"

KINDS = ("pdf", "image", "spreadsheet", "csv", "docx", "html", "svg", "text", "binary")


@dataclass(frozen=True)
class DetectedType:
    mime: str
    kind: str  # one of KINDS
    label: str  # for people: "PDF document", "CSV (semicolon-separated, Windows-1251)"


# Markup a browser acts on wherever it appears in the first bytes. Matched against the lowercased
# head, so case tricks (<ScRiPt>) do not help. <link> and <title> are left out on purpose: Atom
# and RSS feeds are full of them and browsers do not render feeds as HTML.
_HTML_ANYWHERE = re.compile(
    rb"<(?:html|head|body|script|iframe|frame|frameset|object|embed|applet|style|meta|base"
    rb"|form|template|math)[\s/>]"
    rb"|<!doctype\s+html"
    rb"|<a\s[^<>]*href"
    # An event handler attribute on any tag: <img src=x onerror=...>, <details ontoggle=...>.
    rb"|<[a-z][a-z0-9:-]*\s[^<>]*?[\s/\"']on[a-z]+\s*="
    # XHTML inside XML runs scripts; an XSLT stylesheet can produce HTML.
    rb"|http://www\.w3\.org/1999/xhtml"
    rb"|<\?xml-stylesheet"
)
# The WHATWG MIME sniffing "HTML" patterns, which only count at the start of the content.
_HTML_AT_START = re.compile(rb"<(?:h1|div|font|table|a|b|br|p|title|!--)[\s>]")
_SVG = re.compile(rb"<svg[\s/>]|http://www\.w3\.org/2000/svg")
_HTML_ROOT = re.compile(rb"<html[\s/>]|<body[\s/>]|<head[\s/>]|<!doctype\s+html")
_LEADING = b" \t\r\n\f"

_IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG image"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG image"),
    (b"GIF87a", "image/gif", "GIF image"),
    (b"GIF89a", "image/gif", "GIF image"),
    (b"II*\x00", "image/tiff", "TIFF image"),
    (b"MM\x00*", "image/tiff", "TIFF image"),
    (b"II+\x00", "image/tiff", "TIFF image (BigTIFF)"),
    (b"MM\x00+", "image/tiff", "TIFF image (BigTIFF)"),
)
_DISGUISE_LABELS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    *((sig, label.split(" ")[0]) for sig, _, label in _IMAGE_SIGNATURES),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"

_CSV_SUFFIXES = frozenset({".csv", ".tsv"})
_PLAIN_SUFFIXES = frozenset({".txt", ".text", ".log", ".md"})
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1251": "Windows-1251"}
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")
_WORD = re.compile(r"[^\W\d_]+")


def detect_type(head: bytes, *, filename: str = "") -> DetectedType:
    """Detect the type of a file from its first bytes (HEAD_SIZE is enough).

    ZIP-based formats are told apart by member names, which may lie beyond the head: prefer
    detect_file() when the whole file is at hand.
    """
    head = head[:HEAD_SIZE]
    if not head:
        return DetectedType(OCTET_STREAM, "binary", "Empty file")
    markup = _markup_type(head)
    if markup is not None:
        return markup
    if b"%PDF-" in head[:1024]:
        return DetectedType("application/pdf", "pdf", "PDF document")
    image = _image_type(head)
    if image is not None:
        return image
    if head.startswith(_ZIP_LOCAL):
        return _ooxml_type(_local_member_names(head), complete=False) or DetectedType(
            "application/zip", "binary", "ZIP archive"
        )
    if head.startswith(_ZIP_EMPTY):
        return DetectedType("application/zip", "binary", "ZIP archive (empty)")
    if head.startswith(_OLE2):
        return DetectedType(OCTET_STREAM, "binary", "Legacy Microsoft Office file (DOC/XLS/PPT)")
    text = _text_type(head, filename=filename)
    if text is not None:
        return text
    return DetectedType(OCTET_STREAM, "binary", _binary_label(head))


def detect_file(source: str | os.PathLike[str] | BinaryIO, *, filename: str = "") -> DetectedType:
    """Detect the type of a whole file: a path, or a seekable binary file object.

    Reads the head and, for ZIP files, the central directory at the end. A file object's
    position is restored afterwards.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            return _detect_stream(fh, filename=filename)
    position = source.tell()
    try:
        source.seek(0)
        return _detect_stream(source, filename=filename)
    finally:
        source.seek(position)


def _detect_stream(fh: BinaryIO, *, filename: str) -> DetectedType:
    head = fh.read(HEAD_SIZE)
    detected = detect_type(head, filename=filename)
    if not head.startswith(_ZIP_LOCAL) or detected.kind in ("html", "svg"):
        return detected
    # ZipFile parses the whole central directory into objects: measure it first.
    extent = directory_extent(fh)
    if extent is not None and (extent[0] > _max_zip_members() or extent[1] > MAX_DIRECTORY_BYTES):
        guess = _ooxml_type(_local_member_names(head), complete=False, suffix=", too many parts")
        return guess or DetectedType("application/zip", "binary", "ZIP archive (too many files)")
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        # Truncated or damaged: keep what the local headers in the head suggested, so the
        # extractor can report the damage instead of the file passing as an anonymous blob.
        guess = _ooxml_type(_local_member_names(head), complete=False, suffix=", possibly damaged")
        return guess or DetectedType("application/zip", "binary", "ZIP archive (damaged)")
    return _ooxml_type(names, complete=True) or DetectedType(
        "application/zip", "binary", _zip_label(names)
    )


def _max_zip_members() -> int:
    from django.conf import settings

    return settings.ZIP_MAX_MEMBERS


def _markup_type(head: bytes) -> DetectedType | None:
    """Report HTML or SVG if a browser could render any of the head as markup."""
    scan = head
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        scan = _decode_utf16_head(head).encode("utf-8", "replace")
    scan = scan.lower()
    body = scan.removeprefix(codecs.BOM_UTF8).lstrip(_LEADING)
    is_html = bool(_HTML_ANYWHERE.search(scan) or _HTML_AT_START.match(body))
    is_svg = bool(_SVG.search(scan))
    if not (is_html or is_svg):
        return None
    # An SVG document is XML rooted at <svg>; SVG markup inside HTML, or after a binary
    # prefix, is reported as HTML.
    if is_svg and body.startswith(b"<") and not _HTML_ROOT.search(scan):
        return DetectedType("image/svg+xml", "svg", "SVG image")
    disguise = next((name for sig, name in _DISGUISE_LABELS if head.startswith(sig)), None)
    label = f"HTML document (behind a {disguise} signature)" if disguise else "HTML document"
    return DetectedType("text/html", "html", label)


def _image_type(head: bytes) -> DetectedType | None:
    for signature, mime, label in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return DetectedType(mime, "image", label)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DetectedType("image/webp", "image", "WebP image")
    return None


def _local_member_names(head: bytes) -> list[str]:
    """Names from the ZIP local file headers that fit in the head."""
    names = []
    start = 0
    while (offset := head.find(_ZIP_LOCAL, start)) != -1:
        start = offset + 4
        header = head[offset : offset + 30]
        if len(header) < 30:
            break
        name_length = struct.unpack_from("<H", header, 26)[0]
        raw = head[offset + 30 : offset + 30 + name_length]
        if len(raw) == name_length:
            names.append(raw.decode("utf-8", "replace"))
    return names


def _ooxml_type(names: list[str], *, complete: bool, suffix: str = "") -> DetectedType | None:
    """XLSX or DOCX from ZIP member names, or None for any other ZIP.

    With the complete listing, an OOXML package must have [Content_Types].xml; with only the
    members whose local headers fit in the head, the xl/ or word/ parts must do, because
    [Content_Types].xml is often written last (openpyxl does).
    """
    members = set(names)
    if complete and "[Content_Types].xml" not in members:
        return None
    spreadsheet = any(name.startswith("xl/") for name in members)
    document = any(name.startswith("word/") for name in members)
    if spreadsheet and document:
        # Both prefixes: trust the main part.
        spreadsheet = "xl/workbook.xml" in members
        document = not spreadsheet
    if spreadsheet:
        return DetectedType(XLSX_MIME, "spreadsheet", f"Excel spreadsheet (XLSX{suffix})")
    if document:
        return DetectedType(DOCX_MIME, "docx", f"Word document (DOCX{suffix})")
    return None


def _zip_label(names: list[str]) -> str:
    if "[Content_Types].xml" in names and any(name.startswith("ppt/") for name in names):
        return "PowerPoint presentation (PPTX)"
    if "mimetype" in names and any(name == "content.xml" for name in names):
        return "OpenDocument file"
    return "ZIP archive"


def _decode_utf16_head(head: bytes) -> str:
    encoding = "utf-16-le" if head.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head[2:], final=False)


def decode_head(head: bytes) -> tuple[str, str] | None:
    """Decode the head of a text file as (text, encoding), or None if it is not text.

    UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1251 that reads as mostly
    Cyrillic. A multi-byte character cut at the end of the head is not an error.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_utf16_head(head)
        return (text, "utf-16") if _few_controls(text) and "\x00" not in text else None
    head = head.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in head:
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return (text, "utf-8") if _few_controls(text) else None
    try:
        text = head.decode("cp1251")
    except UnicodeDecodeError:
        return None
    if _few_controls(text) and _mostly_cyrillic(text):
        return text, "cp1251"
    return None


def _few_controls(text: str) -> bool:
    controls = sum(
        1 for ch in text if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc"
    )
    return controls <= len(text) // 100


def _mostly_cyrillic(text: str) -> bool:
    """True if text decoded as Windows-1251 reads as Cyrillic, as in Russian text.

    The non-ASCII characters must be mostly Cyrillic letters, standing in Cyrillic words: Latin-1
    accents decode to Cyrillic letters too (Café -> Cafй), but inside Latin words.
    """
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return False
    cyrillic = sum(1 for ch in non_ascii if _is_cyrillic_letter(ch))
    if cyrillic / len(non_ascii) < 0.8:
        return False
    in_mixed_words = sum(
        sum(1 for ch in word if _is_cyrillic_letter(ch))
        for word in _WORD.findall(text)
        if any("a" <= ch.lower() <= "z" for ch in word)
    )
    return in_mixed_words / cyrillic < 0.2


def _is_cyrillic_letter(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff" and ch.isalpha()


def _text_type(head: bytes, *, filename: str) -> DetectedType | None:
    decoded = decode_head(head)
    if decoded is None:
        return None
    text, encoding = decoded
    encoding_name = _ENCODING_NAMES[encoding]
    suffix = PurePath(filename).suffix.lower()
    delimiter = _delimiter(text)
    # The name only breaks ties: it can turn a text that also parses as delimited rows into
    # plain text (.txt), or a .csv whose rows did not convince the sniffer into CSV.
    if delimiter and suffix not in _PLAIN_SUFFIXES:
        separated = _DELIMITER_NAMES[delimiter]
        return DetectedType("text/csv", "csv", f"CSV ({separated}-separated, {encoding_name})")
    if suffix in _CSV_SUFFIXES:
        return DetectedType("text/csv", "csv", f"CSV ({encoding_name})")
    label = "XML document" if text.lstrip().startswith("<?xml") else "Plain text"
    return DetectedType("text/plain", "text", f"{label} ({encoding_name})")


def _delimiter(text: str) -> str | None:
    """The delimiter if the text parses as rows of at least two columns, consistently."""
    lines = text.splitlines()[:50]
    if len(lines) < 2:
        return None
    sample = "\n".join(lines)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        rows = [row for row in csv.reader(lines, dialect) if row]
    except csv.Error:
        return None
    if len(rows) < 2:
        return None
    columns = len(rows[0])
    # The head may end mid-row, so the last row may come up short.
    consistent = all(len(row) == columns for row in rows[:-1]) and len(rows[-1]) <= columns
    if columns < 2 or not consistent:
        return None
    return str(dialect.delimiter)


def _binary_label(head: bytes) -> str:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return "Binary file"
    named = [match for match in matches if match.name]
    if not named:
        return "Binary file"
    best = max(named, key=lambda match: match.confidence)
    return f"Binary file ({best.name})"
