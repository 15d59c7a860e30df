"""How documents, snapshots, watches and citations read in the activity feed.

Registered from EvidenceConfig.ready(). A capture is one entry, written when it was asked for
and read as its outcome: "Dana captured www.example.kz (200, 2.1 s)".
"""

from urllib.parse import urlsplit

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from entities.activity_text import entity_url, link_phrase
from entities.models import Entity, Link, Shipment
from investigations import formatting
from investigations.activity_text import (
    Described,
    Describer,
    EntryView,
    JobDescriber,
    register,
    what,
    who,
)
from investigations.models import TimelineEvent

from .models import Citation, Document, Snapshot, Watch


def page_label(url: str) -> str:
    """https://www.example.kz/ -> www.example.kz; keeps the path when there is one."""
    parts = urlsplit(url or "")
    if not parts.netloc:
        return url or "a page"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return formatting.truncate(f"{parts.hostname or parts.netloc}{path}{query}", 80)


def _case_url(name: str, case, **kwargs) -> str | None:
    if case is None:
        return None
    return reverse(f"evidence:{name}", kwargs={"case_id": case.public_id, **kwargs})


class DocumentDescriber(JobDescriber):
    kind = "evidence"
    kind_label = "Documents and snapshots"
    icon = "document"
    shown = ("title", "document_date")

    def url(self, obj, case):
        return _case_url("document", case, document_id=obj.public_id)

    def created(self, e: EntryView) -> Described:
        state = self.state(e)
        sentence = format_html("{} uploaded {}", who(e), self.name(e))
        doc = e.obj
        if state == "done":
            facts = [doc.type_label, formatting.size_label(doc.size)]
            if doc.page_count:
                facts.append(formatting.plural(doc.page_count, "page"))
            return Described(sentence, detail=" · ".join(f for f in facts if f))
        if state == "failed":
            return Described(
                sentence, detail=f"Text extraction failed: {doc.error}", outcome="failed"
            )
        if state in ("pending", "running"):
            return Described(sentence, detail="Extracting its text…", outcome="pending")
        return Described(sentence)

    def deleted(self, e: EntryView) -> Described:
        sha = e.value("sha256", "")
        return Described(
            format_html("{} deleted the document {}", who(e), what(e.object_repr)),
            detail=f"SHA-256 {sha}" if sha else "",
        )


class SnapshotDescriber(JobDescriber):
    kind = "evidence"
    kind_label = "Documents and snapshots"
    icon = "snapshot"
    shown = ()  # a capture is immutable: nothing a person edits
    select_related = ("watch",)

    def refs(self, instance):
        return [(Entity, instance.entity_id)]

    def url(self, obj, case):
        return _case_url("snapshot", case, snapshot_id=obj.public_id)

    def page(self, e: EntryView) -> SafeString:
        label = page_label(e.value("url", "") or e.object_repr.removeprefix("snapshot of "))
        url = self.url(e.obj, e.case) if e.obj is not None else None
        return what(label, url)

    def actor(self, e: EntryView) -> SafeString:
        if e.is_system and getattr(e.obj, "watch_id", None):
            return format_html('<span class="who">{}</span>', "A watch")
        return who(e)

    def created(self, e: EntryView) -> Described:
        state, snap = self.state(e), e.obj
        if state == "done":
            facts = [str(snap.http_status)] if snap.http_status else []
            seconds = self.seconds(snap)
            if seconds is not None:
                facts.append(formatting.duration_label(seconds))
            tail = f" ({', '.join(facts)})" if facts else ""
            return Described(format_html("{} captured {}{}", self.actor(e), self.page(e), tail))
        if state == "failed":
            return Described(
                format_html("{} could not capture {}", self.actor(e), self.page(e)),
                detail=snap.error,
                outcome="failed",
            )
        if state in ("pending", "running"):
            verb = "is capturing" if state == "running" else "asked to capture"
            return Described(
                format_html("{} {} {}", self.actor(e), verb, self.page(e)), outcome="pending"
            )
        return Described(format_html("{} asked to capture {}", self.actor(e), self.page(e)))

    def updated(self, e: EntryView) -> Described | None:
        return None

    def deleted(self, e: EntryView) -> Described:
        sha = e.value("warc_sha256", "")
        return Described(
            format_html("{} deleted the snapshot of {}", who(e), self.page(e)),
            detail=f"SHA-256 of the WARC {sha}" if sha else "",
        )


