"""Names as documents write them: normalized forms, match keys, and the scores of namematch."""

import pytest

from entities.namematch import Reason, parse_query, score_name
from entities.names import NameKind, match_key, name_forms, name_keys, normalize, skeleton


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ТОО «Аспан Арба»", "aspan arba"),
        ("Aspan Arba LLP", "aspan arba"),
        ("TOO Aspan Arba", "aspan arba"),
        ("Товарищество с ограниченной ответственностью «Аспан Арба»", "aspan arba"),
        ("ООО «Скай Механикс»", "skay mekhaniks"),
        ("OOO Sky Mechanics", "sky mechanics"),
        ("Sky Mechanics GmbH", "sky mechanics"),
        ("АО «Казах Чип Трейд»", "kazakh chip treyd"),
        ("Müller Elektronik GmbH", "muller elektronik"),
        ("Иванов Иван Иванович", "ivanov ivan ivanovich"),
        ("Қазақ Өнім", "qazaq onim"),
        ("ИП Щукин", "shchukin"),
        ("ООО", "ooo"),
        ("", ""),
        # Legal forms anywhere, Kazakh ones too; every kind of quote; "&" / "und" / "и".
        ("ЖШС «Дала Микро»", "dala mikro"),
        ("«Дала Микро» жауапкершілігі шектеулі серіктестігі", "dala mikro"),
        ("АҚ “Qazaq Chip Trade”", "qazaq chip trade"),
        ("„Dala Mikro“ L.L.P.", "dala mikro"),
        ("Müller & Söhne GmbH", "muller sohne"),
        ("Mueller und Soehne Gesellschaft mit beschränkter Haftung", "mueller soehne"),
        ("Мюллер и Зёне", "myuller zene"),
        # Initials stay words ("И." is not "and"; "A.S." after a surname is no Czech a.s.).
        ("Петров И.С.", "petrov i s"),
        ("A. S. Kuznetsova", "a s kuznetsova"),
        ("Kuznetsova A.S.", "kuznetsova a s"),
        ("Dala Mikro S.A.", "dala mikro"),
        # Kazakh Latin of 2017: an apostrophe marks a letter.
        ("S'olpan G'alym", "sholpan ghalym"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def _shares(a: str, b: str, kind: NameKind, *, person: bool = False) -> bool:
    keys_a = {k for kd, k in name_keys(a, person=person) if kd == kind}
    keys_b = {k for kd, k in name_keys(b, person=person) if kd == kind}
    return bool(keys_a & keys_b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Passport (ICAO 9303), BGN/PCGN and ISO 9 / GOST 7.79 of one Russian name.
        ("Юлия Щеглова", "Iuliia Shcheglova"),
        ("Юлия Щеглова", "Yuliya Shcheglova"),
        ("Юлия Щеглова", "Ûliâ Ŝeglova"),
        ("Iuliia Shcheglova", "Yuliya Shcheglova"),
        # Kazakh Latin of 2021 (Ş, Ğ, Q, J for Ж), of 2018 (acutes), of 2017 (apostrophes),
        # BGN, and passports (Қ as K).
        ("Ғалым Шолпан", "Ğalym Şolpan"),
        ("Ғалым Шолпан", "Ǵalym Sholpan"),
        ("Ғалым Шолпан", "G'alym S'olpan"),
        ("Қазақстан Темір Жолы", "Qazaqstan Temir Joly"),
        ("Қазақстан Темір Жолы", "Kazakstan Temir Zholy"),
        ("Сұңқар Маңғыстау", "Sunkar Mangystau"),  # Ң is "ng" in BGN, "n" in passports
        # Legal forms in either script, short or spelled out, before or after.
        ("ТОО «Дала Микро»", "Dala Mikro LLP"),
        ("ТОО «Дала Микро»", "ЖШС «Дала Микро»"),
        ("Дала Микро ТОО", "Товарищество с ограниченной ответственностью «Дала Микро»"),
        ("Müller & Söhne GmbH", "Mueller und Soehne"),
        # Name order.
        ("Петров Иван Сергеевич", "Ivan Sergeevich Petrov"),
        # First letters that transliterations disagree on: Kh / H, Ю / Yu / Iu / Ju.
        ("Хоффманн", "Hoffmann"),
        ("Юлия", "Julia"),
    ],
)
def test_spellings_share_a_name_key(a, b):
    assert _shares(a, b, NameKind.NAME)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Qazaq Chip Trade", "Казах Чип Трейд"),  # Kazakh vs Russian spelling
        ("Vogt Elektronik Handel GmbH", "Фогт Электроник Хандель"),
        ("Sky Mechanics", "ООО «Скай Механикс»"),
        ("Müller & Söhne GmbH", "Мюллер и Зёне"),
        ("Циммерманн", "Zimmermann"),
    ],
)
def test_names_that_sound_alike_share_a_phonetic_key(a, b):
    assert _shares(a, b, NameKind.PHONETIC)


