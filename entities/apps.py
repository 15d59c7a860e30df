from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "entities"

    def ready(self) -> None:
        from investigations.demo import register

        from .activity_text import register_describers
        from .demo import load_entities_demo
        from .timeline_sources import register as register_timeline
        from .timeline_sources import register_flag_claims

        register(load_entities_demo)
        register_describers()
        register_overview_counts()
        register_timeline()
        register_flag_claims()
        from .report_section import register as register_report

        register_report()


def register_overview_counts() -> None:
    from investigations.overview import Count, register_count

    from .models import Entity, Link, Pin, Shipment

    for count in (
        Count("entities", "Entities", "entity", "entities:list", (Entity, Pin), order=10),
        Count("links", "Links", "link", "entities:list", (Link,), order=20),
        Count("shipments", "Shipments", "shipment", "entities:shipments", (Shipment,), order=30),
    ):
        register_count(count)
