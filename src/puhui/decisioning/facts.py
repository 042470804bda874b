"""Facts (决策输入): what a decision reads about an enterprise, built from the indicator library and chains.

One enterprise online: `facts_for(engine, uscc, as_of)` takes `OnlineEngine.indicators` (the batch row of
that date when there is one, else a fresh computation) with the source-presence flags. A chain member
(e链快贷): `chain_facts(...)` adds the context names of its trade with a core enterprise from
`puhui.supplychain` — sales to the core, tenure, payment record, receivable, dependence — and the core's
health (rating, listing, revenue, an open warning) and the bank's exposure to it (vouchers outstanding +
the chain's loans, summed by the portfolio and passed in). `chain_context` is the pure part.

Many enterprises (pre-approval): `facts_frame(home, as_of, columns=...)` reads the finished batch
indicator table of the date (`puhui.indicators.batch.open_table`) into a Polars frame (uscc, `src_*`
presence flags, the indicator columns asked for), and `facts_from_row` / `facts_list` turn its rows into
`Facts` exactly as the online path would for the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from puhui.core.errors import NotFound
from puhui.decisioning.engine import Facts

if TYPE_CHECKING:
    import polars as pl

    from puhui.indicators.online import IndicatorValues, OnlineEngine
    from puhui.supplychain.chains import Chain, ChainSource

__all__ = [
    "RATING_RANKS",
    "chain_context",
    "chain_facts",
    "facts_for",
    "facts_frame",
    "facts_from_row",
    "facts_from_values",
    "facts_list",
    "pick_core",
]

RATING_RANKS = {"AAA": 1, "AA+": 2, "AA": 3, "AA-": 4, "A+": 5, "A": 6}
"""Core-enterprise issuer ratings (`puhui.data.contracts.enterprise.RATINGS`) as ranks, 1 = best."""

_ZERO = Decimal("0")


def facts_from_values(values: IndicatorValues, *, exposure: Decimal = _ZERO, extra: Mapping[str, Any] | None = None,
                      consents: Iterable[str] | None = None) -> Facts:  # fmt: skip
    """Facts from one enterprise's `IndicatorValues`."""
    return Facts(uscc=values.uscc, as_of=values.as_of, indicators=dict(values.values), sources=dict(values.sources),
                 exposure=Decimal(exposure), extra=dict(extra or {}),
                 consents=None if consents is None else tuple(sorted(consents)))  # fmt: skip


def facts_for(engine: OnlineEngine, uscc: str, as_of: date | str, *, exposure: Decimal = _ZERO,
              extra: Mapping[str, Any] | None = None, consents: Iterable[str] | None = None) -> Facts:  # fmt: skip
    """Facts of one enterprise from the online engine (hot path: the batch row of the date if current)."""
    return facts_from_values(engine.indicators(uscc, as_of), exposure=exposure, extra=extra, consents=consents)


# ---- chain members (e链快贷) ----------------------------------------------------------------------------------


def chain_context(chain: Chain, member_uscc: str, *, core_exposure: Decimal | None = None,
                  core_warning: bool | None = None) -> dict[str, Any]:  # fmt: skip
    """The chain and core context names (`scenario.CONTEXT_NAMES`) of a member's trade with a core. Pure.

    Amounts are over the chain's window (12 months by default). The receivable is invoiced − paid over the
    window (never below 0): what the counterparty still owes on the window's invoices. Values the caller
    does not know (`core_exposure`, `core_warning`) stay out, so a rule or cap that needs them fails as
    no-data rather than passing.
    """
    m = chain.member(member_uscc)
    t = m.trade
    sales = t.invoiced if m.role == "supplier" and (m.direction in (None, "sale")) else _ZERO
    out: dict[str, Any] = {
        "chain_core": chain.core.uscc,
        "chain_role": m.role,
        "chain_tier": m.tier,
        "chain_tenure_months": m.tenure_months(chain.as_of),
        "chain_sales_to_core_12m": sales,
        "chain_trade_12m": t.invoiced,
        "chain_paid_12m": t.paid,
        "chain_receivable": max(t.invoiced - t.paid, _ZERO),
        "chain_past_due": t.past_due,
        "chain_avg_payment_days": t.avg_payment_days,
        "chain_settlement_ratio": (t.paid / t.invoiced).quantize(Decimal("0.000001")) if t.invoiced > 0 else None,
        "chain_trade_months": t.months,
        "chain_dependence": chain.dependence()[m.uscc],
        "core_rating": chain.core.rating or None,
        "core_rating_rank": RATING_RANKS.get(chain.core.rating),
        "core_listed": chain.core.listed,
        "core_annual_revenue": chain.core.annual_revenue,
    }
    if core_exposure is not None:
        out["core_exposure"] = Decimal(core_exposure)
    if core_warning is not None:
        out["core_warning"] = bool(core_warning)
    return {k: v for k, v in out.items() if v is not None}


