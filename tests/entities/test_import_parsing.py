"""Reading, mapping and parsing import files: real sample files written to tmp_path."""

import datetime
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from entities.importing import parse as parse_module
from entities.importing.mapping import auto_mapping, missing_required, normalize_header
from entities.importing.parse import (
    Parser,
    parse_country,
    parse_currency,
    parse_date,
    parse_hs_code,
)
from entities.importing.readers import UnreadableFile, estimate_rows, open_table, preview
from entities.importing.types import CompanyRow, Mapping, Reject, ShipmentRow

RUSSIAN_HEADER = (
    "дата;экспортер;получатель;код ТН ВЭД;наименование товара;количество;стоимость;валюта;"
    "страна происхождения"
)


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))
    return path


def shipments_parser(table, **mapping):
    return Parser(
        "shipments",
        Mapping(columns=auto_mapping(table.headers, "shipments"), **mapping),
        table.headers,
    )


def parse_all(table, parser=None):
    parser = parser or shipments_parser(table)
    return [parser.parse(line, values) for line, values in table.rows()]


# --- reading ----------------------------------------------------------------------------------


def test_utf8_with_bom_comma_csv(tmp_path):
    path = write(
        tmp_path,
        "trade.csv",
        "\ufeffdate,hs_code,exporter,value,currency\r\n"
        "2022-05-01,854231,Elektronik Handel Vogt GmbH,1234.56,EUR\r\n"
        '2022-05-02,8542.31,"Vogt, Timur",10,usd\r\n',
    )
    table = open_table(path)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8-sig", ",")
    assert table.headers == ["date", "hs_code", "exporter", "value", "currency"]
    first, second = parse_all(table)
    assert first.line == 2
    assert first.date == datetime.date(2022, 5, 1)
    assert first.value == Decimal("1234.56")
    assert first.exporter_norm == "elektronik handel vogt"
    assert (second.line, second.hs_code, second.exporter, second.currency) == (
        3,
        "854231",
        "Vogt, Timur",
        "USD",
    )


def test_windows_1251_semicolon_csv_with_russian_headers(tmp_path):
    content = (
        RUSSIAN_HEADER + "\r\n"
        "01.05.2022;ТОО «Аспан Арба»;ООО «Скай Механикс»;8542 31 000 0;"
        "Микросхемы интегральные;1 500;1 234 567,89;долл;Китай\r\n"
        "15.06.2022;ТОО «Аспан Арба»;ООО «Скай Механикс»;8542310000;Процессоры;"
        "12,5;2\xa0500,00;руб;Германия\r\n"
    )
    table = open_table(write(tmp_path, "dt.csv", content, encoding="cp1251"))
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    mapping = auto_mapping(table.headers, "shipments")
    assert mapping == {
        "date": "дата",
        "exporter": "экспортер",
        "importer": "получатель",
        "origin_country": "страна происхождения",
        "hs_code": "код ТН ВЭД",
        "description": "наименование товара",
        "quantity": "количество",
        "value": "стоимость",
        "currency": "валюта",
    }
    first, second = parse_all(table)
    assert first == ShipmentRow(
        line=2,
        date=datetime.date(2022, 5, 1),
        hs_code="8542310000",
        exporter="ТОО «Аспан Арба»",
        exporter_norm="aspan arba",
        exporter_keys=first.exporter_keys,
        importer="ООО «Скай Механикс»",
        importer_norm="skay mekhaniks",
        importer_keys=first.importer_keys,
        origin_country="CN",
        description="Микросхемы интегральные",
        quantity=Decimal("1500"),
        value=Decimal("1234567.89"),
        currency="USD",
        import_key=first.import_key,
    )
    assert first.import_key.startswith("sha:")
    assert (second.line, second.quantity, second.value, second.currency) == (
        3,
        Decimal("12.5"),
        Decimal("2500"),
        "RUB",
    )
    assert second.origin_country == "DE"


def test_tab_separated(tmp_path):
    path = write(tmp_path, "t.tsv", "date\ths_code\tvalue\tcurrency\n01/05/2022\t8542\t1,5\tKZT\n")
    table = open_table(path)
    assert table.delimiter == "\t"
    (row,) = parse_all(table)
    assert (row.date, row.value, row.currency) == (datetime.date(2022, 5, 1), Decimal("1.5"), "KZT")


