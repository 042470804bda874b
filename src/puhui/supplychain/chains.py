"""Supply chains (数字供应链): core enterprises, their members and trade, approved chain limits, the chain graph.

A chain is a core enterprise (核心企业) and the enterprises that trade with it: tier-1 suppliers (上游一级供应商)
and distributors (下游经销商) trade with the core directly, tier-2 members with a tier-1 member (a supplier's
supplier, a distributor's sub-distributor). Membership, tenure and trade come from the raw-zone sources
`chain_core_enterprises`, `chain_relations` and `chain_trade_monthly` (contracts in
`puhui.data.contracts.enterprise`), read point in time: a relation counts once its `since_date` is known
(`since_date + lag_days <= as_of`), a trade month once it is reported (`month_end + lag_days <= as_of`),
the same rule as the indicator library (`puhui.indicators.pit`). `ChainSource` is the only reader (I/O);
everything else here is plain values and pure functions.

The **approved chain limit** (供应链授信额度) is the bank's decision, not source data: `ChainLimit` is the
limit up to which a core enterprise may have vouchers outstanding (issued and neither settled nor
cancelled) — 银发〔2025〕77号 asks banks to cap their exposure to each core enterprise. `Chain.graph()` is
the chain view (nodes and edges with trade flows, ready for an ECharts graph); `Chain.dependence()` is how
much each member's business hangs on the core, the weight a contagion warning (传染预警) needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from puhui.core.dates import add_months, months_between
from puhui.core.errors import NotFound, PolicyViolation, ValidationError
from puhui.core.money import Money

__all__ = [
    "Chain",
    "ChainLimit",
    "ChainMember",
    "ChainSource",
    "CoreEnterprise",
    "LimitStatus",
    "TradeSummary",
    "approve_limit",
]

_SHARE_PLACES = Decimal("0.000001")


class LimitStatus(StrEnum):
    """An approved chain limit is usable (`active`) or stopped by the bank (`frozen`, e.g. on a warning)."""

    ACTIVE = "active"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class ChainLimit:
    """供应链授信额度: how much a core enterprise may have in vouchers outstanding, and how much it has.

    `outstanding_fen` is the face of its vouchers issued and not yet settled or cancelled (dishonoured ones
    still count: the debt is unpaid). Amounts are integer fen.
    """

    core: str
    limit_fen: int
    outstanding_fen: int
    valid_from: date
    valid_to: date
    status: LimitStatus = LimitStatus.ACTIVE
    name: str = ""

    @property
    def available_fen(self) -> int:
        """What can still be issued (never negative: a limit cut below the outstanding leaves 0)."""
        return max(0, self.limit_fen - self.outstanding_fen)

    def check_issue(self, face_fen: int, on: date) -> None:
        """Refuse issuing `face_fen` on `on` unless the limit is active, in force and has room for it."""
        if self.status is not LimitStatus.ACTIVE:
            raise PolicyViolation(f"the chain limit of core enterprise {self.core} is {self.status.value}",
                                  code="chain_limit_frozen", core=self.core)
        if not self.valid_from <= on <= self.valid_to:
            raise PolicyViolation(
                f"the chain limit of {self.core} is valid {self.valid_from}–{self.valid_to}, not on {on}",
                code="chain_limit_not_in_force", core=self.core, on=on.isoformat(),
                valid_from=self.valid_from.isoformat(), valid_to=self.valid_to.isoformat())
        if face_fen > self.available_fen:
            raise PolicyViolation(
                f"issuing {Money.from_fen(face_fen)} would exceed the chain limit of {self.core}: limit "
                f"{Money.from_fen(self.limit_fen)}, outstanding {Money.from_fen(self.outstanding_fen)}, "
                f"available {Money.from_fen(self.available_fen)}",
                code="over_chain_limit", core=self.core, face=str(Money.from_fen(face_fen).amount),
                limit=str(Money.from_fen(self.limit_fen).amount),
                outstanding=str(Money.from_fen(self.outstanding_fen).amount),
                available=str(Money.from_fen(self.available_fen).amount))

    def draw(self, face_fen: int) -> ChainLimit:
        return replace(self, outstanding_fen=self.outstanding_fen + face_fen)

    def restore(self, face_fen: int) -> ChainLimit:
        if face_fen > self.outstanding_fen:  # a bug, never input: the ledger check would catch it too
            raise ValueError(f"restoring {face_fen} fen exceeds the outstanding {self.outstanding_fen}")
        return replace(self, outstanding_fen=self.outstanding_fen - face_fen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "core": self.core, "name": self.name, "limit": str(Money.from_fen(self.limit_fen).amount),
            "outstanding": str(Money.from_fen(self.outstanding_fen).amount),
            "available": str(Money.from_fen(self.available_fen).amount), "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(), "status": self.status.value,
        }


def approve_limit(
    core: str,
    limit_fen: int,
    *,
    valid_from: date,
    valid_to: date,
    current: ChainLimit | None = None,
    status: LimitStatus | str = LimitStatus.ACTIVE,
    name: str = "",
) -> ChainLimit:
    """A new (or re-approved) chain limit; the outstanding carries over from `current`.

    Cutting a limit below what is outstanding is allowed — nothing is called back, new issues just stop
    until settlements bring the outstanding under it.
    """
    if isinstance(limit_fen, bool) or not isinstance(limit_fen, int) or limit_fen < 0:
        raise ValidationError(f"chain limit must be a non-negative amount, got {limit_fen!r} fen",
                              code="negative_limit", field="limit")
    if valid_to < valid_from:
        raise ValidationError(f"limit validity ends {valid_to} before it starts {valid_from}",
                              code="invalid_period", field="valid_to")
    try:
        st = LimitStatus(status)
    except ValueError:
        raise ValidationError(f"unknown limit status {status!r}; use active or frozen", code="invalid_limit_status",
                              field="status") from None
    return ChainLimit(core=core, limit_fen=limit_fen, outstanding_fen=current.outstanding_fen if current else 0,
                      valid_from=valid_from, valid_to=valid_to, status=st,
                      name=name or (current.name if current else ""))


# ---- chain data -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoreEnterprise:
    """A core enterprise (核心企业) as the `chain_core_enterprises` source describes it."""

    uscc: str
    name: str
    sector: str
    industry_section: str
    industry_code: str
    city_code: str
    annual_revenue: Decimal
    employees: int
    listed: bool
    rating: str

    def to_dict(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "name": self.name, "sector": self.sector, "industry_section": self.industry_section,
                "industry_code": self.industry_code, "city_code": self.city_code,
                "annual_revenue": str(self.annual_revenue), "employees": self.employees, "listed": self.listed,
                "rating": self.rating}


@dataclass(frozen=True, slots=True)
class TradeSummary:
    """A member's trade with its counterparty over the available months of a window (交易流水汇总).

    `invoiced`/`paid` are sums over the window; `avg_payment_days` is the invoice-weighted mean of the
    monthly averages (None when nothing was paid); `past_due` is the balance at the end of the last month.
    """

    months: int
    first_month: date | None
    last_month: date | None
    invoiced: Decimal
    invoices: int
    paid: Decimal
    avg_payment_days: Decimal | None
    past_due: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"months": self.months, "first_month": _iso(self.first_month), "last_month": _iso(self.last_month),
                "invoiced": str(self.invoiced), "invoices": self.invoices, "paid": str(self.paid),
                "avg_payment_days": None if self.avg_payment_days is None else str(self.avg_payment_days),
                "past_due": str(self.past_due)}


_NO_TRADE = TradeSummary(0, None, None, Decimal("0.00"), 0, Decimal("0.00"), None, Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class ChainMember:
    """A supplier or distributor in a core enterprise's chain (链上成员), with its trade over the window."""

    core: str
    uscc: str
    role: str
    tier: int
    counterparty: str
    since: date
    share_of_business: Decimal
    payment_terms_days: int
    trade: TradeSummary = _NO_TRADE
    direction: str | None = None

    def tenure_months(self, as_of: date) -> int:
        """Whole months of trading in the chain as of `as_of` (民法典 Art 202 month arithmetic)."""
        return max(0, months_between(self.since, as_of))

    def to_dict(self, as_of: date) -> dict[str, Any]:
        return {"uscc": self.uscc, "role": self.role, "tier": self.tier, "counterparty": self.counterparty,
                "since": self.since.isoformat(), "tenure_months": self.tenure_months(as_of),
                "share_of_business": str(self.share_of_business), "payment_terms_days": self.payment_terms_days,
                "trade": self.trade.to_dict()}


