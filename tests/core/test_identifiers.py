"""Identifiers: USCC (GB 32100 + inner GB 11714), RIC (GB 11643), bank cards (Luhn), regions (GB/T 2260)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
import stdnum.luhn
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.core.identifiers import (
    USCC_ALPHABET,
    check_bank_card,
    is_valid_ric,
    is_valid_uscc,
    luhn_check_digit,
    luhn_is_valid,
    make_ric,
    make_rics,
    make_uscc,
    make_usccs,
    mask_bank_card,
    mask_ric,
    org_code_check_char,
    ric_age,
    ric_birth_date,
    ric_check_char,
    ric_gender,
    uscc_check_char,
    uscc_check_chars,
    validate_ric,
    validate_uscc,
)
from puhui.core.regions import PROVINCES, is_valid_region_code, province_name

# cn_domain.md §2.1: verified USCCs (中关村 / 北京 / 深圳 enterprises), also stdnum's doctest vectors
VALID_USCC = ["91110108551385082Q", "91110000600037341L", "91440300708461136T"]
TODAY = date(2026, 1, 1)


def _code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return excinfo.value.code


# ---- USCC ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCC)
def test_reference_usccs_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert stdnum.cn.uscc.is_valid(code)
    assert uscc_check_chars(code[:16]) == code[16:]


def test_uscc_is_compacted() -> None:
    assert validate_uscc(" 9111 0108-5513 8508 2q ") == "91110108551385082Q"


@pytest.mark.parametrize(("authority", "category"), [("A", "1"), ("N", "2"), ("Y", "1"), ("N", "9")])
def test_letter_authorities_that_stdnum_rejects_are_accepted(authority: str, category: str) -> None:
    code = make_uscc(authority, category, "110108", "55138508")
    assert re.fullmatch(rf"{authority}{category}11010855138508\w\w", code)
    assert is_valid_uscc(code)
    # stdnum wants pos 1–8 to be digits and calls a letter authority a bad format
    assert not stdnum.cn.uscc.is_valid(code)
    with pytest.raises(stdnum.cn.uscc.InvalidFormat):
        stdnum.cn.uscc.validate(code)


def test_right_pos_18_with_wrong_pos_17_is_caught_by_the_inner_check() -> None:
    good = VALID_USCC[0]
    wrong17 = "3" if good[16] != "3" else "4"
    body17 = good[:16] + wrong17
    code = body17 + uscc_check_char(body17)
    assert stdnum.cn.uscc.is_valid(code)  # stdnum does not look at pos 17
    with pytest.raises(ValidationError) as e:
        validate_uscc(code)
    assert _code(e) == "uscc_org_check"
    assert "pos 17" in e.value.message and "GB 11714" in e.value.message
    assert validate_uscc(code, strict=False) == code


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("9111010855138508", "uscc_length"),
        ("91110108551385082QQ", "uscc_length"),
        ("9111010855138508IQ", "uscc_charset"),  # I is not in the alphabet
        ("91110108551385O82Q", "uscc_charset"),
        ("91110108551385082Q".replace("9", "B", 1), "uscc_authority"),
        ("94110108551385082Q", "uscc_category"),  # 市场监管 has no category 4
        ("Y2110108551385082Q", "uscc_category"),
        ("91990000551385082Q", "uscc_region"),
        ("91AB0108551385082Q", "uscc_region"),
        ("91110108551385082R", "uscc_check"),
    ],
)
def test_uscc_errors_have_stable_codes(code: str, error: str) -> None:
    with pytest.raises(ValidationError) as e:
        validate_uscc(code)
    assert _code(e) == error
    assert e.value.http_status == 422
    assert e.value.details["field"] == "uscc"


def test_uscc_check_message_names_the_check() -> None:
    with pytest.raises(ValidationError) as e:
        validate_uscc("91110108551385082R")
    assert "pos 18" in e.value.message and "MOD 31" in e.value.message and "'Q'" in e.value.message


def test_national_region_code_is_accepted() -> None:
    # central authorities register at 100000 (e.g. 民政部-registered national social organisations, 51 100000 …)
    assert is_valid_uscc(make_uscc("5", "1", "100000", "50000012"))


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
def test_pos_18_agrees_with_stdnum(head: str, tail: str) -> None:
    body17 = head + tail
    assert uscc_check_char(body17) == stdnum.cn.uscc.calc_check_digit(body17)


def test_gb_11714_organisation_code_check() -> None:
    # the organisation codes inside the reference USCCs: 55138508-2, 60003734-1, 70846113-6
    assert [org_code_check_char(c[8:16]) for c in VALID_USCC] == ["2", "1", "6"]
    # c = 11 − Σ mod 11 maps 10 → X and 11 → 0
    bodies = {org_code_check_char(f"{n:08d}") for n in range(2000)}
    assert "X" in bodies and "0" in bodies


@given(
    st.sampled_from(["1", "5", "9", "A", "N", "Y"]),
    st.sampled_from(sorted(PROVINCES)),
    st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
    st.integers(min_value=0, max_value=9999),
)
def test_minted_usccs_validate(authority: str, province: str, body: str, county: int) -> None:
    category = "1"
    code = make_uscc(authority, category, f"{province}{county:04d}", body)
    assert validate_uscc(code) == code


def test_make_usccs_matches_make_uscc_and_validates() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    alphabet = np.array(list(USCC_ALPHABET))
    bodies = np.array(["".join(row) for row in rng.choice(alphabet, size=(n, 8))])
    provinces = np.array(sorted(PROVINCES))[rng.integers(0, len(PROVINCES), n)]
    regions = np.char.add(provinces, np.char.zfill(rng.integers(0, 10000, n).astype(str), 4))
    categories = rng.choice(np.array(["1", "2", "3"]), n)
    codes = make_usccs("9", categories, regions, bodies)
    assert codes.dtype == np.dtype("<U18") and codes.shape == (n,)
    for i in range(0, n, 97):
        assert codes[i] == make_uscc("9", categories[i], regions[i], bodies[i])
    assert all(is_valid_uscc(c) for c in codes)
    int_regions = make_usccs("9", "1", np.array([110108, 440300]), ["55138508", "70846113"])
    assert list(int_regions) == ["91110108551385082Q", "91440300708461136T"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("9", "4", "110108", "55138508"), "uscc_category"),
        (("B", "1", "110108", "55138508"), "uscc_category"),
        (("9", "1", "990000", "55138508"), "uscc_region"),
        (("9", "1", "110108", "5513850"), "uscc_charset"),
        (("9", "1", "110108", "5513850I"), "uscc_charset"),
    ],
)
def test_make_uscc_refuses_bad_parts(args: tuple[str, str, str, str], error: str) -> None:
    with pytest.raises(ValidationError) as e:
        make_uscc(*args)
    assert _code(e) == error


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("9", ["4", "1"], "110108", ["55138508", "55138508"]), "uscc_category"),
        (("9", "1", ["990000"], ["55138508"]), "uscc_region"),
        (("9", "1", "110108", ["5513850"]), "uscc_length"),
        (("9", "1", "110108", ["5513850I"]), "uscc_charset"),
        (("9", "1", "110108", ["5513850中"]), "uscc_charset"),
        (("9", "1", ["110108", "110108"], ["55138508"] * 3), "length_mismatch"),
    ],
)
def test_make_usccs_refuses_bad_parts(args: tuple, error: str) -> None:
    with pytest.raises(ValidationError) as e:
        make_usccs(*args)
    assert _code(e) == error


# ---- RIC -------------------------------------------------------------------------------------------

RIC = "11010519491231002X"  # GB 11643-1999 test vector (cn_domain.md §2.2)


def test_reference_ric() -> None:
    assert validate_ric(RIC, today=TODAY) == RIC
    assert validate_ric(RIC.lower()) == RIC  # wall-clock default for `today`
    assert stdnum.cn.ric.is_valid(RIC)
    assert ric_birth_date(RIC) == date(1949, 12, 31)
    assert ric_gender(RIC) == "F"  # sequence 002 is even
    assert ric_age(RIC, date(2025, 12, 30)) == 75
    assert ric_age(RIC, date(2025, 12, 31)) == 76
    assert make_ric("110105", date(1949, 12, 31), 2) == RIC


def test_future_birth_is_rejected() -> None:
    born_2030 = make_ric("110105", date(2030, 1, 1), 11)
    assert stdnum.cn.ric.is_valid(born_2030)  # stdnum does not compare with today
    with pytest.raises(ValidationError) as e:
        validate_ric(born_2030, today=TODAY)
    assert _code(e) == "ric_future_birth"
    assert validate_ric(born_2030, today=date(2030, 1, 1)) == born_2030
    assert not is_valid_ric(make_ric("110105", date(2999, 1, 1), 11))  # against the wall clock
    assert ric_gender(born_2030) == "M"


def test_address_codes_missing_from_stdnum_table_are_accepted() -> None:
    # 110119 延庆区 exists in stdnum's table only from 2015, so stdnum rejects a 1990-born number
    n = make_ric("110119", date(1990, 5, 17), 123)
    assert is_valid_ric(n, today=TODAY)
    assert not stdnum.cn.ric.is_valid(n)


def _with_check(body17: str) -> str:
    return body17 + ric_check_char(body17)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("110105491231002", "ric_length"),  # legacy 15-digit
        ("11010519491231002", "ric_length"),
        ("1101051949123100AX", "ric_format"),
        ("11010519491231002Y", "ric_format"),
        ("110105194912310021", "ric_check"),
        (_with_check("11010519490230002"), "ric_birth_date"),  # 30 February
        (_with_check("11010518991231002"), "ric_birth_date"),  # before 1900
        (_with_check("99010519491231002"), "ric_region"),
    ],
)
def test_ric_errors_have_stable_codes(number: str, error: str) -> None:
    with pytest.raises(ValidationError) as e:
        validate_ric(number, today=TODAY)
    assert _code(e) == error
    if len(number) == 18:  # an ID number never reaches a message in full, nor its birth date
        assert number not in e.value.message and number[6:14] not in e.value.message
        assert mask_ric(number) in e.value.message


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_ric_check_agrees_with_stdnum(body: str) -> None:
    assert ric_check_char(body) == stdnum.cn.ric.calc_check_digit(body + "0")  # stdnum wants a check slot


def test_make_rics_matches_make_ric() -> None:
    rng = np.random.default_rng(11)
    n = 1000
    births = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n).astype("timedelta64[D]")
    seqs = rng.integers(0, 1000, n)
    regions = np.array(["110105", "440300", "310115", "650102"])[rng.integers(0, 4, n)]
    numbers = make_rics(regions, births, seqs)
    assert numbers.shape == (n,)
    for i in range(0, n, 53):
        assert numbers[i] == make_ric(regions[i], births[i].astype(object), int(seqs[i]))
    assert all(is_valid_ric(x, today=TODAY) for x in numbers)
    assert list(make_rics("110105", [date(1949, 12, 31)], 2)) == [RIC]
    assert list(make_rics(110105, date(1949, 12, 31), 2)) == [RIC]


def test_make_ric_refuses_bad_parts() -> None:
    for args, error in (
        (("990105", date(1990, 1, 1), 1), "ric_region"),
        (("110105", date(1990, 1, 1), 1000), "ric_format"),
        (("110105", date(1899, 1, 1), 1), "ric_birth_date"),
    ):
        with pytest.raises(ValidationError) as e:
            make_ric(*args)  # type: ignore[arg-type]
        assert _code(e) == error


def test_masking() -> None:
    assert mask_ric(RIC) == "110105********002X"
    assert mask_bank_card("6222021234567890123") == "622202*********0123"
    assert mask_ric("12345") == "*****"


# ---- bank cards ------------------------------------------------------------------------------------


def test_luhn_vectors() -> None:
    # ISO/IEC 7812 Luhn, the classic worked example 7992739871 → check digit 3
    assert luhn_is_valid("79927398713")
    assert not luhn_is_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_is_valid("4111111111111111")  # the Visa test card number
    assert not luhn_is_valid("") and not luhn_is_valid("7992a")


@given(st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_luhn_agrees_with_stdnum(body: str) -> None:
    assert luhn_check_digit(body) == stdnum.luhn.calc_check_digit(body)
    assert luhn_is_valid(body) == stdnum.luhn.is_valid(body)


def test_bank_card_luhn_failure_is_a_warning() -> None:
    unionpay = "622202123456789012"
    good = unionpay + luhn_check_digit(unionpay)
    assert check_bank_card(good) == []
    assert check_bank_card("4111 1111 1111 1111") == []
    bad_last = str((int(good[-1]) + 1) % 10)
    assert check_bank_card(good[:-1] + bad_last) == ["bank_card_luhn"]


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("411111111111111", "bank_card_length"),
        ("62220212345678901234", "bank_card_length"),
        ("6222-0212-3456-789A", "bank_card_format"),
        ("６２２２０２１２３４５６７８９０", "bank_card_format"),
    ],
)
def test_bank_card_shape_errors(number: str, error: str) -> None:
    with pytest.raises(ValidationError) as e:
        check_bank_card(number)
    assert _code(e) == error


# ---- regions ---------------------------------------------------------------------------------------


def test_provinces_match_stdnum_table() -> None:
    # independent source: python-stdnum's cn/loc.dat (from zh.wikipedia), province lines "11 province=…"
    loc = Path(stdnum.cn.ric.__file__).with_name("loc.dat").read_text(encoding="utf-8")
    theirs = dict(re.findall(r'^(\d\d) province="([^"]+)"', loc, flags=re.M))
    assert set(theirs) == set(PROVINCES)
    assert {k: v for k, v in theirs.items() if k not in ("81", "82")} == {
        k: v for k, v in PROVINCES.items() if k not in ("81", "82")
    }


def test_region_codes() -> None:
    assert is_valid_region_code("110108") and is_valid_region_code("650102")
    assert is_valid_region_code("100000") and not is_valid_region_code("100000", allow_national=False)
    assert (
        not is_valid_region_code("990000")
        and not is_valid_region_code("11010")
        and not is_valid_region_code("１１0108")
    )
    assert province_name("440300") == "广东省" and province_name("99") is None and province_name("1") is None
