"""Issue 10, item 7: decompression bombs and other files that cost more than their size.

A DOCX of 48 MB of XML in 150 KB, an XLSX of 1.5 million shared strings in 100 KB, a ZIP whose
directory lies, a PDF of many pages: each is refused or cut with a clear reason before it costs
a worker its memory, and extraction itself runs in a child process with memory and CPU limits.
"""

import re
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from evidence.detect import DetectedType, detect_file
from evidence.extract import ExtractLimits, extract_text
from evidence.extract_child import extract_text_limited
from evidence.models import Document
from newsroom.celery import app
from tests import zipbombs
from tests.evidence.test_documents import _extract_all, _upload

MB = 1024 * 1024
DOCX = DetectedType(zipbombs.W_NS, "docx", "Word document (DOCX)")


@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory) -> Path:
    """48 MB of XML in about 150 KB: it took a worker child to 1 GB for four minutes."""
    path = tmp_path_factory.mktemp("bombs") / "report.docx"
    return zipbombs.docx(path, xml_bytes=48 * MB, paragraphs=("Первый абзац",))


@pytest.fixture(scope="module")
def strings_bomb(tmp_path_factory) -> Path:
    """1.5 million shared strings in about 100 KB: 406 MB in openpyxl."""
    path = tmp_path_factory.mktemp("bombs") / "customs.xlsx"
    rows = [["date", "hs_code", "exporter"], ["2023-01-05", "854231", "Dala Micro"]]
    return zipbombs.xlsx(path, rows, extra_strings=1_500_000)


def _no_limits() -> ExtractLimits:
    """Limits that let a bomb through to the parser, for the child process's own limits."""
    limits = ExtractLimits.from_settings()
    return replace(limits, zip=replace(limits.zip, max_xml_bytes=1024 * MB, max_ratio=1_000_000))


def test_item7_docx_bomb_is_refused_unparsed_and_the_document_stays_downloadable(
    case, alice_client, docx_bomb
):
    content = docx_bomb.read_bytes()
    assert len(content) < 200 * 1024
    _upload(alice_client, case, "report.docx", content)
    started = time.monotonic()
    _extract_all(case)
    assert time.monotonic() - started < 5  # parsed, it took 26 s and 612 MB
    doc = Document.objects.get()
    assert doc.kind == "docx"
    assert doc.extract_error == (
        "The DOCX document expands to 48 MB of XML, over the 20 MB limit: "
        "its text was not extracted."
    )
    assert not doc.pages.exists()
    kwargs = {"case_id": case.public_id, "document_id": doc.public_id}
    page = alice_client.get(reverse("evidence:document", kwargs=kwargs)).content.decode()
    assert "over the 20 MB limit" in page
    download = alice_client.get(reverse("evidence:document-download", kwargs=kwargs))
    assert b"".join(download.streaming_content) == content


def test_item7_xlsx_of_a_million_and_a_half_shared_strings_is_refused(strings_bomb):
    detected = detect_file(strings_bomb)
    result = extract_text_limited(strings_bomb, detected)
    assert re.fullmatch(
        r"The XLSX spreadsheet expands \d{3} times in xl/sharedStrings.xml \(\d+ KB to 24 MB\), "
        r"over the 100:1 limit: its text was not extracted.",
        result.error or "",
    )
    # The child read the ZIP's directory and nothing else.
    assert result.peak_memory_kb is not None and result.peak_memory_kb < 100 * 1024


def test_item7_shared_strings_over_the_count_are_refused_as_they_are_read(tmp_path, settings):
    settings.XLSX_MAX_SHARED_STRINGS = 1000
    path = zipbombs.xlsx(tmp_path / "book.xlsx", [["name"], ["Dala"]], extra_strings=1000)
    result = extract_text(path, detect_file(path))
    assert result.error == (
        "The XLSX spreadsheet holds more than 1,000 shared strings, over the limit: "
        "its text was not extracted."
    )


