"""manage.py load_demo: demo users and a case file to click through. Safe to run again."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from investigations import activity, services
from investigations.demo import DEMO_STEPS, load_review_demo
from investigations.models import Investigation, Membership, Role

DEMO_CASE_SLUG = "chips-via-almaty"
# (username, full name, staff, password): printed at the end so a demo can start at once.
DEMO_USERS = [
    ("reporter", "Dana Reporter", False, "reporter-demo-pass"),
    ("editor", "Marat Editor", False, "editor-demo-pass"),
    ("admin", "Erlan Admin", True, "admin-demo-pass"),
]


class Command(BaseCommand):
    help = "Create the demo users (reporter, editor, admin) and the demo case file."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("load_demo creates users with known passwords: not in production.")
        with transaction.atomic():
            users = self._users()
            with activity.acting_as(users["editor"]):
                case = self._case(users)
            with activity.acting_as(users["reporter"]):
                for step in [*DEMO_STEPS, load_review_demo]:  # the review needs the rest
                    summary = step(case=case, users=users)
                    if summary:
                        self.stdout.write(summary)
        self.stdout.write(self.style.SUCCESS(f"Demo case file: {case.title} (slug {case.slug})"))
        self.stdout.write("Demo logins:")
        for username, _name, staff, password in DEMO_USERS:
            self.stdout.write(f"  {username:<9} / {password}{'   (staff)' if staff else ''}")

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, full_name, staff, password in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@casefile.example",
                    "is_staff": staff,
                    "is_superuser": staff,
                },
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            users[username] = user
        return users

    def _case(self, users: dict) -> Investigation:
        case = Investigation.objects.filter(slug=DEMO_CASE_SLUG).first()
        if case is None:
            case = services.investigation_create(
                title="Chips via Almaty",
                slug=DEMO_CASE_SLUG,
                summary=(
                    "How Western microchips (HS 8542) and drones (HS 8806) reach Russian buyers "
                    "through newly founded Kazakh intermediaries after February 2022. "
                    "Fictional demo data."
                ),
                created_by=users["editor"],
            )
        if not Membership.objects.filter(investigation=case, user=users["reporter"]).exists():
            services.investigation_add_member(
                investigation=case,
                user=users["reporter"],
                role=Role.REPORTER,
                actor=users["editor"],
            )
        return case
