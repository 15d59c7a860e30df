"""A 1,000,000-row customs file through `manage.py import_shipments`, against two references.

    make bench-import            (N=100000 for another size)
    .venv/bin/python bench/import_bench.py --n 1000000 [--iie-rows 100000] [--no-iie]
        [--profile] [--py-spy]

1. Generates (once; cached in bench/out/ under a name with the hash of the generator's source,
   seed and N) a Windows-1251 CSV with semicolons and Russian headers, as a customs extract
   comes: DD.MM.YYYY dates over 2021-2023, declarations of 1-5 items, ~5,000 parties (names
   from `namegen`: Cyrillic and Latin company names with legal forms; a quarter of them spelled
   2-3 ways), 10-digit ТН ВЭД codes (8542, 8806, 8471 and others), decimal commas with space
   thousands separators, country names in Russian or ISO codes, and ~0.1% bad rows (31.02.2022,
   letters in the HS code, negative quantities).
2. Runs `manage.py import_shipments FILE --dataset bench-import-<N>` as a subprocess under
   `/usr/bin/time -v` (wall time, peak RSS), after deleting that dataset (fresh import), then
   again (idempotency: nothing imported or updated).
3. Reference A: `psql \\copy` of the same file into a bare all-text table (bench_bare_copy).
4. Reference B: django-import-export (a ModelResource of Shipment, one row at a time as
   `import_data` does it) on the first --iie-rows rows, extrapolated linearly to N.
5. When a goal is missed (or --profile): stage timings in this process (reader alone,
   reader + parser, then the loader with every SQL statement timed and EXPLAIN ANALYZE of the
   slow ones) on a fresh dataset `bench-import-<N>-profile`, deleted afterwards.

Writes bench/out/import-<date>.json.
"""

import argparse
import csv
import datetime as dt
import hashlib
import inspect
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb
import namegen
import psycopg

BASE_DIR = benchdb.BASE_DIR
VENV_BIN = Path(sys.executable).parent
GOAL_SECONDS = 60.0
GOAL_RSS_MB = 500.0
GOAL_VS_IIE = 10.0
GOAL_VS_COPY = 3.0
SEED = 20261126
PARTIES = 5_000
BAD_SHARE = 0.001
GENERATOR_VERSION = 1

HEADERS = [
    "дата", "номер декларации", "№ товара", "экспортер", "страна экспортера", "получатель",
    "страна получателя", "страна происхождения", "код ТН ВЭД", "наименование товара",
    "количество", "единица измерения", "стоимость", "валюта",
]  # fmt: skip

