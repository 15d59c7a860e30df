"""Deterministic company and person names in Cyrillic and Latin, with their query variants.

Entity i of a seed is always the same (random.Random seeded with "seed:i"), so the search
benchmark can rebuild any entity's name and its variants without storing them.

Three kinds of company: Russian/Kazakh names in Cyrillic ("ТОО «Аспан Арба Құрылыс»"), the
same stems in passport transliteration ("Aspan Arba Kurylys LLP"), and German/English names
("Vogt Elektronik Handel GmbH"), each of which has a Cyrillic rendering as a Russian writer
would spell it ("Фогт Электроник Хандель"). People: "Surname Given Patronymic" in Cyrillic
(Russian and Kazakh patronymics) or in passport Latin, and Western "Given Surname".

Passport transliteration (ICAO 9303: й -> i, ю -> iu, х -> kh, қ -> k) deliberately differs
from the BGN/PCGN rules of entities.names, as real documents do.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass

# Bump when the names change: the search benchmark then regenerates its dataset.
VERSION = 2

# --- Stems ---------------------------------------------------------------------------------

CYR_STEMS = """
Аспан Арба Алтын Дала Жол Құрылыс Мұнай Газ Темір Тау Көк Ақжол Сауда Бірлік Береке Асыл Нұр
Жұлдыз Шапағат Қазына Самұрық Байтерек Алатау Сарыарқа Ертіс Есіл Тараз Отырар Тұран Шығыс
Батыс Орда Ұлытау Қыран Сұңқар Бүркіт Арман Мереке Достық Ынтымақ Жетісу Балқаш Каспий Атырау
Маңғыстау Көкше Іле Шымкент Тобыл Қарқаралы Әлем Болашақ Дәулет Өркен Сенім Таңшолпан
Север Юг Восток Запад Сибирь Урал Волга Енисей Альянс Прогресс Технологии Строй Монтаж Транс
Логистик Импорт Экспорт Снаб Комплект Торг Промышленные Системы Электроника Механикс Скай
Вектор Орион Меридиан Гранит Кристалл Феникс Атлант Титан Полюс Звезда Рассвет Заря Радуга
Ромашка Кедр Дубрава Нева Ладога Балтика Центр Регион Инвест Капитал Финанс Групп Холдинг
Партнёр Сервис Ресурс Энерго Нефть Металл Сталь Агро Фарм Техно Микро Гео Эко Авто Авиа
Морской Северный Южный Восточный Западный Дельта Сигма Омега Альфа Гамма Электрон Приборы
Компонент Поставка Развитие Перспектива Содружество Импульс Горизонт Спектр Магистраль
""".split()  # noqa: SIM905

# German and English stems and how a Russian writer spells them.
WEST_STEMS = [
    tuple(pair.split("="))
    for pair in """
