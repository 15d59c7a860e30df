"""Issue 10, item 7: an upload on /imports/ reads only what the mapping screen shows.

The web request opens the file for its header and first rows; an XLSX's ZIP container is
checked before, and only the shared strings those rows use are read. A 100 KB XLSX of 1.5
million shared strings ran 28 s inside a request and grew the web worker to 454 MB.
"""

import time
import tracemalloc

import pytest
from django.urls import reverse

from entities.importing import readers
from entities.importing.readers import UnreadableFile, open_table, preview
from entities.models import ImportJob
from tests import zipbombs
from tests.factories import UserFactory

ROWS = [
    ["date", "hs_code", "exporter", "importer"],
    ["2023-01-05", "854231", "Nordlicht Bauteile GmbH", "TOO Dala Micro"],
    ["2023-01-19", "854232", "TOO Dala Micro", "OOO Vektor"],
]


@pytest.fixture
def erlan_client(db, client):
    client.force_login(UserFactory(username="erlan", is_staff=True))
    return client


def _upload(client, path):
    with path.open("rb") as fh:
        return client.post(
            reverse("imports:list"), {"kind": "shipments", "dataset": "KZ customs", "file": fh}
        )


def test_item7_an_xlsx_bomb_on_imports_is_a_form_error_at_once(erlan_client, tmp_path):
    path = zipbombs.xlsx(tmp_path / "customs.xlsx", ROWS, extra_strings=1_500_000)
    assert path.stat().st_size < 150 * 1024
    started = time.monotonic()
    response = _upload(erlan_client, path)
    assert time.monotonic() - started < 2  # 28 s in openpyxl
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors[0].startswith("“customs.xlsx” cannot be imported: the file expands ")
    assert errors[0].endswith(
        "411 times in xl/sharedStrings.xml (61 KB to 24 MB), over the 100:1 limit"
    )
    assert not ImportJob.objects.exists()


def test_item7_the_mapping_screen_reads_only_the_shared_strings_its_rows_use(
    erlan_client, tmp_path
):
    # 1.5 million different strings: 34 MB that compress only 5 times, so no limit refuses it.
    path = zipbombs.xlsx(
        tmp_path / "customs.xlsx", ROWS, extra_strings=1_500_000, distinct=True, level=1
    )
    tracemalloc.start()
    try:
        started = time.monotonic()
        table = open_table(path)
        rows = preview(table)
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.headers == ROWS[0]
    assert rows == [(2, ROWS[1]), (3, ROWS[2])]
    assert peak < 8 * 1024 * 1024, peak  # openpyxl: 135 MB
    assert seconds < 2, seconds  # openpyxl: 27 s for the two loads of a request

    response = _upload(erlan_client, path)
    job = ImportJob.objects.get()
    page = erlan_client.get(response["Location"]).content.decode()
    assert "TOO Dala Micro" in page and "Nordlicht Bauteile GmbH" in page
    assert job.status == "draft"


def test_item7_the_worker_refuses_more_shared_strings_than_the_limit(tmp_path, settings):
    settings.XLSX_MAX_SHARED_STRINGS = 1000
    path = zipbombs.xlsx(tmp_path / "customs.xlsx", ROWS, extra_strings=1000, distinct=True)
    table = open_table(path)  # the preview reads the first strings only
    assert preview(table) == [(2, ROWS[1]), (3, ROWS[2])]
    with pytest.raises(UnreadableFile) as refused:
        list(table.rows())
    assert refused.value.reason == "the file holds more than 1,000 shared strings, over the limit"


def test_item7_a_csv_preview_stops_at_its_bound(erlan_client, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PREVIEW_MAX_CHARS", 10_000)
    path = tmp_path / "customs.csv"
    path.write_text("date,hs_code,description\n2023-01-05,854231," + "x" * 20_000 + "\n")
    response = _upload(erlan_client, path)
    assert response.context["form"].errors["file"] == [
        "“customs.csv” cannot be imported: the first rows take more than 10,000 characters "
        "(an unclosed quote?), too many to show them"
    ]