@dataclass(frozen=True, slots=True)
class Chain:
    """One core enterprise's chain as of a date: the core, its members (tier 1 and 2) and their trade."""

    core: CoreEnterprise
    members: tuple[ChainMember, ...]
    as_of: date
    window_months: int

    def member(self, uscc: str) -> ChainMember:
        for m in self.members:
            if m.uscc == uscc:
                return m
        raise NotFound(f"{uscc} is not a member of the chain of {self.core.uscc} as of {self.as_of}",
                       code="not_a_chain_member", core=self.core.uscc, member=uscc)

    def is_member(self, uscc: str) -> bool:
        return any(m.uscc == uscc for m in self.members)

    def tier(self, n: int) -> tuple[ChainMember, ...]:
        return tuple(m for m in self.members if m.tier == n)

    def dependence(self) -> dict[str, Decimal]:
        """How much of each member's business hangs on the core (依存度), in [0, 1].

        Tier 1: its share of business with the core. Tier 2: its share with its tier-1 counterparty times
        that counterparty's share with the core — the core's distress reaches it through the tier-1 member.
        A tier-2 member whose counterparty is not in the chain as of the date gets its own share (the
        cautious reading: it is exposed at least that much).
        """
        first = {m.uscc: m.share_of_business for m in self.members if m.tier == 1}
        out: dict[str, Decimal] = {}
        for m in self.members:
            if m.tier == 1 or m.counterparty not in first:
                out[m.uscc] = m.share_of_business
            else:
                out[m.uscc] = (m.share_of_business * first[m.counterparty]).quantize(_SHARE_PLACES)
        return out

    def graph(self) -> dict[str, Any]:
        """The chain view: nodes (core + members, with tier and role) and edges (who trades with whom).

        Edges point the way goods go: supplier → buyer (supplier → core, tier-2 supplier → tier-1
        supplier; core → distributor → sub-distributor), each with the trade of the window.
        """
        dep = self.dependence()
        nodes: list[dict[str, Any]] = [{"id": self.core.uscc, "name": self.core.name, "kind": "core", "tier": 0,
                                        "rating": self.core.rating, "sector": self.core.sector}]
        edges: list[dict[str, Any]] = []
        for m in sorted(self.members, key=lambda m: (m.tier, m.role, m.uscc)):
            nodes.append({"id": m.uscc, "kind": m.role, "tier": m.tier, "since": m.since.isoformat(),
                          "tenure_months": m.tenure_months(self.as_of), "dependence": str(dep[m.uscc])})
            source, target = (m.uscc, m.counterparty) if m.role == "supplier" else (m.counterparty, m.uscc)
            edges.append({"source": source, "target": target, "role": m.role, "tier": m.tier,
                          "share_of_business": str(m.share_of_business),
                          "payment_terms_days": m.payment_terms_days, **m.trade.to_dict()})
        return {"core": self.core.to_dict(), "as_of": self.as_of.isoformat(), "window_months": self.window_months,
                "members": len(self.members), "tiers": {str(t): len(self.tier(t)) for t in (1, 2)},
                "nodes": nodes, "edges": edges}


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _dec(x: Any, places: str = "0.000001") -> Decimal:
    """A source float (shares, day counts) as a Decimal of its printed value — floats never reach money."""
    return Decimal(str(x)).quantize(Decimal(places))