Handel=Хандель Technik=Техник Bau=Бау Vogt=Фогт Elektronik=Электроник Maschinen=Машинен
Logistik=Логистик Nord=Норд Süd=Зюд Ost=Ост West=Вест Rhein=Райн Elbe=Эльбе Bayern=Байерн
Hansa=Ханза Global=Глобал Trade=Трейд Trading=Трейдинг Sky=Скай Mechanics=Механикс Star=Стар
Bridge=Бридж Silk=Силк Road=Роуд Eurasia=Евразия Continental=Континентал Pacific=Пасифик
Atlantic=Атлантик Summit=Саммит Vertex=Вертекс Nexus=Нексус Apex=Апекс Quantum=Квантум
Fusion=Фьюжн Dynamic=Дайнемик Solutions=Солюшнс Systems=Системс Industries=Индастриз
Components=Компонентс Supply=Саплай Partners=Партнерс Capital=Кэпитал Holdings=Холдингс
Resources=Ресорсез Energy=Энерджи Petro=Петро Steel=Стил Metal=Метал Chem=Кем Pharma=Фарма
Medical=Медикал Optics=Оптикс Micro=Микро Semi=Семи Chip=Чип Silicon=Силикон Digital=Диджитал
Data=Дата Net=Нет Link=Линк Line=Лайн Cargo=Карго Freight=Фрейт Express=Экспресс
Transit=Транзит Ocean=Оушен Harbor=Харбор Port=Порт Gate=Гейт Tower=Тауэр Crown=Краун
Royal=Роял Golden=Голден Silver=Сильвер Iron=Айрон Stone=Стоун River=Ривер Lake=Лейк
Forest=Форест Green=Грин Blue=Блю White=Уайт Black=Блэк Eagle=Игл Falcon=Фалькон Lion=Лайон
Wolf=Вольф Adler=Адлер Stern=Штерн Licht=Лихт Kraft=Крафт Werk=Верк Werke=Верке Anlagen=Анлаген
Antriebe=Антрибе Feinmechanik=Файнмеханик Präzision=Прецизион Müller=Мюллер Schmidt=Шмидт
Schneider=Шнайдер Fischer=Фишер Weber=Вебер Meyer=Майер Wagner=Вагнер Becker=Беккер
Hoffmann=Хоффманн Schulz=Шульц Koch=Кох Richter=Рихтер Klein=Кляйн Neumann=Нойманн
Schwarz=Шварц Zimmermann=Циммерманн Braun=Браун Krüger=Крюгер Hartmann=Хартманн Lange=Ланге
Werner=Вернер Krause=Краузе Lehmann=Леманн Köhler=Кёлер Vision=Вижн Prime=Прайм Smart=Смарт
Tech=Тех Tronic=Троник Electro=Электро Power=Пауэр Motion=Моушн Drive=Драйв Control=Контрол
Sensor=Сенсор Robotics=Роботикс Automation=Автомейшн Instruments=Инструментс
""".split()  # noqa: SIM905
]

# --- People --------------------------------------------------------------------------------

RU_SURNAMES = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв
Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов
Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов
Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов
Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев
Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников
Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин
Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков
Горбунов Анисимов Еремеев Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров
Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронов Аксёнов Софронов Мальцев
Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Дёмин Хохлов
Жданов Носов Щукин Островский Вишневский Полянский Заречный Белинский
""".split()  # noqa: SIM905
KZ_SURNAMES = """
Назарбаев Токаев Сулейменов Жумабаев Абдрахманов Ахметов Касымов Искаков Байжанов Омаров
Нурпеисов Мусин Ергалиев Кенжебаев Сагинтаев Мамин Масимов Тасмагамбетов Есимов Исекешев
Жаксыбеков Утемисов Бекмуханов Рахимов Джаксыбеков Кульбаев Айтмухаметов Смаилов Бектуров
Досмухамедов Шайхутдинов Алимжанов Байгабылов Мырзахметов Тулегенов Ермеков Сарсенбаев
Жолдасбеков Ибраимов Оспанов Мухамеджанов Кожахметов Шаяхметов Абылкасымов Нуржанов Темирбеков
""".split()  # noqa: SIM905
RU_MALE = """
Александр Алексей Андрей Антон Аркадий Артём Борис Вадим Валентин Валерий Василий Виктор Виталий
Владимир Владислав Вячеслав Геннадий Георгий Григорий Денис Дмитрий Евгений Егор Иван Игорь
Кирилл Константин Леонид Максим Михаил Николай Олег Павел Пётр Роман Руслан Сергей Станислав
Степан Тимур Фёдор Юрий Ярослав Матвей Арсений Глеб Семён Тимофей Эдуард
""".split()  # noqa: SIM905
RU_FEMALE = """
Александра Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Евгения
Екатерина Елена Елизавета Жанна Зинаида Инна Ирина Карина Кристина Ксения Лариса Лидия Любовь
Людмила Маргарита Марина Мария Надежда Наталья Нина Оксана Ольга Полина Светлана София Тамара
Татьяна Юлия Яна
""".split()  # noqa: SIM905
KZ_MALE = """
Нұрлан Ерлан Данияр Бауыржан Қайрат Ержан Мұрат Арман Асқар Берік Ғалым Дәурен Жандос Қанат
Марат Нұрсұлтан Серік Талғат Әділ Айдос Бекзат Ерболат Жасұлан Мақсат Нұрбек Олжас Рустем
Санжар Темірлан Ұлан
""".split()  # noqa: SIM905
KZ_FEMALE = """
Айгүл Асель Жанар Гүлнар Әлия Сәуле Айжан Дина Ақмарал Балнұр Гүлмира Динара Жұлдыз Зарина
Қарлығаш Мадина Назерке Перизат Салтанат Томирис Ұлжан Шолпан Әсем Аружан Камила
""".split()  # noqa: SIM905
WEST_GIVEN = [
    tuple(pair.split("="))
    for pair in """
Hans=Ханс Peter=Петер Klaus=Клаус Jürgen=Юрген Stefan=Штефан Thomas=Томас Andreas=Андреас
Michael=Михаэль Wolfgang=Вольфганг Markus=Маркус Frank=Франк Uwe=Уве Dieter=Дитер Timo=Тимо
Lukas=Лукас Jonas=Йонас Felix=Феликс Anna=Анна Julia=Юлия Sabine=Забине Petra=Петра
Monika=Моника Claudia=Клаудия Katrin=Катрин Laura=Лаура Lena=Лена John=Джон James=Джеймс
David=Дэвид Robert=Роберт William=Уильям Richard=Ричард Mark=Марк Paul=Пол Daniel=Дэниел
Sarah=Сара Emily=Эмили Emma=Эмма Olivia=Оливия Jessica=Джессика Sophie=Софи Timur=Тимур
""".split()  # noqa: SIM905
]
WEST_FEMALE = frozenset(
    {
        "Anna",
        "Julia",
        "Sabine",
        "Petra",
        "Monika",
        "Claudia",
        "Katrin",
        "Laura",
        "Lena",
        "Sarah",
        "Emily",
        "Emma",
        "Olivia",
        "Jessica",
        "Sophie",
    }
)
WEST_SURNAMES = [
    tuple(pair.split("="))
    for pair in """
Müller=Мюллер Schmidt=Шмидт Schneider=Шнайдер Fischer=Фишер Weber=Вебер Meyer=Майер
Wagner=Вагнер Becker=Беккер Schulz=Шульц Hoffmann=Хоффманн Koch=Кох Richter=Рихтер
Klein=Кляйн Wolf=Вольф Neumann=Нойманн Schwarz=Шварц Braun=Браун Krüger=Крюгер
Hartmann=Хартманн Lange=Ланге Werner=Вернер Krause=Краузе Lehmann=Леманн Vogt=Фогт
Smith=Смит Johnson=Джонсон Brown=Браун Taylor=Тейлор Wilson=Уилсон Clark=Кларк Walker=Уокер
Wright=Райт Thompson=Томпсон Evans=Эванс Roberts=Робертс Turner=Тёрнер Baker=Бейкер
Harris=Харрис Martin=Мартин Cooper=Купер Morgan=Морган Bennett=Беннетт Hughes=Хьюз
""".split()  # noqa: SIM905
]