# (code, description, unit, typical unit price in USD)
GOODS = [
    ("8542310001", "Процессоры и контроллеры, интегральные схемы электронные", "шт", 40),
    ("8542319000", "Схемы интегральные электронные прочие: процессоры", "шт", 25),
    ("8542321000", "Схемы интегральные электронные: память DRAM", "шт", 8),
    ("8542329000", "Схемы интегральные электронные: память прочая", "шт", 6),
    ("8542330000", "Схемы интегральные электронные: усилители", "шт", 3),
    ("8542399010", "Схемы интегральные электронные прочие", "шт", 2),
    ("8806100000", "Аппараты летательные беспилотные для перевозки пассажиров", "шт", 90000),
    ("8806210000", "Аппараты беспилотные с дистанционным управлением, масса не более 250 г", "шт", 300),  # noqa: E501
    ("8806220000", "Аппараты беспилотные, масса более 250 г, но не более 7 кг", "шт", 1500),
    ("8806230000", "Аппараты беспилотные, масса более 7 кг, но не более 25 кг", "шт", 9000),
    ("8806240000", "Аппараты беспилотные, масса более 25 кг, но не более 150 кг", "шт", 40000),
    ("8806290000", "Аппараты беспилотные прочие", "шт", 5000),
    ("8806920000", "Аппараты беспилотные прочие, масса не более 250 г", "шт", 200),
    ("8471300000", "Машины вычислительные портативные массой не более 10 кг (ноутбуки)", "шт", 700),
    ("8471410000", "Машины вычислительные прочие, содержащие в одном корпусе процессор", "шт", 900),
    ("8471490000", "Машины вычислительные в виде систем", "компл", 5000),
    ("8471500000", "Блоки обработки данных (серверы)", "шт", 4000),
    ("8471607000", "Устройства ввода-вывода: клавиатуры, манипуляторы", "шт", 20),
    ("8471700000", "Устройства запоминающие (накопители SSD, HDD)", "шт", 80),
    ("8471800000", "Блоки вычислительных машин прочие", "шт", 150),
    ("8517620009", "Аппаратура для приема, преобразования и передачи данных (маршрутизаторы)", "шт", 120),  # noqa: E501
    ("8517130000", "Смартфоны", "шт", 250),
    ("8525890000", "Камеры телевизионные, цифровые камеры и видеокамеры прочие", "шт", 300),
    ("8526910000", "Аппаратура радионавигационная (GPS-модули)", "шт", 60),
    ("8504408300", "Преобразователи статические, зарядные устройства", "шт", 15),
    ("8507600000", "Аккумуляторы литий-ионные", "шт", 35),
    ("8541490000", "Приборы полупроводниковые фоточувствительные", "шт", 4),
    ("8473302008", "Части и принадлежности вычислительных машин", "кг", 60),
    ("9013100000", "Прицелы телескопические для оружия", "шт", 400),
    ("9014208000", "Приборы и устройства для аэронавигации", "шт", 2500),
    ("3926909709", "Изделия прочие из пластмасс", "кг", 5),
    ("7318158100", "Винты и болты из черных металлов", "кг", 3),
    ("8708999709", "Части и принадлежности моторных транспортных средств", "кг", 12),
    ("8431498009", "Части машин и механизмов", "кг", 10),
    ("8703231981", "Автомобили легковые с двигателем 1500-3000 куб. см", "шт", 25000),
    ("6204430000", "Платья женские из синтетических нитей", "шт", 12),
    ("0805100000", "Апельсины свежие", "кг", 1),
    ("2710198800", "Масла смазочные", "кг", 2),
]  # fmt: skip
GOODS_WEIGHTS = [6, 5, 4, 3, 3, 3, 1, 3, 4, 2, 1, 2, 2, 6, 4, 2, 3, 3, 4, 3, 4, 5, 3, 3, 4, 4, 2,
                 4, 1, 1, 3, 3, 4, 3, 2, 3, 2, 2]  # fmt: skip
CURRENCIES = ["USD", "USD", "USD", "EUR", "CNY", "RUB", "KZT"]
RUSSIAN_COUNTRY = {
    "KZ": "Казахстан", "RU": "Россия", "DE": "Германия", "GB": "Великобритания", "US": "США",
    "CN": "Китай", "TW": "Тайвань", "KR": "Республика Корея", "TR": "Турция", "AE": "ОАЭ",
    "KG": "Кыргызстан", "UZ": "Узбекистан", "HK": "Гонконг", "JP": "Япония",
}  # fmt: skip
ORIGINS = ["CN", "CN", "CN", "CN", "TW", "KR", "US", "DE", "JP", "TR", "RU", "KZ"]
CUSTOMS_POSTS = ["10228010", "10005022", "10702070", "10216170", "55301000", "55201000"]
# cp1251 has neither the Kazakh letters nor the German umlauts: writers substitute them.
CP1251_FIX = str.maketrans({
    "Қ": "К", "қ": "к", "Ұ": "У", "ұ": "у", "Ү": "У", "ү": "у", "Ә": "А", "ә": "а", "Ө": "О",
    "ө": "о", "Ң": "Н", "ң": "н", "Ғ": "Г", "ғ": "г", "Һ": "Х", "һ": "х", "ä": "ae", "ö": "oe",
    "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "é": "e",
})  # fmt: skip


# --- The file ------------------------------------------------------------------------------


def _cp1251(text: str) -> str:
    text = text.translate(CP1251_FIX)
    return text.encode("cp1251", errors="replace").decode("cp1251")


def _parties() -> list[tuple[list[str], str]]:
    """~5,000 companies: (spellings, country code); a quarter have 2-3 spellings."""
    parties = []
    for i in range(PARTIES):
        rng = random.Random(f"{SEED}:party:{i}")  # noqa: S311
        parts = namegen._company(rng)
        spellings = [_cp1251(parts["name"])]
        roll = rng.random()
        if roll < 0.25:
            spellings.append(_cp1251(parts["variant"]))
        if roll < 0.08:
            spellings.append(_cp1251(parts["other"]))  # the other script, no legal form
        parties.append((list(dict.fromkeys(spellings)), parts["country"]))
    return parties


