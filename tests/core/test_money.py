"""Money: rounding to the fen, exact allocation, fen arithmetic, and the refusals at the boundary."""

from __future__ import annotations

import copy
import pickle
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.core.money import Money, Rounding, quantize, to_decimal

HALF_FEN = Decimal("0.005")

# amounts up to 100 billion yuan with up to 6 decimal places, as rates × days × balances produce
amounts = st.decimals(min_value=Decimal("-100000000000"), max_value=Decimal("100000000000"), places=6, allow_nan=False)
fens = st.integers(min_value=-(10**13), max_value=10**13)


@given(amounts)
def test_money_is_within_half_a_fen_of_its_input(x: Decimal) -> None:
    assert abs(Money(x).amount - x) <= HALF_FEN


@given(amounts, st.sampled_from(list(Rounding)))
def test_every_rounding_mode_lands_on_a_fen_within_one_fen(x: Decimal, mode: Rounding) -> None:
    m = Money(x, rounding=mode)
    assert m.amount == m.amount.quantize(Decimal("0.01"))
    assert abs(m.amount - x) < Decimal("0.01")
    if mode is Rounding.DOWN:
        assert abs(m.amount) <= abs(x)
    if mode is Rounding.UP:
        assert abs(m.amount) >= abs(x)


@given(fens)
def test_from_fen_and_fen_round_trip(n: int) -> None:
    assert Money.from_fen(n).fen == n
    assert Money.from_fen(n) == Money(Decimal(n) / 100)


@given(amounts)
def test_fen_is_the_half_up_rounded_amount_times_100(x: Decimal) -> None:
    assert Money(x).fen == int((x * 100).to_integral_value(rounding=ROUND_HALF_UP))


@given(fens, fens, fens)
def test_add_and_sub_are_associative_at_the_fen(a: int, b: int, c: int) -> None:
    ma, mb, mc = Money.from_fen(a), Money.from_fen(b), Money.from_fen(c)
    assert (ma + mb) + mc == ma + (mb + mc)
    assert (ma + mb) - mc == ma + (mb - mc)
    assert (ma - mb) + mb == ma
    assert (ma + mb + mc).fen == a + b + c


