"""Search understands names: scripts, legal forms, spellings; and never leaks other cases."""

import pytest
from django.urls import reverse

from entities.search import search_entities
from entities.services import Scope, entity_create
from investigations import access
from tests.factories import make_case


def _names(hits):
    return [h.entity.name for h in hits]


@pytest.fixture
def names(case, dataset):
    scope = Scope(investigation=case)
    entity_create(scope=scope, name="Aspan Arba LLP")
    entity_create(scope=scope, name="ООО «Скай Механикс»")
    entity_create(scope=scope, name="Vogt Elektronik GmbH")
    entity_create(
        scope=Scope(dataset=dataset),
        name="АО «Казах Чип Трейд»",
        aliases=["Kazakh Chip Trade JSC", "Kazakh Chip Trading"],
    )
    entity_create(scope=Scope(dataset=dataset), name="Unrelated Bakery Ltd")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ТОО «Аспан Арба»", "Aspan Arba LLP"),
        ("aspan arba", "Aspan Arba LLP"),
        ("Sky Mechanics", "ООО «Скай Механикс»"),
        ("Скай Механикс ООО", "ООО «Скай Механикс»"),
        ("Казах Чип Трейд", "АО «Казах Чип Трейд»"),
        ("kazakh chip trade", "АО «Казах Чип Трейд»"),
        ("Vogt", "Vogt Elektronik GmbH"),
    ],
)
def test_finds_names_across_scripts_and_legal_forms(names, alice, query, expected):
    hits = search_entities(user=alice, query=query)
    assert hits, query
    assert _names(hits)[0] == expected


def test_unrelated_names_do_not_match(names, alice):
    assert "Unrelated Bakery Ltd" not in _names(search_entities(user=alice, query="Aspan Arba"))


def test_never_returns_entities_of_other_case_files(names, alice, charlie):
    secret = make_case(owner=charlie, title="Charlie's")
    entity_create(scope=Scope(investigation=secret), name="Aspan Arba Secret Holding")
    assert "Aspan Arba Secret Holding" not in _names(search_entities(user=alice, query="aspan"))
    charlie_hits = _names(search_entities(user=charlie, query="aspan arba"))
    assert "Aspan Arba Secret Holding" in charlie_hits
    assert "Aspan Arba LLP" not in charlie_hits  # alice's case, not charlie's
    # Dataset entities are shared with everyone.
    assert "АО «Казах Чип Трейд»" in _names(search_entities(user=charlie, query="Kazakh chip"))


def test_search_page_links_into_the_case_and_the_dataset(names, case, alice_client):
    text = alice_client.get(reverse("search"), {"q": "Казах Чип"}).text
    assert "part of the name" in text  # why it matched, in a few words
    assert "Kazakh" in text or "Казах" in text
    assert "/datasets/" in text
    text = alice_client.get(reverse("search"), {"q": "aspan"}).text
    assert f"/cases/{case.public_id}/entities/" in text


def test_search_page_query_count_does_not_grow(
    names, case, alice, alice_client, django_assert_max_num_queries
):
    scope = Scope(investigation=case)
    for n in range(15):
        entity_create(scope=scope, name=f"Aspan Arba Branch {n}")
    # session, user, visible case ids, typo corrections of the words, candidates by key with
    # their names, entities in bulk, case files, document pages and snapshots matching the
    # text: 9
    with django_assert_max_num_queries(9):
        alice_client.get(reverse("search"), {"q": "aspan arba"})


# --- Every way a document writes a name, on names shaped like the story's ---------------------


@pytest.fixture
def story(case, dataset):
    """The seed story's names: Kazakh, Russian and German companies and people."""
    in_case = Scope(investigation=case)
    shared = Scope(dataset=dataset)
    return {
        "dala": entity_create(scope=in_case, name="ТОО «Дала Микро»", countries=["KZ"]),
        "qazaq": entity_create(scope=shared, name="Qazaq Chip Trade LLP", countries=["KZ"]),
        "petrov": entity_create(scope=in_case, name="Петров Иван Сергеевич", schema="Person"),
        "shcheglova": entity_create(scope=shared, name="Iuliia Shcheglova", schema="Person"),
        "mueller": entity_create(scope=shared, name="Müller & Söhne GmbH", countries=["DE"]),
        "railway": entity_create(scope=shared, name="АҚ «Қазақстан Темір Жолы»"),
        "ergali": entity_create(scope=shared, name="Ерғалиев Нұрлан Серікұлы", schema="Person"),
        "decoy": entity_create(scope=shared, name="Dala Agro Holding"),
    }