def test_initials_and_a_missing_patronymic_share_keys():
    full = "Петров Иван Сергеевич"
    assert _shares(full, "Петров И.С.", NameKind.INITIALS, person=True)
    assert _shares(full, "I. S. Petrov", NameKind.INITIALS, person=True)
    assert _shares(full, "Petrov I.", NameKind.INITIALS, person=True)
    parts = {k for kd, k in name_keys(full, person=True) if kd == NameKind.PART}
    assert {k for kd, k in name_keys("Petrov Ivan") if kd == NameKind.NAME} <= parts


def test_match_key_is_the_first_key_and_ignores_form_quotes_and_script():
    norm, keys = name_forms("ТОО «Казах Чип Трейд»")
    assert norm == "kazakh chip treyd"
    assert keys.startswith(f'{{"{NameKind.ORDERED}{match_key("Kazakh Chip Treyd LLP")}",')
    assert match_key("„Kazakh Chip Treyd“ ЖШС") == match_key("ТОО «Казах Чип Трейд»")
    # Another order or a typo is not the same name: the importer never merges on them.
    assert match_key("Treyd Kazakh Chip TOO") != match_key("ТОО «Казах Чип Трейд»")
    assert match_key("Kazakh Chip Treid") != match_key("Kazakh Chip Trade")


def test_skeleton_forgets_what_transliterations_disagree_on():
    assert skeleton("iuliia") == skeleton("yuliya") == skeleton("julia")
    assert skeleton("qazaq") == skeleton("kazak")
    assert skeleton("mueller") == skeleton("muller")
    assert skeleton("shukin") != skeleton("sukin")  # sounds differ: kept apart


@pytest.mark.parametrize(
    ("query", "stored", "reason"),
    [
        ("ТОО «Дала Микро»", "Дала Микро", Reason.SAME),
        ("Микро Дала", "ТОО «Дала Микро»", Reason.SAME),
        ("Iuliia Shcheglova", "Юлия Щеглова", Reason.TRANSLITERATION),
        ("Петров И.С.", "Петров Иван Сергеевич", Reason.INITIALS),
        ("Petrov Ivan", "Петров Иван Сергеевич", Reason.PART),
        ("Qazaq Chip Trade", "Казах Чип Трейд", Reason.SOUNDS),
        ("Mueller und Soehne", "Müller & Söhne GmbH", Reason.TRANSLITERATION),
        ("Dala Mirko", "Дала Микро", Reason.TYPO),  # two letters swapped
        ("Dala Mikr", "Дала Микро", Reason.TYPO),  # one missing
        ("Dala Mikri", "Дала Микро", Reason.TYPO),  # one wrong
    ],
)
def test_score_says_why(query, stored, reason):
    score, why = score_name(parse_query(query), normalize(stored))
    assert why == reason
    assert score >= 0.7


def test_unrelated_names_score_low():
    score, _ = score_name(parse_query("Qazaq Chip Trade"), normalize("Vogt Elektronik Handel"))
    assert score < 0.5
