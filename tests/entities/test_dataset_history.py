"""A dataset's history is its imports, read as sentences on its page and on /imports/, in a
constant number of queries."""

from django.urls import reverse

from entities.models import Dataset, ImportJob
from entities.services import Scope, entity_create
from investigations.jobs import JobStatus
from tests.factories import UserFactory
from tests.investigations.test_activity import sentences


def _imports(dataset, user, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        ImportJob.objects.create(
            kind="shipments",
            dataset=dataset,
            original_name=f"customs-{i}.csv",
            file=f"imports/customs-{i}.csv",
            created_by=user,
            status=JobStatus.DONE,
            rows_read=1000 + i,
            rows_imported=1000,
            rows_updated=i,
            rows_rejected=i,
        )


def test_history_sentences_and_query_counts(alice, alice_client, django_assert_num_queries):
    erlan = UserFactory(username="erlan", first_name="Erlan", is_staff=True)
    dataset = Dataset.objects.create(name="KZ customs")
    for n in range(3):
        entity_create(scope=Scope(dataset=dataset), name=f"Importer {n}")
    _imports(dataset, erlan, 3)
    ImportJob.objects.create(
        kind="companies",
        dataset=dataset,
        original_name="registry.xlsx",
        file="imports/registry.xlsx",
        created_by=erlan,
        status=JobStatus.DRAFT,
    )
    url = reverse("datasets:detail", kwargs={"dataset_id": dataset.public_id})
    # 1 session, 2 user, 3 dataset, 4 paginator count, 5 the page of entities, 6 their
    # identifiers, 7 the latest imports with their datasets and creators
    with django_assert_num_queries(7):
        text = alice_client.get(url).text
    assert sentences(text)[0] == (
        "Erlan imported 1,000 rows into KZ customs (2 updated, 2 rejected)"
    )
    assert "registry.xlsx" not in text  # an upload still being mapped is not history yet
    _imports(dataset, erlan, 5, start=3)
    with django_assert_num_queries(7):
        alice_client.get(url)

    staff = alice_client
    alice.is_staff = True
    alice.save()
    # 1 session, 2 user, 3 paginator count, 4 the page of imports with datasets and creators,
    # 5 saved mappings (the upload form), 6 dataset names (its datalist)
    with django_assert_num_queries(6):
        text = staff.get(reverse("imports:list")).text
    assert "Erlan uploaded registry.xlsx for KZ customs" in sentences(text)
    _imports(dataset, erlan, 5, start=8)
    with django_assert_num_queries(6):
        staff.get(reverse("imports:list"))
