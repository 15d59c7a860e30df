"""Type detection by content (never by name) and text extraction from real generated files."""

import ctypes
import datetime
import io
import struct
import zlib
from pathlib import Path

import docx
import openpyxl
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from evidence.detect import DetectedType, detect_file, detect_type
from evidence.extract import PAGE_BREAK, Extracted, extract_html_text, extract_text

PDF_PAGES = [
    "Страница первая: ООО Ромашка перевела деньги",
    "Страница вторая: офшор на Кипре",
    "Page three: бенефициар Иванов",
]
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _detect_and_extract(path: Path, **kwargs) -> tuple[DetectedType, Extracted]:
    detected = detect_file(path)
    return detected, extract_text(path, detected, **kwargs)


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def cyrillic_pdf(tmp_path: Path) -> Path:
    """A 3-page PDF with real (extractable) Cyrillic text, drawn by PDFium with a TrueType font."""
    font_path = next((Path(p) for p in FONT_CANDIDATES if Path(p).exists()), None)
    if font_path is None:
        pytest.skip("no TrueType font with Cyrillic glyphs to build the sample PDF")
    font_bytes = font_path.read_bytes()
    pdf = pdfium.PdfDocument.new()
    font_buffer = (ctypes.c_uint8 * len(font_bytes)).from_buffer_copy(font_bytes)
    font = pdfium_raw.FPDFText_LoadFont(
        pdf, font_buffer, len(font_bytes), pdfium_raw.FPDF_FONT_TRUETYPE, True
    )
    assert font, "PDFium could not load the font"
    for line in PDF_PAGES:
        page = pdf.new_page(595, 842)
        text = pdfium_raw.FPDFPageObj_CreateTextObj(pdf, font, 14.0)
        wide = ctypes.create_string_buffer((line + "\x00").encode("utf-16-le"))
        pdfium_raw.FPDFText_SetText(text, ctypes.cast(wide, ctypes.POINTER(pdfium_raw.FPDF_WCHAR)))
        pdfium_raw.FPDFPageObj_Transform(text, 1, 0, 0, 1, 72, 700)
        pdfium_raw.FPDFPage_InsertObject(page.raw, text)
        pdfium_raw.FPDFPage_GenerateContent(page.raw)
        page.close()
    path = tmp_path / "stored-without-suffix"
    pdf.save(path)
    pdfium_raw.FPDFFont_Close(font)
    pdf.close()
    return path


@pytest.fixture
def two_sheet_xlsx(tmp_path: Path) -> Path:
    workbook = openpyxl.Workbook()
    companies = workbook.active
    companies.title = "Компании"
    companies.append(["Название", "ИНН", "Выручка"])
    companies.append(["ООО Ромашка", "7701234567", 1500.0])
    companies.append(["АО Лютик", None, 2.5])
    payments = workbook.create_sheet("Платежи")
    payments.append(["Дата", "Сумма", "Назначение"])
    payments.append([datetime.date(2024, 3, 1), 100, "оплата по\tдоговору\nNo 5"])
    path = tmp_path / "upload"  # stored evidence has no suffix; openpyxl must not care
    workbook.save(path)
    return path


