"""A small chips case for the timeline and review tests: Dana reports, Marat edits, Alice owns.

Nordlicht (DE) ships chips to Dala Micro (KZ, founded April 2022), which ships them on to
Vektor (RU); Timur directs Dala Micro from April 2022. One register extract is uploaded.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from entities.models import Entity, Link, LinkKind, Shipment
from entities.services import Scope, entity_create, link_create, shipment_create
from evidence.models import Citation, Document
from investigations import activity
from investigations.models import Investigation, TimelineEvent
from tests.factories import UserFactory, make_case, make_document


@dataclass
class Chips:
    case: Investigation
    alice: object  # owner
    marat: object  # editor
    dana: object  # reporter
    vera: object  # viewer
    nordlicht: Entity
    dala: Entity
    vektor: Entity
    timur: Entity
    directorship: Link
    shipments: list[Shipment]
    extract: Document

    def event(self, title_part: str) -> TimelineEvent:
        return TimelineEvent.objects.get(investigation=self.case, title__contains=title_part)

    def cite(self, **claim) -> Citation:
        return Citation.objects.create(
            investigation=self.case, document=self.extract, page=1, quote="HRB 99999", **claim
        )


def build_chips(alice) -> Chips:
    marat = UserFactory(username="marat", first_name="Marat")
    dana = UserFactory(username="dana", first_name="Dana")
    vera = UserFactory(username="vera", first_name="Vera")
    case = make_case(owner=alice, members={marat: "editor", dana: "reporter", vera: "viewer"})
    scope = Scope(investigation=case)
    with activity.acting_as(dana):
        nordlicht = entity_create(
            scope=scope, name="Nordlicht Bauteile GmbH", start_date="2009-03-12"
        )
        dala = entity_create(scope=scope, name="ТОО «Дала Микро»", start_date="2022-04")
        vektor = entity_create(scope=scope, name="ООО «Вектор Системс»", countries=["RU"])
        timur = entity_create(scope=scope, name="Timur Hartmann", schema="Person")
        directorship = link_create(
            scope=scope,
            kind=LinkKind.DIRECTORSHIP,
            source=timur,
            target=dala,
            start_date="2022-04-07",
        )
        shipments = [
            shipment_create(
                scope=scope,
                date=datetime.date(2022, 5, day),
                exporter=nordlicht,
                importer=dala,
                hs_code="854231",
                quantity=Decimal(qty),
                unit="pcs",
                value=Decimal(value),
                currency="EUR",
            )
            for day, qty, value in ((3, "1000", "46000.00"), (20, "1598", "73508.00"))
        ]
        shipments.append(
            shipment_create(
                scope=scope,
                date=datetime.date(2022, 6, 12),
                exporter=dala,
                importer=vektor,
                hs_code="854231",
                quantity=Decimal("2598"),
                unit="pcs",
                value=Decimal("158478.00"),
                currency="USD",
            )
        )
        extract = make_document(case=case, title="Handelsregister extract", page_count=2)
    return Chips(
        case=case,
        alice=alice,
        marat=marat,
        dana=dana,
        vera=vera,
        nordlicht=nordlicht,
        dala=dala,
        vektor=vektor,
        timur=timur,
        directorship=directorship,
        shipments=shipments,
        extract=extract,
    )