def test_pipe_separated_with_commas_inside_values(tmp_path):
    path = write(
        tmp_path,
        "p.txt",
        "date|hs_code|description\n2022-01-01|8542|chips, processors, memory\n"
        "2022-01-02|8471|laptops, tablets\n",
    )
    table = open_table(path)
    assert table.delimiter == "|"
    assert [values for _, values in table.rows()][1] == ["2022-01-02", "8471", "laptops, tablets"]


def test_quoted_fields_with_newlines_keep_physical_line_numbers(tmp_path):
    path = write(
        tmp_path,
        "multi.csv",
        "date,hs_code,description\r\n"
        '2022-05-01,8542,"first line\r\nsecond line\r\nthird line"\r\n'
        "2022-05-02,8471,laptops\r\n"
        "\r\n"
        '2022-05-03,8517,"two\nlines"\n'
        "2022-05-04,8517,phones\n",
    )
    table = open_table(path)
    rows = list(table.rows())
    assert [line for line, _ in rows] == [2, 5, 7, 9]
    assert rows[0][1][2] == "first line\r\nsecond line\r\nthird line"
    assert [row.line for row in parse_all(table)] == [2, 5, 7, 9]


def test_old_mac_line_endings_and_utf16(tmp_path):
    table = open_table(write(tmp_path, "cr.csv", 'a;b\r1;2\r3;"x\ry"\r5;6\r'))
    assert table.delimiter == ";"
    assert list(table.rows()) == [(2, ["1", "2"]), (3, ["3", "x\ry"]), (5, ["5", "6"])]
    # Excel's "Unicode text": UTF-16 with a BOM, tab-separated.
    text = "Дата\tКод ТН ВЭД\r\n01.05.2022\t8542\r\n"
    table = open_table(write(tmp_path, "unicode.txt", text, encoding="utf-16"))
    assert (table.encoding, table.delimiter, table.headers) == (
        "utf-16",
        "\t",
        ["Дата", "Код ТН ВЭД"],
    )
    assert list(table.rows()) == [(2, ["01.05.2022", "8542"])]


def test_xlsx_with_date_and_number_cells(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Дата", "Код ТН ВЭД", "Отправитель", "Количество", "Стоимость", "Валюта"])
    sheet.append([datetime.date(2022, 5, 1), 8542310000, "ТОО «Аспан Арба»", 12.0, 1234.5, "USD"])
    naive = datetime.datetime(2022, 5, 2)  # noqa: DTZ001 - Excel cells have no time zone
    sheet.append([naive, 101210000, "Vogt GmbH", 3, 0.25, "EUR"])
    sheet.append([])
    sheet.append(["02.05.2022", "8542", None, None, None, None])
    path = tmp_path / "book.xlsx"
    workbook.save(path)

    table = open_table(path, filename="book.xlsx")
    assert table.format == "xlsx"
    assert table.headers[:2] == ["Дата", "Код ТН ВЭД"]
    assert preview(table, 2) == [
        (2, ["2022-05-01", "8542310000", "ТОО «Аспан Арба»", "12", "1234.5", "USD"]),
        (3, ["2022-05-02", "101210000", "Vogt GmbH", "3", "0.25", "EUR"]),
    ]
    first, second, third = parse_all(table)
    assert (first.date, first.quantity, first.value) == (
        datetime.date(2022, 5, 1),
        Decimal("12"),
        Decimal("1234.5"),
    )
    assert second.hs_code == "0101210000"  # the leading zero the spreadsheet dropped
    assert third.line == 5  # sheet row numbers: the empty row 4 is skipped, not renumbered
    assert estimate_rows(path) == 4  # sheet rows 2-5


def test_xlsx_first_sheet_empty_uses_the_next(tmp_path):
    workbook = openpyxl.Workbook()
    data = workbook.create_sheet("data")
    data.append([])
    data.append(["name", "country"])
    data.append(["Aspan Arba LLP", "KZ"])
    path = tmp_path / "companies.xlsx"
    workbook.save(path)
    table = open_table(path)
    assert table.headers == ["name", "country"]
    assert list(table.rows()) == [(3, ["Aspan Arba LLP", "KZ"])]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\r\n  \r\n", "no header row"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "this looks like a PDF, not a CSV or XLSX file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this looks like a PNG image, not a CSV or XLSX"),
        (bytes(range(256)) * 4, "this looks like a binary file, not a CSV or XLSX file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "an old Excel .xls"),
        (b'{"id": "x", "schema": "Company"}\n', "this looks like JSON"),
    ],
)
def test_unreadable_files_have_one_clear_reason(tmp_path, content, reason):
    with pytest.raises(UnreadableFile) as error:
        open_table(write(tmp_path, "upload.csv", content))
    assert reason in error.value.reason
    assert "\n" not in error.value.reason


