"""Identifier validation: published examples are accepted, and every rejection explains itself."""

import pickle

import pytest
from stdnum import lei as stdnum_lei
from stdnum.ru import ogrn as stdnum_ogrn

from entities.identifiers import (
    FTM_PROPERTY,
    REGISTRATION_MAX_LENGTH,
    InvalidIdentifier,
    Scheme,
    clean_identifier,
    kz_bin_iin_check_digit,
    kz_bin_iin_is_valid,
)

PUBLISHED_BINS = ["940140000385", "990140004654"]


def with_kz_check_digit(first_eleven: str) -> str:
    """Append the BIN/IIN check digit computed by our helper."""
    check = kz_bin_iin_check_digit(first_eleven)
    assert check is not None, f"{first_eleven} admits no check digit"
    return f"{first_eleven}{check}"


def lei_with_check_digits(base: str) -> str:
    """Append ISO 17442 check digits (ISO 7064 mod 97-10), computed independently of stdnum."""
    as_number = int("".join(str(int(char, 36)) for char in base + "00"))
    return f"{base}{98 - as_number % 97:02d}"


def ogrnip_with_remainder(remainder: int) -> str:
    """A 15-digit OGRNIP whose first 14 digits leave the given remainder mod 13."""
    for serial in range(13):
        first = f"3047700{serial:07d}"
        if int(first) % 13 == remainder:
            return f"{first}{remainder % 10}"
    raise AssertionError("unreachable: 13 consecutive numbers cover every remainder")


VALID_IIN = with_kz_check_digit("85031530123")  # born 1985-03-15, man born in the 20th century


