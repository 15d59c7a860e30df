"""What text extraction in a limited child costs, and what the files of issue 10 cost, then and now.

    make bench-extract

1. Overhead per document: a 3-page PDF, a small DOCX and a small text file, extracted 40 times
   each in the calling process (extract_text), in a child forked from the forkserver
   (extract_text_limited, what workers do), and in a new Python process per document (what a
   subprocess entry point would cost). Median per document.
2. The bombs, each measured in a new Python process with Django set up, as in a worker or a
   web process (wall time, and the process's peak RSS, VmHWM; a process that only sets Django
   up is the baseline):
   - a DOCX of 48 MB of XML (150 KB): python-docx reading it as extraction did before, against
     extract_text_limited now (plus the child's own peak, which the child reports), in a new
     process (its forkserver starts: once per worker process) and in one that has extracted
     before ("now-warm");
   - an XLSX of 1.5 million shared strings (100 KB), and one of 1.5 million different strings
     (6.8 MB, under every limit): the mapping screen's request as it was (openpyxl read-only,
     loaded for the header and again for the first rows) against open_table + preview now.

Needs no database (extraction and the readers do not touch it). Writes
bench/out/extract-<date>.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

MB = 1024 * 1024
ROUNDS = 40
CUSTOMS = [
    ["date", "hs_code", "exporter", "importer"],
    ["2023-01-05", "854231", "Nordlicht Bauteile GmbH", "TOO Dala Micro"],
]


def _setup() -> None:
    import django

    django.setup()


# --- 1. overhead per document ---------------------------------------------------------------


def _samples(directory: Path) -> dict[str, Path]:
    import pypdfium2 as pdfium

    from tests import zipbombs

    pdf = pdfium.PdfDocument.new()
    for _ in range(3):
        pdf.new_page(595, 842)
    pdf.save(directory / "three-pages.pdf")
    text = directory / "note.txt"
    text.write_text("Договор поставки микросхем.\n" * 200)
    paragraphs = tuple(f"Абзац {n}: TOO Dala Micro, 8542 31" for n in range(200))
    return {
        "pdf": directory / "three-pages.pdf",
        "docx": zipbombs.docx(directory / "note.docx", paragraphs=paragraphs),
        "text": text,
    }


def overhead(directory: Path) -> dict:
    from evidence.detect import detect_file
    from evidence.extract import ExtractLimits, extract_text
    from evidence.extract_child import extract_text_limited

    # A minimal entry point: the parsers imported, limits given, no Django.
    spawn = (
        "import sys; sys.path.insert(0, {root!r}); "
        "from evidence.detect import DetectedType; "
        "from evidence.extract import ExtractLimits, extract_text; "
        "from newsroom.xlsx import StringLimits; from newsroom.ziplimits import ZipLimits; "
        "limits = ExtractLimits(zip=ZipLimits({zip}), strings=StringLimits({strings}), "
        "max_pdf_pages=5000, max_cells=5000000); "
        "extract_text({path!r}, DetectedType(*{detected!r}), limits=limits)"
    )
    limits = ExtractLimits.from_settings()
    results: dict[str, dict[str, float]] = {}
    for kind, path in _samples(directory).items():
        detected = detect_file(path)
        extract_text_limited(path, detected)  # starts the forkserver
        runs = {
            "in process": lambda path=path, d=detected: extract_text(path, d),
            "forkserver child": lambda path=path, d=detected: extract_text_limited(path, d),
            "new python": lambda path=path, d=detected: subprocess.run(
                [
                    sys.executable,
                    "-c",
                    spawn.format(
                        root=str(ROOT),
                        zip=", ".join(str(v) for v in astuple(limits.zip)),
                        strings=", ".join(str(v) for v in astuple(limits.strings)),
                        path=str(path),
                        detected=astuple(d),
                    ),
                ],
                check=True,
            ),
        }
        results[kind] = {}
        for name, run in runs.items():
            rounds = ROUNDS if name != "new python" else ROUNDS // 4
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                run()
                times.append(time.perf_counter() - started)
            results[kind][name] = round(statistics.median(times) * 1000, 1)
    return results


# --- 2. the bombs, one new process each -----------------------------------------------------


def _docx_before(path: str) -> str:
    """What evidence/extract.py did with a DOCX before: python-docx on the whole package."""
    import docx

    with open(path, "rb") as fh:
        document = docx.Document(fh)
    size = 0
    for paragraph in document.paragraphs:
        size += len(paragraph.text) + 1
        if size > 5_000_000:
            break
    return f"{size:,} characters"


def _docx_now(path: str) -> str:
    from evidence.detect import detect_file
    from evidence.extract_child import extract_text_limited

    result = extract_text_limited(path, detect_file(path))
    peak = f"; child's peak {result.peak_memory_kb // 1024} MB" if result.peak_memory_kb else ""
    return (result.error or f"{len(result.text):,} characters") + peak


def _docx_now_warm(path: str) -> str:
    """The same in a worker that has extracted before: its forkserver runs already."""
    from evidence.detect import detect_file
    from evidence.extract_child import extract_text_limited

    result = extract_text_limited(path, detect_file(path))
    peak = f"; child's peak {result.peak_memory_kb // 1024} MB" if result.peak_memory_kb else ""
    return (result.error or f"{len(result.text):,} characters") + peak


def _preview_before(path: str) -> str:
    """The mapping screen's request before: openpyxl opened the workbook for the header, and
    again for the first rows."""
    from itertools import islice

    import openpyxl

    rows = []
    for _ in range(2):
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = list(islice(workbook.worksheets[0].iter_rows(values_only=True), 11))
        workbook.close()
    return f"header and {len(rows) - 1} rows"


def _preview_now(path: str) -> str:
    from entities.importing.readers import UnreadableFile, open_table, preview

    try:
        table = open_table(path)
        preview(table)
        table = open_table(path)  # the mapping screen opens it again, as the upload did
        return f"header and {len(preview(table))} rows"
    except UnreadableFile as exc:
        return f"refused: {exc.reason}"


def _baseline(path: str) -> str:
    return "Django set up, nothing read"


CASES = {
    "baseline": _baseline,
    "docx-before": _docx_before,
    "docx-now": _docx_now,
    "docx-now-warm": _docx_now_warm,
    "preview-before": _preview_before,
    "preview-now": _preview_now,
}


def measure(case: str, path: Path) -> dict:
    """Run one case in a new Python: its time and peak RSS, as it reports them.

    Not ru_maxrss: after fork and exec it still counts the parent's memory at the fork.
    """
    output = subprocess.run(
        [sys.executable, __file__, "--case", case, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def _run_case(case: str, path: str) -> None:
    if case.endswith("-warm"):
        from evidence.detect import DetectedType
        from evidence.extract_child import extract_text_limited

        extract_text_limited(__file__, DetectedType("text/plain", "text", "Plain text"))
    started = time.perf_counter()
    outcome = CASES[case](path)
    seconds = time.perf_counter() - started
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    print(
        json.dumps(
            {"seconds": round(seconds, 2), "peak_rss_mb": peak_kb // 1024, "outcome": outcome}
        )
    )


def bombs(directory: Path) -> dict:
    from tests import zipbombs

    files = {
        "docx 48 MB of XML": zipbombs.docx(directory / "bomb.docx", xml_bytes=48 * MB),
        "xlsx 1.5 M shared strings": zipbombs.xlsx(
            directory / "strings.xlsx", CUSTOMS, extra_strings=1_500_000
        ),
        "xlsx 1.5 M different strings": zipbombs.xlsx(
            directory / "different.xlsx", CUSTOMS, extra_strings=1_500_000, distinct=True
        ),
    }
    results = {}
    for name, path in files.items():
        kind = "docx" if name.startswith("docx") else "preview"
        results[name] = {"file_kb": path.stat().st_size // 1024}
        for when in ("before", "now", "now-warm") if kind == "docx" else ("before", "now"):
            results[name][when] = measure(f"{kind}-{when}", path)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    options = parser.parse_args()
    _setup()
    if options.case:
        _run_case(options.case, options.path)
        return
    with tempfile.TemporaryDirectory(prefix="casefile-bench-extract-") as tmp:
        report = {
            "overhead_ms": overhead(Path(tmp)),
            "baseline": measure("baseline", Path(tmp)),
            "bombs": bombs(Path(tmp)),
        }
    print("Extraction, median ms per document")
    for kind, runs in report["overhead_ms"].items():
        print(f"  {kind:5}", "  ".join(f"{name}: {ms:7.1f}" for name, ms in runs.items()))
    print(f"A new process with Django set up: {report['baseline']['peak_rss_mb']} MB")
    for name, result in report["bombs"].items():
        print(f"{name} ({result['file_kb']:,} KB)")
        for when in ("before", "now", "now-warm"):
            if when not in result:
                continue
            run = result[when]
            print(
                f"  {when:8} {run['seconds']:7.2f} s  {run['peak_rss_mb']:5} MB  {run['outcome']}"
            )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    path = out / f"extract-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
