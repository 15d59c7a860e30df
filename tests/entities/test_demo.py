from io import StringIO

from django.core.management import call_command

from entities.identifiers import clean_identifier
from entities.models import Entity, Identifier, Link, Shipment
from entities.search import search_entities
from investigations.models import Investigation


def test_demo_tells_the_story_and_is_idempotent(db):
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    case = Investigation.objects.get(slug="chips-via-almaty")
    assert Entity.objects.filter(investigation=case).count() == 10
    assert 24 <= Shipment.objects.filter(investigation=case).count() <= 60
    chips = Shipment.objects.filter(investigation=case, hs_code__startswith="8542")
    drones = Shipment.objects.filter(investigation=case, hs_code__startswith="8806")
    assert chips.exists() and drones.exists()
    assert {s.date.year for s in Shipment.objects.filter(investigation=case)} == {2021, 2022, 2023}
    assert Link.objects.filter(investigation=case, kind="Family", role="son").count() == 2
    for ident in Identifier.objects.all():  # demo identifiers pass their own check digits
        assert clean_identifier(ident.scheme, ident.value) == ident.value
    from django.contrib.auth import get_user_model

    reporter = get_user_model().objects.get(username="reporter")
    assert search_entities(user=reporter, query="Dala Micro")[0].entity.name == "ТОО «Дала Микро»"
    from evidence.models import Citation, Document

    document = Document.objects.get(investigation=case)
    assert (document.status, document.pages.count()) == ("done", 2)
    assert Citation.objects.filter(investigation=case, document=document).count() == 3
