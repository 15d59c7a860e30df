import io

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.management import call_command

from entities.ftm import validate_export, validate_line
from entities.services import Scope, entity_create
from evidence import services
from evidence.models import Snapshot


def _document(case, content: bytes, name: str):
    import hashlib

    upload = TemporaryUploadedFile(name, "text/plain", len(content), "utf-8")
    upload.write(content)
    upload.seek(0)
    upload.sha256 = hashlib.sha256(content).hexdigest()
    return services.document_upload(investigation=case, uploaded=upload).document


def test_case_export_carries_documents_snapshots_and_citations(case, alice):
    company = entity_create(scope=Scope(investigation=case), name="Nordlicht Bauteile GmbH")
    doc = _document(case, b"Gesellschafter: Klaus und Renate Hartmann", "extract.txt")
    snap = Snapshot.objects.create(
        investigation=case,
        url="https://nordlicht.example/",
        final_url="https://nordlicht.example/",
        status="done",
        title="Nordlicht",
        text="Über uns",
        warc_sha256="a" * 64,
        body_sha256="b" * 64,
        captured_at="2026-11-01T10:00:00Z",
        content_type="text/html",
    )
    services.citation_create(
        investigation=case, claim=company, document=doc, page=1, quote="Klaus und Renate Hartmann"
    )
    services.citation_create(investigation=case, claim=company, snapshot=snap)
    out = io.StringIO()
    call_command("export_ftm", case.slug, stdout=out)
    lines = out.getvalue().splitlines()
    for line in lines:
        assert validate_line(line) == [], line
    assert validate_export(lines) == []
    schemata = [line.split('"schema":"')[1].split('"')[0] for line in lines]
    assert schemata.count("Document") == 1
    assert schemata.count("HyperText") == 1
    assert schemata.count("Documentation") == 2
    assert f"SHA-256 {doc.sha256}" in out.getvalue()