def test_zip_that_is_not_xlsx(tmp_path):
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnreadableFile, match="Word document"):
        open_table(path)


def test_header_only_file_reads_with_zero_rows(tmp_path):
    table = open_table(write(tmp_path, "h.csv", "date;hs_code;value\r\n"))
    assert table.headers == ["date", "hs_code", "value"]
    assert list(table.rows()) == []
    assert preview(table) == []
    assert estimate_rows(table.path) == 0


def test_no_mappable_columns(tmp_path):
    table = open_table(write(tmp_path, "x.csv", "foo,bar,baz\n1,2,3\n"))
    mapping = auto_mapping(table.headers, "shipments")
    assert mapping == {}
    assert missing_required(mapping, "shipments") == ["date", "hs_code"]
    assert missing_required(Mapping(columns={}, defaults={"hs_code": "8542"}), "shipments") == [
        "date"
    ]
    # The mapping screen previews rows before the mapping is complete: every row says why.
    parser = Parser("shipments", Mapping(columns=mapping), table.headers)
    assert parser.parse(2, ["1", "2", "3"]) == [
        Reject(2, "(date)", "", "required: no column is mapped to date"),
        Reject(2, "(hs_code)", "", "required: no column is mapped to hs_code"),
    ]


def test_headers_are_cleaned_and_rows_padded(tmp_path):
    content = "date,,Date,hs_code,value;\n2022-01-01,a,b,8542\n\n2022-01-02,a,b,8542,5,,\n"
    table = open_table(write(tmp_path, "h.csv", content))
    assert table.headers == ["date", "column 2", "Date (2)", "hs_code", "value;"]
    assert list(table.rows()) == [
        (2, ["2022-01-01", "a", "b", "8542", ""]),  # short row padded
        (4, ["2022-01-02", "a", "b", "8542", "5"]),  # blank line skipped, trailing empties cut
    ]


def test_windows_1251_detected_after_a_long_ascii_start(tmp_path):
    ascii_rows = "".join(f"2022-01-01;8542;Vogt GmbH {i}\n" for i in range(5000))
    content = "date;hs_code;exporter\n" + ascii_rows + "2022-01-02;8542;ТОО «Аспан Арба»\n"
    assert len(content) > 64 * 1024
    table = open_table(write(tmp_path, "late.csv", content, encoding="cp1251"))
    assert table.encoding == "cp1251"
    assert list(table.rows())[-1] == (5002, ["2022-01-02", "8542", "ТОО «Аспан Арба»"])


def test_latin_1_file(tmp_path):
    content = "date;hs_code;exporter\n2022-01-01;8542;Müller Großhandel GmbH\n"
    table = open_table(write(tmp_path, "de.csv", content, encoding="latin-1"))
    assert table.encoding in ("cp1252", "latin-1")
    assert next(table.rows())[1][2] == "Müller Großhandel GmbH"


def test_undecodable_bytes_reject_their_row_only(tmp_path):
    good = "2022-01-01;8542;ТОО «Аспан Арба»\n".encode()
    bad = b"2022-01-02;8542;\xd0\xa2\xff\xfe broken\n"
    path = write(tmp_path, "mixed.csv", b"date;hs_code;exporter\n" + good + bad + good)
    table = open_table(path)
    assert table.encoding == "utf-8"
    results = parse_all(table)
    assert isinstance(results[0], ShipmentRow)
    assert isinstance(results[2], ShipmentRow)
    (reject,) = results[1]
    assert (reject.line, reject.column) == (3, "exporter")
    assert "not text" in reject.reason


def test_estimate_rows_of_a_large_csv(tmp_path):
    rows = "".join(f"2022-01-01;8542;{i}\n" for i in range(20_000))
    path = write(tmp_path, "big.csv", "date;hs_code;value\n" + rows)
    assert 18_000 <= estimate_rows(path) <= 22_000


# --- mapping ----------------------------------------------------------------------------------