def party_duplicates(dataset: str) -> dict:
    """How the import resolved the generated companies: parties whose spellings landed on more
    than one entity (duplicates), and entities holding spellings of companies with other names
    (merges; generated namesakes, whose names are the same, do not count)."""
    from entities.models import EntityName
    from entities.names import normalize

    parties = _parties()
    owners: dict[str, set[int]] = defaultdict(set)  # spelling -> parties that use it
    for i, (spellings, _country) in enumerate(parties):
        for spelling in spellings:
            owners[spelling].add(i)
    entity_of: dict[str, set[int]] = defaultdict(set)
    names_of: dict[int, set[str]] = defaultdict(set)
    for name, entity in EntityName.objects.filter(dataset__name=dataset).values_list(
        "name", "entity_id"
    ):
        entity_of[name].add(entity)
        names_of[entity].add(name)
    duplicates = seen = 0
    for spellings, _country in parties:
        entities = set().union(*(entity_of.get(s, set()) for s in spellings))
        if entities:
            seen += 1
            duplicates += len(entities) - 1
    merges = 0
    for names in names_of.values():
        companies = {normalize(parties[min(owners[n])][0][0]) for n in names if owners.get(n)}
        merges += len(companies) > 1
    return {"parties_seen": seen, "duplicate_entities": duplicates, "merged_entities": merges}


