"""Discount proceeds, the tenor rule and amount parsing: golden numbers from the reference and the regulations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import chinese_calendar
import pytest

from puhui.core.calendar import ChinaCalendar
from puhui.core.errors import PolicyViolation, ValidationError
from puhui.supplychain.vouchers import discount, parse_ref, tenor_review, to_fen


def test_discount_worked_example_of_the_reference() -> None:
    """shared/reference/avm_scf.md B2: 1,000,000.00 yuan at 2.0 %/yr for 90 days → interest 5,000.00,
    proceeds 995,000.00 (interest = face × rate × days / 360)."""
    q = discount(100_000_000, "0.02", start=date(2025, 1, 1), maturity=date(2025, 4, 1))
    assert q.days == 90
    assert (q.interest_fen, q.proceeds_fen) == (500_000, 99_500_000)
    assert q.per_100k == Decimal("500.00")  # 每十万贴息 = 100000 × 2% × 90 / 360


def test_discount_per_100k_and_an_odd_case_by_hand() -> None:
    # 每十万贴息 at 1.5 % for 180 days = 100000 × 0.015 × 180 / 360 = 750.00 (market quote convention).
    q = discount(12_345_678, "1.5%", start=date(2025, 7, 1), maturity=date(2025, 12, 28))
    assert q.days == 180 and q.per_100k == Decimal("750.00")
    # 123,456.78 × 0.015 × 180 / 360 = 925.92585 yuan → 925.93 (half-up), proceeds = face − interest.
    assert q.interest_fen == 92_593 and q.proceeds_fen == 12_345_678 - 92_593


def test_interest_rounds_half_up_to_the_fen_and_proceeds_take_the_rest() -> None:
    # 1.00 yuan × 1.8 % × 100 / 360 = 0.005 yuan exactly: half-up gives 0.01 (banker's rounding would give 0).
    q = discount(100, "0.018", start=date(2025, 7, 1), maturity=date(2025, 10, 9))
    assert q.days == 100
    assert q.interest_fen == 1 and q.proceeds_fen == 99
    assert q.interest_fen + q.proceeds_fen == q.face_fen


def test_basis_365_for_factoring() -> None:
    q = discount(36_500_000, "0.0365", start=date(2025, 7, 1), maturity=date(2025, 7, 11), basis=365)
    assert q.days == 10 and q.interest_fen == 36_500  # 365,000 × 3.65 % × 10 / 365 = 365.00


@pytest.mark.parametrize("maturity", [date(2025, 10, 1), date(2026, 2, 17), date(2025, 5, 1)])
def test_holiday_maturity_rolls_to_the_next_working_day(maturity: date) -> None:
    """The payment date is the next working day; cross-checked against the `chinesecalendar` package."""
    expected = maturity
    while not chinese_calendar.is_workday(expected):
        expected += timedelta(days=1)
    start = maturity - timedelta(days=30)
    q = discount(1_000_000, "0.02", start=start, maturity=maturity, calendar=ChinaCalendar.default())
    assert q.payment_date == expected > maturity
    assert q.days == (expected - start).days


def test_out_of_town_paper_adds_three_days() -> None:
    q = discount(100_000_000, "0.02", start=date(2025, 1, 1), maturity=date(2025, 4, 1), extra_days=3)
    assert q.days == 93 and q.interest_fen == 516_667  # 1,000,000 × 2 % × 93 / 360 = 5,166.666… → 5,166.67


def test_discount_on_or_after_maturity_is_refused() -> None:
    with pytest.raises(PolicyViolation) as e:
        discount(100, "0.02", start=date(2025, 4, 1), maturity=date(2025, 4, 1))
    assert e.value.code == "voucher_matured"


@pytest.mark.parametrize(("issue_on", "maturity", "flagged"), [
    (date(2025, 7, 1), date(2026, 1, 1), False),   # exactly 6 months (民法典 Art 202 corresponding day)
    (date(2025, 7, 1), date(2026, 1, 2), True),    # a day beyond: allowed, flagged (77号文 reasonableness check)
    (date(2025, 7, 1), date(2026, 2, 1), True),    # 7 months: flagged
    (date(2025, 7, 1), date(2026, 7, 1), True),    # 12 months: the longest allowed
    (date(2025, 8, 31), date(2026, 2, 28), False),  # month-end: 6 months after Aug 31 is Feb 28
    (date(2025, 8, 31), date(2026, 3, 1), True),
])  # fmt: skip
def test_tenor_rule_of_circular_77(issue_on: date, maturity: date, flagged: bool) -> None:
    assert tenor_review(issue_on, maturity) is flagged


@pytest.mark.parametrize("maturity", [date(2026, 7, 2), date(2026, 8, 1)])
def test_beyond_one_year_is_refused(maturity: date) -> None:
    with pytest.raises(PolicyViolation) as e:
        tenor_review(date(2025, 7, 1), maturity)
    assert e.value.code == "tenor_exceeds_maximum" and e.value.http_status == 422


def test_tenor_needs_a_rule_in_force_and_a_later_maturity() -> None:
    with pytest.raises(PolicyViolation) as e:
        tenor_review(date(2025, 6, 14), date(2025, 9, 1))  # the settings take effect 2025-06-15
    assert e.value.code == "no_tenor_rule"
    with pytest.raises(ValidationError) as v:
        tenor_review(date(2025, 7, 1), date(2025, 7, 1))
    assert v.value.code == "maturity_not_after_issue"


@pytest.mark.parametrize(("value", "fen"), [("0.01", 1), ("1", 100), (5, 500), (Decimal("300000.00"), 30_000_000)])
def test_amounts_in_fen(value: object, fen: int) -> None:
    assert to_fen(value) == fen  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "code"), [
    ("0.001", "sub_fen_amount"), ("0.005", "sub_fen_amount"), ("0", "non_positive_amount"),
    ("-0.01", "non_positive_amount"), (0.5, "float_not_allowed"), ("abc", "not_a_number"),
    ("1000000000.01", "amount_out_of_range"),
])  # fmt: skip
def test_bad_amounts_are_typed_errors(value: object, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        to_fen(value)  # type: ignore[arg-type]
    assert e.value.code == code


def test_holding_references() -> None:
    assert parse_ref("CV20250701-0001-12") == ("CV20250701-0001", 12)
    for bad in ("CV1", "CV1-", "-3", "CV1-0", "CV1-x"):
        with pytest.raises(ValidationError):
            parse_ref(bad)
