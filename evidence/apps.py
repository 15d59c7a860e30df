from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"

    def ready(self) -> None:
        from entities.services import MERGE_HOOKS
        from investigations.demo import register

        from .demo import load_evidence_demo
        from .services import _move_citations

        if _move_citations not in MERGE_HOOKS:
            MERGE_HOOKS.append(_move_citations)
        register(load_evidence_demo)