def summarise_trade(rows: Iterable[Mapping[str, Any]]) -> TradeSummary:
    """Sum the monthly rows of one member (`chain_trade_monthly` fields) into a `TradeSummary`."""
    rows = sorted(rows, key=lambda r: r["month"])
    if not rows:
        return _NO_TRADE
    invoiced = sum((Decimal(r["invoiced_amount"]) for r in rows), Decimal("0.00"))
    paid = sum((Decimal(r["paid_amount"]) for r in rows), Decimal("0.00"))
    weighted = [(Decimal(r["paid_amount"]), _dec(r["avg_payment_days"], "0.1")) for r in rows
                if r["avg_payment_days"] is not None and Decimal(r["paid_amount"]) > 0]
    w = sum((p for p, _ in weighted), Decimal(0))
    avg = (sum((p * d for p, d in weighted), Decimal(0)) / w).quantize(Decimal("0.1")) if w > 0 else None
    return TradeSummary(months=len(rows), first_month=rows[0]["month"], last_month=rows[-1]["month"],
                        invoiced=invoiced, invoices=sum(int(r["invoices"] or 0) for r in rows), paid=paid,
                        avg_payment_days=avg, past_due=Decimal(rows[-1]["past_due_amount"]))


def build_chain(core: CoreEnterprise, relations: Iterable[Mapping[str, Any]],
                trade: Iterable[Mapping[str, Any]], *, as_of: date, window_months: int) -> Chain:
    """Assemble a `Chain` from source rows already filtered to what is known as of `as_of` (pure)."""
    by_member: dict[str, list[Mapping[str, Any]]] = {}
    for r in trade:
        by_member.setdefault(r["member_uscc"], []).append(r)
    members = []
    for r in relations:
        rows = by_member.get(r["member_uscc"], [])
        members.append(ChainMember(
            core=core.uscc, uscc=r["member_uscc"], role=r["role"], tier=int(r["tier"]),
            counterparty=r["counterparty_uscc"] or core.uscc, since=r["since_date"],
            share_of_business=_dec(r["share_of_business"] or 0), payment_terms_days=int(r["payment_terms_days"] or 0),
            trade=summarise_trade(rows), direction=rows[0]["direction"] if rows else None))
    return Chain(core=core, members=tuple(sorted(members, key=lambda m: (m.tier, m.uscc))), as_of=as_of,
                 window_months=window_months)


