import pytest

from entities.names import name_forms, normalize, phonetic_key


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
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_cyrillic_and_latin_spellings_share_a_phonetic_key():
    assert name_forms("ООО «Скай Механикс»")[1] == name_forms("Sky Mechanics")[1]
    assert name_forms("АО Казах Чип Трейд")[1] == name_forms("Kazakh Chip Trade LLP")[1]


def test_phonetic_key_ignores_word_order():
    assert phonetic_key("ivanov ivan") == phonetic_key("ivan ivanov")