def assert_invalid(scheme: str, value: str, *fragments: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as excinfo:
        clean_identifier(scheme, value)
    error = excinfo.value
    assert error.scheme == scheme
    text = str(error)
    for fragment in fragments:
        assert fragment in text, text
    return error


VALID = [
    # Kazakhstan
    (Scheme.KZ_BIN, "940140000385", "940140000385"),
    (Scheme.KZ_BIN, "990140004654", "990140004654"),
    (Scheme.KZ_BIN, " 9401 4000 0385 ", "940140000385"),
    (Scheme.KZ_BIN, "990140-004654", "990140004654"),
    (Scheme.KZ_IIN, VALID_IIN, VALID_IIN),
    (Scheme.KZ_IIN, "850315301801", "850315301801"),  # check digit from the second weights
    (Scheme.KZ_IIN, with_kz_check_digit("85031500123"), with_kz_check_digit("85031500123")),
    # Russia
    (Scheme.RU_INN, "7707083893", "7707083893"),
    (Scheme.RU_INN, "500100732259", "500100732259"),
    (Scheme.RU_INN, "7707 083 893", "7707083893"),
    (Scheme.RU_OGRN, "1027700132195", "1027700132195"),
    (Scheme.RU_OGRN, "1022200525819", "1022200525819"),
    (Scheme.RU_OGRN, "385768585948949", "385768585948949"),
    (Scheme.RU_KPP, "773601001", "773601001"),
    (Scheme.RU_KPP, "7736ab001", "7736AB001"),
    (Scheme.RU_KPP, "7736 01 001", "773601001"),
    # LEI
    (Scheme.LEI, "529900T8BM49AURSDO55", "529900T8BM49AURSDO55"),
    (Scheme.LEI, "5299 00t8 bm49 aurs do55", "529900T8BM49AURSDO55"),
    (Scheme.LEI, lei_with_check_digits("969500ABCDEFGH1234"), None),
    # Germany
    (Scheme.DE_VAT, "DE136695976", "DE136695976"),
    (Scheme.DE_VAT, "136695976", "DE136695976"),
    (Scheme.DE_VAT, "de 136.695.976", "DE136695976"),
    (Scheme.DE_REGISTER, "Aachen HRB 44123", "Aachen HRB 44123"),
    (Scheme.DE_REGISTER, "Aachen HRA 11223", "Aachen HRA 11223"),
    (Scheme.DE_REGISTER, "HRB 44123 Aachen", "Aachen HRB 44123"),
    (Scheme.DE_REGISTER, "  aachen   hrb 44123 ", "Aachen HRB 44123"),
    (Scheme.DE_REGISTER, "Frankfurt/Oder GnR 11223", "Frankfurt/Oder GnR 11223"),
    (Scheme.DE_REGISTER, "Berlin HRB 12345 b", "Berlin (Charlottenburg) HRB 12345 B"),
    (Scheme.DE_REGISTER, "München HRB 1234", "München HRB 1234"),
    # United Kingdom
    (Scheme.GB_COMPANY, "SC123456", "SC123456"),
    (Scheme.GB_COMPANY, "sc 123456", "SC123456"),
    (Scheme.GB_COMPANY, "OC300001", "OC300001"),
    (Scheme.GB_COMPANY, "123456", "00123456"),
    (Scheme.GB_COMPANY, "01234567", "01234567"),
    (Scheme.GB_COMPANY, "12345678", "12345678"),
    # EU VAT
    (Scheme.EU_VAT, "DE136695976", "DE136695976"),
    (Scheme.EU_VAT, "de 136 695 976", "DE136695976"),
    (Scheme.EU_VAT, "FR 40 303 265 045", "FR40303265045"),
    (Scheme.EU_VAT, "NL004495445B01", "NL004495445B01"),
    (Scheme.EU_VAT, "EL094259216", "EL094259216"),
    (Scheme.EU_VAT, "GR094259216", "EL094259216"),
    # free-form
    (Scheme.REGISTRATION, "  Reg. No.\t 12/345 \n", "Reg. No. 12/345"),
    (Scheme.REGISTRATION, "x" * REGISTRATION_MAX_LENGTH, "x" * REGISTRATION_MAX_LENGTH),
]


@pytest.mark.parametrize(("scheme", "value", "expected"), VALID)
def test_valid_identifiers_are_cleaned_to_their_canonical_form(scheme, value, expected):
    cleaned = clean_identifier(scheme, value)
    if expected is not None:
        assert cleaned == expected
    assert clean_identifier(scheme, cleaned) == cleaned  # canonical forms are stable


def test_scheme_may_be_passed_by_keyword_as_plain_string():
    assert clean_identifier(scheme="kz_bin", value="940140000385") == "940140000385"


# --- Kazakhstan -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", PUBLISHED_BINS)
def test_published_bins_are_valid(number):
    assert kz_bin_iin_is_valid(number)
    assert kz_bin_iin_check_digit(number[:11]) == int(number[11])
    assert kz_bin_iin_check_digit(number) == int(number[11])
    assert clean_identifier(Scheme.KZ_BIN, number) == number


@pytest.mark.parametrize(
    "number",
    [f"{bin_[:11]}{d}" for bin_ in PUBLISHED_BINS for d in "0123456789" if d != bin_[11]],
)
def test_published_bin_with_another_last_digit_is_invalid(number):
    assert not kz_bin_iin_is_valid(number)
    error = assert_invalid(Scheme.KZ_BIN, number, "check digit", "Kazakhstan BIN")
    assert str(error) == "Not a valid Kazakhstan BIN: the check digit does not match."


def test_kz_check_digit_falls_back_to_the_second_weights():
    # Weights 1..11 give 175 % 11 == 10; weights 3..11,1,2 give 155 % 11 == 1.
    assert kz_bin_iin_check_digit("85031530180") == 1
    assert kz_bin_iin_is_valid("850315301801")


def test_kz_number_with_no_possible_check_digit_is_invalid():
    # Both weightings give 164 % 11 == 10, so no twelfth digit can make it valid.
    assert kz_bin_iin_check_digit("85031530260") is None
    for digit in "0123456789":
        assert not kz_bin_iin_is_valid(f"85031530260{digit}")
        assert_invalid(Scheme.KZ_IIN, f"85031530260{digit}", "check digit")


@pytest.mark.parametrize("number", ["", "8503153012", "850315301234X", "85031530123A"])
def test_kz_check_digit_helper_rejects_malformed_input(number):
    with pytest.raises(ValueError):
        kz_bin_iin_check_digit(number)


@pytest.mark.parametrize("number", ["", "94014000038", "9401400003855", "94014000038A", "x"])
def test_kz_is_valid_is_false_for_malformed_input(number):
    assert not kz_bin_iin_is_valid(number)


def test_kz_is_valid_accepts_separators():
    assert kz_bin_iin_is_valid("940140 000385")


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("94014000038", ("wrong length", "11 digits instead of 12")),
        ("9401400003851", ("wrong length", "13 digits instead of 12")),
        ("94014000038O", ("only digits", "'O'")),
        ("BIN940140000", ("only digits",)),
        ("٩٤٠١٤٠٠٠٠٣٨٥", ("only digits",)),  # Arabic-Indic digits are not ASCII digits
        (with_kz_check_digit("94017000038"), ("digit 5", "entity type 4, 5 or 6", "not 7")),
        (with_kz_check_digit("94014500038"), ("digit 6", "not 5")),
        (with_kz_check_digit("94134000038"), ("digits 3-4", "month", "not 13")),
        (with_kz_check_digit("94004000038"), ("digits 3-4", "not 00")),
        (VALID_IIN, ("digit 5", "entity type")),  # a person's IIN is not a BIN
    ],
)
def test_invalid_bins(value, fragments):
    assert_invalid(Scheme.KZ_BIN, value, "Kazakhstan BIN", *fragments)


