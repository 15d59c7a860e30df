"""Bulk imports end to end: the command, the staff pages, a real worker, bad files."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from entities.models import Dataset, Entity, ImportJob, RejectedRow, SavedMapping, Shipment
from tests.factories import UserFactory

RUSSIAN_CSV = (
    "дата;номер декларации;№ товара;экспортер;получатель;код ТН ВЭД;наименование товара;"
    "количество;стоимость;валюта;страна происхождения\n"
    "03.05.2022;10005000/030522/0001;1;Nordlicht Bauteile GmbH;ТОО «Казах Чип Трейд»;"
    "8542 31;Микросхемы интегральные;2 598;119 508,00;USD;Германия\n"
    "17.05.2022;10005000/170522/0002;1;TOO Kazakh Chip Treyd;ООО «Вектор Системс»;854231;"
    "Процессоры;2 598;158 478,00;USD;Германия\n"
    "31.02.2022;10005000/310222/0003;1;Nordlicht Bauteile GmbH;Kazakh Chip Treyd LLP;8542;"
    "Микросхемы;100;1 000,00;USD;DE\n"
    "04.06.2022;10005000/040622/0004;1;Nordlicht Bauteile GmbH;Kazakh Chip Treyd LLP;85A2;"
    "Микросхемы;-5;1 000,00;USD;DE\n"
    "05.06.2022;10005000/050622/0005;1;Nordlicht Bauteile GmbH;Kazakh Chip Treyd LLP;8542;"
    '"Микросхемы,\nдве строки";10;2 000,50;USD;DE\n'
)


@pytest.fixture
def customs_file(tmp_path) -> Path:
    path = tmp_path / "kz-customs.csv"
    path.write_bytes(RUSSIAN_CSV.encode("cp1251"))
    return path


def test_command_imports_a_windows_1251_file_and_reports_rejects(db, customs_file):
    out = io.StringIO()
    call_command("import_shipments", str(customs_file), "--dataset", "KZ customs", stdout=out)
    summary = out.getvalue()
    assert "rows read 5, imported 3" in summary and "rejected 2" in summary
    dataset = Dataset.objects.get(name="KZ customs")
    assert Shipment.objects.filter(dataset=dataset).count() == 3
    # One importer written three ways is one entity, with the other spellings as aliases.
    kct = Entity.objects.get(dataset=dataset, name__icontains="Казах Чип Трейд")
    assert Shipment.objects.filter(importer=kct).count() == 2
    first = Shipment.objects.get(dataset=dataset, declaration_number="10005000/030522/0001")
    assert (str(first.quantity), str(first.value), first.hs_code) == (
        "2598.000",
        "119508.00",
        "854231",
    )
    assert first.origin_country == "DE"
    reasons = {(r.line, r.column): r.reason for r in RejectedRow.objects.all()}
    assert any(line == 4 and col == "дата" for line, col in reasons)
    assert any(line == 5 for line, _ in reasons)
    assert "line 4, дата" in summary
    # The quoted newline spans two lines; the row still imports.
    assert Shipment.objects.filter(description__contains="две строки").exists()


def test_same_file_twice_changes_nothing(db, customs_file):
    call_command("import_shipments", str(customs_file), "--dataset", "KZ", stdout=io.StringIO())
    before = (Shipment.objects.count(), Entity.objects.count())
    out = io.StringIO()
    call_command("import_shipments", str(customs_file), "--dataset", "KZ", stdout=out)
    assert "imported 0, updated 0, unchanged 3" in out.getvalue()
    assert (Shipment.objects.count(), Entity.objects.count()) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x00\x01\x02\x03" * 100, "cannot be imported"),
    ],
)
def test_unreadable_files_are_one_clear_error(db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_shipments", str(path), "--dataset", "X", stdout=io.StringIO())
    assert not Shipment.objects.exists()


def test_header_only_and_unmappable_files(db, tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("date,hs_code,importer\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_shipments", str(header_only), "--dataset", "X", stdout=out)
    assert "rows read 0" in out.getvalue()
    unmappable = tmp_path / "other.csv"
    unmappable.write_text("colour,size\nred,big\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no column for date, hs_code"):
        call_command("import_shipments", str(unmappable), "--dataset", "X", stdout=io.StringIO())


def test_saved_mapping_and_json_mapping(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when|code|buyer\n2022-05-01|8542|Dala Micro\n", encoding="utf-8")
    spec = '{"columns": {"date": "when", "hs_code": "code", "importer": "buyer"}}'
    out = io.StringIO()
    call_command("import_shipments", str(path), "--dataset", "X", "--mapping", spec, stdout=out)
    assert "imported 1" in out.getvalue()
    SavedMapping.objects.create(
        name="Odd source",
        kind="shipments",
        spec={"columns": {"date": "when", "hs_code": "code", "importer": "buyer"}},
    )
    out = io.StringIO()
    call_command(
        "import_shipments", str(path), "--dataset", "Y", "--mapping", "Odd source", stdout=out
    )
    assert "imported 1" in out.getvalue()


def test_staff_flow_upload_map_start_and_results(db, customs_file, client):
    from entities.importing.service import import_run
    from investigations import jobs

    erlan = UserFactory(username="erlan", is_staff=True)
    client.force_login(erlan)
    with customs_file.open("rb") as fh:
        response = client.post(
            reverse("imports:list"), {"kind": "shipments", "dataset": "KZ customs", "file": fh}
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:detail", kwargs={"import_id": job.public_id})
    page = client.get(response["Location"]).content.decode()
    assert "Map the columns" in page and "Нордлихт" not in page
    assert "not a real date" in page  # the preview already shows what will be rejected
    form = {f"map_{field}": header for field, header in job.mapping["columns"].items()}
    response = client.post(
        response["Location"],
        {**form, "date_format": "dmy", "save_as": "KZ customs", "action": "start"},
    )
    job.refresh_from_db()
    assert job.status == "pending"
    assert SavedMapping.objects.get(name="KZ customs").kind == "shipments"
    claimed = jobs.job_claim(ImportJob, job.pk, task_id="t")
    import_run(job=claimed)
    jobs.job_finish(claimed, task_id="t")
    page = client.get(reverse("imports:detail", kwargs={"import_id": job.public_id}))
    assert "Rejected rows" in page.content.decode()
    csv_text = b"".join(
        client.get(
            reverse("imports:rejected", kwargs={"import_id": job.public_id})
        ).streaming_content
    ).decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "line,column,value,reason"
    assert "31.02.2022" in csv_text


def test_non_staff_never_see_imports(db, client):
    client.force_login(UserFactory(username="dana"))
    assert client.get(reverse("imports:list")).status_code == 404


@pytest.mark.worker
def test_import_runs_in_a_real_worker(celery_worker, customs_file, client):
    erlan = UserFactory(username="erlan", is_staff=True)
    client.force_login(erlan)
    with customs_file.open("rb") as fh:
        client.post(reverse("imports:list"), {"kind": "shipments", "dataset": "KZ", "file": fh})
    job = ImportJob.objects.get()
    form = {f"map_{field}": header for field, header in job.mapping["columns"].items()}
    client.post(
        reverse("imports:detail", kwargs={"import_id": job.public_id}),
        {**form, "date_format": "dmy", "action": "start"},
    )
    done = celery_worker.wait_for(
        lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
        timeout=60,
    )
    assert done.status == "done", done.error
    assert (done.rows_imported, done.rows_rejected) == (3, 2)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


@pytest.mark.worker
def test_killed_worker_leaves_nothing_and_the_import_runs_again(celery_worker, tmp_path):
    """SIGKILL the pool process mid-import: no row of the file is visible, the message is
    delivered again, and the second attempt imports every row once."""
    import os
    import signal
    import time

    from entities.importing import service

    rows, parties = 150_000, 40
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("date,declaration_number,exporter,importer,hs_code,value,currency\n")
        for n in range(rows):
            fh.write(
                f"2022-{n % 12 + 1:02d}-{n % 28 + 1:02d},DT{n:07d},"
                f"Exporter {n % parties} GmbH,ТОО «Импортер {n % 7}»,854231,{n % 1000 + 1}.50,USD\n"
            )
    dataset = Dataset.objects.create(name="killed")
    job = service.import_stage(
        kind="shipments", dataset=dataset, path=path, original_name="big.csv"
    )
    service.import_confirm(job=job, spec=job.mapping)

    # The first batch is in (50,000 rows): the import is well under way, nothing committed.
    celery_worker.wait_for(lambda: service.progress(job).get("rows", 0) >= 50_000, timeout=60)
    (child,) = _children(celery_worker.process.pid)
    os.kill(child, signal.SIGKILL)
    running = ImportJob.objects.get(pk=job.pk)
    assert (running.status, running.attempts) == ("running", 1)
    time.sleep(0.2)
    assert not Shipment.objects.filter(dataset=dataset).exists()
    assert not Entity.objects.filter(dataset=dataset).exists()

    done = celery_worker.wait_for(
        lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
        timeout=180,
        interval=0.5,
    )
    assert done.status == "done", done.error
    assert done.attempts == 2
    assert (done.rows_read, done.rows_imported, done.rows_rejected) == (rows, rows, 0)
    assert Shipment.objects.filter(dataset=dataset).count() == rows
    assert Entity.objects.filter(dataset=dataset).count() == parties + 7
    assert celery_worker.process.poll() is None  # the worker itself survived


# A stand-in for another session deleting an entity at the worst moment: once, right after the
# first attempt adds an alias to it, and before that batch locks its parties' entities.
DELETE_ONCE_SQL = """
CREATE SEQUENCE test_delete_entity_once;
CREATE FUNCTION test_delete_entity_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.entity_id = {entity} AND nextval('test_delete_entity_once') = 1 THEN
        DELETE FROM entities_entity WHERE id = NEW.entity_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER test_delete_entity_once AFTER INSERT ON entities_entityname
    FOR EACH ROW EXECUTE FUNCTION test_delete_entity_once();
