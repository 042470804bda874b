"""Credit lines, pure: the state machine, availability (revolving or not) and drawdown refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.lending.lines import CreditLine, LineChangeKind, LineStatus

FROM, TO = date(2026, 1, 5), date(2026, 12, 31)


def _line(revolving: bool = True, limit: str = "100000.00") -> CreditLine:
    return CreditLine("B1", Decimal(limit), FROM, TO, revolving)


def test_revolving_availability_is_restored_by_repaid_principal() -> None:
    line = _line().draw(Decimal("60000"), FROM)
    assert line.available == Decimal("40000.00")
    line = line.restore(Decimal("25000.00"))
    assert (line.available, line.drawn_principal, line.drawn_total) == (
        Decimal("65000.00"), Decimal("35000.00"), Decimal("60000.00"))


def test_one_off_line_counts_everything_ever_drawn() -> None:
    line = _line(revolving=False).draw(Decimal("60000"), FROM).restore(Decimal("60000"))
    assert line.available == Decimal("40000.00")
    with pytest.raises(PolicyViolation) as e:
        line.draw(Decimal("40000.01"), FROM)
    assert e.value.code == "over_limit"


@pytest.mark.parametrize(("on", "amount", "code"), [
    (date(2026, 1, 4), "1", "outside_validity"),
    (date(2027, 1, 1), "1", "outside_validity"),
    (FROM, "100000.01", "over_limit"),
])
def test_drawdown_refusals(on: date, amount: str, code: str) -> None:
    with pytest.raises(PolicyViolation) as e:
        _line().check_drawdown(Decimal(amount), on)
    assert e.value.code == code


def test_validity_days_are_inclusive() -> None:
    # "以内" includes the day (民法典 Art 1259): the first and last valid days both accept a drawdown
    assert _line().check_drawdown(Decimal("1"), FROM) == Decimal("1.00")
    assert _line().check_drawdown(Decimal("1"), TO) == Decimal("1.00")


@pytest.mark.parametrize("amount", ["0", "-5", "1.001"])
def test_bad_amounts_are_validation_errors(amount: str) -> None:
    with pytest.raises(ValidationError) as e:
        _line().check_drawdown(Decimal(amount), FROM)
    assert e.value.code in {"non_positive_amount", "sub_fen_amount"}


def test_freeze_unfreeze_and_the_change_log() -> None:
    line, change = _line().freeze(FROM, "early-warning signal: tax arrears")
    assert line.status is LineStatus.FROZEN and change.kind is LineChangeKind.FREEZE
    assert change.before["status"] == "active" and change.after["status"] == "frozen"
    with pytest.raises(PolicyViolation) as e:
        line.check_drawdown(Decimal("1"), FROM)
    assert e.value.code == "line_frozen"
    with pytest.raises(Conflict) as c:
        line.freeze(FROM, "twice")
    assert c.value.code == "invalid_line_transition"
    line, change = line.unfreeze(date(2026, 2, 1), "cleared")
    assert line.status is LineStatus.ACTIVE and change.kind is LineChangeKind.UNFREEZE
    with pytest.raises(ValidationError):
        line.freeze(FROM, "   ")


def test_reduce_below_drawn_stops_drawdowns_but_keeps_loans() -> None:
    line = _line().draw(Decimal("70000"), FROM)
    line, change = line.reduce(Decimal("50000"), FROM, "risk review")
    assert line.available == Decimal("0.00") and line.drawn_principal == Decimal("70000.00")
    assert change.before["limit"] == "100000.00" and change.after["limit"] == "50000.00"
    with pytest.raises(PolicyViolation) as e:
        line.reduce(Decimal("50000"), FROM, "not lower")
    assert e.value.code == "not_a_reduction"


def test_expire_and_close() -> None:
    with pytest.raises(Conflict):
        _line().expire(date(2026, 12, 30))
    line, change = _line().draw(Decimal("10"), FROM).expire(TO)
    assert line.status is LineStatus.EXPIRED and change.kind is LineChangeKind.EXPIRE
    with pytest.raises(PolicyViolation) as e:
        line.check_drawdown(Decimal("1"), TO)
    assert e.value.code == "line_expired"
    with pytest.raises(PolicyViolation) as e:
        line.close(TO, "done")
    assert e.value.code == "line_has_outstanding"
    closed, _ = line.restore(Decimal("10")).close(TO, "all repaid")
    assert closed.status is LineStatus.CLOSED
    with pytest.raises(PolicyViolation) as e:
        closed.check_drawdown(Decimal("1"), TO)
    assert e.value.code == "line_closed"
    with pytest.raises(Conflict):
        closed.close(TO, "again")


def test_unfreeze_after_validity_is_refused() -> None:
    line, _ = _line().freeze(FROM, "check")
    with pytest.raises(PolicyViolation) as e:
        line.unfreeze(date(2027, 1, 1), "too late")
    assert e.value.code == "line_expired"


@given(st.lists(st.tuples(st.sampled_from(["draw", "repay", "reduce"]), st.integers(1, 5_000_000)), max_size=60),
       st.booleans())
def test_available_never_negative_and_never_above_the_limit(ops: list[tuple[str, int]], revolving: bool) -> None:
    line = _line(revolving, "50000.00")
    for op, fen in ops:
        amount = Decimal(fen) / 100
        if op == "draw":
            if amount <= line.available:
                line = line.draw(amount, FROM)
            else:
                with pytest.raises(PolicyViolation):
                    line.draw(amount, FROM)
        elif op == "repay":
            line = line.restore(min(amount, line.drawn_principal))
        elif amount < line.limit:
            line, _ = line.reduce(amount, FROM, "review")
        assert Decimal(0) <= line.available <= line.limit
        assert line.used + line.available >= line.limit or line.available == 0
