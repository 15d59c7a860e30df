"""The case report for publication: what is verified, on what evidence, and what is not.

An HTML page (printable) and the same HTML as a PDF. Verified claims come with their
citations and each piece of evidence's SHA-256 (and RFC 3161 timestamp where there is one);
disputed claims are listed apart; claims not yet reviewed are counted and listed. Apps add
sections (entities: a summary of the case's entities and links) with `register_section`;
the evidence app registers the PDF renderer (Chromium, evidence/pdf.py), so this module
imports neither.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from . import subjects
from .errors import DomainError
from .models import Claim, ClaimStatus, Investigation
from .selectors import claims as claim_selectors

STYLESHEET = "css/report.css"


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: Callable[[Investigation], Any]
    order: int = 100


@dataclass
class ReportClaim:
    claim: Claim
    reads: str  # the datum as it reads now
    evidence: list[subjects.EvidenceItem]


@dataclass
class EvidenceRow:
    item: subjects.EvidenceItem
    claims: list[int] = field(default_factory=list)  # numbers of the claims citing it


_SECTIONS: dict[str, Section] = {}
_PDF: list[Callable[..., bytes]] = []


def register_section(section: Section) -> None:
    _SECTIONS[section.key] = section


def register_pdf_renderer(renderer: Callable[..., bytes]) -> None:
    _PDF[:] = [renderer]


def build(case: Investigation, *, user: Any = None) -> dict[str, Any]:
    """Everything the report shows, in a constant number of queries."""
    claims = list(claim_selectors.claim_list(case=case))
    evidence = subjects.evidence_for(
        [c for c in claims if c.status in (ClaimStatus.VERIFIED, ClaimStatus.DISPUTED)], case
    )
    by_status: dict[str, list[ReportClaim]] = {s: [] for s in ClaimStatus.values}
    for claim in claims:
        by_status[claim.status].append(
            ReportClaim(claim, subjects.describe(claim), evidence.get(claim.pk, []))
        )
    verified = sorted(by_status[ClaimStatus.VERIFIED], key=lambda r: r.claim.reviewed_at)
    # Each piece of evidence once, with the numbers of the verified claims citing it.
    index: dict[tuple[str, str], EvidenceRow] = {}
    for number, row in enumerate(verified, start=1):
        for item in row.evidence:
            key = (item.kind, item.sha256 or item.title)
            index.setdefault(key, EvidenceRow(item)).claims.append(number)
    sections = [
        (s, s.context(case)) for s in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
    ]
    return {
        "case": case,
        "generated_at": timezone.now(),
        "generated_by": user,
        "verified": verified,
        "disputed": by_status[ClaimStatus.DISPUTED],
        "pending": by_status[ClaimStatus.NEEDS_REVIEW] + by_status[ClaimStatus.DRAFT],
        "counts": {s.label: len(by_status[s.value]) for s in ClaimStatus},
        "evidence": list(index.values()),
        "sections": [(s, data) for s, data in sections if data is not None],
    }


def render_html(context: dict[str, Any], *, inline_css: bool) -> str:
    """The report's HTML: linking the stylesheet (a page of the app, under its CSP), or with
    it inline (for the PDF renderer, which loads nothing)."""
    css = ""
    if inline_css:
        path = finders.find(STYLESHEET)
        with open(path, encoding="utf-8") as f:
            css = f.read()
    return render_to_string(
        "investigations/report.html", {**context, "inline_css": css, "stylesheet": STYLESHEET}
    )


def render_pdf(case: Investigation, *, user: Any = None) -> bytes:
    """The report as a PDF, rendered by the registered engine (Chromium)."""
    if not _PDF:
        raise DomainError("No PDF renderer is installed.")
    html = render_html(build(case, user=user), inline_css=True)
    return _PDF[0](html, title=f"{case.title}: case report")
