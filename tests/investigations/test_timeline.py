"""The case timeline: derived events follow their data, written events say what is wrong with a
date, filters, the entity's own timeline, CSV, and a page whose query count does not grow."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from entities.services import entity_update, link_update
from investigations import timeline
from investigations.errors import DomainError
from investigations.models import TimelineEvent
from investigations.services.timeline import event_create, event_update
from tests.investigations.editorial import build_chips


@pytest.fixture
def chips(alice):
    return build_chips(alice)


def _titles(case) -> list[str]:
    return list(
        TimelineEvent.objects.filter(investigation=case)
        .order_by("starts_on", "id")
        .values_list("title", flat=True)
    )


def test_derived_events_of_the_story(chips):
    assert _titles(chips.case) == [
        "Nordlicht Bauteile GmbH incorporated",
        "ТОО «Дала Микро» incorporated",
        "Begins: Timur Hartmann as director of ТОО «Дала Микро»",
        "Nordlicht Bauteile GmbH → ТОО «Дала Микро»: 2 shipments, HS 8542, 2,598 pcs, "
        "119,508.00 EUR",
        "ТОО «Дала Микро» → ООО «Вектор Системс»: 1 shipment, HS 8542, 2,598 pcs, 158,478.00 USD",
    ]
    incorporation = chips.event("Дала Микро» incorporated")
    assert (incorporation.start, incorporation.precision) == ("2022-04", "month")
    assert (incorporation.starts_on, incorporation.ends_on) == (
        datetime.date(2022, 4, 1),
        datetime.date(2022, 4, 30),
    )
    month = chips.event("2 shipments")
    assert month.facts == {
        "shipments": 2,
        "hs": ["8542"],
        "quantity": [["pcs", "2598.000"]],
        "value": [["EUR", "119508.00"]],
    }
    assert set(month.entity_ids) == {chips.nordlicht.pk, chips.dala.pk}


def test_derived_events_follow_their_data(chips):
    entity_update(entity=chips.dala, case=chips.case, start_date="2022-04-11")
    assert chips.event("Дала Микро» incorporated").start == "2022-04-11"
    # A shipment moved to June leaves May with one, and joins nothing else's month.
    moved = chips.shipments[1]
    moved.date = datetime.date(2022, 6, 1)
    moved.save()
    assert chips.event("Nordlicht Bauteile GmbH → ТОО «Дала Микро»: 1 shipment, HS 8542, 1,000")
    assert chips.event("Nordlicht Bauteile GmbH → ТОО «Дала Микро»: 1 shipment, HS 8542, 1,598")
    # A renamed entity is renamed in the events that name it.
    entity_update(entity=chips.timur, case=chips.case, name="Timur K. Hartmann")
    assert chips.event("Begins: Timur K. Hartmann as director")
    # Gone with its data.
    chips.directorship.delete()
    assert not TimelineEvent.objects.filter(title__contains="director").exists()
    for shipment in chips.shipments:
        shipment.delete()
    assert not TimelineEvent.objects.filter(kind="shipments").exists()
    # And rebuilt identically from scratch.
    before = _titles(chips.case)
    TimelineEvent.objects.filter(investigation=chips.case).delete()
    timeline.rebuild(chips.case)
    assert _titles(chips.case) == before


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2022-02-30", "", "start", "30 February does not exist (February has 28 days)."),
        ("2022-13", "", "start", "Month 13 does not exist (months are 01 to 12)."),
        ("2023-02-29", "", "start", "29 February 2023 does not exist: 2023 is not a leap year."),
        ("in May", "", "start", "Write the date as YYYY, YYYY-MM or YYYY-MM-DD (got “in May”)."),
        ("2022-05", "2022-04-30", "end", "The end is before the start."),
        ("", "", "start", "Give the date of the event (YYYY, YYYY-MM or YYYY-MM-DD)."),
    ],
)
def test_written_event_bad_dates_say_what_is_wrong_and_save_nothing(
    chips, start, end, field, message
):
    with pytest.raises(DomainError) as caught:
        event_create(case=chips.case, start=start, end=end, title="Pass-through", actor=chips.dana)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert not TimelineEvent.objects.filter(kind="written").exists()


def test_written_event_through_the_form(chips, client):
    client.force_login(chips.dana)
    url = reverse("investigations:event-create", kwargs={"case_id": chips.case.public_id})
    response = client.post(url, {"start": "2022-05", "end": "2022-04", "title": "Pass-through"})
    assert response.status_code == 200
    assert "The end is before the start." in response.text
    assert not TimelineEvent.objects.filter(kind="written").exists()
    response = client.post(
        url,
        {
            "start": "2022-05-03",
            "end": "2022-05-17",
            "title": "Pass-through: 2,598 in, 2,598 out within 14 days",
            "entities": [chips.dala.pk, chips.vektor.pk],
        },
    )
    event = TimelineEvent.objects.get(kind="written")
    assert response.status_code == 302
    assert (event.precision, event.start, event.end) == ("day", "2022-05-03", "2022-05-17")
    assert set(event.entity_ids) == {chips.dala.pk, chips.vektor.pk}
    # A viewer reads the timeline and writes nothing.
    client.force_login(chips.vera)
    assert client.get(url).status_code == 403


def _page(client, chips, query=""):
    url = reverse("investigations:timeline", kwargs={"case_id": chips.case.public_id})
    return client.get(url + query)


def test_filters(chips, client):
    event_create(
        case=chips.case,
        start="2022-05",
        title="Pass-through",
        entity_ids=[chips.vektor.pk],
        actor=chips.dana,
    )
    client.force_login(chips.vera)
    text = _page(client, chips, f"?entity={chips.vektor.public_id}").text
    assert "Pass-through" in text and "ООО «Вектор Системс»: 1 shipment" in text
    assert "Nordlicht Bauteile GmbH incorporated" not in text
    text = _page(client, chips, "?kind=incorporation").text
    assert "incorporated" in text and "shipment" not in text.split("timeline-results")[-1]
    # A range takes every event that touches it: April 2022 (a month) touches 2022-04-30.
    text = _page(client, chips, "?date_from=2022-04-30&date_to=2022-05-01").text
    assert "ТОО «Дала Микро» incorporated" in text
    assert "Nordlicht Bauteile GmbH incorporated" not in text
    text = _page(client, chips, "?date_from=2022-06-01&date_to=2022-05-01").text
    assert "The end is before the start." in text
    text = _page(client, chips, "?status=claims").text
    assert "No event matches these filters." in text


def test_entity_timeline_on_its_page(chips, client):
    client.force_login(chips.vera)
    response = client.get(
        reverse("investigations:timeline", kwargs={"case_id": chips.case.public_id})
        + f"?of={chips.dala.public_id}",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="entity-timeline",
    )
    assert response.status_code == 200
    assert 'id="entity-timeline"' in response.text
    assert "ТОО «Дала Микро» incorporated" in response.text
    assert "Nordlicht Bauteile GmbH incorporated" not in response.text


def test_csv_export(chips, client):
    client.force_login(chips.vera)
    response = client.get(
        reverse("investigations:timeline-csv", kwargs={"case_id": chips.case.public_id})
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "date",
        "until",
        "precision",
        "kind",
        "title",
        "description",
        "entities",
        "review",
    ]
    assert rows[2][:5] == [
        "2022-04",
        "",
        "month",
        "Incorporations and dissolutions",
        "ТОО «Дала Микро» incorporated",
    ]
    assert rows[2][6] == "ТОО «Дала Микро»"
    assert len(rows) == 6


def test_timeline_page_query_count_is_constant(chips, client, django_assert_num_queries):
    client.force_login(chips.vera)
    # 1 session, 2 user, 3 case with my role, 4 the filter's entities, 5 count of events,
    # 6 the page of events (each with its claim's status), 7 the entities they name
    with django_assert_num_queries(7):
        assert _page(client, chips).status_code == 200
    for n in range(150):
        event_create(
            case=chips.case,
            start=f"{2000 + n % 20}-{1 + n % 12:02d}",
            title=f"Event {n}",
            entity_ids=[chips.dala.pk, chips.timur.pk],
            actor=chips.dana,
        )
    with django_assert_num_queries(7):
        response = _page(client, chips, "?page=2")
    assert response.text.count('class="timeline-event"') == 55
    assert "Page 2 of 2" in response.text


def test_written_event_edit_is_logged_and_derived_ones_are_not(chips):
    event = event_create(case=chips.case, start="2022-05", title="Pass-through", actor=chips.dana)
    event_update(event=event, start="2022-06", title="Pass-through", end="")
    with pytest.raises(DomainError):
        event_update(event=chips.event("Дала Микро» incorporated"), start="2020", title="x")
    link_update(link=chips.directorship, start_date="2022-04-08")
    from investigations.models import ActivityEntry

    kinds = set(
        ActivityEntry.objects.filter(investigation=chips.case).values_list(
            "content_type__model", flat=True
        )
    )
    assert "timelineevent" in kinds
    derived = ActivityEntry.objects.filter(
        content_type__model="timelineevent",
        object_id__in=[
            str(pk)
            for pk in TimelineEvent.objects.exclude(kind="written").values_list("pk", flat=True)
        ],
    )
    assert not derived.exists()
