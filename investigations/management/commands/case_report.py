"""manage.py case_report CASE --pdf OUT.pdf: the case report as the PDF the page downloads."""

import time

from django.core.management.base import BaseCommand, CommandError

from investigations import report
from investigations.errors import DomainError
from investigations.management.arguments import find_case


class Command(BaseCommand):
    help = "Write a case file's report (verified claims, citations, hashes) as a PDF or HTML."

    def add_arguments(self, parser) -> None:
        parser.add_argument("case", help="the case file's slug or public id")
        parser.add_argument("--pdf", metavar="OUT.pdf", help="write the PDF here")
        parser.add_argument("--html", metavar="OUT.html", help="write the printable HTML here")

    def handle(self, *args, case: str, pdf: str | None, html: str | None, **options) -> None:
        if not pdf and not html:
            raise CommandError("Say where to write it: --pdf OUT.pdf and/or --html OUT.html.")
        found = find_case(case)
        started = time.monotonic()
        if html:
            with open(html, "w", encoding="utf-8") as out:
                out.write(report.render_html(report.build(found), inline_css=True))
            self.stdout.write(f"{html}: HTML report of {found.title}")
        if pdf:
            try:
                data = report.render_pdf(found)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            with open(pdf, "wb") as out:
                out.write(data)
            seconds = time.monotonic() - started
            self.stdout.write(f"{pdf}: {len(data):,} bytes, {seconds:.1f} s")