def test_item7_the_child_reports_running_out_of_memory_as_the_documents_error(docx_bomb):
    result = extract_text_limited(docx_bomb, DOCX, limits=_no_limits(), memory_mb=200)
    assert result.error == ("Text extraction stopped: the file needed more than 200 MB of memory.")
    assert result.text == ""


def test_item7_the_child_reports_its_processor_time_limit(docx_bomb):
    started = time.monotonic()
    result = extract_text_limited(
        docx_bomb, DOCX, limits=_no_limits(), memory_mb=4000, cpu_seconds=1
    )
    assert result.error == (
        "Text extraction stopped: the file needed more than 1 second of processor time."
    )
    assert time.monotonic() - started < 10


def test_item7_a_normal_document_extracts_in_the_child_and_reports_its_peak(tmp_path):
    path = zipbombs.docx(tmp_path / "note.docx", paragraphs=("Договор поставки", "Конец"))
    result = extract_text_limited(path, detect_file(path))
    assert (result.error, result.text) == (None, "Договор поставки\nКонец\n")
    assert 0 < result.peak_memory_kb < 200 * 1024


def test_item7_a_missing_file_is_still_a_storage_error_in_the_child(tmp_path):
    with pytest.raises(FileNotFoundError):
        extract_text_limited(tmp_path / "gone", DOCX)


def test_item7_a_member_larger_than_its_directory_says_is_stopped_at_the_declared_size(
    tmp_path,
):
    path = zipbombs.docx(tmp_path / "liar.docx", xml_bytes=10 * MB)
    zipbombs.declare_size(path, "word/document.xml", 1000)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1000  # passes every check
    result = extract_text(path, detect_file(path))
    assert result.error is not None
    assert result.error.startswith("The DOCX document is damaged")
    assert "CRC" in result.error  # cut at 1,000 bytes, the checksum could not match
    assert result.text == ""


def test_item7_a_part_renamed_is_still_counted_as_xml(tmp_path):
    path = zipbombs.docx(tmp_path / "renamed.docx", xml_bytes=25 * MB, main_part="word/a.bin")
    result = extract_text(path, detect_file(path))
    assert result.error == (
        "The DOCX document expands to 25 MB of XML, over the 20 MB limit: "
        "its text was not extracted."
    )


def test_item7_pdf_pages_and_spreadsheet_cells_are_capped(tmp_path, settings):
    pdf = pdfium.PdfDocument.new()
    for _ in range(5):
        pdf.new_page(200, 200)
    pdf.save(tmp_path / "pages.pdf")
    settings.EXTRACT_MAX_PDF_PAGES = 2
    result = extract_text(tmp_path / "pages.pdf", detect_file(tmp_path / "pages.pdf"))
    assert (result.page_count, result.truncated, result.text.count("\f")) == (5, True, 1)

    rows = [[f"r{row}c{column}" for column in range(10)] for row in range(100)]
    path = zipbombs.xlsx(tmp_path / "cells.xlsx", rows)
    settings.EXTRACT_MAX_CELLS = 35
    result = extract_text(path, detect_file(path))
    assert result.truncated
    assert result.text.splitlines()[1:] == ["\t".join(row) for row in rows[:3]]


def test_item7_detection_does_not_list_a_zip_of_too_many_members(tmp_path, settings):
    settings.ZIP_MAX_MEMBERS = 100
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(150):
            archive.writestr(f"word/media/{number}.png", b"")
        archive.writestr("[Content_Types].xml", "<Types/>")
    detected = detect_file(path)
    assert (detected.kind, detected.label) == ("docx", "Word document (DOCX, too many parts)")
    result = extract_text(path, detected)
    assert result.error == (
        "The DOCX document holds 152 files, over the 100 limit: its text was not extracted."
    )


def test_item7_a_worker_child_that_grew_too_large_is_replaced():
    assert app.conf.worker_max_memory_per_child == 512 * 1024