def test_bin_with_type_digit_7_fails_only_on_the_type_rule():
    number = with_kz_check_digit("94017000038")
    assert kz_bin_iin_is_valid(number)  # the check digit is right...
    assert_invalid(Scheme.KZ_BIN, number, "entity type")  # ...the entity type is not


def test_constructed_iin_is_valid():
    assert kz_bin_iin_is_valid(VALID_IIN)
    assert clean_identifier(Scheme.KZ_IIN, VALID_IIN) == VALID_IIN


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        (with_kz_check_digit("85131530123"), ("birth month", "not 13")),
        (with_kz_check_digit("85000030123"), ("birth month", "not 00")),
        (with_kz_check_digit("85033230123"), ("birth day", "not 32")),
        (with_kz_check_digit("85030030123"), ("birth day", "not 00")),
        (with_kz_check_digit("85031570123"), ("digit 7", "century", "not 7")),
        (VALID_IIN[:11] + str((int(VALID_IIN[11]) + 1) % 10), ("check digit",)),
        (VALID_IIN[:11], ("wrong length",)),
        ("85O315301235", ("only digits",)),
    ],
)
def test_invalid_iins(value, fragments):
    assert_invalid(Scheme.KZ_IIN, value, "Kazakhstan IIN", *fragments)


# --- Russia -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("7707083894", ("check digit does not match",)),
        ("500100732258", ("check digits do not match",)),
        ("500100732269", ("check digits do not match",)),
        ("770708389", ("wrong length", "9 digits instead of 10 or 12")),
        ("77070838931", ("wrong length", "11 digits")),
        ("77070838A3", ("only digits",)),
    ],
)
def test_invalid_inns(value, fragments):
    assert_invalid(Scheme.RU_INN, value, "Russia INN", *fragments)