# --- Transliteration ------------------------------------------------------------------------

PASSPORT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
}


def passport_latin(text: str) -> str:
    """ICAO 9303 transliteration as in Russian and Kazakh passports, keeping capitals."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in PASSPORT:
            lat = PASSPORT[low]
            out.append(lat.capitalize() if ch != low else lat)
        else:
            out.append(ch)
    return "".join(out)


def patronymic(father: str, female: bool, kazakh: bool) -> str:
    if kazakh:
        return father + ("қызы" if female else "ұлы")
    if father.endswith("й"):
        return father[:-1] + ("евна" if female else "евич")
    if father.endswith("ь"):
        return father[:-1] + ("евна" if female else "евич")
    return father + ("овна" if female else "ович")


def female_surname(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    if surname.endswith("ный"):
        return surname[:-2] + "ая"
    return surname + "а"


# --- Entities ------------------------------------------------------------------------------

CYR_FORMS = {"ТОО": "KZ", "АО": "KZ", "ООО": "RU", "ЗАО": "RU"}
# Latin-script forms of the same companies, and the alternative a reporter may type instead.
TRANSLIT_FORMS = {
    "ТОО": ("LLP", "TOO"),
    "АО": ("JSC", "AO"),
    "ООО": ("LLC", "OOO"),
    "ЗАО": ("CJSC", "ZAO"),
}
WEST_FORMS = {
    "GmbH": ("DE", "Gesellschaft mit beschränkter Haftung"),
    "AG": ("DE", "AG"),
    "Ltd": ("GB", "Limited"),
    "LLC": ("US", "L.L.C."),
    "Limited": ("GB", "Ltd"),
}
CYR_FULL_FORMS = {
    "ТОО": "Товарищество с ограниченной ответственностью",
    "АО": "Акционерное общество",
    "ООО": "Общество с ограниченной ответственностью",
    "ЗАО": "Закрытое акционерное общество",
}

LATIN_LETTERS = "abcdefghiklmnoprstuvyz"
CYR_LETTERS = "абвгдежзиклмнопрстуфхчшы"


@dataclass
class Spec:
    """One generated entity: what is stored, and the variants queries are made from."""

    index: int
    schema: str  # Company / Person
    name: str  # as stored
    other_script: str  # the same name in the other script (no legal form)
    legal_variant: str  # same script, other legal form or its position; "" for people
    words: list[str]  # the words of the name without the legal form, as stored
    aliases: list[str]
    countries: list[str]
    nationality: list[str]
    start_date: str
    public_id: uuid.UUID


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")  # noqa: S311  (test data, not secrets)


def _body_len(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4), weights=(5, 35, 45, 15))[0]


def _company(rng: random.Random) -> dict:
    kind = rng.choices(("cyr", "translit", "west"), weights=(45, 20, 35))[0]
    n = _body_len(rng)
    if kind in ("cyr", "translit"):
        stems = rng.sample(CYR_STEMS, n)
        form = rng.choice(list(CYR_FORMS))
        cyr_body = " ".join(stems)
        lat_body = passport_latin(cyr_body)
        country = CYR_FORMS[form]
        if kind == "cyr":
            name = f"{form} «{cyr_body}»"
            variant = (
                f"{CYR_FULL_FORMS[form]} «{cyr_body}»"
                if rng.random() < 0.5
                else f"{cyr_body} {form}"
            )
            return {
                "name": name,
                "other": lat_body,
                "variant": variant,
                "words": cyr_body.split(),
                "country": country,
                "short": f"{form} «{' '.join(stems[: max(1, n - 1)])}»",
            }
        western, local = TRANSLIT_FORMS[form]
        name = f"{lat_body} {western}"
        return {
            "name": name,
            "other": cyr_body,
            "variant": f"{local} {lat_body}",
            "words": lat_body.split(),
            "country": country,
            "short": f"{passport_latin(' '.join(stems[: max(1, n - 1)]))} {western}",
        }
    pairs = rng.sample(WEST_STEMS, n)
    form = rng.choice(list(WEST_FORMS))
    country, alt = WEST_FORMS[form]
    body = " ".join(p[0] for p in pairs)
    return {
        "name": f"{body} {form}",
        "other": " ".join(p[1] for p in pairs),
        "variant": f"{body} {alt}",
        "words": body.split(),
        "country": country,
        "short": f"{' '.join(p[0] for p in pairs[: max(1, n - 1)])} {form}",
    }


def _person(rng: random.Random) -> dict:
    kind = rng.choices(("ru", "kz", "west"), weights=(50, 25, 25))[0]
    female = rng.random() < 0.4
    if kind == "west":
        # A middle name or a double surname most of the time: 45 x 46 plain names alone
        # would give every Western person dozens of namesakes.
        same_sex = [g for g in WEST_GIVEN if (g[0] in WEST_FEMALE) == female]
        given = [rng.choice(same_sex)]
        if rng.random() < 0.6:
            given.append(rng.choice([g for g in same_sex if g != given[0]]))
        surname = rng.choice(WEST_SURNAMES)
        if rng.random() < 0.25:
            second = rng.choice([s for s in WEST_SURNAMES if s != surname])
            surname = (f"{surname[0]}-{second[0]}", f"{surname[1]}-{second[1]}")
        country = rng.choice(("DE", "DE", "GB", "US", "AT"))
        name = " ".join([*(g[0] for g in given), surname[0]])
        other = " ".join([*(g[1] for g in given), surname[1]])
        return {
            "name": name,
            "other": other,
            "words": name.replace("-", " ").split(),
            "country": country,
            "short": f"{given[0][0]} {surname[0]}",
        }
    kazakh = kind == "kz"
    if kazakh:
        surname = rng.choice(KZ_SURNAMES)
        given = rng.choice(KZ_FEMALE if female else KZ_MALE)
        father = rng.choice(KZ_MALE)
        # Older Kazakh documents use Russian patronymics of a Kazakh given name.
        russian_style = rng.random() < 0.5
        patr = patronymic(father, female, kazakh=not russian_style)
    else:
        surname = rng.choice(RU_SURNAMES)
        given = rng.choice(RU_FEMALE if female else RU_MALE)
        patr = patronymic(rng.choice(RU_MALE), female, kazakh=False)
    if female:
        surname = female_surname(surname)
    cyr = f"{surname} {given} {patr}"
    country = "KZ" if kazakh else rng.choice(("RU", "RU", "RU", "KZ", "BY"))
    if rng.random() < 0.7:  # stored in Cyrillic
        return {
            "name": cyr,
            "other": passport_latin(cyr),
            "words": cyr.split(),
            "country": country,
            "short": f"{surname} {given}",
        }
    lat = passport_latin(cyr)
    return {
        "name": lat,
        "other": cyr,
        "words": lat.split(),
        "country": country,
        "short": " ".join(lat.split()[:2]),
    }


def spec(seed: int, index: int) -> Spec:
    rng = _rng(seed, index)
    is_person = rng.random() < 0.45
    parts = _person(rng) if is_person else _company(rng)
    aliases: list[str] = []
    if rng.random() < 0.30:
        roll = rng.random()
        if roll < 0.5:
            alias = parts["other"]  # the name as written in the other script
        elif roll < 0.8:
            alias = (_person(rng) if is_person else _company(rng))["name"]  # a former name
        else:
            alias = parts["short"]
        if alias.casefold() != parts["name"].casefold():
            aliases.append(alias)
    year = rng.randint(1950, 2000) if is_person else rng.randint(1992, 2023)
    digest = hashlib.md5(f"{seed}:{index}".encode(), usedforsecurity=False).digest()
    return Spec(
        index=index,
        schema="Person" if is_person else "Company",
        name=parts["name"],
        other_script=parts["other"],
        legal_variant=parts.get("variant", ""),
        words=parts["words"],
        aliases=aliases,
        countries=[] if is_person else [parts["country"]],
        nationality=[parts["country"]] if is_person else [],
        start_date=f"{year}-{rng.randint(1, 12):02d}" if rng.random() < 0.6 else str(year),
        public_id=uuid.UUID(bytes=digest, version=4),
    )


def typo(name: str, words: list[str], rng: random.Random) -> str:
    """Change one letter of one word of four or more letters (not the legal form)."""
    candidates = [w for w in words if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return name
    word = rng.choice(candidates)
    pos = rng.randrange(1, len(word))  # people rarely mistype the first letter
    alphabet = CYR_LETTERS if any("\u0400" <= c <= "\u04ff" for c in word) else LATIN_LETTERS
    repl = rng.choice([c for c in alphabet if c != word[pos].lower()])
    return name.replace(word, word[:pos] + repl + word[pos + 1 :], 1)


def nonsense(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(
            "".join(rng.choice("bcdfghjkqvwxz") for _ in range(rng.randint(4, 8)))
            for _ in range(rng.randint(1, 2))
        )
    return " ".join(
        "".join(rng.choice("бвгджзйхцчшщъ") for _ in range(rng.randint(4, 7)))
        for _ in range(rng.randint(1, 2))
    )


# --- Query variants: the ways documents write the names above -------------------------------

PATRONYMIC_ENDINGS = ("ович", "евич", "овна", "евна", "ұлы", "қызы", "ovich", "evich", "ovna",
                      "evna", "uly", "kyzy")  # fmt: skip
KAZAKH_2021 = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e", "ё": "io",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū",
    "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şş", "ъ": "",
    "ы": "y", "і": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
# The 2017 alphabet's apostrophes for the letters 2021 gives diacritics.
KAZAKH_2017 = {**KAZAKH_2021, "ә": "a'", "ғ": "g'", "ң": "n'", "ө": "o'", "ұ": "u", "ү": "u'",
               "ш": "s'", "ч": "c'", "й": "i'"}  # fmt: skip
KAZAKH_FORMS = {"ТОО": "ЖШС", "АО": "АҚ"}
QUOTES = [("«", "»"), ("“", "”"), ("„", "“"), ('"', '"')]


def _translate(text: str, table: dict[str, str]) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        lat = table.get(low, ch if low not in table else "")
        out.append(lat[:1].upper() + lat[1:] if ch != low and lat else lat)
    return "".join(out)


def kazakh_latin(text: str, rng: random.Random) -> str:
    """Kazakh Latin of 2021 (Q, Ğ, Ş, Ñ, Ū, Ü) or, one time in three, of 2017 (apostrophes)."""
    return _translate(text, KAZAKH_2017 if rng.random() < 1 / 3 else KAZAKH_2021)


def is_russian_style_person(s: Spec) -> bool:
    return s.schema == "Person" and len(s.words) == 3 and s.words[2].endswith(PATRONYMIC_ENDINGS)


def initials(s: Spec, rng: random.Random) -> str:
    """ "Петров И.С.", "I. S. Petrov", "Petrov I." (the patronymic's initial left out)."""
    if is_russian_style_person(s):
        surname, given, patr = s.words
        roll = rng.random()
        if roll < 0.5:
            return f"{surname} {given[0]}.{patr[0]}."
        if roll < 0.75:
            return f"{given[0]}. {patr[0]}. {surname}"
        return f"{surname} {given[0]}."
    *given, surname = s.name.split()
    return " ".join(f"{g[0]}." for g in given) + f" {surname}"


def name_order(s: Spec, rng: random.Random) -> str:
    """Another order of the same words: "Иван Сергеевич Петров", "Müller Hans Peter"."""
    if is_russian_style_person(s):
        surname, given, patr = s.words
        return f"{given} {patr} {surname}"
    if s.schema == "Person":
        *given, surname = s.name.split()
        return " ".join([surname, *given])
    words = list(s.words)
    while len(words) > 1 and words == s.words:
        rng.shuffle(words)
    return " ".join(words)


def no_patronymic(s: Spec, rng: random.Random) -> str:
    """ "Petrov Ivan" or "Ivan Petrov" for "Petrov Ivan Sergeevich"."""
    surname, given, _ = s.words
    return f"{surname} {given}" if rng.random() < 0.5 else f"{given} {surname}"


def legal_form_variant(s: Spec, rng: random.Random) -> str:
    """The generator's legal variant, or a Kazakh form, or other quotes."""
    cyr = s.name[:4].rstrip() in CYR_FORMS and "«" in s.name
    roll = rng.random()
    if cyr and roll < 0.3:
        form, body = s.name.split(" ", 1)
        kz = KAZAKH_FORMS.get(form)
        if kz:
            return f"{kz} {body}" if rng.random() < 0.5 else f"{body.strip('«»')} {kz}"
    if cyr and roll < 0.6:
        left, right = rng.choice(QUOTES)
        return s.name.replace("«", left).replace("»", right)
    return s.legal_variant


def typo_missing(name: str, words: list[str], rng: random.Random) -> str:
    """Leave out one letter (not the first) of a word of four or more letters."""
    candidates = [w for w in words if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return name
    word = rng.choice(candidates)
    pos = rng.randrange(1, len(word))
    return name.replace(word, word[:pos] + word[pos + 1 :], 1)


def typo_swap(name: str, words: list[str], rng: random.Random) -> str:
    """Swap two neighbouring letters (not the first) of a word of four or more letters."""
    candidates = [w for w in words if len(w) >= 4 and w.isalpha() and len(set(w[1:])) > 1]
    if not candidates:
        return name
    word = rng.choice(candidates)
    pos = rng.randrange(1, len(word) - 1)
    while word[pos] == word[pos + 1]:
        pos = rng.randrange(1, len(word) - 1)
    swapped = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    return name.replace(word, swapped, 1)