@pytest.fixture
def docx_with_table(tmp_path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Справка о бенефициарах", level=1)
    document.add_paragraph("Компания зарегистрирована в Лимасоле.")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows,
        [["Имя", "Доля", "Страна"], ["Иванов", "60%", "Россия"], ["Петров", "40%", "Кипр"]],
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    merged = document.add_table(rows=1, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Объединённая ячейка"
    merged.cell(0, 2).text = "хвост"
    document.add_paragraph("Конец справки.")
    path = tmp_path / "upload.bin"
    document.save(path)
    return path


CP1251_HTML = (
    "<!DOCTYPE html><html><head>"
    '<meta charset="windows-1251"><title>Новости   компании</title>'
    "<style>body { color: red }</style>"
    "<script>var secret = 'не показывать';</script></head>"
    "<body><h1>Заголовок</h1><p>Первый <b>абзац</b> текста.</p>"
    "<noscript>Включите JavaScript</noscript>"
    "<p>Второй абзац<br>с переносом.</p>"
    "<table><tr><td>Иванов</td><td>60%</td></tr></table></body></html>"
).encode("cp1251")


# Detection


def test_pdf_is_detected_by_content_and_extracted_page_by_page(cyrillic_pdf):
    detected, extracted = _detect_and_extract(cyrillic_pdf)

    assert detected == DetectedType("application/pdf", "pdf", "PDF document")
    assert extracted.error is None
    assert extracted.page_count == 3
    pages = extracted.text.split(PAGE_BREAK)
    assert len(pages) == 3
    assert "ООО Ромашка" in pages[0]
    assert "офшор на Кипре" in pages[1]
    assert "бенефициар Иванов" in pages[2]


def test_pdf_text_stops_at_max_chars_but_counts_every_page(cyrillic_pdf):
    extracted = extract_text(cyrillic_pdf, detect_file(cyrillic_pdf), max_chars=20)

    assert len(extracted.text) == 20
    assert extracted.truncated
    assert extracted.page_count == 3


def test_pdf_signature_may_follow_junk_within_1024_bytes():
    assert detect_type(b"\x00" * 500 + b"%PDF-1.4\n").kind == "pdf"
    assert detect_type(b"\x00" * 1100 + b"%PDF-1.4\n").kind == "binary"


def test_xlsx_two_sheets_streamed_with_sheet_headers(two_sheet_xlsx):
    detected, extracted = _detect_and_extract(two_sheet_xlsx)

    assert detected.kind == "spreadsheet"
    assert detected.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert extracted.error is None
    assert extracted.page_count is None
    assert extracted.text == (
        "# Компании\n"
        "Название\tИНН\tВыручка\n"
        "ООО Ромашка\t7701234567\t1500\n"
        "АО Лютик\t\t2.5\n"
        "\n# Платежи\n"
        "Дата\tСумма\tНазначение\n"
        "2024-03-01\t100\tоплата по договору No 5\n"
    )


def test_xlsx_head_alone_is_enough_when_the_parts_are_named_early(two_sheet_xlsx):
    # openpyxl writes [Content_Types].xml last, so only the xl/ parts are in the head.
    head = two_sheet_xlsx.read_bytes()[:8192]
    assert detect_type(head).kind == "spreadsheet"


def test_xlsx_stops_at_max_chars(tmp_path):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Большой")
    for number in range(20_000):
        sheet.append([number, "строка", "ещё одна ячейка"])
    path = tmp_path / "big"
    workbook.save(path)

    extracted = extract_text(path, detect_file(path), max_chars=1000)

    assert extracted.error is None
    assert extracted.truncated
    assert len(extracted.text) == 1000
    assert extracted.text.startswith("# Большой\n0\tстрока\tещё одна ячейка\n")


def test_docx_paragraphs_and_table_cells_in_document_order(docx_with_table):
    detected, extracted = _detect_and_extract(docx_with_table)

    assert detected.kind == "docx"
    assert detected.label == "Word document (DOCX)"
    assert extracted.error is None
    assert extracted.text == (
        "Справка о бенефициарах\n"
        "Компания зарегистрирована в Лимасоле.\n"
        "Имя\tДоля\tСтрана\n"
        "Иванов\t60%\tРоссия\n"
        "Петров\t40%\tКипр\n"
        "Объединённая ячейка\tхвост\n"  # the merged cell once, not once per column
        "Конец справки.\n"
    )


def test_cp1251_html_honours_meta_charset(tmp_path):
    path = _write(tmp_path, "page", CP1251_HTML)
    detected, extracted = _detect_and_extract(path)

    assert detected == DetectedType("text/html", "html", "HTML document")
    assert extracted.error is None
    assert extracted.text == (
        "Новости компании\n\n"
        "Заголовок\n"
        "Первый абзац текста.\n"
        "Второй абзац\n"
        "с переносом.\n"
        "Иванов\t60%"
    )
    assert "не показывать" not in extracted.text
    assert "color" not in extracted.text
    assert "JavaScript" not in extracted.text


def test_html_with_png_signature_is_html(tmp_path):
    path = _write(tmp_path, "cat.png", b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script>")

    detected = detect_file(path)

    assert detected.kind == "html"
    assert detected.mime == "text/html"
    assert "PNG" in detected.label


@pytest.mark.parametrize(
    "head",
    [
        b"GIF89a" + b"\x01\x00" * 20 + b"<img src=x onerror=alert(1)>",
        b"\xff\xd8\xff\xe0" + b"\x00" * 3000 + b"<IFRAME src=//evil>",
        b"%PDF-1.4\n<html><body>polyglot",
        b"PK\x03\x04" + b"\x00" * 40 + b"<script>alert(1)</script>",
        b"\xef\xbb\xbf  \r\n\t<ScRiPt>alert(1)</sCrIpT>",
        b"<!-- a comment first -->",
        b"<p>just a paragraph",
        b"Some notes\n<a href='javascript:alert(1)'>click</a>\n",
        b"<details open ontoggle=alert(1)>",
        b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
        b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="evil.xsl"?><data/>',
        "<html><body>UTF-16</body></html>".encode("utf-16"),
        b"<!DOCTYPE html>",
        b"<meta http-equiv=refresh content='0;url=//evil'>",
    ],
    ids=[
        "gif-onerror",
        "jpeg-iframe",
        "pdf-polyglot",
        "zip-script",
        "bom-whitespace-mixed-case",
        "comment-at-start",
        "paragraph-at-start",
        "link-in-text",
        "event-handler",
        "xhtml-namespace",
        "xml-stylesheet",
        "utf16-bom",
        "doctype",
        "meta-refresh",
    ],
)
def test_anything_a_browser_could_render_as_html_is_html(head):
    assert detect_type(head).kind == "html"


def test_svg_with_script_is_svg(tmp_path):
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        "<title>Схема владения</title><script>alert(document.domain)</script>"
        '<text x="0" y="5">Иванов</text></svg>'
    ).encode()
    path = _write(tmp_path, "logo.png", svg)

    detected, extracted = _detect_and_extract(path)

    assert detected == DetectedType("image/svg+xml", "svg", "SVG image")
    assert extracted.error is None
    assert "Схема владения" in extracted.text
    assert "Иванов" in extracted.text
    assert "alert" not in extracted.text


def test_svg_inside_html_is_html():
    assert detect_type(b"<html><body><svg onload=alert(1)></svg>").kind == "html"


def test_real_png_is_an_image_with_no_text(tmp_path):
    path = _write(tmp_path, "pixel", _png_1x1())

    detected, extracted = _detect_and_extract(path)

    assert detected == DetectedType("image/png", "image", "PNG image")
    assert extracted == Extracted(text="", page_count=None, error=None)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
    ],
)
def test_image_signatures(head, mime):
    detected = detect_type(head)
    assert (detected.kind, detected.mime) == ("image", mime)