@pytest.mark.parametrize("remainder", [10, 11, 12])
def test_ogrnip_keeps_the_last_digit_of_a_two_digit_remainder(remainder):
    number = ogrnip_with_remainder(remainder)
    assert int(number[:14]) % 13 == remainder
    assert number[14] == str(remainder - 10)
    assert not stdnum_ogrn.is_valid(number)  # the stdnum quirk this rule works around
    assert clean_identifier(Scheme.RU_OGRN, number) == number
    wrong = number[:14] + str((int(number[14]) + 1) % 10)
    assert_invalid(Scheme.RU_OGRN, wrong, "check digit")


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("1027700132196", ("check digit does not match",)),
        ("0027700132195", ("cannot start with 0",)),
        ("385768585948948", ("check digit does not match",)),
        ("585768585948949", ("must start with 3 or 4", "not 5")),
        ("10277001321950", ("wrong length", "14 digits instead of 13 or 15")),
        ("102770013219", ("wrong length",)),
        ("1027700I32195", ("only digits",)),
    ],
)
def test_invalid_ogrns(value, fragments):
    assert_invalid(Scheme.RU_OGRN, value, "Russia OGRN / OGRNIP", *fragments)


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("77360100", ("wrong length", "8 characters instead of 9")),
        ("7736010011", ("wrong length",)),
        ("77AB01001", ("4 digits",)),
        ("7736AB0X1", ("3 digits",)),
        ("7736АВ001", ("Latin letters",)),  # Cyrillic А and В
    ],
)
def test_invalid_kpps(value, fragments):
    assert_invalid(Scheme.RU_KPP, value, "Russia KPP", *fragments)


# --- LEI --------------------------------------------------------------------------------------


def test_published_lei_is_valid_for_stdnum_too():
    assert stdnum_lei.is_valid("529900T8BM49AURSDO55")
    assert clean_identifier(Scheme.LEI, "529900T8BM49AURSDO55") == "529900T8BM49AURSDO55"


def test_computed_lei_is_valid_for_stdnum_too():
    number = lei_with_check_digits("969500ABCDEFGH1234")
    assert stdnum_lei.is_valid(number)
    assert clean_identifier(Scheme.LEI, number) == number


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("529900T8BM49AURSDO56", ("check digits do not match",)),
        ("529900T8BM49AURSOD55", ("check digits do not match",)),  # transposed letters
        ("01", ("wrong length", "2 characters instead of 20")),  # passes stdnum's mod-97 check
        ("529900T8BM49AURSDO5", ("wrong length",)),
        ("529900T8BM49AURSDO5X", ("2 check digits",)),
        ("529900T8BM49AURS_O55", ("letters",)),
    ],
)
def test_invalid_leis(value, fragments):
    assert_invalid(Scheme.LEI, value, "Not a valid LEI", *fragments)


# --- Germany ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("DE136695977", ("check digit does not match",)),
        ("DE13669597", ("wrong length", "8 digits instead of 9")),
        ("DE1366959761", ("wrong length",)),
        ("DE036695976", ("cannot be 0",)),
        ("DEABC", ("only digits",)),
        ("FR40303265045", ("only digits",)),
        ("DE", ("wrong length", "0 digits")),
    ],
)
def test_invalid_de_vats(value, fragments):
    assert_invalid(Scheme.DE_VAT, value, "Germany VAT", *fragments)


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("Aachen HRC 44123", ("HRA, HRB, GnR, PR or VR",)),
        ("Aachen HRB 044123", ("not starting with 0",)),
        ("Aachen 44123", ("register",)),
        ("HRB 44123", ("court",)),
        ("Atlantis HRB 44123", ("not a known German register court",)),
    ],
)
def test_invalid_handelsregister_numbers(value, fragments):
    assert_invalid(Scheme.DE_REGISTER, value, "Germany Handelsregister", *fragments)