def test_without_a_destination_column_the_importers_country_is_the_destination():
    headers = ["дата", "получатель", "страна получателя", "страна происхождения", "код ТН ВЭД"]
    mapping = auto_mapping(headers, "shipments")
    assert mapping["importer_country"] == mapping["destination_country"] == "страна получателя"
    assert mapping["origin_country"] == "страна происхождения"
    # A destination column of its own wins.
    mapping = auto_mapping([*headers, "страна назначения"], "shipments")
    assert mapping["destination_country"] == "страна назначения"


def test_auto_mapping_of_russian_customs_headers():
    headers = [
        "Дата декларации",
        "№ декларации",
        "№ товара",
        "Грузоотправитель",
        "Страна отправителя",
        "БИН отправителя",
        "Грузополучатель",
        "ИНН получателя",
        "Страна назначения",
        "Страна отправления",
        "ТН ВЭД",
        "Описание товара",
        "Кол-во",
        "Ед. изм.",
        "Таможенная стоимость, руб.",
        "Валюта",
    ]
    assert auto_mapping(headers, "shipments") == {
        "date": "Дата декларации",
        "declaration_number": "№ декларации",
        "line": "№ товара",
        "exporter": "Грузоотправитель",
        "exporter_country": "Страна отправителя",
        "exporter_id": "БИН отправителя",
        "importer": "Грузополучатель",
        "importer_id": "ИНН получателя",
        "destination_country": "Страна назначения",
        "dispatch_country": "Страна отправления",
        "hs_code": "ТН ВЭД",
        "description": "Описание товара",
        "quantity": "Кол-во",
        "unit": "Ед. изм.",
        "value": "Таможенная стоимость, руб.",
        "currency": "Валюта",
    }


def test_auto_mapping_of_english_and_own_field_names():
    headers = ["Shipper", "CONSIGNEE", "HS Code", "Goods", "Qty", "Amount", "Currency", "Origin"]
    assert auto_mapping(headers, "shipments") == {
        "exporter": "Shipper",
        "importer": "CONSIGNEE",
        "origin_country": "Origin",
        "hs_code": "HS Code",
        "description": "Goods",
        "quantity": "Qty",
        "value": "Amount",
        "currency": "Currency",
    }
    own = ["Declaration-Number", "IMPORTER_COUNTRY", "hs code", "Date", "date (2)"]
    assert auto_mapping(own, "shipments") == {
        "date": "Date",
        "declaration_number": "Declaration-Number",
        "importer_country": "IMPORTER_COUNTRY",
        "destination_country": "IMPORTER_COUNTRY",  # no destination column: the importer's
        "hs_code": "hs code",
    }


def test_auto_mapping_prefers_our_field_name_over_a_synonym():
    assert auto_mapping(["Товар", "description"], "shipments") == {"description": "description"}


def test_auto_mapping_of_company_headers():
    headers = ["Наименование", "Страна", "БИН", "Дата регистрации", "Юридический адрес", "x"]
    assert auto_mapping(headers, "companies") == {
        "name": "Наименование",
        "country": "Страна",
        "registration_number": "БИН",
        "incorporation_date": "Дата регистрации",
        "address": "Юридический адрес",
    }
    assert auto_mapping(["Company number", "Jurisdiction", "Company"], "companies") == {
        "name": "Company",
        "country": "Jurisdiction",
        "registration_number": "Company number",
    }


def test_normalize_header():
    assert normalize_header("  № Декларации ") == "номер декларации"
    assert normalize_header("Ед. изм.") == "ед изм"
    assert normalize_header("Дата_оформления") == "дата оформления"
    assert normalize_header("Отчётный период") == "отчетный период"


# --- parsing ----------------------------------------------------------------------------------