def pick_core(memberships: Sequence[Mapping[str, Any]]) -> str | None:
    """The core a chain loan is based on when the member is in several chains: the largest share of
    business, then the longest relation (earliest `since`), then the USCC."""
    if not memberships:
        return None
    best = min(memberships, key=lambda r: (-Decimal(str(r["share_of_business"])), str(r["since"]), r["core"]))
    return str(best["core"])


def chain_facts(engine: OnlineEngine, chains: ChainSource, uscc: str, as_of: date, *, core: str | None = None,
                exposure: Decimal = _ZERO, core_exposure: Decimal | None = None, core_warning: bool | None = None,
                consents: Iterable[str] | None = None, window_months: int = 12) -> Facts:  # fmt: skip
    """Facts of a chain member: its indicators plus the chain context of `core` (default: `pick_core`)."""
    core = core or pick_core(chains.memberships(uscc, as_of=as_of))
    if core is None:
        raise NotFound(f"{uscc} is not a member of any supply chain as of {as_of}", code="not_a_chain_member",
                       uscc=uscc, as_of=as_of.isoformat())  # fmt: skip
    chain = chains.chain(core, as_of=as_of, window_months=window_months)
    extra = chain_context(chain, uscc, core_exposure=core_exposure, core_warning=core_warning)
    return facts_for(engine, uscc, as_of, exposure=exposure, extra=extra, consents=consents)


# ---- many enterprises (pre-approval) -------------------------------------------------------------------------


def facts_frame(home: Path, as_of: date, *, columns: Iterable[str] | None = None,
                usccs: Iterable[str] | None = None) -> pl.DataFrame:  # fmt: skip
    """The batch indicator table of `as_of` as a Polars frame: `uscc`, every `src_*` flag and `columns`
    (default: every indicator). NotFound when the date has no finished table (run `puhui indicators batch`)."""
    import duckdb

    from puhui.indicators.batch import indicator_table_path, open_table

    con = duckdb.connect()
    try:
        if not open_table(con, Path(home), as_of, "indicators"):
            raise NotFound(f"no finished indicator table for {as_of} under {home}", code="indicator_table_missing",
                           path=str(indicator_table_path(Path(home), as_of)))  # fmt: skip
        have = [r[0] for r in con.execute("DESCRIBE indicators").fetchall()]
        flags = [c for c in have if c.startswith("src_")]
        if columns is None:
            wanted = [c for c in have if c != "uscc" and not c.startswith("src_")]
        else:
            wanted = [c for c in dict.fromkeys(columns) if c not in flags and c != "uscc"]  # flags come anyway
            unknown = [c for c in wanted if c not in have]
            if unknown:
                raise NotFound(f"the indicator table has no columns {unknown}", code="unknown_indicator",
                               columns=unknown)  # fmt: skip
        cols = ", ".join(f'"{c}"' for c in ["uscc", *flags, *wanted])
        sql = f"SELECT {cols} FROM indicators"
        if usccs is not None:
            con.execute("CREATE TEMP TABLE wanted (uscc VARCHAR)")
            con.executemany("INSERT INTO wanted VALUES (?)", [(u,) for u in usccs])
            sql += " WHERE uscc IN (SELECT uscc FROM wanted)"
        import polars as pl

        return pl.from_arrow(con.sql(sql + " ORDER BY uscc").to_arrow_table())  # type: ignore[return-value]
    finally:
        con.close()


def facts_from_row(row: Mapping[str, Any], as_of: date, *, exposure: Decimal = _ZERO,
                   extra: Mapping[str, Any] | None = None, consents: Iterable[str] | None = None) -> Facts:  # fmt: skip
    """Facts from one row of `facts_frame` (or of the batch table): `src_*` columns are the source flags."""
    indicators = {k: v for k, v in row.items() if k != "uscc" and not k.startswith("src_")}
    sources = {k[4:]: bool(v) for k, v in row.items() if k.startswith("src_")}
    return Facts(uscc=str(row["uscc"]), as_of=as_of, indicators=indicators, sources=sources,
                 exposure=Decimal(exposure), extra=dict(extra or {}),
                 consents=None if consents is None else tuple(sorted(consents)))  # fmt: skip


def facts_list(frame: pl.DataFrame, as_of: date, *, exposure: Mapping[str, Decimal] | None = None,
               extra: Mapping[str, Mapping[str, Any]] | None = None) -> list[Facts]:  # fmt: skip
    """Every row of a facts frame as `Facts`, with each enterprise's exposure and extra context if given."""
    exposure = exposure or {}
    extra = extra or {}
    return [facts_from_row(r, as_of, exposure=exposure.get(r["uscc"], _ZERO), extra=extra.get(r["uscc"]))
            for r in frame.iter_rows(named=True)]  # fmt: skip
