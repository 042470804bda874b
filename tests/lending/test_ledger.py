"""The pure general ledger: balanced entries, reversals, balance assertions and the trial balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.lending.classification import FiveClass
from puhui.lending.ledger import (
    CHART,
    CLEARING,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_BY_CLASS,
    SUSPENSE_CONTRA,
    SUSPENSE_INTEREST,
    AccountType,
    BalanceAssertion,
    Balances,
    EntryKind,
    JournalEntry,
    Posting,
    ReconciliationError,
    make_entry,
    reverse,
)

D = date(2026, 3, 2)


def test_chart_has_a_loan_account_per_five_class_and_unique_codes() -> None:
    assert set(LOANS_BY_CLASS) == set(FiveClass)
    assert len({a.code for a in CHART.values()}) == len(CHART)
    assert all(CHART[name].type is AccountType.ASSETS for name in LOANS_BY_CLASS.values())
    assert not CHART[SUSPENSE_INTEREST].on_balance and CHART[CLEARING].on_balance
    assert CHART[INTEREST_RECEIVABLE].debit_normal and not CHART[INTEREST_INCOME].debit_normal


def test_fineract_v1_repayment_entry_balances() -> None:
    # loan_servicing.md V1 GL check (Fineract ClientLoanIntegrationTest ~1250): repayment 3301.49 →
    # Dr asset 3301.49, Cr loan portfolio 2911.49, Cr income 240.00 + 150.00 (fee).
    e = make_entry(D, EntryKind.REPAYMENT, "v1", "Fineract V1 instalment 1", [
        (CLEARING, Decimal("3301.49")), (LOANS_BY_CLASS[FiveClass.NORMAL], Decimal("-2911.49")),
        (INTEREST_INCOME, Decimal("-240.00")), (INTEREST_INCOME, Decimal("-150.00")),
    ])
    assert e is not None
    assert e.total_debits == Decimal("3301.49")
    b = Balances.of([e])
    assert b.balance(INTEREST_INCOME) == Decimal("-390.00")
    assert b.trial_balance().balanced


def test_unbalanced_entries_are_refused() -> None:
    with pytest.raises(ValidationError) as e:
        make_entry(D, "eod", "x", "one fen short", [(INTEREST_RECEIVABLE, Decimal("1.00")),
                                                    (INTEREST_INCOME, Decimal("-0.99"))])
    assert e.value.code == "entry_unbalanced"
    # sums to zero overall, but moves value between the balance sheet and the memo (表外) books
    with pytest.raises(ValidationError) as e:
        make_entry(D, "eod", "y", "memo leak", [(SUSPENSE_INTEREST, Decimal("5.00")),
                                                (INTEREST_INCOME, Decimal("-5.00"))])
    assert e.value.code == "entry_unbalanced"


@pytest.mark.parametrize(("leg", "code"), [
    (("Assets:Nowhere", Decimal("1.00")), "unknown_account"),
    ((CLEARING, Decimal("1.001")), "sub_fen_amount"),
])
def test_bad_postings_are_refused(leg: tuple[str, Decimal], code: str) -> None:
    with pytest.raises(ValidationError) as e:
        Posting(*leg)
    assert e.value.code == code


def test_zero_legs_drop_and_an_empty_entry_is_none() -> None:
    assert make_entry(D, "eod", "z", "nothing", [(CLEARING, Decimal(0)), (INTEREST_INCOME, Decimal(0))]) is None
    e = make_entry(D, "eod", "z2", "one", [(CLEARING, Decimal(0)), (INTEREST_RECEIVABLE, Decimal("2.00")),
                                           (INTEREST_INCOME, Decimal("-2.00"))])
    assert e is not None and len(e.postings) == 2
    with pytest.raises(ValidationError):
        JournalEntry(D, EntryKind.EOD, "one-leg", "x", (Posting(CLEARING, Decimal("1.00")),))


def test_a_correction_is_a_reversing_entry() -> None:
    original = make_entry(D, "drawdown", "dd:1", "drawdown", [(LOANS_BY_CLASS[FiveClass.NORMAL], Decimal("100.00")),
                                                              (CLEARING, Decimal("-100.00"))])
    assert original is not None
    rev = reverse(original, on=date(2026, 3, 3), ref="rev:dd:1", reason="drawn on the wrong line")
    assert rev.reverses == "dd:1" and rev.kind is EntryKind.REVERSAL
    assert [p.amount for p in rev.postings] == [-p.amount for p in original.postings]
    assert all(v == 0 for v in Balances.of([original, rev]).amounts.values())
    with pytest.raises(ValidationError) as e:
        reverse(rev, on=D, ref="rev2", reason="again")
    assert e.value.code == "reversal_of_reversal"
    with pytest.raises(ValidationError):
        reverse(original, on=D, ref="rev3", reason="  ")


def test_balance_assertions_name_every_failure() -> None:
    e = make_entry(D, "eod", "acc", "accrual", [(INTEREST_RECEIVABLE, Decimal("12.34")),
                                                (INTEREST_INCOME, Decimal("-12.34")),
                                                (SUSPENSE_INTEREST, Decimal("1.00")),
                                                (SUSPENSE_CONTRA, Decimal("-1.00"))])
    assert e is not None
    b = Balances.of([e])
    b.check([BalanceAssertion(INTEREST_RECEIVABLE, Decimal("12.34"))])
    with pytest.raises(ReconciliationError) as err:
        b.check([BalanceAssertion(INTEREST_RECEIVABLE, Decimal("12.35"), "sub-ledger"),
                 BalanceAssertion(SUSPENSE_INTEREST, Decimal("0.00"), "memo")])
    assert len(err.value.details["failures"]) == 2
    assert "Assets:InterestReceivable" in err.value.message
    tb = b.trial_balance()
    assert (tb.debits, tb.credits, tb.memo_debits, tb.memo_credits) == (
        Decimal("12.34"), Decimal("12.34"), Decimal("1.00"), Decimal("1.00"))


_ON = [n for n, a in CHART.items() if a.on_balance]
_MEMO = [n for n, a in CHART.items() if not a.on_balance]


@given(st.lists(st.tuples(st.sampled_from(_ON), st.sampled_from(_ON), st.integers(1, 10**9)), min_size=1,
                max_size=40),
       st.lists(st.tuples(st.sampled_from(_MEMO), st.sampled_from(_MEMO), st.integers(1, 10**7)), max_size=10))
def test_any_set_of_balanced_entries_gives_a_balanced_trial_balance(
    transfers: list[tuple[str, str, int]], memos: list[tuple[str, str, int]]
) -> None:
    entries = []
    for k, (dr, cr, fen) in enumerate(transfers + memos):
        amount = Decimal(fen) / 100
        e = make_entry(D, "eod", f"t{k}", "transfer", [(dr, amount), (cr, -amount)])
        if e is not None:
            entries.append(e)
    tb = Balances.of(entries).trial_balance()
    assert tb.balanced
    assert sum((r.balance for r in tb.rows), Decimal(0)) == 0