def _number(value: float, decimals: int) -> str:
    """1234567.891 -> '1 234 567,89': decimal comma, space thousands separator."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")


def generate(path: Path, n: int) -> dict:
    """Write n data rows; returns counts of what was written."""
    rng = random.Random(SEED)  # noqa: S311
    parties = _parties()
    weights = [1 / (i + 1) ** 0.9 for i in range(len(parties))]
    cum = list(__import__("itertools").accumulate(weights))
    goods_cum = list(__import__("itertools").accumulate(GOODS_WEIGHTS))
    start = dt.date(2021, 1, 1).toordinal()
    days = dt.date(2023, 12, 31).toordinal() - start + 1
    bad = Counter()
    tmp = path.with_suffix(".part")
    written = 0
    seq = 0
    with open(tmp, "w", encoding="cp1251", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        while written < n:
            seq += 1
            day = dt.date.fromordinal(start + int(rng.random() * days))
            date = f"{day.day:02d}.{day.month:02d}.{day.year}"
            decl = f"{rng.choice(CUSTOMS_POSTS)}/{day:%d%m%y}/{seq:07d}"
            exp_i, imp_i = rng.choices(range(len(parties)), cum_weights=cum, k=2)
            if exp_i == imp_i:
                imp_i = (imp_i + 1) % len(parties)
            exp_names, exp_country = parties[exp_i]
            imp_names, imp_country = parties[imp_i]
            exp_c = RUSSIAN_COUNTRY.get(exp_country, exp_country)
            imp_c = RUSSIAN_COUNTRY.get(imp_country, imp_country)
            if rng.random() < 0.3:
                exp_c, imp_c = exp_country, imp_country  # some extracts give ISO codes
            exporter = rng.choice(exp_names)
            importer = rng.choice(imp_names)
            currency = rng.choice(CURRENCIES)
            for item in range(1, rng.choice((1, 1, 2, 3, 4, 5)) + 1):
                if written >= n:
                    break
                code, desc, unit, price = GOODS[
                    rng.choices(range(len(GOODS)), cum_weights=goods_cum)[0]
                ]
                origin = RUSSIAN_COUNTRY[rng.choice(ORIGINS)]
                if unit == "кг":
                    qty = _number(rng.lognormvariate(5, 1.5), rng.choice((0, 1, 3)))
                else:
                    qty = _number(max(1, int(rng.lognormvariate(3.5, 1.6))), 0)
                value = _number(
                    float(qty.replace(" ", "").replace(",", ".")) * price * rng.uniform(0.6, 1.6),
                    2,
                )
                row = [date, decl, str(item), exporter, exp_c, importer, imp_c, origin, code,
                       desc, qty, unit, value, currency]  # fmt: skip
                if rng.random() < BAD_SHARE:
                    kind = rng.choice(("date", "hs", "qty"))
                    bad[kind] += 1
                    if kind == "date":
                        row[0] = "31.02.2022"
                    elif kind == "hs":
                        row[8] = code[:2] + "A" + code[3:]
                    else:
                        row[10] = "-" + qty
                writer.writerow(row)
                written += 1
    tmp.rename(path)
    return {"rows": written, "declarations": seq, "bad_rows": dict(bad), "parties": len(parties)}


def data_file(n: int) -> tuple[Path, dict]:
    source = inspect.getsource(sys.modules[__name__]).split("# --- The file", 1)[1]
    source = source.split("# --- Runs", 1)[0]
    key = f"{GENERATOR_VERSION}:{namegen.VERSION}:{SEED}:{n}:{source}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    path = benchdb.OUT_DIR / f"import-shipments-{n}-{digest}.csv"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
        return path, meta
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    for old in benchdb.OUT_DIR.glob(f"import-shipments-{n}-*.csv"):
        old.unlink()  # an older generator's file of the same size
    print(f"generating {n:,} rows -> {path.name}", flush=True)
    started = time.monotonic()
    meta = generate(path, n)
    meta["generate_seconds"] = round(time.monotonic() - started, 1)
    meta["size_bytes"] = path.stat().st_size
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    meta["sha256"] = sha.hexdigest()
    meta_path.write_text(json.dumps(meta, indent=2))
    meta["cached"] = False
    return path, meta


# --- Runs ----------------------------------------------------------------------------------


def delete_dataset(name: str) -> float:
    """Delete a dataset and everything in it (big tables by hand first); returns seconds."""
    from django.db import connection

    from entities.models import Dataset

    started = time.monotonic()
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        return 0.0
    with connection.cursor() as cursor:
        pk = dataset.pk
        cursor.execute("DELETE FROM entities_shipment WHERE dataset_id = %s", [pk])
        cursor.execute(
            "DELETE FROM entities_identifier WHERE entity_id IN "
            "(SELECT id FROM entities_entity WHERE dataset_id = %s)",
            [pk],
        )
        cursor.execute("DELETE FROM entities_namekey WHERE dataset_id = %s", [pk])
        cursor.execute("DELETE FROM entities_entityname WHERE dataset_id = %s", [pk])
        cursor.execute("DELETE FROM entities_entity WHERE dataset_id = %s", [pk])
    dataset.delete()  # import jobs, rejected rows and anything else that cascades
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE entities_shipment, entities_entity, entities_entityname,"
            " entities_namekey, entities_identifier"
        )
    return time.monotonic() - started


SUMMARY = re.compile(
    r"rows read ([\d,]+), imported ([\d,]+), updated ([\d,]+), unchanged ([\d,]+), "
    r"rejected ([\d,]+), new entities ([\d,]+), ([\d.]+) s"
)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def run_command(path: Path, dataset: str, media: Path, *, py_spy: Path | None = None) -> dict:
    """manage.py import_shipments under /usr/bin/time -v: wall seconds, peak RSS, counts."""
    timefile = media / "time.txt"
    env = {
        **os.environ,
        "DATABASE_URL": benchdb.BENCH_DATABASE_URL,
        "MEDIA_ROOT": str(media),  # the command keeps a copy of the file in storage
    }
    cmd = [
        "/usr/bin/time", "-v", "-o", str(timefile),
        str(VENV_BIN / "python"), "manage.py", "import_shipments", str(path), "--dataset", dataset,
    ]  # fmt: skip
    print("$ " + " ".join(cmd[4:]), flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    spy = None
    if py_spy is not None:
        time.sleep(0.3)
        child = _child_pid(proc.pid)
        spy = subprocess.Popen(
            [str(VENV_BIN / "py-spy"), "record", "--pid", str(child), "--rate", "100",
             "--nonblocking", "--idle", "--format", "raw", "--output", str(py_spy)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    out, err = proc.communicate()
    wall = time.monotonic() - started
    if spy is not None:
        spy.wait(timeout=60)
    if proc.returncode != 0:
        sys.exit(f"import_shipments failed ({proc.returncode}):\n{out}\n{err}")
    timing = timefile.read_text()
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
    match = SUMMARY.search(out)
    read, imported, updated, unchanged, rejected, created, seconds = match.groups()
    print(out.splitlines()[0], flush=True)
    return {
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "user_seconds": float(re.search(r"User time \(seconds\): ([\d.]+)", timing).group(1)),
        "system_seconds": float(re.search(r"System time \(seconds\): ([\d.]+)", timing).group(1)),
        "job_seconds": float(seconds),
        "rows_read": _int(read),
        "imported": _int(imported),
        "updated": _int(updated),
        "unchanged": _int(unchanged),
        "rejected": _int(rejected),
        "entities_created": _int(created),
        "stdout": out.splitlines()[:25],
        "progress": [line.strip() for line in err.splitlines() if "rows/s" in line][-3:],
    }


def _child_pid(pid: int) -> int:
    """The python process under /usr/bin/time."""
    for _ in range(50):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.05)
    return pid


def psql_copy(path: Path) -> dict:
    db = benchdb._check_name(benchdb.BENCH_DATABASE_URL)
    base = ["psql", benchdb.BENCH_DATABASE_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    subprocess.run(
        [
            *base,
            "-c",
            f"DROP TABLE IF EXISTS bench_bare_copy; CREATE TABLE bench_bare_copy ({columns})",
        ],
        check=True,
    )
    copy = (
        f"\\copy bench_bare_copy FROM '{path}' WITH (FORMAT csv, DELIMITER ';', HEADER true,"
        " ENCODING 'WIN1251')"
    )
    print(f'$ psql -h 127.0.0.1 -U postgres {db} -c "{copy}"', flush=True)
    started = time.monotonic()
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", db, "-X", "-c", copy],  # noqa: S607
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    rows = subprocess.run(
        [*base, "-At", "-c", "SELECT count(*) FROM bench_bare_copy"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run([*base, "-c", "DROP TABLE bench_bare_copy"], check=True)
    return {"seconds": round(seconds, 2), "rows": int(rows), "output": done.stdout.strip()}


# --- django-import-export ------------------------------------------------------------------


def iie_run(path: Path, rows: int) -> dict:
    """django-import-export's import_data on the first `rows` rows, into its own dataset.

    No party resolution: exporter and importer stay NULL, their names go into the description.
    Rows are pre-transformed in Python (not timed separately; included in `prepare_seconds`):
    decimal commas and space separators to Python decimals' syntax, country names to ISO codes
    (with our own lookup), the import key "decl:<number>:<item>" as our parser makes it.
    Dates are parsed by DateWidget("%d.%m.%Y"); a widget rejects HS codes that are not digits
    and negative numbers, so bad rows become validation errors, as in our parser.
    """
    import tablib
    from import_export import fields, resources, widgets

    from entities.importing.parse import parse_country
    from entities.models import Dataset, Shipment

    name = f"bench-import-iie-{rows}"
    delete_dataset(name)
    dataset = Dataset.objects.create(name=name)

    class DigitsWidget(widgets.CharWidget):
        def clean(self, value, row=None, **kwargs):
            value = super().clean(value, row, **kwargs)
            if not re.fullmatch(r"[0-9]{2,10}", value or ""):
                raise ValueError("HS code must be 2-10 digits")
            return value

    class NonNegativeDecimal(widgets.DecimalWidget):
        def clean(self, value, row=None, **kwargs):
            number = super().clean(value, row, **kwargs)
            if number is not None and number < 0:
                raise ValueError("must not be negative")
            return number

    class ShipmentResource(resources.ModelResource):
        date = fields.Field(
            attribute="date", column_name="date", widget=widgets.DateWidget("%d.%m.%Y")
        )
        hs_code = fields.Field(attribute="hs_code", column_name="hs_code", widget=DigitsWidget())
        quantity = fields.Field(
            attribute="quantity", column_name="quantity", widget=NonNegativeDecimal()
        )
        value = fields.Field(attribute="value", column_name="value", widget=NonNegativeDecimal())
        dataset_id = fields.Field(
            attribute="dataset_id", column_name="dataset_id", widget=widgets.IntegerWidget()
        )

        class Meta:
            model = Shipment
            fields = (
                "import_key", "date", "declaration_number", "hs_code", "description", "quantity",
                "unit", "value", "currency", "origin_country", "destination_country", "source",
                "dataset_id",
            )  # fmt: skip
            import_id_fields = ("import_key",)

        def get_queryset(self):
            return Shipment.objects.filter(dataset_id=dataset.pk)

    def number(raw: str) -> str:
        return raw.replace(" ", "").replace("\xa0", "").replace(",", ".")

    started = time.monotonic()
    data = tablib.Dataset(headers=list(ShipmentResource.Meta.fields))
    with open(path, encoding="cp1251", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader)
        for i, r in enumerate(reader):
            if i >= rows:
                break
            (date, decl, item, exporter, _ec, importer, imp_c, origin, hs, desc, qty, unit,
             value, currency) = r  # fmt: skip
            data.append((
                f"decl:{decl}:{item}", date, decl, hs, f"{desc} | {exporter} -> {importer}",
                number(qty), unit, number(value), currency, parse_country(origin),
                parse_country(imp_c), "import", dataset.pk,
            ))  # fmt: skip
    prepare = time.monotonic() - started
    print(f"django-import-export: {len(data):,} rows into {name}", flush=True)
    started = time.monotonic()
    result = ShipmentResource().import_data(
        data, dry_run=False, use_transactions=True, collect_failed_rows=True
    )
    seconds = time.monotonic() - started
    stored = Shipment.objects.filter(dataset=dataset).count()
    out = {
        "rows": len(data),
        "prepare_seconds": round(prepare, 2),
        "seconds": round(seconds, 2),
        "totals": dict(result.totals),
        "invalid_rows": len(result.invalid_rows),
        "row_errors": len(result.row_errors()),
        "stored": stored,
        "version": __import__("importlib.metadata").metadata.version("django-import-export"),
    }
    delete_dataset(name)
    return out


# --- Profile -------------------------------------------------------------------------------

EXPLAIN_MARKERS = (
    "WITH merged AS", "CREATE TEMPORARY TABLE import_mention", "INSERT INTO pg_temp.import_party",
    "WITH dropped AS", "WITH spelling AS", "RESOLVE", "ANALYZE entities_shipment",
)  # fmt: skip


def profile(path: Path, n: int, *, explain_sql: bool = False) -> dict:
    """Reader alone, reader + parser, then the loader with each SQL statement timed."""
    from django.db import connection, transaction

    from entities.importing import loader
    from entities.importing.mapping import auto_mapping
    from entities.importing.parse import Parser
    from entities.importing.readers import open_table
    from entities.importing.service import dataset_for, mapping_from_spec

    out: dict = {}
    table = open_table(path, filename=path.name)
    started = time.monotonic()
    count = sum(1 for _ in table.rows())
    out["read_seconds"] = round(time.monotonic() - started, 2)
    mapping = mapping_from_spec(
        {"columns": auto_mapping(table.headers, "shipments"), "date_format": "auto"}
    )
    parser = Parser("shipments", mapping, table.headers)
    started = time.monotonic()
    good = 0
    for line, values in table.rows():
        if not isinstance(parser.parse(line, values), list):
            good += 1
    out["read_parse_seconds"] = round(time.monotonic() - started, 2)
    parser = Parser("shipments", mapping, table.headers)
    started = time.monotonic()
    for _ in loader._shipment_values(
        r for r in (parser.parse(line, v) for line, v in table.rows()) if not isinstance(r, list)
    ):
        pass
    out["read_parse_values_seconds"] = round(time.monotonic() - started, 2)
    print(
        f"profile: read {out['read_seconds']} s, +parse {out['read_parse_seconds']} s,"
        f" +loader tuples {out['read_parse_values_seconds']} s ({count:,} rows, {good:,} good)",
        flush=True,
    )

    name = f"bench-import-{n}-profile"
    delete_dataset(name)
    dataset = dataset_for(name)
    explains: list[dict] = []

    def wrapper(execute, sql, params, many, context):
        explain = None
        head = sql.lstrip()
        if explain_sql and (
            any(m in sql for m in EXPLAIN_MARKERS)
            and ";" not in head.rstrip().rstrip(";")
            and head.startswith(("WITH", "INSERT", "UPDATE", "DELETE", "CREATE TEMPORARY TABLE"))
            and (" AS\n" in head or not head.startswith("CREATE"))
        ):
            with connection.connection.cursor() as c:  # raw psycopg: no wrappers
                c.execute("SAVEPOINT bench_explain")
                c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                explain = [r[0] for r in c.fetchall()]
                c.execute("ROLLBACK TO SAVEPOINT bench_explain")
        if explain is not None:
            explains.append({"sql": " ".join(sql.split())[:160], "explain": explain})
        return execute(sql, params, many, context)

    # Every statement on the connection, the merge thread's raw psycopg ones included, summed
    # per statement text over the batches.
    totals: Counter = Counter()
    calls: Counter = Counter()
    original_execute = psycopg.Cursor.execute

    def timed_execute(self, query, params=None, **kwargs):
        key = " ".join((query if isinstance(query, str) else query.as_string(self)).split())[:160]
        started = time.monotonic()
        try:
            return original_execute(self, query, params, **kwargs)
        finally:
            totals[key] += time.monotonic() - started
            calls[key] += 1

    parser = Parser("shipments", mapping, table.headers)
    marks = []
    started = time.monotonic()
    psycopg.Cursor.execute = timed_execute
    try:
        with connection.execute_wrapper(wrapper), transaction.atomic():
            result = loader.load_shipments(
                (r for r in (parser.parse(line, v) for line, v in table.rows())
                 if not isinstance(r, list)),
                dataset=dataset,
                on_progress=lambda done: marks.append((done, time.monotonic() - started)),
            )  # fmt: skip
    finally:
        psycopg.Cursor.execute = original_execute
    out["load_seconds"] = round(time.monotonic() - started, 2)
    out["staging_seconds"] = round(marks[-1][1], 2) if marks else None
    out["result"] = result.__dict__
    statements = [
        {"sql": sql, "seconds": round(seconds, 3), "calls": calls[sql]}
        for sql, seconds in totals.most_common(15)
    ]
    out["statements"] = statements
    out["explains"] = explains
    print(
        f"profile: load_shipments {out['load_seconds']} s, of which read+parse+COPY"
        f" {out['staging_seconds']} s; database time by statement (all batches):",
        flush=True,
    )
    for s in statements[:12]:
        print(f"  {s['seconds']:8.2f} s {s['calls']:4d}x  {s['sql'][:100]}", flush=True)
    delete_dataset(name)
    return out


def py_spy_summary(raw: Path) -> dict:
    """Self and inclusive shares from py-spy's raw (collapsed) output."""
    own: Counter = Counter()
    incl: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        k = int(count)
        total += k
        frames = [
            re.sub(r" \((?:/work/main/|.*site-packages/)?", " (", f) for f in stack.split(";")
        ]
        own[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    share = lambda c: [(f, round(100 * v / total, 1)) for f, v in c.most_common(25)]  # noqa: E731
    return {"samples": total, "self": share(own), "inclusive": share(incl)}


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--iie-rows", type=int, default=100_000)
    ap.add_argument("--no-iie", action="store_true", help="skip django-import-export")
    ap.add_argument("--profile-only", action="store_true", help="only the stage timings")
    ap.add_argument(
        "--explain",
        action="store_true",
        help="with the profile: EXPLAIN ANALYZE the merge statements (runs each one twice)",
    )
    ap.add_argument(
        "--iie-only", action="store_true", help="only django-import-export (and the file)"
    )
    ap.add_argument("--profile", action="store_true", help="stage timings even if goals are met")
    ap.add_argument("--py-spy", action="store_true", help="py-spy record the fresh import")
    args = ap.parse_args()

    benchdb.setup()
    from django.db import connection

    path, gen = data_file(args.n)
    print(
        f"file {path} ({gen['size_bytes'] / 1e6:.1f} MB, {gen['rows']:,} rows,"
        f" bad rows {gen['bad_rows']}, generated in {gen['generate_seconds']} s"
        f"{', cached' if gen['cached'] else ''})",
        flush=True,
    )
    name = f"bench-import-{args.n}"
    if args.profile_only:
        prof = profile(path, args.n, explain_sql=args.explain)
        benchdb.OUT_DIR.mkdir(exist_ok=True)
        out = benchdb.OUT_DIR / f"import-profile-{datetime.now(UTC):%Y-%m-%d}.json"
        out.write_text(json.dumps(prof, indent=2, ensure_ascii=False, default=str))
        print(f"wrote {out}")
        return
    if args.iie_only:
        iie = iie_run(path, min(args.iie_rows, args.n))
        print(json.dumps(iie, indent=2))
        benchdb.OUT_DIR.mkdir(exist_ok=True)
        out = benchdb.OUT_DIR / f"import-iie-{datetime.now(UTC):%Y-%m-%d}.json"
        out.write_text(json.dumps(iie, indent=2, ensure_ascii=False))
        print(f"wrote {out}")
        return
    report: dict = {"n": args.n, "file": {**gen, "path": str(path)}, "dataset": name}
    media = Path(tempfile.mkdtemp(prefix="casefile-bench-import-"))
    try:
        report["delete_seconds"] = round(delete_dataset(name), 1)
        spy = media / "py-spy.txt" if args.py_spy else None
        if args.py_spy and not (VENV_BIN / "py-spy").exists():
            subprocess.run([str(VENV_BIN / "pip"), "install", "-q", "py-spy"], check=True)
        first = run_command(path, name, media, py_spy=spy)
        second = run_command(path, name, media)
        report["first"], report["second"] = first, second
        if spy is not None and spy.exists():
            report["py_spy"] = py_spy_summary(spy)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM entities_shipment s JOIN entities_dataset d"
            " ON d.id = s.dataset_id WHERE d.name = %s",
            [name],
        )
        report["shipments_stored"] = cursor.fetchone()[0]
    report["parties"] = party_duplicates(name)
    print(
        f"parties: {report['parties']['parties_seen']:,} companies in the file;"
        f" {report['parties']['duplicate_entities']:,} duplicate entities (a company's spellings"
        f" on more than one entity); {report['parties']['merged_entities']:,} entities merging"
        " companies of different names",
        flush=True,
    )
    report["copy"] = psql_copy(path)
    if not args.no_iie:
        try:
            import import_export  # noqa: F401
        except ImportError:
            subprocess.run(
                [str(VENV_BIN / "pip"), "install", "-q", "django-import-export"], check=True
            )
        report["iie"] = iie_run(path, min(args.iie_rows, args.n))

    ours = first["wall_seconds"]
    rows_s = first["rows_read"] / ours
    iie = report.get("iie")
    iie_full = iie["seconds"] * args.n / iie["rows"] if iie else None
    vs_iie = iie_full / ours if iie else None
    vs_copy = ours / report["copy"]["seconds"]
    goals = {
        f"< {GOAL_SECONDS:.0f} s": ours < GOAL_SECONDS,
        f"< {GOAL_RSS_MB:.0f} MB": first["peak_rss_mb"] < GOAL_RSS_MB,
        f">= {GOAL_VS_IIE:.0f}x django-import-export": vs_iie >= GOAL_VS_IIE if iie else None,
        f"within {GOAL_VS_COPY:.0f}x of COPY": vs_copy <= GOAL_VS_COPY,
    }
    report.update(
        rows_per_second=round(rows_s),
        iie_extrapolated_seconds=round(iie_full, 1) if iie else None,
        ratio_vs_iie=round(vs_iie, 1) if iie else None,
        ratio_vs_copy=round(vs_copy, 2),
        goals=goals,
    )
    fmt = lambda v, spec=",.1f": "–" if v is None else format(v, spec)  # noqa: E731
    print()
    print(f"| {args.n:,} rows ({gen['size_bytes'] / 1e6:.0f} MB, cp1251) | figure |")
    print("| --- | ---: |")
    print(f"| our import, wall s (fresh) | {ours:.1f} |")
    print(f"| our import, rows/s | {rows_s:,.0f} |")
    print(f"| our import, peak RSS MB | {first['peak_rss_mb']:.0f} |")
    print(
        f"| second run (imported {second['imported']:,}, updated {second['updated']:,},"
        f" unchanged {second['unchanged']:,}), wall s | {second['wall_seconds']:.1f} |"
    )
    print(f"| second run, peak RSS MB | {second['peak_rss_mb']:.0f} |")
    print(f"| psql \\copy into a bare table, s | {report['copy']['seconds']:.1f} |")
    if iie:
        print(f"| django-import-export {iie['rows']:,} rows, s | {iie['seconds']:.1f} |")
        print(f"| django-import-export extrapolated to {args.n:,}, s | {fmt(iie_full)} |")
        print(f"| ours vs django-import-export | {fmt(vs_iie)}x |")
    print(f"| ours vs bare COPY | {vs_copy:.2f}x |")
    print()
    for goal, met in goals.items():
        print(f"  {goal}: {'met' if met else 'not measured' if met is None else 'MISSED'}")
    print(
        f"  fresh run: read {first['rows_read']:,}, imported {first['imported']:,}, rejected"
        f" {first['rejected']:,}, new entities {first['entities_created']:,},"
        f" job {first['job_seconds']} s, user {first['user_seconds']} s,"
        f" sys {first['system_seconds']} s"
    )
    if "py_spy" in report:
        print("py-spy, fresh run, inclusive share of samples (idle included):")
        for frame, pct in report["py_spy"]["inclusive"][:20]:
            print(f"  {pct:5.1f}%  {frame}")
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"import-{datetime.now(UTC):%Y-%m-%d}.json"

    def write() -> None:
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        print(f"wrote {out}", flush=True)

    write()  # before the profile, which takes as long as another import
    missed = not (goals[f"< {GOAL_SECONDS:.0f} s"] and goals[f"< {GOAL_RSS_MB:.0f} MB"])
    if missed or args.profile:
        report["profile"] = profile(path, args.n, explain_sql=args.explain)
        write()


if __name__ == "__main__":
    main()
