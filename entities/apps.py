from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "entities"

    def ready(self) -> None:
        from investigations.demo import register

        from .activity_text import register_describers
        from .demo import load_entities_demo

        register(load_entities_demo)
        register_describers()
        register_overview_counts()


def register_overview_counts() -> None:
    from investigations.overview import Count, register_count

    from .models import Entity, Link, Pin, Shipment

    register_count(
        Count(
            key="entities",
            label="Entities",
            icon="entity",
            url_name="entities:list",
            querysets=lambda case: [
                Entity.objects.filter(investigation=case),
                Pin.objects.filter(investigation=case),
            ],
            order=10,
        )
    )
    register_count(
        Count(
            key="links",
            label="Links",
            icon="link",
            url_name="entities:list",
            querysets=lambda case: [Link.objects.filter(investigation=case)],
            order=20,
        )
    )
    register_count(
        Count(
            key="shipments",
            label="Shipments",
            icon="shipment",
            url_name="entities:shipments",
            querysets=lambda case: [Shipment.objects.filter(investigation=case)],
            order=30,
        )
    )