@pytest.mark.parametrize(
    ("query", "expected", "why"),
    [
        # Legal forms in either script, anywhere, short or spelled out; quotes of every kind.
        ("ТОО «Дала Микро»", "dala", "same name"),
        ("Dala Mikro LLP", "dala", "transliteration"),
        ("ЖШС «Дала Микро»", "dala", "same name"),
        ("Дала Микро жауапкершілігі шектеулі серіктестігі", "dala", "same name"),
        ("„Dala Mikro“ TOO", "dala", "transliteration"),
        ("Микро Дала", "dala", "same name"),
        # One letter wrong, one missing, two swapped.
        ("Dala Mikri", "dala", "typo"),
        ("Dala Mkro", "dala", "typo"),
        ("Dala Mirko", "dala", "typo"),
        # Kazakh and Russian spellings; Kazakh Latin of 2021, 2018 and 2017; passports.
        ("Казах Чип Трейд", "qazaq", "sounds alike"),
        ("Kazakh Chip Trade", "qazaq", "sounds alike"),
        ("Qazaqstan Temir Joly", "railway", "transliteration"),
        ("Kazakstan Temir Zholy", "railway", "transliteration"),
        ("Ergaliev Nurlan Serikuly", "ergali", "transliteration"),
        ("Erğaliev Nūrlan Serıkūly", "ergali", "transliteration"),
        ("Erg'aliev Nurlan Serikuly", "ergali", "transliteration"),
        # ICAO 9303 (passports), BGN/PCGN, ISO 9, Cyrillic.
        ("Юлия Щеглова", "shcheglova", "transliteration"),
        ("Yuliya Shcheglova", "shcheglova", "transliteration"),
        ("Ûliâ Ŝeglova", "shcheglova", "transliteration"),
        # Initials, name order, patronymic absent.
        ("Петров И.С.", "petrov", "initials"),
        ("I. S. Petrov", "petrov", "initials"),
        ("Petrov I.", "petrov", "initials"),
        ("Ivan Sergeevich Petrov", "petrov", "transliteration"),
        ("Иван Петров", "petrov", "part of the name"),
        # & / and / und / и, umlauts written out, the Russian spelling.
        ("Mueller und Soehne", "mueller", "transliteration"),
        ("Müller and Söhne", "mueller", "same name"),
        ("Мюллер и Зёне", "mueller", "sounds alike"),
    ],
)
def test_finds_a_name_however_the_document_wrote_it(story, alice, query, expected, why):
    hits = search_entities(user=alice, query=query)
    assert hits, query
    assert hits[0].entity == story[expected], [(h.entity.name, h.why) for h in hits]
    assert hits[0].why == why


def test_an_identifier_value_finds_its_entity(case, alice, charlie, dataset):
    kz = entity_create(
        scope=Scope(dataset=dataset),
        name="ТОО «Дала Микро»",
        identifiers=[("kz_bin", "940140000385")],
    )
    secret = make_case(owner=charlie, title="Charlie's")
    entity_create(
        scope=Scope(investigation=secret),
        name="Secret Holding",
        identifiers=[("ru_inn", "7707083893")],
    )
    [hit] = search_entities(user=alice, query="9401 4000 0385")
    assert (hit.entity, hit.why) == (kz, "same identifier")
    assert search_entities(user=alice, query="7707083893") == []
    assert [h.entity.name for h in search_entities(user=charlie, query="7707083893")] == [
        "Secret Holding"
    ]


def test_keys_and_corrections_of_other_case_files_stay_invisible(case, alice, charlie):
    """The case filter holds for every kind of key and for typo correction."""
    secret = make_case(owner=charlie, title="Charlie's")
    entity_create(scope=Scope(investigation=secret), name="Петров Иван Сергеевич", schema="Person")
    entity_create(scope=Scope(investigation=secret), name="Zhyrgalbek Qazaq Trade")
    for query in (
        "Петров Иван Сергеевич",  # NAME
        "Ivan Petrov",  # PART
        "Петров И.С.",  # INITIALS
        "Petroff Ivan Sergeyevitch",  # PHONETIC
        "Petrov",  # TOKEN
        "Zhyrgalbek",  # TOKEN
        "Zhyrgalbel Qazaq Trade",  # a typo only charlie's words could correct
    ):
        assert search_entities(user=alice, query=query) == [], query
    assert search_entities(user=charlie, query="Zhyrgalbel Qazaq Trade")
    # The word list is scoped too: charlie's words correct charlie's typos only.
    from django.db import connection

    from entities.namematch import parse_query
    from entities.search import _correct

    for user, expected in ((alice, {}), (charlie, {"zhirgalbel": ["zhirgalbek"]})):
        query = parse_query("Zhyrgalbel")
        cases = list(access.visible_investigations(user).values_list("pk", flat=True))
        with connection.cursor() as cursor:
            _correct(cursor, query, cases)
        assert query.corrections == expected