class WatchDescriber(JobDescriber):
    kind = "evidence"
    kind_label = "Documents and snapshots"
    icon = "watch"
    shown = ("frequency", "active")

    def refs(self, instance):
        return [(Entity, instance.entity_id)]

    def page(self, e: EntryView) -> SafeString:
        return what(page_label(e.value("url", "") or e.object_repr.removeprefix("watch ")))

    def created(self, e: EntryView) -> Described:
        frequency = str(e.value("frequency", "")).lower()
        described = Described(
            format_html("{} started watching {} ({})", who(e), self.page(e), frequency)
        )
        if self.state(e) == "failed":
            described.detail, described.outcome = f"Last check failed: {e.obj.error}", "failed"
        return described

    def updated(self, e: EntryView) -> Described | None:
        if e.new("active") is False:
            return Described(format_html("{} stopped watching {}", who(e), self.page(e)))
        return super().updated(e)

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} deleted the watch of {}", who(e), self.page(e)))


class CitationDescriber(Describer):
    kind_label = "Citations"
    icon = "cite"
    select_related = (
        "document",
        "snapshot",
        "entity",
        "link__source",
        "link__target",
        "shipment__exporter",
        "shipment__importer",
        "event",
    )

    def refs(self, instance):
        refs = [
            (Entity, instance.entity_id),
            (Link, instance.link_id),
            (Shipment, instance.shipment_id),
            (Document, instance.document_id),
            (Snapshot, instance.snapshot_id),
            (TimelineEvent, instance.event_id),
        ]
        if instance.link_id:
            link = instance.link  # loaded with the claim when cited; one query otherwise
            refs += [(Entity, link.source_id), (Entity, link.target_id)]
        if instance.shipment_id:
            shipment = instance.shipment
            refs += [(Entity, shipment.exporter_id), (Entity, shipment.importer_id)]
        return refs

    def evidence(self, e: EntryView) -> SafeString:
        c = e.obj
        if c is None:
            return what(e.value("document") or e.value("snapshot") or "evidence")
        if c.document_id:
            url = _case_url("document", e.case, document_id=c.document.public_id)
            label = what(c.document.title, url)
        else:
            url = _case_url("snapshot", e.case, snapshot_id=c.snapshot.public_id)
            label = what(page_label(c.snapshot.url), url)
        if c.page:
            return format_html("{}, page {}", label, c.page)
        return label

    def claim(self, e: EntryView) -> SafeString:
        c = e.obj
        if c is None:
            return what(
                e.value("entity")
                or e.value("link")
                or e.value("shipment")
                or e.value("event")
                or "a claim"
            )
        if c.event_id:
            return format_html("the event {}", what(c.event.title))
        if c.entity_id:
            return what(c.entity.name, entity_url(c.entity, e.case))
        if c.link_id:
            link = c.link
            source = what(link.source.name, entity_url(link.source, e.case))
            target = what(link.target.name, entity_url(link.target, e.case))
            return link_phrase(link.kind, source, target, link.role, link.percentage)
        shipment = c.shipment
        return format_html(
            "the shipment from {} to {} of {}",
            what(shipment.exporter.name if shipment.exporter else "?"),
            what(shipment.importer.name if shipment.importer else "?"),
            formatting.date_label(shipment.date),
        )

    def created(self, e: EntryView) -> Described:
        return Described(
            format_html("{} cited {} for {}", who(e), self.evidence(e), self.claim(e)),
            detail=e.value("quote", ""),
        )

    def updated(self, e: EntryView) -> Described | None:
        if "entity" in e.changes and len(e.changes) == 1:
            return None  # moved by a merge, which has its own entry
        return super().updated(e)

    def deleted(self, e: EntryView) -> Described:
        return Described(
            format_html(
                "{} removed the citation of {} for {}", who(e), self.evidence(e), self.claim(e)
            )
        )


def register_describers() -> None:
    register(DocumentDescriber(Document))
    register(SnapshotDescriber(Snapshot))
    register(WatchDescriber(Watch))
    register(CitationDescriber(Citation))