def test_bad_values_are_rejected_and_good_rows_parse(tmp_path):
    long_declaration = "1" * 101
    content = (
        "date;declaration_number;hs_code;quantity;origin_country;value;currency\n"
        "01.05.2022;10702070/010522/0000001;8542;10;KZ;100;USD\n"
        "31.02.2022;;8542;10;KZ;100;USD\n"
        "02.05.2022;;8542;-5;KZ;100;USD\n"
        "03.05.2022;;85A2;1;KZ;100;USD\n"
        "04.05.2022;;8542;1;Narnia;100;USD\n"
        "05.05.2022;;8542;1;KZ;100;USD;extra;more\n"
        f"06.05.2022;{long_declaration};8542;1;KZ;100;USD\n"
        "07.05.2022;;8542;1;Россия;1 000,50;руб\n"
    )
    table = open_table(write(tmp_path, "bad.csv", content))
    results = parse_all(table)
    assert isinstance(results[0], ShipmentRow)
    assert results[0].import_key == "decl:10702070/010522/0000001:"
    assert results[1:7] == [
        [Reject(3, "date", "31.02.2022", "not a real date")],
        [Reject(4, "quantity", "-5", "negative quantity")],
        [Reject(5, "hs_code", "85A2", "HS code must be digits")],
        [Reject(6, "origin_country", "Narnia", "unknown country")],
        [Reject(7, "(row)", "extra | more", "too many fields (9, the header has 7)")],
        [
            Reject(
                8,
                "declaration_number",
                long_declaration,
                "value too long (101 characters, at most 100)",
            )
        ],
    ]
    last = results[7]
    assert (last.line, last.origin_country, last.value, last.currency) == (
        9,
        "RU",
        Decimal("1000.5"),
        "RUB",
    )


def test_all_rejects_of_a_row_are_reported():
    parser = Parser(
        "shipments",
        Mapping(columns={"date": "Дата", "hs_code": "ТН ВЭД", "value": "Стоимость"}),
        ["Дата", "ТН ВЭД", "Стоимость"],
    )
    assert parser.parse(10, ["", "", "-1"]) == [
        Reject(10, "Дата", "", "required"),
        Reject(10, "ТН ВЭД", "", "required"),
        Reject(10, "Стоимость", "-1", "negative value"),
    ]
    assert parser.parse(11, ["2022-01-01", "8542", "5"]) == [
        Reject(11, "Стоимость", "5", "value without a currency")
    ]


def _value_parser(**options):
    return Parser(
        "shipments",
        Mapping(columns={"date": "d", "hs_code": "h", "quantity": "q"}, **options),
        ["d", "h", "q"],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1\xa0234\xa0567,5", "1234567.5"),
        ("1\u2009234,5", "1234.5"),
        ("1\u202f234", "1234"),
        ("12 345", "12345"),
        ("1,234,567", "1234567"),
        ("0,125", "0.125"),
        (",5", "0.5"),
        ("007", "7"),
        ("12.3456", "12.346"),  # rounded to the field's three places
        ("-0", "0"),
    ],
)
def test_decimal_formats(text, expected):
    row = _value_parser().parse(2, ["2022-01-01", "8542", text])
    assert row.quantity == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1,5", "negative quantity"),
        ("abc", "not a number"),
        ("1,2,3", "not a number"),
        ("1e5", "not a number"),
        ("NaN", "not a number"),
        ("1" * 18, "value too long (18 digits before the decimal point, at most 17)"),
    ],
)
def test_bad_decimals(text, reason):
    assert _value_parser().parse(2, ["2022-01-01", "8542", text]) == [Reject(2, "q", text, reason)]


def test_ambiguous_decimal_follows_the_mapping_then_the_file():
    assert _value_parser().parse(2, ["2022-01-01", "8542", "1,234"]).quantity == Decimal("1.234")
    english = _value_parser(decimal_comma=False)
    assert english.parse(2, ["2022-01-01", "8542", "1,234"]).quantity == Decimal("1234")
    learning = _value_parser()
    learning.parse(2, ["2022-01-01", "8542", "2,500.75"])  # comma groups thousands here
    assert learning.parse(3, ["2022-01-01", "8542", "1,234"]).quantity == Decimal("1234")
    assert learning.parse(4, ["2022-01-01", "8542", "1.234"]).quantity == Decimal("1.234")


