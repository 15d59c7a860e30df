import factory
from django.contrib.auth import get_user_model

from evidence.models import Document
from investigations import services
from investigations.models import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


def make_case(*, owner, title="Chips via Almaty", members=None):
    """A case file owned by `owner`, with extra members given as {user: role}."""
    case = services.investigation_create(title=title, summary="Test case", created_by=owner)
    for user, role in (members or {}).items():
        services.investigation_add_member(
            investigation=case, user=user, role=Role(role), actor=owner
        )
    return case


def make_document(*, case, **fields) -> Document:
    """A done PDF document row of `case` (no extraction); fields override the defaults."""
    defaults = {
        "title": "Register extract",
        "original_name": "extract.pdf",
        "file": "test/extract.pdf",
        "sha256": "0" * 64,
        "size": 13,
        "mime": "application/pdf",
        "kind": "pdf",
        "type_label": "PDF",
        "status": "done",
    }
    return Document.objects.create(investigation=case, **{**defaults, **fields})
