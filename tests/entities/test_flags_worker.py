"""The red-flag job in a real Celery worker: queued from the Flags tab, run, hits listed."""

import pytest
from django.test import Client
from django.urls import reverse

from entities.analysis.models import FlagHit, FlagRun
from entities.models import LinkKind, Schema
from entities.services import Scope, entity_create, link_create, shipment_create
from tests.factories import UserFactory, make_case


@pytest.mark.worker
def test_flags_run_in_a_worker_and_rerun_replaces_the_hits(celery_worker):
    dana = UserFactory(username="dana")
    case = make_case(owner=dana)
    s = Scope(investigation=case)
    de = entity_create(scope=s, name="Vogt GmbH", countries=["DE"])
    kz = entity_create(scope=s, name="Dala Micro LLP", countries=["KZ"], start_date="2022-04")
    ru = entity_create(scope=s, name="Vektor OOO", countries=["RU"])
    owner = entity_create(scope=s, name="Oleg Smirnov", schema=Schema.PERSON, nationality=["RU"])
    link_create(scope=s, kind=LinkKind.OWNERSHIP, source=owner, target=kz, percentage=100)
    for date, exporter, importer in (("2022-05-02", de, kz), ("2022-05-16", kz, ru)):
        shipment_create(
            scope=s,
            date=date,
            exporter=exporter,
            importer=importer,
            hs_code="854231",
            quantity=2598,
            unit="pcs",
        )
    client = Client()
    client.force_login(dana)
    url = reverse("analysis:flags", kwargs={"case_id": case.public_id})
    run_url = reverse("analysis:flags-run", kwargs={"case_id": case.public_id})

    assert client.post(run_url).status_code == 302
    done = celery_worker.wait_for(
        lambda: FlagRun.objects.filter(status__in=["done", "failed"]).first(), timeout=60
    )
    assert done.status == "done", done.error
    assert done.hit_count == 2 and done.detectors_done == done.detectors_total == 5
    first = set(FlagHit.objects.values_list("pk", flat=True))
    page = client.get(url).content.decode()
    assert "Newly founded intermediary" in page and "Pass-through" in page

    assert client.post(run_url).status_code == 302
    celery_worker.wait_for(
        lambda: (
            FlagRun.objects.filter(status="done", attempts=1)
            .exclude(finished_at=done.finished_at)
            .first()
        ),
        timeout=60,
    )
    again = set(FlagHit.objects.values_list("pk", flat=True))
    assert len(again) == 2 and not again & first
    assert FlagRun.objects.count() == 1