def test_value_too_long_for_value_field():
    parser = Parser(
        "shipments",
        Mapping(columns={"date": "d", "hs_code": "h", "value": "v", "currency": "c"}),
        ["d", "h", "v", "c"],
    )
    assert parser.parse(2, ["2022-01-01", "8542", "9" * 19, "USD"]) == [
        Reject(2, "v", "9" * 19, "value too long (19 digits before the decimal point, at most 18)")
    ]


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("2022-05-01", "auto", datetime.date(2022, 5, 1)),
        ("01.05.2022", "auto", datetime.date(2022, 5, 1)),
        ("01/05/2022", "auto", datetime.date(2022, 5, 1)),
        ("01/05/2022", "dmy", datetime.date(2022, 5, 1)),
        ("01/05/2022", "mdy", datetime.date(2022, 1, 5)),
        ("2022-05-01", "mdy", datetime.date(2022, 5, 1)),
        ("2022-05-01 13:45:00", "iso", datetime.date(2022, 5, 1)),
        ("01.05.2022 13:45", "auto", datetime.date(2022, 5, 1)),
        ("31.02.2022", "auto", "not a real date"),
        ("01.05.2022", "iso", "not a date (use YYYY-MM-DD)"),
        ("May 1st", "auto", "not a date (use YYYY-MM-DD or DD.MM.YYYY)"),
        ("01.05.0022", "auto", "not a plausible year (22)"),
    ],
)
def test_dates(text, date_format, expected):
    assert parse_date(text, date_format) == expected


def test_month_first_date_read_day_first_says_so():
    assert parse_date("05/31/2022").startswith("not a real date")
    assert "MM/DD/YYYY" in parse_date("05/31/2022")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("KZ", "KZ"),
        ("kz", "KZ"),
        ("Kazakhstan", "KZ"),
        ("KAZ", "KZ"),
        ("398", "KZ"),
        ("Россия", "RU"),
        ("Российская Федерация", "RU"),
        ("РОССИЯ", "RU"),
        ("Казахстан", "KZ"),
        ("Республика Казахстан", "KZ"),
        ("Германия", "DE"),
        ("Китай", "CN"),
        ("Киргизия", "KG"),
        ("Кыргызстан", "KG"),
        ("Узбекистан", "UZ"),
        ("Беларусь", "BY"),
        ("Турция", "TR"),
        ("ОАЭ", "AE"),
        ("США", "US"),
        ("Соединённые Штаты", "US"),
        ("Қазақстан", "KZ"),
        ("-", ""),
    ],
)
def test_countries(text, code):
    assert parse_country(text) == code


def test_unknown_country():
    assert parse_country("Narnia") == "unknown country"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("руб", "RUB"),
        ("рубль", "RUB"),
        ("RUR", "RUB"),
        ("долл", "USD"),
        ("евро", "EUR"),
        ("тенге", "KZT"),
        ("643", "RUB"),
        ("Российский рубль", "RUB"),
    ],
)
def test_currencies(text, code):
    assert parse_currency(text) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8542.31", "854231"),
        ("8542 31 000 0", "8542310000"),
        ("85", "85"),
        ("101210000", "0101210000"),
        ("85A2", "HS code must be digits"),
        ("12345678901", "HS code must have 2 to 10 digits"),
    ],
)
def test_hs_codes(text, expected):
    assert parse_hs_code(text) == expected


def test_text_field_limits():
    parser = Parser(
        "shipments",
        Mapping(columns={"date": "d", "hs_code": "h", "unit": "u", "description": "t"}),
        ["d", "h", "u", "t"],
    )
    assert parser.parse(2, ["2022-01-01", "8542", "u" * 31, "x" * 10_001]) == [
        Reject(2, "t", "x" * 500 + "…", "value too long (10001 characters, at most 10000)"),
        Reject(2, "u", "u" * 31, "value too long (31 characters, at most 30)"),
    ]


def test_party_names_are_cleaned_and_their_forms_cached(monkeypatch):
    calls = []
    real = parse_module.name_forms

    def counting(name):
        calls.append(name)
        return real(name)

    monkeypatch.setattr(parse_module, "name_forms", counting)
    headers = ["date", "hs_code", "exporter", "exporter_id", "importer"]
    parser = Parser("shipments", Mapping(columns={h: h for h in headers}), headers)
    for line in range(2, 102):
        row = parser.parse(
            line, ["2022-01-01", "8542", "  ТОО   «Аспан Арба» ", "940 140 000 385", ""]
        )
        assert row.exporter == "ТОО «Аспан Арба»"
        assert (row.exporter_norm, row.exporter_id) == ("aspan arba", "940140000385")
        assert (row.importer, row.importer_norm) == ("", "")
    assert calls == ["ТОО «Аспан Арба»"]


