"""manage.py verify_evidence: re-hash every stored document, WARC and screenshot.

Prints each file whose bytes no longer match the SHA-256 recorded when it was stored (or that
is missing), and exits non-zero if there is any.
"""

from django.core.management.base import BaseCommand, CommandError

from evidence import storage
from evidence.models import Document, Snapshot


def _stored_files():
    for doc in (
        Document.objects.select_related("investigation")
        .only("public_id", "file", "sha256", "title", "investigation__slug")
        .iterator(chunk_size=500)
    ):
        yield (
            doc.investigation.slug,
            f"document {doc.public_id} ({doc.title})",
            doc.file,
            doc.sha256,
        )
    for snap in (
        Snapshot.objects.select_related("investigation")
        .exclude(warc_file="")
        .only(
            "public_id",
            "url",
            "warc_file",
            "warc_sha256",
            "screenshot_file",
            "screenshot_sha256",
            "investigation__slug",
        )
        .iterator(chunk_size=500)
    ):
        case = snap.investigation.slug
        yield case, f"snapshot {snap.public_id} WARC ({snap.url})", snap.warc_file, snap.warc_sha256
        if snap.screenshot_file:
            yield (
                case,
                f"snapshot {snap.public_id} screenshot",
                snap.screenshot_file,
                snap.screenshot_sha256,
            )


class Command(BaseCommand):
    help = "Re-hash all stored evidence and report files whose SHA-256 no longer matches."

    def handle(self, *args, **options) -> None:
        checked, bad = 0, 0
        for case, label, name, expected in _stored_files():
            checked += 1
            try:
                actual = storage.sha256_of(name)
            except FileNotFoundError:
                actual = None
            if actual != expected:
                bad += 1
                found = "file missing" if actual is None else f"now {actual}"
                self.stdout.write(
                    f"MISMATCH [{case}] {label}: {name}: recorded {expected}, {found}"
                )
        summary = f"{checked} files checked, {bad} mismatched"
        if bad:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
