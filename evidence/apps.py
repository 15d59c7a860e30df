from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"

    def ready(self) -> None:
        from entities.ftm import CASE_EXPORT_HOOKS
        from entities.services import MERGE_HOOKS
        from investigations.demo import register

        from .activity_text import register_describers
        from .demo import load_evidence_demo
        from .services import _move_citations

        if _move_citations not in MERGE_HOOKS:
            MERGE_HOOKS.append(_move_citations)
        register(load_evidence_demo)
        register_describers()
        register_overview_counts()
        from .timeline_sources import register as register_timeline

        register_timeline()
        from investigations.report import register_pdf_renderer

        from .pdf import html_to_pdf

        register_pdf_renderer(html_to_pdf)
        from .ftm_export import case_evidence_lines

        if case_evidence_lines not in CASE_EXPORT_HOOKS:
            CASE_EXPORT_HOOKS.append(case_evidence_lines)
        from entities.analysis.paths import CITATION_HOOKS

        from .selectors import citations_for_claims

        if citations_for_claims not in CITATION_HOOKS:
            CITATION_HOOKS.append(citations_for_claims)


def register_overview_counts() -> None:
    from investigations.overview import Count, register_count

    from .models import Document, Snapshot

    for count in (
        Count("documents", "Documents", "document", "evidence:documents", (Document,), order=40),
        Count("snapshots", "Snapshots", "snapshot", "evidence:snapshots", (Snapshot,), order=50),
    ):
        register_count(count)