def test_import_keys():
    headers = ["date", "declaration_number", "line", "hs_code", "value", "currency"]
    parser = Parser("shipments", Mapping(columns={h: h for h in headers}), headers)
    declared = parser.parse(2, ["2022-01-01", "10702070/010122/0000001", "003", "8542", "", ""])
    assert declared.import_key == "decl:10702070/010122/0000001:3"
    assert declared.line_no == "3"
    first = parser.parse(3, ["2022-01-01", "", "", "8542", "1 000,00", "USD"])
    again = parser.parse(900, ["01.01.2022", "", "", "8542.", "1000", "usd"])
    other = parser.parse(4, ["2022-01-01", "", "", "8542", "1001", "USD"])
    assert first.import_key.startswith("sha:")
    assert first.import_key == again.import_key  # same content, another line and spelling
    assert first.import_key != other.import_key
    huge = parser.parse(5, ["2022-01-01", "9" * 100, "12", "8542", "", ""])
    assert huge.import_key.startswith("decl:")
    assert len(huge.import_key) <= 100


def test_defaults_fill_fields_without_a_column():
    parser = Parser(
        "shipments",
        Mapping(
            columns={"date": "date", "hs_code": "hs", "value": "value"},
            defaults={"currency": "USD", "destination_country": "Казахстан"},
        ),
        ["date", "hs", "value"],
    )
    row = parser.parse(2, ["2022-01-01", "8542", "5"])
    assert (row.currency, row.destination_country) == ("USD", "KZ")


def test_mapped_column_missing_from_the_file():
    parser = Parser(
        "shipments",
        Mapping(columns={"date": "Дата", "hs_code": "hs", "exporter": "Экспортер"}),
        ["Дата", "hs"],
    )
    assert parser.missing_columns == ["Экспортер"]
    assert isinstance(parser.parse(2, ["2022-01-01", "8542"]), ShipmentRow)


# --- companies --------------------------------------------------------------------------------


def _companies(headers, rows, **mapping_options):
    mapping = Mapping(columns=auto_mapping(headers, "companies"), **mapping_options)
    parser = Parser("companies", mapping, headers)
    return [parser.parse(line, values) for line, values in enumerate(rows, start=2)]


def test_company_rows_guess_identifier_schemes():
    kz, ru, ogrn, other, bad_guess = _companies(
        ["name", "country", "registration_number", "incorporation_date", "address"],
        [
            ["ТОО «Аспан Арба»", "Казахстан", "9401 4000 0385", "04.2022", "Алматы,  пр. Абая 1"],
            ["ООО «Скай Механикс»", "RU", "7707083893", "2015-03-01", ""],
            ["ПАО Сбербанк", "Россия", "1027700132195", "20.06.1991", ""],
            ["Elektronik Handel Vogt GmbH", "DE", "HRB 12345", "1999", ""],
            ["ТОО Бета", "KZ", "940140000386", "", ""],
        ],
    )
    assert kz == CompanyRow(
        line=2,
        name="ТОО «Аспан Арба»",
        norm="aspan arba",
        keys=kz.keys,
        country="KZ",
        registration_number="940140000385",
        scheme="kz_bin",
        incorporation_date="2022-04",
        address="Алматы, пр. Абая 1",
        import_key="id:kz_bin:940140000385",
    )
    assert (ru.scheme, ru.registration_number, ru.incorporation_date) == (
        "ru_inn",
        "7707083893",
        "2015-03-01",
    )
    assert (ogrn.scheme, ogrn.incorporation_date) == ("ru_ogrn", "1991-06-20")
    assert (other.scheme, other.registration_number, other.import_key) == (
        "registration",
        "HRB 12345",
        "id:registration:DE:HRB 12345",
    )
    # A number that fails the guessed scheme is kept as a plain registration number.
    assert (bad_guess.scheme, bad_guess.registration_number) == ("registration", "940140000386")


def test_company_with_a_given_scheme_is_validated():
    good, bad, unknown = _companies(
        ["name", "registration_number", "scheme"],
        [
            ["Aspan Arba LLP", "940140000385", "kz_bin"],
            ["Beta LLP", "940140000386", "Kazakhstan BIN"],
            ["Gamma", "123", "martian"],
        ],
    )
    assert (good.scheme, good.registration_number) == ("kz_bin", "940140000385")
    assert bad == [
        Reject(
            3,
            "registration_number",
            "940140000386",
            "Not a valid Kazakhstan BIN: the check digit does not match.",
        )
    ]
    assert unknown == [Reject(4, "scheme", "martian", "unknown scheme")]


