"""Property: whatever sequence of drawdowns, repayments and ends of day happens, after every transaction the
trial balance balances and the loan sub-ledger equals the GL control accounts (on a real SQLite store)."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from puhui.core.errors import PuhuiError
from puhui.lending import service
from puhui.lending.eod import run_eod
from puhui.store import load_models, make_engine
from tests.lending._lendkit import key, open_line, reconcile

_METHODS = ["equal_instalment", "equal_principal", "interest_only", "revolving", "bullet"]
_EXPECTED = {"over_limit", "nothing_due", "amount_exceeds_due", "insufficient_for_prepayment", "loan_closed",
             "line_frozen", "invalid_line_transition", "insufficient_for_payoff", "non_positive_amount"}

op = st.one_of(
    st.tuples(st.just("draw"), st.integers(1, 400), st.sampled_from(_METHODS), st.integers(1, 12)),
    st.tuples(st.just("eod"), st.integers(1, 20)),
    st.tuples(st.just("pay_due"), st.integers(0, 9)),
    st.tuples(st.just("partial"), st.integers(0, 9), st.integers(1, 99)),
    st.tuples(st.just("prepay"), st.integers(0, 9), st.integers(1, 500)),
    st.tuples(st.just("payoff"), st.integers(0, 9)),
    st.tuples(st.just("freeze_toggle")),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(st.lists(op, min_size=1, max_size=12))
def test_books_balance_after_every_transaction(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'p.sqlite'}")
        load_models().create_all(engine)
        day = date(2026, 1, 5)
        line_id = open_line(engine, limit="200000", on=day)
        loans: list[int] = []
        frozen = False
        for o in ops:
            try:
                if o[0] == "draw":
                    loans.append(int(service.do_drawdown(
                        engine, line_id, amount=str(Decimal(o[1]) * 100), on=day, method=str(o[2]),
                        term_months=int(o[3]), idempotency_key=key()).body["loan_id"]))  # type: ignore[call-overload]
                elif o[0] == "eod":
                    day += timedelta(days=int(o[1]))  # type: ignore[call-overload]
                    run_eod(engine, until=day - timedelta(days=1))
                elif o[0] == "freeze_toggle":
                    action = service.do_unfreeze_line if frozen else service.do_freeze_line
                    action(engine, line_id, on=day, reason="toggle")
                    frozen = not frozen
                elif loans:
                    loan_id = loans[int(o[1]) % len(loans)]  # type: ignore[call-overload]
                    due = Decimal(service.get_loan(engine, loan_id, on=day).get("due_now", "0"))
                    if o[0] == "pay_due":
                        amount, kind = due, "regular"
                    elif o[0] == "partial":
                        amount, kind = max((due * int(o[2]) / 100).quantize(Decimal("0.01")),  # type: ignore
                                           Decimal("0.01")), "regular"
                    elif o[0] == "prepay":
                        amount, kind = due + Decimal(int(o[2]) * 10), "prepayment"  # type: ignore[call-overload]
                    else:
                        amount, kind = Decimal(service.payoff_quote(engine, loan_id, on=day)["total"]), "payoff"
                    service.do_repay(engine, loan_id, amount=str(amount), on=day, kind=kind, idempotency_key=key())
            except PuhuiError as e:
                assert e.code in _EXPECTED, e
            figures = reconcile(engine)  # raises ReconciliationError on any disagreement
            assert Decimal(figures["loans_principal"]) == Decimal(service.get_line(engine, line_id)["drawn_principal"])
        engine.dispose()
