"""A document page as a PNG, for the review screen: a PDF page rendered by pdfium, encoded here.

Pages are rendered at most MAX_WIDTH pixels wide (and MAX_PIXELS in all), so a poster-sized
page costs what a letter does. The PNG encoder is the few lines the format needs (zlib, CRC):
no imaging library for one kind of picture.
"""

import struct
import zlib

import pypdfium2 as pdfium

MAX_WIDTH = 1100
MAX_PIXELS = 1100 * 1600


class NoImage(Exception):
    """This page cannot be shown as an image (not a PDF, no such page, unreadable)."""


def png(width: int, height: int, rgb_rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG from rows of width * 3 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in rgb_rows)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def pdf_page_png(path: str, number: int) -> bytes:
    """Page `number` (from 1) of the PDF at `path` as a PNG."""
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise NoImage(f"The PDF cannot be read: {exc}") from exc
    try:
        if not 1 <= number <= len(pdf):
            raise NoImage(f"The document has {len(pdf)} pages, not {number}.")
        page = pdf[number - 1]
        width, height = page.get_size()
        scale = min(MAX_WIDTH / max(width, 1), (MAX_PIXELS / max(width * height, 1)) ** 0.5, 2.0)
        # Three bytes a pixel, in RGB order (pdfium's BGR, reversed).
        bitmap = page.render(
            scale=scale, force_bitmap_format=pdfium.raw.FPDFBitmap_BGR, rev_byteorder=True
        )
        w, h, stride = bitmap.width, bitmap.height, bitmap.stride
        buffer = bytes(bitmap.buffer)
        return png(w, h, [buffer[y * stride : y * stride + w * 3] for y in range(h)])
    finally:
        pdf.close()