def test_zero_byte_file_is_empty_binary(tmp_path):
    path = _write(tmp_path, "empty.pdf", b"")

    detected, extracted = _detect_and_extract(path)

    assert detected == DetectedType("application/octet-stream", "binary", "Empty file")
    assert extracted == Extracted(text="", page_count=None, error=None)


def test_corrupt_pdf_reports_an_error_instead_of_raising(tmp_path):
    path = _write(tmp_path, "broken", b"%PDF-1.7\n garbage")

    detected, extracted = _detect_and_extract(path)

    assert detected.kind == "pdf"
    assert extracted.text == ""
    assert extracted.page_count is None
    assert extracted.error.startswith("The PDF is damaged or not really a PDF")


def test_truncated_xlsx_is_still_a_spreadsheet_and_reports_an_error(tmp_path, two_sheet_xlsx):
    data = two_sheet_xlsx.read_bytes()
    path = _write(tmp_path, "truncated", data[: len(data) // 2])

    detected, extracted = _detect_and_extract(path)

    assert detected.kind == "spreadsheet"
    assert "possibly damaged" in detected.label
    assert extracted.text == ""
    assert extracted.error.startswith("The XLSX spreadsheet is damaged")


def test_corrupt_docx_reports_an_error(tmp_path, docx_with_table, two_sheet_xlsx):
    data = docx_with_table.read_bytes()
    truncated = _write(tmp_path, "truncated-docx", data[: len(data) // 3])
    docx_type = detect_file(docx_with_table)

    assert extract_text(truncated, docx_type).error.startswith("The DOCX document is damaged")
    # A spreadsheet handed to the DOCX extractor: python-docx raises ValueError, not ours to leak.
    assert extract_text(two_sheet_xlsx, docx_type).error.startswith("The DOCX document")


def test_missing_file_is_a_storage_error_not_a_damaged_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        extract_text(tmp_path / "gone", DetectedType("application/pdf", "pdf", "PDF document"))


def test_semicolon_csv_in_cp1251(tmp_path):
    rows = "Компания;ИНН;Директор\nООО Ромашка;7701234567;Иванов И.И.\nАО Лютик;7707654321;Петров\n"
    path = _write(tmp_path, "export", rows.encode("cp1251"))

    detected, extracted = _detect_and_extract(path)

    assert detected == DetectedType("text/csv", "csv", "CSV (semicolon-separated, Windows-1251)")
    assert extracted.error is None
    assert extracted.text == rows


def test_file_named_pdf_that_is_html_is_html(tmp_path):
    path = _write(tmp_path, "report.pdf", b"<!doctype html><title>x</title><p>Hello")

    assert detect_file(path, filename="report.pdf").kind == "html"


def test_file_name_only_breaks_ties_between_text_formats():
    delimited = b"a,b\n1,2\n3,4\n"
    one_column = b"name\nIvanov\nPetrov\n"

    assert detect_type(delimited).kind == "csv"
    assert detect_type(delimited, filename="report.pdf").kind == "csv"
    assert detect_type(delimited, filename="notes.txt").kind == "text"
    assert detect_type(one_column).kind == "text"
    assert detect_type(one_column, filename="names.csv").kind == "csv"
    # A name never turns binary or markup into text.
    assert detect_type(b"\x00\x01\x02", filename="data.csv").kind == "binary"
    assert detect_type(b"<script>x</script>", filename="data.csv").kind == "html"


def test_plain_text_encodings():
    assert detect_type("Справка по делу №5\n".encode()).label == "Plain text (UTF-8)"
    assert detect_type("Справка по делу №5\n".encode("cp1251")).label == (
        "Plain text (Windows-1251)"
    )
    assert detect_type("Справка по делу\n".encode("utf-16")).label == "Plain text (UTF-16)"
    # A UTF-8 character cut at the end of the head is not a reason to call it binary.
    assert detect_type("Иванов".encode()[:-1]).kind == "text"
    # Latin-1 is neither UTF-8 nor Cyrillic text.
    assert detect_type("Café crème brûlée façade".encode("latin-1")).kind == "binary"


def test_binary_labels():
    assert detect_type(bytes(range(256)) * 32).kind == "binary"
    elf = detect_type(b"\x7fELF\x02\x01\x01" + b"\x00" * 60)
    assert (elf.kind, elf.mime) == ("binary", "application/octet-stream")
    assert "ELF" in elf.label
    ole = detect_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert ole.label == "Legacy Microsoft Office file (DOC/XLS/PPT)"


def test_plain_zip_is_binary(tmp_path):
    import zipfile

    path = tmp_path / "archive"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/notes.txt", "not a docx: no [Content_Types].xml")

    assert detect_file(path) == DetectedType("application/zip", "binary", "ZIP archive")


def test_detect_file_accepts_a_file_object_and_restores_its_position(two_sheet_xlsx):
    with two_sheet_xlsx.open("rb") as fh:
        fh.seek(123)
        assert detect_file(fh).kind == "spreadsheet"
        assert fh.tell() == 123
    assert detect_file(io.BytesIO(CP1251_HTML)).kind == "html"


# Extraction details


def test_twenty_megabyte_text_file_respects_max_chars(tmp_path):
    line = "Платёж ООО Ромашка в пользу Lutik Ltd, сумма 1000 EUR.\n"
    path = tmp_path / "huge.txt"
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(20 * 1024 * 1024 // len(line.encode())):
            fh.write(line)
    assert path.stat().st_size > 19 * 1024 * 1024

    # The lines parse as two comma-separated columns; the name says plain text.
    detected = detect_file(path, filename="huge.txt")
    extracted = extract_text(path, detected)
    smaller = extract_text(path, detected, max_chars=1000)

    assert detected.kind == "text"
    assert len(extracted.text) == 5_000_000
    assert extracted.truncated
    assert extracted.text.startswith(line)
    assert len(smaller.text) == 1000


def test_text_with_a_late_cp1251_byte_falls_back_to_cp1251(tmp_path):
    # The head is plain ASCII (valid UTF-8); a Windows-1251 word follows past it.
    data = b"a" * 10_000 + "\nИванов\n".encode("cp1251")
    path = _write(tmp_path, "late", data)

    extracted = extract_text(path, detect_file(path))

    assert extracted.text.endswith("\nИванов\n")


def test_nul_characters_never_reach_the_database(tmp_path):
    path = _write(tmp_path, "nul", b"before\x00after")
    text_type = DetectedType("text/plain", "text", "Plain text (UTF-8)")

    assert extract_text(path, text_type).text == "beforeafter"


def test_utf8_bom_csv_is_decoded_without_the_bom(tmp_path):
    path = _write(tmp_path, "bom", "\ufeffИмя,Доля\nИванов,60\n".encode())

    detected, extracted = _detect_and_extract(path)

    assert detected.kind == "csv"
    assert extracted.text == "Имя,Доля\nИванов,60\n"


def test_html_text_whitespace_and_structure():
    html = b"""<html><head><title>
        Test   page</title></head><body>
        <nav><ul><li>Home</li><li>About</li></ul></nav>
        <p>Hello
           <b>world</b>,   how are you?</p>
        <pre>line one
line two</pre>
        <template><p>hidden template</p></template>
        <table><tr><th>Name</th><th>Share</th></tr><tr><td>Ivanov</td><td>60%</td></tr></table>
        </body></html>"""

    title, text = extract_html_text(html)

    assert title == "Test page"
    assert text == (
        "Home\nAbout\nHello world, how are you?\nline one\nline two\nName\tShare\nIvanov\t60%"
    )


def test_html_title_fallbacks():
    assert extract_html_text(b"<h1>Heading</h1><p>x</p>", url="https://a.example/")[0] == (
        "Heading"
    )
    assert extract_html_text(
        b'<meta property="og:title" content="OG title"><p>x</p>', url="https://a.example/"
    )[0] == ("OG title")
    assert extract_html_text(b"<p>x</p>", url="https://a.example/") == ("https://a.example/", "x")


@pytest.mark.parametrize(
    "html",
    [
        # http-equiv form of the declaration
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><p>Привет</p>',
        # no declaration at all: UTF-8 fails, Windows-1251 is the fallback
        "<p>Привет</p>",
    ],
    ids=["http-equiv", "undeclared"],
)
def test_html_legacy_cyrillic_encodings(html):
    assert extract_html_text(html.encode("cp1251"))[1] == "Привет"


def test_html_encoding_bom_wins_over_a_wrong_meta():
    html = '\ufeff<meta charset="windows-1251"><p>Привет</p>'.encode()
    assert extract_html_text(html)[1] == "Привет"


def test_html_meta_utf8_that_is_really_cp1251_is_rescued():
    html = '<meta charset="utf-8"><p>Привет</p>'.encode("cp1251")
    assert extract_html_text(html)[1] == "Привет"


def test_html_extraction_of_a_png_disguised_file_does_not_fail(tmp_path):
    markup = "<html><script>alert(1)</script><p>Текст</p>".encode()
    path = _write(tmp_path, "x.png", b"\x89PNG\r\n\x1a\n" + markup)

    extracted = extract_text(path, detect_file(path))

    assert extracted.error is None
    assert "alert" not in extracted.text
    assert extracted.text.endswith("Текст")
