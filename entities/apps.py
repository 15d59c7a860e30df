from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "entities"

    def ready(self) -> None:
        from investigations.demo import register

        from .demo import load_entities_demo

        register(load_entities_demo)
