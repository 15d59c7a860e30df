"""Red flags: each pattern of the story is found, and its near misses are not."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from entities.analysis.flags import service
from entities.analysis.flags.base import FlagConfig, FlagScope, scope_tables
from entities.analysis.models import FlagHit, FlagRun
from entities.models import Dataset, LinkKind, Schema
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from investigations.jobs import JobStatus


def _company(scope, name, country, start="", **kw):
    return entity_create(scope=scope, name=name, countries=[country], start_date=start, **kw)


def _person(scope, name, nationality=(), **kw):
    return entity_create(
        scope=scope, name=name, schema=Schema.PERSON, nationality=list(nationality), **kw
    )


def _ship(scope, date, exporter, importer, quantity=2598, hs="854231", **kw):
    kw.setdefault("value", 120_000)
    kw.setdefault("currency", "EUR")
    return shipment_create(
        scope=scope,
        date=date,
        exporter=exporter,
        importer=importer,
        hs_code=hs,
        quantity=quantity,
        unit="pcs",
        **kw,
    )


@pytest.fixture
def story(case):
    """The seed story, small: a German firm owned by a couple ships chips to a Kazakh firm
    founded in April 2022, owned and directed by their son (a Russian citizen), which ships the
    same 2,598 chips to Moscow two weeks later."""
    s = Scope(investigation=case)
    vogt = _company(s, "Elektronik Vogt GmbH", "DE", "1998")
    dala = _company(s, "ТОО «Дала Микро»", "KZ", "2022-04-12")
    vektor = _company(s, "ООО «Вектор Системс»", "RU", "2015")
    hans = _person(s, "Hans Vogt", ["DE"])
    greta = _person(s, "Greta Vogt", ["DE"])
    timur = _person(s, "Timur Vogt", ["RU", "DE"])
    owners = [
        link_create(scope=s, kind=LinkKind.OWNERSHIP, source=hans, target=vogt, percentage=50),
        link_create(scope=s, kind=LinkKind.OWNERSHIP, source=greta, target=vogt, percentage=50),
        link_create(scope=s, kind=LinkKind.OWNERSHIP, source=timur, target=dala, percentage=100),
        link_create(scope=s, kind=LinkKind.DIRECTORSHIP, source=timur, target=dala),
    ]
    family = link_create(scope=s, kind=LinkKind.FAMILY, source=timur, target=hans, role="son")
    inbound = _ship(s, "2022-05-02", vogt, dala)
    outbound = _ship(s, "2022-05-16", dala, vektor, value=150_000, currency="USD")
    return {
        "vogt": vogt,
        "dala": dala,
        "vektor": vektor,
        "timur": timur,
        "hans": hans,
        "owners": owners,
        "family": family,
        "in": inbound,
        "out": outbound,
    }


def _hits(*, case=None, dataset=None, **overrides) -> list:
    scope = FlagScope(investigation=case, dataset=dataset)
    config = FlagConfig.from_settings(**overrides)
    with scope_tables(scope):
        return [h for d in service.DETECTORS for h in d.detect(config, scope)]


def _by(hits, detector):
    return [h for h in hits if h.detector == detector]


def test_the_story_raises_its_three_flags(story, case):
    hits = _hits(case=case)
    (founded,) = _by(hits, "newly_founded")
    assert founded.entity_ids[0] == story["dala"].pk and story["timur"].pk in founded.entity_ids
    assert founded.score == 1.0
    assert "incorporated 2022-04-12, after 2022-02-24" in founded.explanation
    assert "owned by Timur Vogt (RU, DE)" in founded.explanation
    assert founded.shipment_ids == [story["in"].pk, story["out"].pk]
    assert set(founded.link_ids) == {story["owners"][2].pk, story["owners"][3].pk}

    (passed,) = _by(hits, "pass_through")
    assert "2,598 pcs in, 2,598 out within 14 day(s)" in passed.explanation
    assert passed.shipment_ids == [story["in"].pk, story["out"].pk]
    assert passed.entity_ids[0] == story["dala"].pk and passed.score == 1.0

    (trip,) = _by(hits, "round_trip")
    assert trip.facts["pair"] == "ab" and trip.facts["control"] == "family"
    assert "Elektronik Vogt GmbH → ТОО «Дала Микро» → ООО «Вектор Системс»" in trip.explanation
    assert "who are family" in trip.explanation
    assert story["family"].pk in trip.link_ids
    assert set(trip.shipment_ids) == {story["in"].pk, story["out"].pk}
    assert not _by(hits, "sanctions") and not _by(hits, "trade_surge")


def test_a_company_founded_in_2019_is_not_newly_founded(story, case):
    from entities.services import entity_update

    entity_update(entity=story["dala"], case=case, start_date="2019-06-01")
    assert not _by(_hits(case=case), "newly_founded")


def test_a_partial_date_that_may_be_after_the_cutoff_is_flagged_less_surely(story, case):
    from entities.services import entity_update

    entity_update(entity=story["dala"], case=case, start_date="2022")
    (hit,) = _by(_hits(case=case), "newly_founded")
    assert hit.score == 0.6 and "not precise enough" in hit.explanation
    entity_update(entity=story["dala"], case=case, start_date="2022-01")
    assert not _by(_hits(case=case), "newly_founded")


def test_not_newly_founded_without_a_russian_owner_or_sensitive_goods(story, case):
    assert not _by(_hits(case=case, owner_nationalities=["BY"]), "newly_founded")
    assert not _by(_hits(case=case, sensitive_hs=["88"]), "newly_founded")
    assert not _by(_hits(case=case, intermediary_countries=["AM"]), "newly_founded")


def test_2598_in_and_1900_out_is_not_a_pass_through(case):
    s = Scope(investigation=case)
    a, b, c = (_company(s, n, "KZ") for n in ("A", "B", "C"))
    _ship(s, "2022-05-02", a, b, quantity=2598, value=100)
    _ship(s, "2022-05-10", b, c, quantity=1900, value=200)
    assert not _by(_hits(case=case), "pass_through")
    # Within the tolerance (1%), and on time, it is one; 31 days later it is not.
    _ship(s, "2022-05-12", b, c, quantity=2590, value=300)
    (hit,) = _by(_hits(case=case), "pass_through")
    assert hit.score == 0.8 and "2,598 pcs in, 2,590 out within 10 day(s)" in hit.explanation
    assert not _by(_hits(case=case, pass_through_days=9), "pass_through")


def test_another_heading_is_not_a_pass_through(case):
    s = Scope(investigation=case)
    a, b, c = (_company(s, n, "KZ") for n in ("A", "B", "C"))
    _ship(s, "2022-05-02", a, b, hs="854231")
    _ship(s, "2022-05-10", b, c, hs="880699")
    assert not _by(_hits(case=case), "pass_through")


def _round_trip(case, owner_b, owner_c):
    s = Scope(investigation=case)
    a, b, c = _company(s, "A GmbH", "DE"), _company(s, "B LLP", "KZ"), _company(s, "C OOO", "RU")
    link_create(scope=s, kind=LinkKind.OWNERSHIP, source=owner_b, target=b)
    link_create(scope=s, kind=LinkKind.DIRECTORSHIP, source=owner_c, target=c)
    _ship(s, "2022-03-01", a, b, quantity=10)
    _ship(s, "2022-09-01", b, c, quantity=7)
    return _by(_hits(case=case), "round_trip")


def test_round_trip_through_one_owner(case):
    s = Scope(investigation=case)
    ivan = _person(s, "Ivan Petrov", ["RU"])
    (hit,) = _round_trip(case, ivan, ivan)
    assert hit.facts == {
        "heading": "8542",
        "pair": "bc",
        "control": "same",
        "chains": 1,
        "first_in": "2022-03-01",
        "last_out": "2022-09-01",
    }
    assert "B LLP and C OOO share Ivan Petrov as owner or director" in hit.explanation
    assert hit.score == 1.0


def test_round_trip_whose_owners_share_an_identifier(case):
    # The case's Ivan Petrov and the registry's Иван Петров: one INN, one person.
    s = Scope(investigation=case)
    registry = Scope(dataset=Dataset.objects.create(name="RU registry"))
    one = _person(s, "Ivan Petrov", ["RU"], identifiers=[("ru_inn", "500100732259")])
    other = _person(registry, "Иван Петров", ["RU"], identifiers=[("ru_inn", "500100732259")])
    (hit,) = _round_trip(case, one, other)
    assert hit.facts["control"] == "identifier" and hit.score == 0.9


def test_unrelated_namesakes_with_different_identifiers_are_no_round_trip(case):
    s = Scope(investigation=case)
    one = _person(s, "Ivan Petrov", ["RU"], identifiers=[("ru_inn", "500100732259")])
    other = _person(s, "Ivan Petrov", ["RU"], identifiers=[("ru_inn", "772853040270")])
    assert _round_trip(case, one, other) == []


def test_round_trip_through_family_two_hops_away(case):
    s = Scope(investigation=case)
    son, mother, uncle = (_person(s, n) for n in ("Son", "Mother", "Uncle"))
    link_create(scope=s, kind=LinkKind.FAMILY, source=son, target=mother)
    link_create(scope=s, kind=LinkKind.FAMILY, source=uncle, target=mother)
    (hit,) = _round_trip(case, son, uncle)
    assert hit.facts["control"] == "family2" and hit.score == 0.7


def test_trade_surge_of_a_sensitive_chapter(case):
    s = Scope(investigation=case)
    de, kz = _company(s, "DE GmbH", "DE"), _company(s, "KZ LLP", "KZ")
    common = {"origin_country": "DE", "destination_country": "KZ", "currency": "USD"}
    _ship(s, "2021-03-01", de, kz, value=60_000, **common)
    big = _ship(s, "2022-03-01", de, kz, value=100_000, **common)
    small = _ship(s, "2022-04-01", de, kz, value=50_000, **common)
    _ship(s, "2021-03-01", de, kz, hs="880699", value=60_000, **common)
    _ship(s, "2022-03-01", de, kz, hs="880699", value=100_000, **common)  # 1.7x: no
    (hit,) = _by(_hits(case=case), "trade_surge")
    assert "HS chapter 85 into KZ grew 2.5x in 2022" in hit.explanation
    assert hit.shipment_ids == [big.pk, small.pk] and hit.entity_ids == [kz.pk]
    assert not _by(_hits(case=case, surge_min_value=70_000), "trade_surge")


def test_trade_surge_of_a_dataset_reads_its_flow_summary(db):
    dataset = Dataset.objects.create(name="KZ customs")
    s = Scope(dataset=dataset)
    de, kz = _company(s, "DE GmbH", "DE"), _company(s, "KZ LLP", "KZ")
    common = {"destination_country": "KZ", "currency": "USD"}
    _ship(s, "2021-03-01", de, kz, value=35_000_000, **common)
    _ship(s, "2022-03-01", de, kz, value=75_000_000, **common)
    (hit,) = _by(_hits(dataset=dataset), "trade_surge")
    assert (
        "35,000,000 USD in 2021" in hit.explanation and "75,000,000 USD in 2022" in hit.explanation
    )


@pytest.fixture
def sanctions_lists(db):
    topics = Dataset.objects.create(name="OpenSanctions")
    listed = entity_create(
        scope=Scope(dataset=topics),
        name="ООО «Вектор Системс»",
        countries=["RU"],
        identifiers=[("ru_inn", "7707083893")],
        extra={"topics": ["sanction"]},
    )
    eu = Dataset.objects.create(name="EU list", is_sanctions_list=True)
    aspan = entity_create(scope=Scope(dataset=eu), name="Aspan Arba LLP", countries=["KZ"])
    return {"listed": listed, "aspan": aspan}


def test_sanctions_matches_by_identifier_name_and_listing(case, sanctions_lists):
    s = Scope(investigation=case)
    by_id = _company(s, "Vektor Sistems", "RU", identifiers=[("ru_inn", "7707083893")])
    by_name = _company(s, "ТОО «Аспан Арба»", "KZ")
    _company(s, "Aspan Arba GmbH", "DE")  # the same name in another country: no match
    _company(s, "Unrelated LLP", "KZ")
    pin_entity(investigation=case, entity=sanctions_lists["listed"])
    hits = _by(_hits(case=case), "sanctions")
    found = {(h.entity_ids[0], h.entity_ids[-1], h.facts["match"], h.score) for h in hits}
    assert found == {
        (by_id.pk, sanctions_lists["listed"].pk, "identifier", 1.0),
        (sanctions_lists["listed"].pk, sanctions_lists["listed"].pk, "listed", 1.0),
        (by_name.pk, sanctions_lists["aspan"].pk, "name", 0.9),
    }
    text = " ".join(h.explanation for h in hits)
    assert "shares the identifier ru_inn 7707083893" in text and "topics: sanction" in text
    assert "EU list" in text


def test_sanctions_over_a_dataset(sanctions_lists):
    customs = Dataset.objects.create(name="KZ customs")
    importer = _company(Scope(dataset=customs), "TOO Aspan Arba", "KZ")
    (hit,) = _by(_hits(dataset=customs), "sanctions")
    assert hit.entity_ids == [importer.pk, sanctions_lists["aspan"].pk]
    # The list itself, run as a dataset, is not matched against itself.
    assert not _by(_hits(dataset=Dataset.objects.get(name="EU list")), "sanctions")


def test_dataset_scope_finds_pass_through_in_dataset_rows(db):
    dataset = Dataset.objects.create(name="KZ customs")
    s = Scope(dataset=dataset)
    a, b, c = (_company(s, n, "KZ") for n in ("A", "B", "C"))
    _ship(s, "2022-05-02", a, b)
    _ship(s, "2022-05-20", b, c)
    assert len(_by(_hits(dataset=dataset), "pass_through")) == 1


def test_a_case_sees_its_pinned_entities_dataset_shipments(case):
    dataset = Dataset.objects.create(name="KZ customs")
    s = Scope(dataset=dataset)
    a, b, c = (_company(s, n, "KZ") for n in ("A", "B", "C"))
    _ship(s, "2022-05-02", a, b)
    _ship(s, "2022-05-20", b, c)
    assert not _by(_hits(case=case), "pass_through")
    pin_entity(investigation=case, entity=b)
    assert len(_by(_hits(case=case), "pass_through")) == 1


def test_another_cases_rows_are_never_seen(case, charlie):
    from tests.factories import make_case

    other = make_case(owner=charlie, title="Charlie's")
    dataset = Dataset.objects.create(name="KZ customs")
    b = _company(Scope(dataset=dataset), "B", "KZ")
    pin_entity(investigation=case, entity=b)
    pin_entity(investigation=other, entity=b)
    hidden_a = _company(Scope(investigation=other), "Hidden A", "KZ")
    hidden_c = _company(Scope(investigation=other), "Hidden C", "KZ")
    _ship(Scope(investigation=other), "2022-05-02", hidden_a, b)
    _ship(Scope(investigation=other), "2022-05-20", b, hidden_c)
    assert _hits(case=case) == []
    assert len(_by(_hits(case=other), "pass_through")) == 1


def test_run_replaces_hits_and_the_command_prints_them(story, case):
    run = service.flag_run_now(case=case)
    assert run.status == JobStatus.DONE and run.hit_count == 3
    first = set(FlagHit.objects.filter(run=run).values_list("pk", flat=True))
    out = StringIO()
    call_command("red_flags", case.slug, "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["scope"] == {"kind": "case", "name": case.title, "id": str(case.public_id)}
    assert {h["detector"] for h in document["hits"]} == {
        "newly_founded",
        "pass_through",
        "round_trip",
    }
    passed = next(h for h in document["hits"] if h["detector"] == "pass_through")
    assert passed["shipments"] == [str(story["in"].public_id), str(story["out"].public_id)]
    assert passed["entities"][0] == {"id": str(story["dala"].public_id), "name": "ТОО «Дала Микро»"}
    assert document["config"]["founded_after"] == "2022-02-24"
    # A re-run replaced the hits: same count, new rows, one run row.
    assert FlagRun.objects.count() == 1
    now = set(FlagHit.objects.values_list("pk", flat=True))
    assert len(now) == 3 and not now & first

    text = StringIO()
    call_command("red_flags", case.slug, stdout=text)
    assert "Pass-through (score 1.00): ТОО «Дала Микро»" in text.getvalue()


def test_command_refuses_unknown_scopes(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="either a case file"):
        call_command("red_flags")
    with pytest.raises(CommandError, match="No dataset named"):
        call_command("red_flags", "--dataset", "Nope")


def test_flags_tab_lists_hits_with_a_constant_query_count(
    story, case, alice_client, django_assert_num_queries
):
    service.flag_run_now(case=case)
    url = reverse("analysis:flags", kwargs={"case_id": case.public_id})
    # 1 session, 2 user, 3 case with my role, 4 the run, 5 its hits, 6 their entities (with
    # datasets and pin flags), 7 shipments with parties, 8 links with both ends
    with django_assert_num_queries(8):
        response = alice_client.get(url)
    text = response.content.decode()
    assert "Newly founded intermediary" in text and "2,598 pcs in, 2,598 out" in text
    assert "Make it a timeline claim" in text
    s = Scope(investigation=case)
    for n in range(5):
        buyer = _company(s, f"Buyer {n}", "RU")
        _ship(s, f"2022-05-{20 + n}", story["dala"], buyer)
    service.flag_run_now(case=case)
    with django_assert_num_queries(8):
        alice_client.get(url)


def test_a_flag_becomes_a_draft_claim_on_the_timeline_in_one_click(story, case, alice_client):
    from investigations.models import Claim, TimelineEvent

    run = service.flag_run_now(case=case)
    hit = run.hits.get(detector="pass_through")
    url = reverse(
        "analysis:flag-claim", kwargs={"case_id": case.public_id, "hit_id": hit.public_id}
    )
    response = alice_client.post(url)
    claim = Claim.objects.get(investigation=case)
    assert response["Location"] == reverse(
        "investigations:claim", kwargs={"case_id": case.public_id, "claim_uid": claim.public_id}
    )
    assert claim.status == "draft"
    event = claim.target
    assert isinstance(event, TimelineEvent)
    assert "Red flag (pass_through)" in event.description
    assert "2,598" in event.title
    assert event.entity_ids and set(event.entity_ids) <= set(hit.entity_ids)
    page = alice_client.get(response["Location"]).content.decode()
    assert "draft claim on the timeline" in page


def test_flag_to_claim_goes_through_the_timeline_hook(story, case, alice):
    from entities.timeline_sources import flag_to_claim

    assert flag_to_claim in service.CLAIM_HOOKS
    run = service.flag_run_now(case=case)
    claim = service.flag_to_claim(hit=run.hits.first(), case=case, actor=alice)
    assert claim.investigation_id == case.pk and claim.status == "draft"


def test_requesting_a_run_queues_it_once(story, case, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        run = service.flag_run_request(case=case, actor=alice)
        again = service.flag_run_request(case=case, actor=alice)
    assert run.pk == again.pk and run.status == JobStatus.PENDING and len(sent) == 1


def test_staff_mark_a_sanctions_list_others_get_404(db, client, alice, alice_client):
    from tests.factories import UserFactory

    dataset = Dataset.objects.create(name="Some list")
    url = reverse("datasets:sanctions-list", kwargs={"dataset_id": dataset.public_id})
    assert alice_client.post(url, {"is_sanctions_list": "on"}).status_code == 404
    staff = UserFactory(username="erlan", is_staff=True)
    client.force_login(staff)
    client.post(url, {"is_sanctions_list": "on"})
    dataset.refresh_from_db()
    assert dataset.is_sanctions_list
    page = client.get(reverse("datasets:detail", kwargs={"dataset_id": dataset.public_id}))
    assert "sanctions list" in page.content.decode()
    client.post(url, {})
    dataset.refresh_from_db()
    assert not dataset.is_sanctions_list


def test_a_running_flag_run_polls_itself_with_a_fragment(story, case, alice, alice_client):
    url = reverse("analysis:flags", kwargs={"case_id": case.public_id})
    assert "No red flags looked for yet" in alice_client.get(url).content.decode()
    run = service.flag_run_request(case=case, actor=alice)
    FlagRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, current="Pass-through", detectors_done=2, detectors_total=5
    )
    page = alice_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Pass-through (2 of 5)" in page
    fragment = alice_client.get(url, headers={"HX-Request": "true", "HX-Target": "flag-run"})
    text = fragment.content.decode()
    assert text.lstrip().startswith('<div id="flag-run"') and "<html" not in text


def test_dataset_flags_are_shared_and_run_by_staff(db, client, alice_client):
    from tests.factories import UserFactory

    dataset = Dataset.objects.create(name="KZ customs")
    s = Scope(dataset=dataset)
    a, b, c = (_company(s, n, "KZ") for n in ("A", "B", "C"))
    _ship(s, "2022-05-02", a, b)
    _ship(s, "2022-05-20", b, c)
    url = reverse("datasets:flags", kwargs={"dataset_id": dataset.public_id})
    run_url = reverse("datasets:flags-run", kwargs={"dataset_id": dataset.public_id})
    assert alice_client.post(run_url).status_code == 404  # not staff
    assert "Look for red flags" not in alice_client.get(url).content.decode()
    client.force_login(UserFactory(username="erlan", is_staff=True))
    assert client.post(run_url).status_code == 302
    assert FlagRun.objects.get(dataset=dataset).status == JobStatus.PENDING
    service.flag_run_now(dataset=dataset)
    assert "Pass-through" in alice_client.get(url).content.decode()


def test_an_entity_of_another_case_never_joins_two_owners(case, charlie):
    """Two owners with different INNs are not one person because a third entity, in another
    case file, carries both numbers."""
    from tests.factories import make_case

    other = make_case(owner=charlie, title="Charlie's")
    entity_create(
        scope=Scope(investigation=other),
        name="Both",
        identifiers=[("ru_inn", "500100732259"), ("ru_inn", "772853040270")],
    )
    s = Scope(investigation=case)
    one = _person(s, "Ivan Petrov", ["RU"], identifiers=[("ru_inn", "500100732259")])
    two = _person(s, "Pyotr Ivanov", ["RU"], identifiers=[("ru_inn", "772853040270")])
    assert _round_trip(case, one, two) == []