"""
DROP_DELETE_ONCE_SQL = """
DROP TRIGGER IF EXISTS test_delete_entity_once ON entities_entityname;
DROP FUNCTION IF EXISTS test_delete_entity_once();
DROP SEQUENCE IF EXISTS test_delete_entity_once;
"""


@pytest.mark.worker
def test_an_entity_deleted_during_an_import_makes_the_worker_try_again(celery_worker, tmp_path):
    from django.db import connection

    from entities.importing import service
    from entities.services import Scope, entity_create

    dataset = Dataset.objects.create(name="raced")
    kz = entity_create(scope=Scope(dataset=dataset), name="Kazakh Chip Treyd")
    path = tmp_path / "raced.csv"
    path.write_text(
        "date,declaration_number,exporter,importer,hs_code,value,currency\n"
        "2022-05-01,DT1,Vogt GmbH,ТОО «Казах Чип Трейд»,854231,100.50,USD\n"
        "2022-05-02,DT2,Vogt GmbH,ТОО «Казах Чип Трейд»,854231,200.50,USD\n",
        encoding="utf-8",
    )
    job = service.import_stage(
        kind="shipments", dataset=dataset, path=path, original_name="raced.csv"
    )
    with connection.cursor() as cursor:
        cursor.execute(DELETE_ONCE_SQL.format(entity=kz.pk))
    try:
        service.import_confirm(job=job, spec=job.mapping)
        done = celery_worker.wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
            timeout=60,
            interval=0.5,
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value FROM test_delete_entity_once")
            assert cursor.fetchone()[0] >= 2  # both attempts added the alias
    finally:
        with connection.cursor() as cursor:
            cursor.execute(DROP_DELETE_ONCE_SQL)

    assert done.status == "done", done.error
    assert done.attempts == 2
    assert done.rows_imported == 2
    kz.refresh_from_db()  # the first attempt's delete was rolled back with it
    assert kz.aliases == ["ТОО «Казах Чип Трейд»"]
    assert Shipment.objects.filter(dataset=dataset, importer=kz).count() == 2


def test_item6_a_nul_byte_in_row_6002_rejects_that_row_and_the_rest_import(db, tmp_path):
    """It failed the whole file with a raw PostgreSQL message (and, in a worker, left the job
    running): now it is one rejected row with line, column and reason."""
    path = tmp_path / "staff.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("date,declaration_number,exporter,importer,hs_code,description\n")
        for n in range(1, 6011):
            description = "Микросхемы\x00 интегральные" if n == 6001 else "Микросхемы"
            fh.write(f"2022-05-03,DT{n:07d},Nordlicht GmbH,ТОО «Аспан Арба»,854231,{description}\n")
    out = io.StringIO()
    call_command("import_shipments", str(path), "--dataset", "Staff", stdout=out)
    assert "rows read 6,010, imported 6,009" in out.getvalue()
    assert "rejected 1" in out.getvalue()
    (reject,) = RejectedRow.objects.all()
    assert (reject.line, reject.column) == (6002, "description")
    assert reject.reason == "contains a NUL byte"
    assert reject.value == "Микросхемы␀ интегральные"
    assert Shipment.objects.filter(dataset__name="Staff").count() == 6009


DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_item9_import_started_while_redis_is_down(
    db, customs_file, client, broker_down, django_capture_on_commit_callbacks, settings
):
    """The progress page read the cache unguarded and answered 500; the message said queued."""
    from entities.importing import service

    client.force_login(UserFactory(username="erlan", is_staff=True))
    job = service.import_stage(
        kind="shipments",
        dataset=Dataset.objects.create(name="KZ"),
        path=customs_file,
        original_name="kz.csv",
    )
    url = reverse("imports:detail", kwargs={"import_id": job.public_id})
    form = {f"map_{field}": header for field, header in job.mapping["columns"].items()}
    settings.CACHES = DEAD_CACHE
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "date_format": "dmy", "action": "start"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Import queued" not in page and "waiting for the queue" in page.lower()
    assert "Progress unavailable" in page
    partial = client.get(url, headers={"HX-Request": "true", "HX-Target": "import-progress"})
    assert partial.status_code == 200 and "Progress unavailable" in partial.content.decode()
    listing = client.get(reverse("imports:list")).content.decode()
    assert "Waiting for the queue" in listing