@given(fens, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30))
def test_allocate_sums_exactly_and_each_part_is_within_a_fen_of_its_share(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights[0] = 1
    m = Money.from_fen(total)
    parts = m.allocate(weights)
    assert len(parts) == len(weights)
    assert sum(p.fen for p in parts) == total
    for part, w in zip(parts, weights, strict=True):
        share = Decimal(total) * w / sum(weights)
        assert abs(Decimal(part.fen) - share) < 1
        if w == 0:
            assert part.is_zero()


def test_rounding_modes_on_ties() -> None:
    # 四舍五入 (HALF_UP) vs banker's rounding (HALF_EVEN, Fineract's default): Python decimal semantics.
    assert Money("2.665").amount == Decimal("2.67")
    assert Money("2.665", rounding=Rounding.HALF_EVEN).amount == Decimal("2.66")
    assert Money("0.125").amount == Decimal("0.13")
    assert Money("0.125", rounding=Rounding.HALF_EVEN).amount == Decimal("0.12")
    assert Money("-0.125").amount == Decimal("-0.13")
    assert Money("1.239", rounding=Rounding.DOWN).amount == Decimal("1.23")


def test_allocate_gives_leftover_fen_to_largest_remainders_first() -> None:
    assert [p.amount for p in Money("100").allocate([1, 1, 1])] == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert [p.amount for p in Money("-10").allocate([1, 1, 1])] == [
        Decimal("-3.33"),
        Decimal("-3.33"),
        Decimal("-3.34"),
    ]
    assert [p.fen for p in Money("0.05").allocate([3, 1])] == [4, 1]


def test_allocate_refuses_bad_weights() -> None:
    for weights in ([], [0, 0], [1, -1]):
        with pytest.raises(ValidationError) as e:
            Money("1").allocate(weights)
        assert e.value.code == "bad_weights"


def test_times_rounds_once() -> None:
    # 1,000,000.00 × 3.45% / 360 × 31 days = 2,970.8333… → 2,970.83
    daily = Decimal("0.0345") / 360
    assert Money("1000000").times(daily * 31).amount == Decimal("2970.83")


def test_floats_and_non_numbers_are_refused() -> None:
    with pytest.raises(ValidationError) as e:
        Money(0.1)  # type: ignore[arg-type]
    assert e.value.code == "float_not_allowed"
    with pytest.raises(ValidationError) as e:
        Money(True)  # type: ignore[arg-type]
    assert e.value.code == "float_not_allowed"
    for bad in ("abc", "NaN", "Infinity", ""):
        with pytest.raises(ValidationError) as e:
            Money(bad)
        assert e.value.code == "not_a_number"
    with pytest.raises(ValidationError) as e:
        Money("1", "XYZ")
    assert e.value.code == "unknown_currency"
    with pytest.raises(ValidationError):
        Money("1").times(1.5)  # type: ignore[arg-type]


def test_currency_mismatch_is_refused_for_arithmetic_and_ordering() -> None:
    with pytest.raises(ValidationError) as e:
        Money("1", "CNY") + Money("1", "USD")
    assert e.value.code == "currency_mismatch"
    # regression: ordering used to compare amounts across currencies silently
    with pytest.raises(ValidationError) as e:
        _ = Money("1", "USD") < Money("2", "CNY")
    assert e.value.code == "currency_mismatch"
    with pytest.raises(TypeError):
        _ = Money("1") < 2  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money("1") + 1  # type: ignore[operator]


def test_ordering_and_equality_within_a_currency() -> None:
    assert Money("1") < Money("1.01") <= Money("1.01") < Money("2")
    assert Money("2") > Money("-2") >= Money("-2.00")
    assert sorted([Money("3"), Money("-1"), Money("2")]) == [Money("-1"), Money("2"), Money("3")]
    assert Money("1.0") == Money("1.00") and hash(Money("1.0")) == hash(Money("1.00"))
    assert Money("1", "CNY") != Money("1", "USD")


def test_out_of_range_amounts_are_a_validation_error() -> None:
    # regression: used to escape as decimal.InvalidOperation (a 500 at the API)
    with pytest.raises(ValidationError) as e:
        Money("1e30")
    assert e.value.code == "amount_out_of_range"


def test_from_fen_refuses_non_integers() -> None:
    # regression: from_fen(0.1) used to round silently to 0.00
    for bad in (0.1, Decimal("1.5"), True):
        with pytest.raises(ValidationError) as e:
            Money.from_fen(bad)  # type: ignore[arg-type]
        assert e.value.code == "not_integer_fen"


def test_no_negative_zero() -> None:
    # regression: Money("-0.001") printed as "CNY -0.00"
    assert str(Money("-0.001")) == "CNY 0.00"
    assert str(-Money.zero()) == "CNY 0.00"
    assert not Money("-0.004").is_negative()


def test_str_repr_and_helpers() -> None:
    assert str(Money("1234567.891")) == "CNY 1,234,567.89"
    assert repr(Money("5")) == "Money('5.00', 'CNY')"
    assert abs(Money("-5")) == Money("5") and -Money("5") == Money("-5")
    assert Money.zero().is_zero() and Money("-0.01").is_negative()
    assert quantize(Decimal("1.005")) == Decimal("1.01")
    assert to_decimal(" 12.5 ") == Decimal("12.5")


def test_money_survives_copy_and_pickle() -> None:
    m = Money("12.34", "USD")
    assert copy.deepcopy(m) == m
    assert pickle.loads(pickle.dumps(m)) == m


def test_rounding_parse() -> None:
    assert Rounding.parse("half_even") is Rounding.HALF_EVEN
    assert Rounding.parse("ROUND_HALF_UP") is Rounding.HALF_UP
    assert Rounding.parse(Rounding.DOWN) is Rounding.DOWN
    for bad in ("nearest", 3):
        with pytest.raises(ValidationError) as e:
            Rounding.parse(bad)  # type: ignore[arg-type]
        assert e.value.code == "unknown_rounding_mode"