# ---- the raw-zone reader (I/O) -----------------------------------------------------------------------------


class ChainSource:
    """Reads the three chain sources from a raw zone (`<home>/raw/<source>/*.parquet`), point in time."""

    def __init__(self, raw_root: Path | str) -> None:
        self.root = Path(raw_root)

    @classmethod
    def default(cls) -> ChainSource:
        from puhui.config import paths

        return cls(paths().raw)

    def _frame(self, source: str) -> Any:
        import polars as pl

        folder = self.root / source
        if not any(folder.glob("*.parquet")):
            raise NotFound(f"the raw zone {self.root} has no {source} data; run `puhui synth` or `puhui ingest`",
                           code="source_missing", source=source, raw=str(self.root))
        return pl.scan_parquet(str(folder / "*.parquet"))

    def cores(self) -> list[CoreEnterprise]:
        """Every core enterprise (a reference snapshot: no time field)."""
        df = self._frame("chain_core_enterprises").sort("core_uscc").collect()
        return [_core(r) for r in df.iter_rows(named=True)]

    def core(self, uscc: str) -> CoreEnterprise:
        import polars as pl

        df = self._frame("chain_core_enterprises").filter(pl.col("core_uscc") == uscc).collect()
        if df.height == 0:
            raise NotFound(f"{uscc} is not a core enterprise in the raw zone", code="unknown_core_enterprise",
                           core=uscc)
        return _core(df.row(0, named=True))

    def chain(self, core_uscc: str, *, as_of: date, window_months: int = 12) -> Chain:
        """The chain of `core_uscc` as known on `as_of`, with trade over the last `window_months` reported."""
        import polars as pl

        from puhui.data.contracts.enterprise import CHAIN_RELATIONS, CHAIN_TRADE_MONTHLY
        from puhui.indicators.pit import anchor_month

        if not 1 <= window_months <= 120:
            raise ValidationError(f"window must be 1–120 months, got {window_months}", code="invalid_window",
                                  field="window_months")
        core = self.core(core_uscc)
        known = as_of - timedelta(days=CHAIN_RELATIONS.lag_days)
        rel = (self._frame("chain_relations")
               .filter((pl.col("core_uscc") == core_uscc) & (pl.col("since_date") <= known)).collect())
        last = anchor_month(as_of, CHAIN_TRADE_MONTHLY.lag_days)
        first = add_months(last, -(window_months - 1))
        trade = (self._frame("chain_trade_monthly")
                 .filter((pl.col("core_uscc") == core_uscc) & (pl.col("month") >= first) & (pl.col("month") <= last))
                 .collect())
        return build_chain(core, rel.iter_rows(named=True), trade.iter_rows(named=True), as_of=as_of,
                           window_months=window_months)

    def memberships(self, member_uscc: str, *, as_of: date) -> list[dict[str, Any]]:
        """The chains an enterprise belongs to as of `as_of` (core, role, tier, share of business)."""
        import polars as pl

        from puhui.data.contracts.enterprise import CHAIN_RELATIONS

        known = as_of - timedelta(days=CHAIN_RELATIONS.lag_days)
        df = (self._frame("chain_relations")
              .filter((pl.col("member_uscc") == member_uscc) & (pl.col("since_date") <= known))
              .sort("core_uscc").collect())
        return [{"core": r["core_uscc"], "role": r["role"], "tier": int(r["tier"]),
                 "counterparty": r["counterparty_uscc"], "since": r["since_date"].isoformat(),
                 "share_of_business": str(_dec(r["share_of_business"] or 0))} for r in df.iter_rows(named=True)]


def _core(r: Mapping[str, Any]) -> CoreEnterprise:
    return CoreEnterprise(uscc=r["core_uscc"], name=r["name"] or "", sector=r["sector"] or "",
                          industry_section=r["industry_section"] or "", industry_code=r["industry_code"] or "",
                          city_code=r["city_code"] or "", annual_revenue=Decimal(r["annual_revenue"] or 0),
                          employees=int(r["employees"] or 0), listed=bool(r["listed"]), rating=r["rating"] or "")
