"""Repayment allocation: the default waterfall by hand, custom orders, bad input, and the invariants
(never more than owed, money conserved, earlier buckets filled first) by hypothesis."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.core.money import Money
from puhui.lending import DEFAULT_ORDER, Bucket, Due, allocate, parse_order

ON = date(2026, 3, 20)


def m(x: str | int) -> Money:
    return Money(str(x))


DUES = [
    # two instalments past due with 罚息/复利, one due today (current)
    Due(1, date(2026, 1, 20), principal=m(1000), interest=m(100), penalty=m(20), compound=m(2)),
    Due(2, date(2026, 2, 24), principal=m(1000), interest=m(90), penalty=m(10), compound=m(1)),
    Due(3, date(2026, 3, 20), principal=m(1000), interest=m(80)),
]


def test_default_order_is_penalty_then_overdue_interest_principal_then_current() -> None:
    assert DEFAULT_ORDER == (Bucket.PENALTY, Bucket.COMPOUND, Bucket.OVERDUE_INTEREST, Bucket.OVERDUE_PRINCIPAL,
                             Bucket.CURRENT_INTEREST, Bucket.CURRENT_PRINCIPAL)


def test_waterfall_by_hand() -> None:
    """1,500 paid: penalty 30 → compound 3 → overdue interest 190 → overdue principal 1,000 (#1) + 277 (#2)."""
    a = allocate(m(1500), DUES, on=ON)
    assert a.by_bucket[Bucket.PENALTY] == m(30)
    assert a.by_bucket[Bucket.COMPOUND] == m(3)
    assert a.by_bucket[Bucket.OVERDUE_INTEREST] == m(190)
    assert a.by_bucket[Bucket.OVERDUE_PRINCIPAL] == m(1277)
    assert a.by_bucket[Bucket.CURRENT_INTEREST] == m(0)
    assert a.unapplied == m(0)
    l1, l2, l3 = a.lines
    assert (l1.principal, l1.interest, l1.penalty, l1.compound) == (m(1000), m(100), m(20), m(2))
    assert (l2.principal, l2.interest, l2.penalty, l2.compound) == (m(277), m(90), m(10), m(1))
    assert l3.total == m(0)


def test_excess_is_returned_unapplied() -> None:
    owed = sum((d.principal + d.interest + d.penalty + d.compound for d in DUES), m(0))
    a = allocate(m(5000), DUES, on=ON)
    assert owed == m(3303)
    assert a.applied == owed
    assert a.unapplied == m(5000) - owed


def test_paying_on_the_due_date_is_current_not_overdue() -> None:
    a = allocate(m(50), [Due(3, ON, principal=m(1000), interest=m(80))], on=ON)
    assert a.by_bucket[Bucket.CURRENT_INTEREST] == m(50)
    assert a.by_bucket[Bucket.OVERDUE_INTEREST] == m(0)
    late = allocate(m(50), [Due(3, ON, principal=m(1000), interest=m(80))], on=ON + timedelta(days=1))
    assert late.by_bucket[Bucket.OVERDUE_INTEREST] == m(50)


def test_custom_order_principal_first() -> None:
    order = "overdue_principal, overdue_interest, penalty, compound, current_principal, current_interest"
    a = allocate(m(1500), DUES, on=ON, order=order)
    assert a.by_bucket[Bucket.OVERDUE_PRINCIPAL] == m(1500)
    assert a.by_bucket[Bucket.PENALTY] == m(0)


def test_buckets_left_out_of_the_order_are_not_paid() -> None:
    a = allocate(m(5000), DUES, on=ON, order=[Bucket.OVERDUE_INTEREST, Bucket.OVERDUE_PRINCIPAL])
    assert a.applied == m(2190)
    assert a.unapplied == m(2810)


def test_oldest_instalment_first_within_a_bucket_whatever_the_input_order() -> None:
    a = allocate(m(120), list(reversed(DUES)), on=ON, order=["overdue_interest"])
    by_period = {ln.period: ln.interest for ln in a.lines}
    assert by_period == {3: m(0), 2: m(20), 1: m(100)}


@pytest.mark.parametrize(
    ("order", "code"),
    [("penalty,penalty", "invalid_allocation_order"), ("fees", "invalid_allocation_order"),
     ([], "invalid_allocation_order")],
)
def test_bad_orders(order, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_order(order)
    assert e.value.code == code


@pytest.mark.parametrize(("amount", "code"), [(m(-1), "non_positive_amount"), (m(0), "non_positive_amount"),
                                               (Money("1", "USD"), "currency_mismatch"),
                                               (Decimal("10"), "invalid_amount")])
def test_bad_amounts(amount, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        allocate(amount, DUES, on=ON)
    assert e.value.code == code


def test_negative_due_is_refused() -> None:
    with pytest.raises(ValidationError) as e:
        Due(1, ON, principal=m(-1), interest=m(0))
    assert e.value.code == "negative_amount"


# ---- properties -------------------------------------------------------------------------------------------

money = st.integers(min_value=0, max_value=10**8).map(Money.from_fen)
dues_strategy = st.lists(
    st.builds(
        Due,
        period=st.integers(min_value=1, max_value=60),
        due_date=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 6, 30)),
        principal=money, interest=money, penalty=money, compound=money,
    ),
    max_size=8,
)
orders = st.permutations(list(Bucket)).flatmap(lambda p: st.integers(1, len(p)).map(lambda k: p[:k]))


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10**9).map(Money.from_fen),
    dues=dues_strategy,
    on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 6, 30)),
    order=orders,
)
def test_allocation_invariants(amount: Money, dues: list[Due], on: date, order: list[Bucket]) -> None:
    a = allocate(amount, dues, on=on, order=order)
    # conserved to the fen
    assert sum((v for v in a.by_bucket.values()), Money.zero()) + a.unapplied == amount
    assert sum((ln.total for ln in a.lines), Money.zero()) == a.applied
    assert not a.unapplied.is_negative()
    # never more than owed, never negative
    for d, ln in zip(dues, a.lines, strict=True):
        for part in ("principal", "interest", "penalty", "compound"):
            paid = getattr(ln, part)
            assert Money.zero() <= paid <= getattr(d, part)
    # the waterfall: a bucket is paid only when every earlier bucket is paid in full
    owed = {b: Money.zero() for b in Bucket}
    for d in dues:
        overdue = d.due_date < on
        owed[Bucket.PENALTY] += d.penalty
        owed[Bucket.COMPOUND] += d.compound
        owed[Bucket.OVERDUE_INTEREST if overdue else Bucket.CURRENT_INTEREST] += d.interest
        owed[Bucket.OVERDUE_PRINCIPAL if overdue else Bucket.CURRENT_PRINCIPAL] += d.principal
    for i, b in enumerate(order):
        if not a.by_bucket[b].is_zero():
            assert all(a.by_bucket[e] == owed[e] for e in order[:i])
    for b in Bucket:
        if b not in order:
            assert a.by_bucket[b].is_zero()
    # money is left over only when everything in the order is paid
    if not a.unapplied.is_zero():
        assert all(a.by_bucket[b] == owed[b] for b in order)
