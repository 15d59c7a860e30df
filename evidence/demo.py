"""Demo evidence: a register extract (text) uploaded and cited for the family ownership."""

import hashlib

from django.core.files.uploadedfile import TemporaryUploadedFile

from entities.models import Entity, Link, LinkKind
from investigations import jobs

from . import services
from .models import Citation, Document

EXTRACT = """Handelsregister B des Amtsgerichts Bremen — Auszug (Demo)

Nummer der Firma: HRB 99999 HB
Firma: Nordlicht Bauteile GmbH
Sitz: Bremen, Hafenstraße 12, 28217 Bremen
Gegenstand: Großhandel mit elektronischen Bauteilen, insbesondere Mikrocontrollern.
Stammkapital: 50.000,00 EUR

Gesellschafter:
  Klaus Hartmann, Bremen, Geschäftsanteil 25.000,00 EUR (50 %)
  Renate Hartmann, Bremen, Geschäftsanteil 25.000,00 EUR (50 %)

Geschäftsführer: Klaus Hartmann, einzelvertretungsberechtigt.
\f
Seite 2

Eintragungen seit 2021: keine Änderung der Gesellschafter.
Bemerkung (Demo): Die Gesellschafter sind verheiratet (siehe Melderegister).
Owned by a couple: Klaus and Renate Hartmann hold 50 % each.
"""


def load_evidence_demo(*, case, users) -> str | None:
    """Idempotent: the document is recognised by its hash."""
    content = EXTRACT.encode()
    sha256 = hashlib.sha256(content).hexdigest()
    if Document.objects.filter(investigation=case, sha256=sha256).exists():
        return None
    upload = TemporaryUploadedFile(
        "nordlicht-handelsregister.txt", "text/plain", len(content), "utf-8"
    )
    upload.write(content)
    upload.seek(0)
    upload.sha256 = sha256
    document = services.document_upload(
        investigation=case,
        uploaded=upload,
        title="Handelsregister extract: Nordlicht Bauteile",
        actor=users["reporter"],
    ).document
    claimed = jobs.job_claim(Document, document.pk, task_id="demo")
    if claimed is not None:
        services.document_extract(document=claimed)
        jobs.job_finish(claimed, task_id="demo")
    nordlicht = Entity.objects.filter(investigation=case, name="Nordlicht Bauteile GmbH").first()
    if nordlicht is not None:
        for link in Link.objects.filter(
            investigation=case, kind=LinkKind.OWNERSHIP, target=nordlicht
        ):
            Citation.objects.get_or_create(
                investigation=case,
                document=document,
                link=link,
                page=1,
                defaults={"quote": f"{link.source.name} … (50 %)", "created_by": users["reporter"]},
            )
        services.citation_create(
            investigation=case,
            claim=nordlicht,
            document=document,
            page=2,
            quote="Owned by a couple: Klaus and Renate Hartmann hold 50 % each.",
            actor=users["reporter"],
        )
    return "Demo evidence: a register extract with citations."
