"""Demo data for the entities app: the chips-through-Kazakhstan story, with invented names.

A German distributor owned by a couple ships microchips (HS 8542) to a Kazakh company founded in
April 2022 by their son, which re-exports them to a Russian firm two weeks later. A Kazakh drone
importer and a Russian buyer share one owner (HS 8806). Shipments span 2021-2023; the Kazakh
importer also appears in a shared customs dataset under a Cyrillic spelling.
"""

import datetime
from decimal import Decimal

from .models import Dataset, Entity, Link, LinkKind, Schema, Shipment
from .services import Scope, entity_create, link_create, pin_entity, shipment_create

DEMO_DATASET = "KZ customs 2021-2023 (demo)"


def _entity(scope: Scope, name: str, **fields) -> Entity:
    existing = Entity.objects.filter(name=name, **scope.fields).first()
    return existing or entity_create(scope=scope, name=name, **fields)


def load_entities_demo(*, case, users) -> str | None:
    """Idempotent: does nothing when the demo entities are there already."""
    if Entity.objects.filter(investigation=case).exists():
        return None
    reporter = users["reporter"]
    scope = Scope(investigation=case)
    e = {}
    e["nordlicht"] = _entity(
        scope,
        "Nordlicht Bauteile GmbH",
        countries=["DE"],
        start_date="2009-03-12",
        identifiers=[("de_vat", "DE136695976")],
        addresses=["Hafenstraße 12, 28217 Bremen"],
        source="Handelsregister extract (demo)",
        created_by=reporter,
    )
    e["klaus"] = _entity(
        scope,
        "Klaus Hartmann",
        schema=Schema.PERSON,
        nationality=["DE"],
        countries=["DE"],
        start_date="1961",
        created_by=reporter,
    )
    e["renate"] = _entity(
        scope,
        "Renate Hartmann",
        schema=Schema.PERSON,
        nationality=["DE"],
        countries=["DE"],
        start_date="1964",
        created_by=reporter,
    )
    e["timur"] = _entity(
        scope,
        "Timur Hartmann",
        schema=Schema.PERSON,
        nationality=["DE", "KZ"],
        countries=["KZ"],
        start_date="1990",
        aliases=["Тимур Хартманн"],
        created_by=reporter,
    )
    e["dala"] = _entity(
        scope,
        "ТОО «Дала Микро»",
        aliases=["Dala Micro LLP", "TOO Dala Mikro"],
        countries=["KZ"],
        start_date="2022-04-07",
        identifiers=[("kz_bin", "220440012351")],
        addresses=["пр. Абая 150, Алматы"],
        created_by=reporter,
    )
    e["vektor"] = _entity(
        scope,
        "ООО «Вектор Системс»",
        aliases=["Vektor Systems LLC"],
        countries=["RU"],
        start_date="2014-09-01",
        identifiers=[("ru_inn", "7707083893")],
        created_by=reporter,
    )
    e["berkut"] = _entity(
        scope,
        "ТОО «Беркут Аэро»",
        aliases=["Berkut Aero LLP"],
        countries=["KZ"],
        start_date="2022-05-19",
        identifiers=[("kz_bin", "220540023458")],
        created_by=reporter,
    )
    e["sokol"] = _entity(
        scope,
        "ООО «Сокол Поставка»",
        aliases=["Sokol Supply LLC"],
        countries=["RU"],
        start_date="2019-02-01",
        created_by=reporter,
    )
    e["oleg"] = _entity(
        scope,
        "Олег Смирнов",
        schema=Schema.PERSON,
        aliases=["Oleg Smirnov"],
        nationality=["RU"],
        countries=["RU", "KZ"],
        created_by=reporter,
    )
    e["drones_cn"] = _entity(
        scope, "Shenzhen Skyward Drone Co., Ltd.", countries=["CN"], created_by=reporter
    )

    links = [
        (
            LinkKind.OWNERSHIP,
            "klaus",
            "nordlicht",
            {"percentage": Decimal(50), "start_date": "2009"},
        ),
        (
            LinkKind.OWNERSHIP,
            "renate",
            "nordlicht",
            {"percentage": Decimal(50), "start_date": "2009"},
        ),
        (LinkKind.FAMILY, "klaus", "renate", {"role": "spouse"}),
        (LinkKind.FAMILY, "klaus", "timur", {"role": "son"}),
        (LinkKind.FAMILY, "renate", "timur", {"role": "son"}),
        (
            LinkKind.OWNERSHIP,
            "timur",
            "dala",
            {"percentage": Decimal(100), "start_date": "2022-04-07"},
        ),
        (LinkKind.DIRECTORSHIP, "timur", "dala", {"role": "director", "start_date": "2022-04-07"}),
        (
            LinkKind.OWNERSHIP,
            "oleg",
            "berkut",
            {"percentage": Decimal(100), "start_date": "2022-05-19"},
        ),
        (LinkKind.OWNERSHIP, "oleg", "sokol", {"percentage": Decimal(75), "start_date": "2019"}),
    ]
    for kind, source, target, fields in links:
        link_create(
            scope=scope,
            kind=kind,
            source=e[source],
            target=e[target],
            created_by=reporter,
            **fields,
        )

    count = 0

    def ship(
        day: datetime.date,
        exporter: str,
        importer: str,
        hs: str,
        qty: int,
        value: int,
        currency: str,
        goods: str,
        route: tuple[str, str, str],
    ) -> None:
        nonlocal count
        count += 1
        shipment_create(
            scope=scope,
            date=day,
            exporter=e[exporter],
            importer=e[importer],
            hs_code=hs,
            description=goods,
            quantity=Decimal(qty),
            unit="pcs",
            value=Decimal(value),
            currency=currency,
            origin_country=route[0],
            dispatch_country=route[1],
            destination_country=route[2],
            declaration_number=f"DEMO/{day:%y%m%d}/{count:04d}",
            source="Customs extract (demo)",
            created_by=reporter,
        )

    # Before the invasion: Nordlicht sells a little to Russia directly.
    for month in (3, 7, 11):
        ship(
            datetime.date(2021, month, 9),
            "nordlicht",
            "vektor",
            "854231",
            400,
            18_400,
            "EUR",
            "Microcontrollers, 32-bit",
            ("DE", "DE", "RU"),
        )
    # From spring 2022: through Dala Micro, the same quantities two weeks apart.
    for i, (month, qty) in enumerate(
        [(5, 2598), (6, 3100), (8, 2750), (10, 4200), (12, 3900), (2, 4100), (4, 5200)]
    ):
        year = 2022 if i < 5 else 2023
        arrive = datetime.date(year, month, 3)
        ship(
            arrive,
            "nordlicht",
            "dala",
            "854231",
            qty,
            qty * 46,
            "EUR",
            "Microcontrollers, 32-bit",
            ("DE", "DE", "KZ"),
        )
        ship(
            arrive + datetime.timedelta(days=14),
            "dala",
            "vektor",
            "854231",
            qty,
            qty * 61,
            "USD",
            "Integrated circuits (processors, controllers)",
            ("DE", "KZ", "RU"),
        )
    # Drones: Chinese maker -> Berkut Aero (KZ) -> Sokol Supply (RU), same owner at both ends.
    for i, month in enumerate([6, 7, 9, 11, 1, 3, 5, 7]):
        year = 2022 if i < 4 else 2023
        arrive = datetime.date(year, month, 20)
        ship(
            arrive,
            "drones_cn",
            "berkut",
            "880621",
            120 + 10 * i,
            (120 + 10 * i) * 1_450,
            "USD",
            "Quadcopter drones, take-off weight under 250 g",
            ("CN", "CN", "KZ"),
        )
        ship(
            arrive + datetime.timedelta(days=9),
            "berkut",
            "sokol",
            "880621",
            120 + 10 * i,
            (120 + 10 * i) * 2_100,
            "USD",
            "Unmanned aircraft",
            ("CN", "KZ", "RU"),
        )

    dataset, _ = Dataset.objects.get_or_create(
        name=DEMO_DATASET,
        defaults={"description": "Invented customs declarations for the demo."},
    )
    ds_scope = Scope(dataset=dataset)
    registry_dala = _entity(
        ds_scope, "Дала Микро ТОО", countries=["KZ"], identifiers=[("kz_bin", "220440012351")]
    )
    _entity(ds_scope, "Berkut Aero", countries=["KZ"])
    if not Shipment.objects.filter(dataset=dataset).exists():
        for month in range(1, 13):
            shipment_create(
                scope=ds_scope,
                date=datetime.date(2022, month, 28),
                importer=registry_dala,
                hs_code="854231",
                description="Микросхемы интегральные",
                quantity=Decimal(500),
                unit="pcs",
                value=Decimal(23_000),
                currency="USD",
                origin_country="DE",
                destination_country="KZ",
            )
    pin_entity(investigation=case, entity=registry_dala, actor=reporter)
    links_made = Link.objects.filter(investigation=case).count()
    return (
        f"Demo entities: {len(e)} in the case file, {links_made} links, {count} shipments; "
        f"dataset “{DEMO_DATASET}”."
    )