def test_company_scheme_from_the_header():
    (row,) = _companies(["Наименование", "ИНН"], [["ООО «Скай Механикс»", "7707083893"]])
    assert (row.scheme, row.registration_number) == ("ru_inn", "7707083893")


def test_company_rejects():
    blank, bad_date, bad_country, too_many = _companies(
        ["name", "country", "incorporation_date"],
        [
            ["  ", "KZ", ""],
            ["Alpha", "KZ", "31.02.2022"],
            ["Beta", "Narnia", "2022"],
            ["Gamma", "KZ", "2022", "extra"],
        ],
    )
    assert blank == [Reject(2, "name", "", "required")]
    assert bad_date == [Reject(3, "incorporation_date", "31.02.2022", "not a real date")]
    assert bad_country == [Reject(4, "country", "Narnia", "unknown country")]
    assert too_many == [Reject(5, "(row)", "extra", "too many fields (4, the header has 3)")]


def test_company_without_identifier_is_keyed_by_name_and_country():
    first, same, elsewhere = _companies(
        ["name", "country"],
        [["ТОО «Аспан Арба»", "KZ"], ["TOO Aspan Arba", "Казахстан"], ["Aspan Arba", "RU"]],
    )
    assert first.import_key.startswith("name:")
    assert first.import_key == same.import_key
    assert first.import_key != elsewhere.import_key


# --- NUL bytes (issue 10, item 6) ---------------------------------------------------------------


def test_item6_nul_bytes_reject_their_row_in_every_text_field():
    """PostgreSQL text (and COPY) cannot hold U+0000: every field that reaches the database is
    checked here, at the parse step, and the reject itself is storable."""
    headers = list(parse_module.FIELDS["shipments"])
    parser = Parser("shipments", Mapping(columns={h: h for h in headers}), headers)
    good = {
        "date": "2022-01-01", "declaration_number": "10702070/010122/0000001", "line": "1",
        "exporter": "Nordlicht GmbH", "exporter_country": "DE", "exporter_id": "DE136695976",
        "importer": "ТОО «Аспан Арба»", "importer_country": "KZ", "importer_id": "940140000385",
        "origin_country": "DE", "destination_country": "KZ", "dispatch_country": "DE",
        "hs_code": "8542", "description": "Микросхемы", "quantity": "10", "unit": "шт",
        "value": "100", "currency": "USD",
    }  # fmt: skip
    assert isinstance(parser.parse(2, [good[h] for h in headers]), ShipmentRow)
    for field in headers:
        values = [good[h] + "\x00" if h == field else good[h] for h in headers]
        assert parser.parse(7, values) == [
            Reject(7, field, good[field] + "␀", "contains a NUL byte")
        ], field
    company_headers = list(parse_module.FIELDS["companies"])
    mapping = Mapping(columns={h: h for h in company_headers})
    companies = Parser("companies", mapping, company_headers)
    row = {"name": "Aspan Arba LLP", "country": "KZ", "registration_number": "12\x0034",
           "scheme": "", "incorporation_date": "2022", "address": "Алматы"}  # fmt: skip
    assert companies.parse(3, [row[h] for h in company_headers]) == [
        Reject(3, "registration_number", "12␀34", "contains a NUL byte")
    ]


def test_item6_nul_byte_in_a_header_a_default_or_an_unread_column():
    headers = ["da\x00te", "hs", "notes"]
    parser = Parser("shipments", Mapping(columns={"date": "da\x00te", "hs_code": "hs"}), headers)
    # The column name of a reject is stored too.
    assert parser.parse(2, ["bad", "8542", ""]) == [
        Reject(2, "da␀te", "bad", "not a date (use YYYY-MM-DD or DD.MM.YYYY)")
    ]
    # A column no field reads never reaches the database: its NUL does not matter.
    assert isinstance(parser.parse(3, ["2022-01-01", "8542", "a\x00b"]), ShipmentRow)
    with_default = Parser(
        "shipments",
        Mapping(columns={"date": "d", "hs_code": "hs"}, defaults={"unit": "k\x00g"}),
        ["d", "hs"],
    )
    assert with_default.parse(2, ["2022-01-01", "8542"]) == [
        Reject(2, "(default)", "k␀g", "contains a NUL byte")
    ]