# --- United Kingdom ---------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["SC", "NI", "OC", "SO", "LP", "SL", "FC", "GE", "RC", "CE"])
def test_companies_house_prefixes(prefix):
    assert clean_identifier(Scheme.GB_COMPANY, f"{prefix}012345") == f"{prefix}012345"


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("123456789", ("wrong length", "9 digits instead of 8")),
        ("SC12345", ("wrong length", "7 characters instead of 8")),
        ("SC1234567", ("wrong length",)),
        ("XX123456", ("XX is not a Companies House prefix",)),
        ("S1234567", ("S1 is not a Companies House prefix",)),
        ("SC12345A", ("followed by 6 digits",)),
    ],
)
def test_invalid_gb_company_numbers(value, fragments):
    assert_invalid(Scheme.GB_COMPANY, value, "UK company number", *fragments)


# --- EU VAT -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("DE136695977", ("check digit does not match",)),
        ("GB980780684", ("code of an EU member state",)),
        ("US123456789", ("code of an EU member state",)),
        ("136695976", ("code of an EU member state",)),
        ("FR1", ("format of a FR VAT number",)),
        ("DE1366959", ("length for a DE VAT number",)),
    ],
)
def test_invalid_eu_vats(value, fragments):
    assert_invalid(Scheme.EU_VAT, value, "EU VAT", *fragments)


# --- free-form registration numbers -----------------------------------------------------------


def test_registration_longer_than_the_limit_is_invalid():
    too_long = "x" * (REGISTRATION_MAX_LENGTH + 1)
    assert_invalid(Scheme.REGISTRATION, too_long, "Other registration number", "65 characters")


def test_registration_length_is_measured_after_collapsing_whitespace():
    value = "  " + "x " * 32 + "   "  # 32 x's and 31 single spaces once collapsed: 63 characters
    assert clean_identifier(Scheme.REGISTRATION, value) == ("x " * 32).strip()


# --- every scheme -----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", Scheme.values)
@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_value_is_invalid_for_every_scheme(scheme, value):
    error = assert_invalid(scheme, value, "is empty", Scheme(scheme).label)
    assert error.message == "it is empty"


@pytest.mark.parametrize(
    "scheme", [Scheme.KZ_BIN, Scheme.RU_INN, Scheme.LEI, Scheme.GB_COMPANY, Scheme.EU_VAT]
)
def test_value_of_only_separators_is_empty(scheme):
    assert_invalid(scheme, " - / . ", "is empty")


@pytest.mark.parametrize("scheme", ["", "kz", "KZ_BIN", "us_ein"])
def test_unknown_scheme_is_invalid(scheme):
    error = assert_invalid(scheme, "940140000385", "not a known identifier scheme")
    assert error.label == "identifier"


def test_invalid_identifier_carries_scheme_and_message():
    error = assert_invalid(Scheme.KZ_BIN, "94014000038A")
    assert isinstance(error, ValueError)
    assert error.scheme == "kz_bin"
    assert type(error.scheme) is str
    assert error.message == "it must contain only digits, not 'A'"
    assert error.label == "Kazakhstan BIN"
    assert str(error) == "Not a valid Kazakhstan BIN: it must contain only digits, not 'A'."


def test_invalid_identifier_survives_pickling():
    error = InvalidIdentifier(Scheme.LEI, "the check digits do not match")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as Celery would
    assert (copy.scheme, copy.message, str(copy)) == (error.scheme, error.message, str(error))


def test_every_scheme_has_a_followthemoney_property():
    assert set(FTM_PROPERTY) == set(Scheme.values)
    assert FTM_PROPERTY["ru_inn"] == "innCode"
    assert FTM_PROPERTY["ru_ogrn"] == "ogrnCode"
    assert FTM_PROPERTY["ru_kpp"] == "kppCode"
    assert FTM_PROPERTY["lei"] == "leiCode"
    assert FTM_PROPERTY["de_vat"] == FTM_PROPERTY["eu_vat"] == "vatCode"
    assert FTM_PROPERTY["kz_iin"] == "idNumber"
    for scheme in ("kz_bin", "gb_company", "de_register", "registration"):
        assert FTM_PROPERTY[scheme] == "registrationNumber"
