"""Digital credit vouchers (数字信用凭据): the multi-tier voucher ledger (信用多级流转) as pure values, in integer fen.

A core enterprise issues a **voucher** (root, 凭据) for a confirmed payable (应付账款确权) to its tier-1
supplier, within its approved chain limit; holders split it into any amounts down to one fen (0.01 yuan),
pass parts down the chain, discount them at a bank, or pledge them; at maturity the core enterprise pays
every current holder. Rules and lifecycle: `shared/reference/avm_scf.md` part B (银发〔2025〕77号, the SHCPE
等分化 sub-ticket model, 云信-style assignment).

**Holding model: fen intervals with parent links.** A voucher of face F is the interval [0, F) of fen; a
**holding** (持有份额, the SHCPE 子票区间) is a half-open sub-interval [start, end) held by one party. A split
or a move never edits a holding's range or holder: the holding is *superseded* and new holdings (its
children, each with a `parent` link) cover exactly its range — the UTXO rule of the Fabric token sample,
sum(inputs) = sum(outputs), made structural. Intervals make the money invariant a sort-and-scan check that
does not depend on history depth (the non-superseded holdings tile [0, F) with no overlap and no gap, so
live + settled + cancelled = F to the fen) and give each part a stable identity in the bill system's own
notation (`sub_ticket_range`: [0, 30,000,000) is "1-30000000"); parent links give the endorsement chain
(背书链) back to the root, whose holder is the first payee and whose voucher names the issuer. Ranges never
merge back (avm_scf.md B4: merge-back not allowed).

**States** (`HoldingStatus`): issued (出票待签收) → active (可流通) ⇄ locked (已锁定: a transfer awaits the
recipient's signature) / pledged (已质押); financed (已贴现/保理: held by the funder); at maturity presented
(提示付款) → settled (已结清) or dishonoured (已拒付; a later payment still settles it); cancelled (已撤销: the
issue was withdrawn or refused before the payee signed). `superseded` marks history: a holding replaced by
its children. Nothing locked, pledged, financed, matured (business date ≥ maturity) or non-transferable
(不可转让) can be split, transferred, financed or pledged; rejecting or withdrawing a pending application
restores the holding exactly. Transfers need the recipient's acceptance (bill style, 被背书人签收) unless
the voucher was issued in `notice` mode (云信-style assignment: complete on notice, 民法典 Art 546).

**Rules from settings.** The tenor comes from the dated settings of `puhui.core.regulatory` on the issue
date: beyond `voucher_normal_tenor_months` (6) is allowed but flagged for the bank's reasonableness review,
beyond `voucher_max_tenor_months` (12) is refused (银发〔2025〕77号). Financing needs a registration
reference in the PBoC Credit Reference Center's 动产融资统一登记公示系统 (77号文), as does a pledge.

**Discount proceeds** (`discount`): interest = face × annual rate × days / basis (360 by default; some
factors use 365), days = calendar days from the financing date (counted) to the payment date (not
counted, 算头不算尾), the payment date being the maturity rolled to the next working day when it falls on
a holiday (the 票据 convention; 《支付结算办法》 Art 92 adds 3 days for an out-of-town paper acceptor,
`extra_days`). **Rounding:** the interest is rounded once, half-up, to the fen, and proceeds = face −
interest, so interest + proceeds = face exactly and the funder's income is the quoted figure.

Every operation is a pure function from the current values (voucher, the holdings it touches, the payable
and chain limit where they change) to a `Change` — new versions and new holdings, the event, financings
and payments — that the caller applies (the in-memory `VoucherLedger` here, the SQL store in
`puhui.supplychain.service`). A refused operation raises a typed `PuhuiError` and returns nothing, so
nothing changes. `check_voucher` states the invariants; tests and the end of day can assert them.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from puhui.core.calendar import ChinaCalendar, RollRule
from puhui.core.dates import add_months
from puhui.core.errors import Conflict, Forbidden, NotFound, PolicyViolation, PuhuiError, ValidationError
from puhui.core.identifiers import validate_uscc
from puhui.core.money import Money, Number, to_decimal
from puhui.core.rates import RATE_CONTEXT, AnnualRate
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.supplychain.chains import ChainLimit

__all__ = [
    "LEAF_STATUSES",
    "LIVE_STATUSES",
    "MAX_FACE_FEN",
    "Change",
    "DiscountQuote",
    "Financing",
    "Holding",
    "HoldingStatus",
    "LedgerInvariantError",
    "Payable",
    "Payment",
    "Pending",
    "TransferMode",
    "Voucher",
    "VoucherEvent",
    "VoucherLedger",
    "VoucherStatus",
    "accept_issue",
    "accept_transfer",
    "cancel_issue",
    "check_voucher",
    "confirm_payable",
    "discount",
    "dishonour",
    "distribute",
    "enterprise_id",
    "finance",
    "issue",
    "paid_by_party",
    "parse_ref",
    "party_id",
    "pledge",
    "present",
    "reject_transfer",
    "release_pledge",
    "settle",
    "split",
    "tenor_review",
    "to_fen",
    "to_fen_or_zero",
    "transfer",
    "withdraw_transfer",
]

#: 1 bn yuan in fen: the SHCPE 等分化 cap on a bill package (range bounds ≤ 12 digits), kept for vouchers.
MAX_FACE_FEN = 100_000_000_000
#: At most this many parts in one split or distribution (one transaction stays bounded).
MAX_PARTS = 1000
_ROUND_HALF_UP = decimal.ROUND_HALF_UP
#: An operation's answer lists its holdings and recipients only up to this many.
_ANSWER_ROWS = 100


class LedgerInvariantError(PuhuiError):
    """A voucher ledger broke an invariant (a bug, never bad input): conservation, tiling or tracing."""

    code = "voucher_invariant_broken"
    http_status = 500


class HoldingStatus(StrEnum):
    """The state of one holding (持有份额); see the module docstring for the lifecycle."""

    ISSUED = "issued"
    ACTIVE = "active"
    LOCKED = "locked"
    FINANCED = "financed"
    PLEDGED = "pledged"
    PRESENTED = "presented"
    SETTLED = "settled"
    DISHONOURED = "dishonoured"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"

    @property
    def chinese(self) -> str:
        return _HOLDING_ZH[self]


_HOLDING_ZH = {
    HoldingStatus.ISSUED: "已出票待签收", HoldingStatus.ACTIVE: "可流通", HoldingStatus.LOCKED: "已锁定",
    HoldingStatus.FINANCED: "已融资", HoldingStatus.PLEDGED: "已质押", HoldingStatus.PRESENTED: "提示付款",
    HoldingStatus.SETTLED: "已结清", HoldingStatus.DISHONOURED: "已拒付", HoldingStatus.CANCELLED: "已撤销",
    HoldingStatus.SUPERSEDED: "已拆分/转出",
}

#: A holding in one of these is an unpaid claim on the issuer.
LIVE_STATUSES = frozenset({
    HoldingStatus.ISSUED, HoldingStatus.ACTIVE, HoldingStatus.LOCKED, HoldingStatus.FINANCED,
    HoldingStatus.PLEDGED, HoldingStatus.PRESENTED, HoldingStatus.DISHONOURED,
})  # fmt: skip
#: The non-superseded holdings: together they tile the voucher's face.
LEAF_STATUSES = LIVE_STATUSES | {HoldingStatus.SETTLED, HoldingStatus.CANCELLED}


class VoucherStatus(StrEnum):
    """The state of a root voucher."""

    ISSUED = "issued"
    ACTIVE = "active"
    PRESENTED = "presented"
    SETTLED = "settled"
    DISHONOURED = "dishonoured"
    CANCELLED = "cancelled"


#: Which holding statuses a voucher in each state may have among its leaves.
_LEAVES_BY_VOUCHER = {
    VoucherStatus.ISSUED: {HoldingStatus.ISSUED},
    VoucherStatus.ACTIVE: {HoldingStatus.ACTIVE, HoldingStatus.LOCKED, HoldingStatus.FINANCED, HoldingStatus.PLEDGED},
    VoucherStatus.PRESENTED: {HoldingStatus.PRESENTED},
    VoucherStatus.SETTLED: {HoldingStatus.SETTLED},
    VoucherStatus.DISHONOURED: {HoldingStatus.DISHONOURED},
    VoucherStatus.CANCELLED: {HoldingStatus.CANCELLED},
}


class TransferMode(StrEnum):
    """How a transfer completes: on the recipient's signature, or on notice alone."""

    ACCEPTANCE = "acceptance"  # bill style: the endorsee signs (票据法; 供应链票据 提示收票)
    NOTICE = "notice"  # 云信-style assignment of a receivable: effective on notice to the debtor (民法典 Art 546)


# ---- values -------------------------------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return str(Money.from_fen(fen).amount)


@dataclass(frozen=True, slots=True)
class Payable:
    """A confirmed payable (应付账款确权) of a core enterprise to a supplier: the trade background of vouchers."""

    no: str
    core: str
    supplier: str
    amount_fen: int
    confirmed_on: date
    vouchered_fen: int = 0
    due_date: date | None = None
    invoices: tuple[str, ...] = ()

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.vouchered_fen

    def to_dict(self) -> dict[str, Any]:
        return {"payable_no": self.no, "core": self.core, "supplier": self.supplier,
                "amount": _yuan(self.amount_fen), "vouchered": _yuan(self.vouchered_fen),
                "remaining": _yuan(self.remaining_fen), "confirmed_on": self.confirmed_on.isoformat(),
                "due_date": None if self.due_date is None else self.due_date.isoformat(),
                "invoices": list(self.invoices)}


@dataclass(frozen=True, slots=True)
class Voucher:
    """A root voucher: issuer (the paying core enterprise), first payee, face, dates and its terms."""

    no: str
    issuer: str
    payee: str
    face_fen: int
    issue_date: date
    maturity_date: date
    payable_no: str
    transferable: bool
    transfer_mode: TransferMode
    tenor_review: bool
    status: VoucherStatus
    next_seq: int
    last_on: date
    settled_fen: int = 0
    cancelled_fen: int = 0

    @property
    def face(self) -> Money:
        return Money.from_fen(self.face_fen)

    def root_ref(self) -> str:
        return f"{self.no}-1"

    def to_dict(self) -> dict[str, Any]:
        return {"voucher_no": self.no, "issuer": self.issuer, "payee": self.payee, "face": _yuan(self.face_fen),
                "issue_date": self.issue_date.isoformat(), "maturity_date": self.maturity_date.isoformat(),
                "payable_no": self.payable_no, "transferable": self.transferable,
                "transfer_mode": self.transfer_mode.value, "tenor_review": self.tenor_review,
                "status": self.status.value, "settled": _yuan(self.settled_fen),
                "cancelled": _yuan(self.cancelled_fen), "last_event_on": self.last_on.isoformat()}


@dataclass(frozen=True, slots=True)
class Pending:
    """An application waiting for its counterparty: a transfer from `by` to `to`, requested on `on`."""

    kind: str
    by: str
    to: str
    on: date


@dataclass(frozen=True, slots=True)
class Holding:
    """One holding: the fen interval [start, end) of a voucher, its holder and state, and its parent link."""

    voucher_no: str
    seq: int
    start: int
    end: int
    holder: str
    status: HoldingStatus
    opened_on: date
    parent: int | None = None
    closed_on: date | None = None
    prior_status: HoldingStatus | None = None
    pending: Pending | None = None
    pledgee: str | None = None
    pledge_ref: str | None = None

    @property
    def amount_fen(self) -> int:
        return self.end - self.start

    @property
    def amount(self) -> Money:
        return Money.from_fen(self.amount_fen)

    @property
    def ref(self) -> str:
        """The public id of the holding: `<voucher no>-<seq>`."""
        return f"{self.voucher_no}-{self.seq}"

    @property
    def sub_ticket_range(self) -> str:
        """The SHCPE 子票区间 notation: 1-based, both ends included, one unit = 0.01 yuan."""
        return f"{self.start + 1}-{self.end}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "voucher_no": self.voucher_no, "seq": self.seq, "parent": self.parent,
                "range": [self.start, self.end], "sub_ticket_range": self.sub_ticket_range,
                "amount": _yuan(self.amount_fen), "holder": self.holder, "status": self.status.value,
                "prior_status": None if self.prior_status is None else self.prior_status.value,
                "pending": None if self.pending is None else {
                    "kind": self.pending.kind, "by": self.pending.by, "to": self.pending.to,
                    "on": self.pending.on.isoformat()},
                "pledgee": self.pledgee, "pledge_ref": self.pledge_ref, "opened_on": self.opened_on.isoformat(),
                "closed_on": None if self.closed_on is None else self.closed_on.isoformat()}


@dataclass(frozen=True, slots=True)
class DiscountQuote:
    """The discount (贴现) of a face amount: days, interest and proceeds in fen, and the 每十万贴息 quote."""

    face_fen: int
    annual_rate: AnnualRate
    start: date
    maturity: date
    payment_date: date
    days: int
    basis: int
    interest_fen: int
    proceeds_fen: int

    @property
    def per_100k(self) -> Decimal:
        """每十万贴息: the interest on 100,000 yuan for the same days, to the fen."""
        raw = RATE_CONTEXT.divide(Decimal(100000) * self.annual_rate.value * self.days, Decimal(self.basis))
        return raw.quantize(Decimal("0.01"), rounding=_ROUND_HALF_UP)

    def to_dict(self) -> dict[str, Any]:
        return {"face": _yuan(self.face_fen), "annual_rate": str(self.annual_rate.value), "basis": self.basis,
                "start": self.start.isoformat(), "maturity": self.maturity.isoformat(),
                "payment_date": self.payment_date.isoformat(), "days": self.days,
                "interest": _yuan(self.interest_fen), "proceeds": _yuan(self.proceeds_fen),
                "per_100k": str(self.per_100k)}


@dataclass(frozen=True, slots=True)
class Financing:
    """A financing (贴现/保理) of a holding: who sold it to which funder, at what rate, for what proceeds."""

    voucher_no: str
    seq: int
    parent: int
    seller: str
    funder: str
    registration_ref: str
    quote: DiscountQuote
    on: date

    def to_dict(self) -> dict[str, Any]:
        return {"voucher_no": self.voucher_no, "holding": f"{self.voucher_no}-{self.seq}", "seller": self.seller,
                "funder": self.funder, "registration_ref": self.registration_ref, "on": self.on.isoformat(),
                **self.quote.to_dict()}


@dataclass(frozen=True, slots=True)
class Payment:
    """One settlement payment (兑付) of a holding at maturity: to its holder, funder or pledgee."""

    voucher_no: str
    seq: int
    holder: str
    paid_to: str
    capacity: str
    amount_fen: int
    on: date

    def to_dict(self) -> dict[str, Any]:
        return {"holding": f"{self.voucher_no}-{self.seq}", "holder": self.holder, "paid_to": self.paid_to,
                "capacity": self.capacity, "amount": _yuan(self.amount_fen), "on": self.on.isoformat()}


@dataclass(frozen=True, slots=True)
class VoucherEvent:
    """One entry of a voucher's history: what happened, when (business date), by whom, to which holdings."""

    voucher_no: str
    kind: str
    on: date
    by: str
    holdings: tuple[int, ...]
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"voucher_no": self.voucher_no, "kind": self.kind, "on": self.on.isoformat(), "by": self.by,
                "holdings": [f"{self.voucher_no}-{s}" for s in self.holdings], "details": dict(self.details)}


@dataclass(frozen=True, slots=True)
class Change:
    """What one operation does: new versions of what it touched, what it created, and its records."""

    voucher: Voucher
    updated: tuple[Holding, ...]
    created: tuple[Holding, ...]
    event: VoucherEvent
    payable: Payable | None = None
    limit: ChainLimit | None = None
    financings: tuple[Financing, ...] = ()
    payments: tuple[Payment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of the operation (what the API returns)."""
        touched = sorted([*self.updated, *self.created], key=lambda h: h.seq)
        out: dict[str, Any] = {"event": self.event.kind, "voucher": self.voucher.to_dict(),
                               "holdings_count": len(touched),
                               "created": [h.ref for h in sorted(self.created, key=lambda h: h.seq)]}
        # A settlement touches every holding (10,000 and more): the answer stays small, the detail is queryable.
        if len(touched) <= _ANSWER_ROWS:
            out["holdings"] = [h.to_dict() for h in touched]
        if self.financings:
            out["financings"] = [f.to_dict() for f in self.financings]
        if self.payments:
            by_party = paid_by_party(self.payments)
            out["payments_count"] = len(self.payments)
            out["paid_total"] = _yuan(sum(p.amount_fen for p in self.payments))
            out["recipients_count"] = len(by_party)
            if len(by_party) <= _ANSWER_ROWS:
                out["paid_to"] = {k: _yuan(v) for k, v in sorted(by_party.items())}
        return out


def paid_by_party(payments: Iterable[Payment]) -> dict[str, int]:
    """Settlement totals in fen per recipient of the funds."""
    out: dict[str, int] = {}
    for p in payments:
        out[p.paid_to] = out.get(p.paid_to, 0) + p.amount_fen
    return out


# ---- input parsing ------------------------------------------------------------------------------------------


def to_fen(value: Number | Money, field: str = "amount") -> int:
    """A positive amount of yuan (str, int, Decimal or `Money`) as integer fen; floats and sub-fen refused.

    `"0.001"` is `sub_fen_amount` (below the 0.01-yuan unit), `"0"` and negatives `non_positive_amount`.
    """
    if isinstance(value, Money):
        if value.currency != "CNY":
            raise ValidationError(f"{field}: vouchers are in CNY, not {value.currency}", code="currency_mismatch",
                                  field=field)
        value = value.amount
    d = to_decimal(value, field=field)
    fen = d * 100
    if fen != fen.to_integral_value():
        raise ValidationError(f"{field}: {d} yuan is not a whole number of fen; the smallest unit is 0.01 yuan",
                              code="sub_fen_amount", field=field, value=str(d))
    if fen <= 0:
        raise ValidationError(f"{field}: {d} yuan is not positive", code="non_positive_amount", field=field,
                              value=str(d))
    if fen > MAX_FACE_FEN:
        raise ValidationError(f"{field}: {d} yuan exceeds the 1,000,000,000-yuan cap of one voucher",
                              code="amount_out_of_range", field=field, value=str(d))
    return int(fen)


def to_fen_or_zero(value: Number | Money, field: str = "amount") -> int:
    """As `to_fen`, but zero is allowed (a limit cut to nothing)."""
    amount = value.amount if isinstance(value, Money) else to_decimal(value, field=field)
    return 0 if amount == 0 else to_fen(value, field)


def party_id(value: Any, field: str = "by") -> str:
    """A party identifier (an enterprise's USCC, a bank's code): 1–64 printable characters."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 64 or not text.isprintable():
        raise ValidationError(f"{field}: a party id must be 1–64 printable characters, got {value!r}",
                              code="invalid_party", field=field)
    return text


def enterprise_id(value: Any, field: str = "enterprise") -> str:
    """An enterprise party: a valid 统一社会信用代码 (GB 32100-2015), returned compact."""
    return validate_uscc(party_id(value, field))


def _registration(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValidationError(
            "financing and pledges of a voucher must be registered in 动产融资统一登记公示系统 (银发〔2025〕77号): "
            "give the registration reference", code="registration_required", field="registration_ref")
    if len(text) > 64 or not text.isprintable():
        raise ValidationError(f"registration_ref must be 1–64 printable characters, got {value!r}",
                              code="invalid_registration_ref", field="registration_ref")
    return text


def parse_ref(ref: str) -> tuple[str, int]:
    """`"CV2025…-3"` → (voucher no, 3); anything else is `invalid_holding_ref`."""
    text = str(ref).strip()
    no, sep, seq = text.rpartition("-")
    if not sep or not no or not seq.isdigit() or int(seq) < 1:
        raise ValidationError(f"{ref!r} is not a holding reference (<voucher no>-<n>)", code="invalid_holding_ref",
                              field="holding")
    return no, int(seq)


# ---- rules --------------------------------------------------------------------------------------------------


def tenor_review(issue_date: date, maturity: date, book: SettingsBook = REGULATORY) -> bool:
    """Check the payment term (付款期限) under the rule in force on `issue_date`; True if the bank must review it.

    Beyond `voucher_max_tenor_months` → `PolicyViolation(tenor_exceeds_maximum)`; beyond
    `voucher_normal_tenor_months` → allowed, flagged (银发〔2025〕77号: 原则上不超过6个月，最长不超过1年).
    Months are counted by 民法典 Art 202 (`add_months`): issued 2025-07-31, 6 months end 2026-01-31.
    """
    if maturity <= issue_date:
        raise ValidationError(f"maturity {maturity} must be after the issue date {issue_date}",
                              code="maturity_not_after_issue", field="maturity_date")
    try:
        normal = int(book.get("voucher_normal_tenor_months", issue_date))
        longest = int(book.get("voucher_max_tenor_months", issue_date))
    except NotFound as e:
        raise PolicyViolation(f"no voucher tenor rule is in force on {issue_date}: {e.message}",
                              code="no_tenor_rule", on=issue_date.isoformat()) from None
    if maturity > add_months(issue_date, longest):
        raise PolicyViolation(
            f"maturity {maturity} is more than {longest} months after issue ({issue_date}); the longest payment "
            f"term allowed is {longest} months (银发〔2025〕77号)", code="tenor_exceeds_maximum",
            issue_date=issue_date.isoformat(), maturity_date=maturity.isoformat(), max_months=longest)
    return maturity > add_months(issue_date, normal)


def discount(
    face_fen: int,
    annual_rate: AnnualRate | Number,
    *,
    start: date,
    maturity: date,
    basis: int = 360,
    calendar: ChinaCalendar | None = None,
    extra_days: int = 0,
) -> DiscountQuote:
    """贴现: interest = face × rate × days / basis, rounded half-up to the fen; proceeds = face − interest.

    `days` runs from `start` (counted) to the payment date (not counted), the maturity rolled to the next
    working day by `calendar` when given (beyond the calendar's data only weekends move it), plus
    `extra_days`. Worked example (shared/reference/avm_scf.md B2): 1,000,000.00 at 2.0% for 90 days →
    interest 5,000.00, proceeds 995,000.00.
    """
    rate = AnnualRate.of(annual_rate)
    if basis not in (360, 365):
        raise ValidationError(f"discount basis must be 360 or 365, not {basis!r}", code="invalid_basis",
                              field="basis")
    if isinstance(extra_days, bool) or not isinstance(extra_days, int) or not 0 <= extra_days <= 30:
        raise ValidationError(f"extra_days must be 0–30, not {extra_days!r}", code="invalid_days", field="extra_days")
    if start >= maturity:
        raise PolicyViolation(f"cannot discount on {start}: the voucher matures on {maturity}",
                              code="voucher_matured", on=start.isoformat(), maturity_date=maturity.isoformat())
    payment = calendar.roll(maturity, RollRule.FOLLOWING) if calendar is not None else maturity
    days = (payment - start).days + extra_days
    raw = RATE_CONTEXT.divide(RATE_CONTEXT.multiply(Decimal(face_fen) * rate.value, Decimal(days)), Decimal(basis))
    interest = int(raw.quantize(Decimal(1), rounding=_ROUND_HALF_UP))
    return DiscountQuote(face_fen=face_fen, annual_rate=rate, start=start, maturity=maturity, payment_date=payment,
                         days=days, basis=basis, interest_fen=interest, proceeds_fen=face_fen - interest)


# ---- the working set of one operation -----------------------------------------------------------------------


class _Work:
    """The values one operation reads and the new versions it makes; the inputs are never modified."""

    def __init__(self, voucher: Voucher, holdings: Iterable[Holding] = ()) -> None:
        self.voucher = voucher
        self.before = {h.seq: h for h in holdings}
        self.current: dict[int, Holding] = dict(self.before)
        self.created: list[int] = []
        self.financings: list[Financing] = []
        self.payments: list[Payment] = []

    def put(self, h: Holding) -> Holding:
        self.current[h.seq] = h
        return h

    def new(self, *, start: int, end: int, holder: str, status: HoldingStatus, on: date,
            parent: int | None) -> Holding:
        seq = self.voucher.next_seq
        self.voucher = replace(self.voucher, next_seq=seq + 1)
        self.created.append(seq)
        return self.put(Holding(voucher_no=self.voucher.no, seq=seq, start=start, end=end, holder=holder,
                                status=status, opened_on=on, parent=parent))

    def supersede(self, h: Holding, on: date) -> None:
        self.put(replace(h, status=HoldingStatus.SUPERSEDED, closed_on=on, prior_status=None, pending=None))

    def split(self, h: Holding, parts: Sequence[int], on: date) -> list[Holding]:
        self.supersede(h, on)
        out, cursor = [], h.start
        for p in parts:
            out.append(self.new(start=cursor, end=cursor + p, holder=h.holder, status=h.status, on=on, parent=h.seq))
            cursor += p
        if cursor != h.end:  # parts were validated against the holding: this is a bug, never input
            raise LedgerInvariantError(f"split of {h.ref} does not cover its range", holding=h.ref)
        return out

    def move(self, h: Holding, to: str, on: date, status: HoldingStatus = HoldingStatus.ACTIVE) -> Holding:
        self.supersede(h, on)
        return self.new(start=h.start, end=h.end, holder=to, status=status, on=on, parent=h.seq)

    def change(self, kind: str, on: date, by: str, seqs: Iterable[int], details: Mapping[str, Any] | None = None,
               *, payable: Payable | None = None, limit: ChainLimit | None = None) -> Change:
        voucher = replace(self.voucher, last_on=max(self.voucher.last_on, on))
        updated = tuple(self.current[s] for s in self.before if self.current[s] != self.before[s])
        created = tuple(self.current[s] for s in self.created)
        event = VoucherEvent(voucher.no, kind, on, by, tuple(dict.fromkeys(seqs)), dict(details or {}))
        return Change(voucher=voucher, updated=updated, created=created, event=event, payable=payable, limit=limit,
                      financings=tuple(self.financings), payments=tuple(self.payments))


# ---- guards -------------------------------------------------------------------------------------------------


def _dated(v: Voucher, on: date) -> None:
    if on < v.last_on:
        raise ValidationError(f"voucher {v.no} already has an event on {v.last_on}; {on} is earlier",
                              code="date_before_last_event", on=on.isoformat(), last_event_on=v.last_on.isoformat())


def _belongs(v: Voucher, h: Holding) -> None:
    if h.voucher_no != v.no:
        raise ValueError(f"holding {h.ref} does not belong to voucher {v.no}")


def _holder(h: Holding, by: str) -> None:
    if by != h.holder:
        raise Forbidden(f"{by} does not hold {h.ref} (held by {h.holder})", code="not_holder",
                              holding=h.ref, by=by)


def _status(h: Holding, *allowed: HoldingStatus) -> None:
    if h.status not in allowed:
        raise Conflict(f"holding {h.ref} is {h.status.value} ({h.status.chinese}); this needs it "
                       f"{' or '.join(s.value for s in allowed)}", code=f"holding_{h.status.value}",
                       holding=h.ref, status=h.status.value)


def _not_matured(v: Voucher, on: date) -> None:
    if on >= v.maturity_date:
        raise PolicyViolation(f"voucher {v.no} matured on {v.maturity_date}: its holdings can no longer move",
                              code="voucher_matured", maturity_date=v.maturity_date.isoformat(), on=on.isoformat())


def _movable(v: Voucher, h: Holding, by: str, on: date) -> None:
    """Split, transfer, finance and pledge need an active holding of `by`, transferable and not matured."""
    _belongs(v, h)
    _dated(v, on)
    _holder(h, by)
    _status(h, HoldingStatus.ACTIVE)
    if not v.transferable:
        raise PolicyViolation(f"voucher {v.no} is non-transferable (不可转让)", code="not_transferable",
                              voucher_no=v.no)
    _not_matured(v, on)


def _parts(parts: Sequence[int], amount_fen: int, holding: str) -> list[int]:
    out = list(parts)
    if not out:
        raise ValidationError("give at least one part", code="split_needs_two_parts", holding=holding)
    if len(out) > MAX_PARTS:
        raise ValidationError(f"at most {MAX_PARTS} parts at once, got {len(out)}", code="too_many_parts",
                              holding=holding)
    for p in out:
        if isinstance(p, bool) or not isinstance(p, int):
            raise ValidationError(f"part {p!r} is not a whole number of fen", code="sub_fen_amount", holding=holding)
        if p <= 0:
            raise ValidationError(f"part {p} fen is not positive", code="non_positive_amount", holding=holding)
    total = sum(out)
    if total > amount_fen:
        raise ValidationError(f"the parts total {_yuan(total)}, more than the {_yuan(amount_fen)} of {holding}",
                              code="split_exceeds_holding", holding=holding, parts_total=_yuan(total),
                              amount=_yuan(amount_fen))
    if total < amount_fen:
        out.append(amount_fen - total)
    if len(out) < 2:
        raise ValidationError(f"splitting {holding} into itself: give parts that sum to less than it",
                              code="split_needs_two_parts", holding=holding)
    return out


def _recipient(v: Voucher, h: Holding, to: str) -> None:
    if to == h.holder:
        raise ValidationError(f"{to} already holds {h.ref}", code="transfer_to_self", holding=h.ref)
    if to == v.issuer:
        raise PolicyViolation(f"{h.ref} cannot go back to its issuer {to}: the issuer pays it at maturity",
                              code="transfer_to_issuer", holding=h.ref)


def _take(w: _Work, h: Holding, amount_fen: int | None, on: date) -> Holding:
    """The part of `h` an operation acts on: `h` itself, or the first part of a split off `amount_fen`."""
    if amount_fen is None or amount_fen == h.amount_fen:
        return h
    part = _parts([amount_fen], h.amount_fen, h.ref)
    return w.split(h, part, on)[0]


# ---- operations ---------------------------------------------------------------------------------------------


def confirm_payable(
    no: str, *, core: str, supplier: str, amount_fen: int, on: date, due_date: date | None = None,
    invoices: Sequence[str] = (),
) -> Payable:
    """应付账款确权: the core enterprise confirms what it owes a supplier (the trade background of a voucher)."""
    no = party_id(no, "payable_no")
    core, supplier = enterprise_id(core, "core"), enterprise_id(supplier, "supplier")
    if core == supplier:
        raise ValidationError("a core enterprise cannot owe itself", code="payable_to_self", field="supplier")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_FACE_FEN:
        raise ValidationError(f"payable amount must be positive fen, got {amount_fen!r}", code="non_positive_amount",
                              field="amount")
    if due_date is not None and due_date < on:
        raise ValidationError(f"due date {due_date} is before the confirmation {on}", code="invalid_due_date",
                              field="due_date")
    return Payable(no=no, core=core, supplier=supplier, amount_fen=amount_fen, confirmed_on=on, due_date=due_date,
                   invoices=tuple(party_id(i, "invoices") for i in invoices))


def issue(
    no: str,
    *,
    payable: Payable,
    limit: ChainLimit,
    face_fen: int,
    maturity: date,
    on: date,
    by: str,
    transferable: bool = True,
    transfer_mode: TransferMode | str = TransferMode.ACCEPTANCE,
    book: SettingsBook = REGULATORY,
) -> Change:
    """开立: the core enterprise `by` issues voucher `no` of `face_fen` to the payable's supplier.

    Refused unless `by` is the payable's debtor, the face fits the payable's unvouchered remainder and the
    chain limit, and the term passes `tenor_review` (which may flag it). The one holding [0, face) waits for
    the payee's signature (`accept_issue`).
    """
    no = party_id(no, "voucher_no")
    if any(c.isspace() for c in no) or len(no) > 40:
        raise ValidationError(f"voucher number {no!r} must be 1–40 characters without spaces",
                              code="invalid_voucher_no", field="voucher_no")
    if by != payable.core:
        raise PolicyViolation(f"{by} cannot issue against payable {payable.no}: its debtor is {payable.core}",
                              code="not_issuer", payable_no=payable.no)
    if limit.core != payable.core:
        raise ValueError(f"chain limit of {limit.core} given for a payable of {payable.core}")
    try:
        mode = TransferMode(transfer_mode)
    except ValueError:
        raise ValidationError(f"transfer mode must be acceptance or notice, not {transfer_mode!r}",
                              code="invalid_transfer_mode", field="transfer_mode") from None
    if isinstance(face_fen, bool) or not isinstance(face_fen, int) or not 0 < face_fen <= MAX_FACE_FEN:
        raise ValidationError(f"face must be positive fen up to the cap, got {face_fen!r}",
                              code="non_positive_amount", field="face")
    if on < payable.confirmed_on:
        raise ValidationError(f"payable {payable.no} is confirmed on {payable.confirmed_on}, after {on}",
                              code="payable_not_confirmed", payable_no=payable.no)
    if face_fen > payable.remaining_fen:
        raise PolicyViolation(
            f"face {_yuan(face_fen)} exceeds what payable {payable.no} has left to voucher "
            f"({_yuan(payable.remaining_fen)} of {_yuan(payable.amount_fen)})", code="payable_exceeded",
            payable_no=payable.no, face=_yuan(face_fen), remaining=_yuan(payable.remaining_fen))
    review = tenor_review(on, maturity, book)
    limit.check_issue(face_fen, on)
    v = Voucher(no=no, issuer=payable.core, payee=payable.supplier, face_fen=face_fen, issue_date=on,
                maturity_date=maturity, payable_no=payable.no, transferable=bool(transferable), transfer_mode=mode,
                tenor_review=review, status=VoucherStatus.ISSUED, next_seq=1, last_on=on)
    w = _Work(v)
    root = w.new(start=0, end=face_fen, holder=payable.supplier, status=HoldingStatus.ISSUED, on=on, parent=None)
    return w.change("issued", on, by, [root.seq], {
        "face": _yuan(face_fen), "payee": payable.supplier, "maturity_date": maturity.isoformat(),
        "payable_no": payable.no, "tenor_review": review, "transferable": bool(transferable),
        "transfer_mode": mode.value}, payable=replace(payable, vouchered_fen=payable.vouchered_fen + face_fen),
        limit=limit.draw(face_fen))


def accept_issue(v: Voucher, h: Holding, *, by: str, on: date) -> Change:
    """签收: the payee signs the issued voucher; it becomes active (transferable if the voucher allows)."""
    _belongs(v, h)
    _dated(v, on)
    _status(h, HoldingStatus.ISSUED)
    _holder(h, by)
    _not_matured(v, on)
    w = _Work(v, [h])
    w.put(replace(h, status=HoldingStatus.ACTIVE))
    w.voucher = replace(w.voucher, status=VoucherStatus.ACTIVE)
    return w.change("issue_accepted", on, by, [h.seq])


def cancel_issue(v: Voucher, h: Holding, *, payable: Payable, limit: ChainLimit, by: str, on: date,
                 reason: str = "") -> Change:
    """The payee refuses (拒签) or the issuer withdraws (撤票) a voucher not yet signed: it is cancelled.

    The payable's vouchered amount and the chain limit get the face back.
    """
    _belongs(v, h)
    _dated(v, on)
    _status(h, HoldingStatus.ISSUED)
    if by == v.payee:
        kind = "issue_rejected"
    elif by == v.issuer:
        kind = "issue_withdrawn"
    else:
        raise PolicyViolation(f"only the payee or the issuer may cancel voucher {v.no}, not {by}",
                              code="not_counterparty", voucher_no=v.no)
    if payable.no != v.payable_no or limit.core != v.issuer:
        raise ValueError("cancel_issue needs the voucher's own payable and chain limit")
    w = _Work(v, [h])
    w.put(replace(h, status=HoldingStatus.CANCELLED, closed_on=on))
    w.voucher = replace(w.voucher, status=VoucherStatus.CANCELLED, cancelled_fen=v.face_fen)
    return w.change(kind, on, by, [h.seq], {"reason": reason} if reason else {},
                    payable=replace(payable, vouchered_fen=payable.vouchered_fen - v.face_fen),
                    limit=limit.restore(v.face_fen))


def split(v: Voucher, h: Holding, *, parts_fen: Sequence[int], by: str, on: date) -> Change:
    """拆分: cut an active holding into consecutive parts (fen); parts short of the whole leave a last part."""
    _movable(v, h, by, on)
    parts = _parts(parts_fen, h.amount_fen, h.ref)
    w = _Work(v, [h])
    children = w.split(h, parts, on)
    return w.change("split", on, by, [h.seq, *(c.seq for c in children)],
                    {"parts": [_yuan(p) for p in parts]})


def _hand_over(w: _Work, v: Voucher, h: Holding, to: str, by: str, on: date) -> Holding:
    """Lock `h` for `to`'s signature, or move it at once in notice mode."""
    if v.transfer_mode is TransferMode.NOTICE:
        return w.move(h, to, on)
    return w.put(replace(h, status=HoldingStatus.LOCKED, prior_status=h.status, pending=Pending("transfer", by, to,
                                                                                                on)))


def transfer(v: Voucher, h: Holding, *, to: str, by: str, on: date, amount_fen: int | None = None) -> Change:
    """转让: pass a holding (or `amount_fen` of it, split off first) to `to`.

    Acceptance mode: the part is locked until `to` accepts (or rejects; the holder may withdraw). Notice
    mode: it moves at once. A split made for a partial transfer stays if the transfer is refused.
    """
    _movable(v, h, by, on)
    _recipient(v, h, to)
    w = _Work(v, [h])
    part = _take(w, h, amount_fen, on)
    done = _hand_over(w, v, part, to, by, on)
    kind = "transferred" if v.transfer_mode is TransferMode.NOTICE else "transfer_requested"
    return w.change(kind, on, by, [h.seq, *w.created], {"to": to, "amount": _yuan(part.amount_fen),
                                                         "holding": done.ref})


def distribute(v: Voucher, h: Holding, *, transfers: Sequence[tuple[str, int]], by: str, on: date) -> Change:
    """拆分转让: split a holding and pass each part to its recipient in one act (paying several suppliers).

    `transfers` is a list of (recipient, fen); what they do not take stays with the holder as a last part.
    """
    _movable(v, h, by, on)
    if not transfers:
        raise ValidationError("give at least one (recipient, amount)", code="split_needs_two_parts", holding=h.ref)
    for to, _ in transfers:
        _recipient(v, h, to)
    amounts = [a for _, a in transfers]
    w = _Work(v, [h])
    if len(amounts) == 1 and amounts[0] == h.amount_fen:
        parts = [h]
    else:
        parts = w.split(h, _parts(amounts, h.amount_fen, h.ref), on)
    for (to, _), part in zip(transfers, parts, strict=False):
        _hand_over(w, v, part, to, by, on)
    kind = "distributed" if v.transfer_mode is TransferMode.NOTICE else "distribution_requested"
    return w.change(kind, on, by, [h.seq, *w.created],
                    {"transfers": [{"to": to, "amount": _yuan(a)} for to, a in transfers]})


def _pending_for(h: Holding) -> Pending:
    _status(h, HoldingStatus.LOCKED)
    if h.pending is None:  # the invariant says LOCKED ⇔ pending
        raise LedgerInvariantError(f"{h.ref} is locked with nothing pending", holding=h.ref)
    return h.pending


def accept_transfer(v: Voucher, h: Holding, *, by: str, on: date) -> Change:
    """签收: the recipient of a pending transfer signs; the holding moves to it."""
    _belongs(v, h)
    _dated(v, on)
    p = _pending_for(h)
    if by != p.to:
        raise PolicyViolation(f"the transfer of {h.ref} awaits {p.to}, not {by}", code="not_counterparty",
                              holding=h.ref)
    _not_matured(v, on)
    w = _Work(v, [h])
    new = w.move(h, p.to, on)
    return w.change("transferred", on, by, [h.seq, new.seq], {"from": p.by, "to": p.to, "amount": _yuan(h.amount_fen),
                                                               "requested_on": p.on.isoformat()})


def _restore(v: Voucher, h: Holding, kind: str, by: str, on: date) -> Change:
    w = _Work(v, [h])
    w.put(replace(h, status=h.prior_status or HoldingStatus.ACTIVE, prior_status=None, pending=None))
    p = h.pending
    return w.change(kind, on, by, [h.seq], {"from": p.by if p else None, "to": p.to if p else None})


def reject_transfer(v: Voucher, h: Holding, *, by: str, on: date) -> Change:
    """驳回: the recipient refuses a pending transfer; the holding is as it was before the request."""
    _belongs(v, h)
    _dated(v, on)
    p = _pending_for(h)
    if by != p.to:
        raise PolicyViolation(f"only {p.to} may reject the transfer of {h.ref}", code="not_counterparty",
                              holding=h.ref)
    return _restore(v, h, "transfer_rejected", by, on)


def withdraw_transfer(v: Voucher, h: Holding, *, by: str, on: date) -> Change:
    """撤回: the holder withdraws its pending transfer; the holding is as it was before the request."""
    _belongs(v, h)
    _dated(v, on)
    p = _pending_for(h)
    if by != p.by:
        raise Forbidden(f"only {p.by} may withdraw the transfer of {h.ref}", code="not_holder", holding=h.ref)
    return _restore(v, h, "transfer_withdrawn", by, on)


def finance(
    v: Voucher,
    h: Holding,
    *,
    funder: str,
    annual_rate: AnnualRate | Number,
    registration_ref: str | None,
    by: str,
    on: date,
    amount_fen: int | None = None,
    basis: int = 360,
    calendar: ChinaCalendar | None = None,
    extra_days: int = 0,
) -> Change:
    """融资 (贴现 / 无追索保理): the holder sells a holding (or `amount_fen` of it) to `funder` at a discount.

    The funder becomes the holder (status financed) and is paid at maturity; the seller gets
    `discount(...)`'s proceeds. A registration reference in 动产融资统一登记公示系统 is required.
    """
    _movable(v, h, by, on)
    ref = _registration(registration_ref)
    funder = party_id(funder, "funder")
    if funder == h.holder:
        raise ValidationError(f"{funder} cannot finance its own holding", code="funder_is_holder", field="funder")
    w = _Work(v, [h])
    part = _take(w, h, amount_fen, on)
    quote = discount(part.amount_fen, annual_rate, start=on, maturity=v.maturity_date, basis=basis,
                     calendar=calendar, extra_days=extra_days)
    held = w.move(part, funder, on, HoldingStatus.FINANCED)
    w.financings.append(Financing(voucher_no=v.no, seq=held.seq, parent=part.seq, seller=h.holder, funder=funder,
                                  registration_ref=ref, quote=quote, on=on))
    return w.change("financed", on, by, [h.seq, *w.created], {
        "funder": funder, "registration_ref": ref, "amount": _yuan(part.amount_fen), "days": quote.days,
        "annual_rate": str(quote.annual_rate.value), "interest": _yuan(quote.interest_fen),
        "proceeds": _yuan(quote.proceeds_fen), "holding": held.ref})


def pledge(v: Voucher, h: Holding, *, pledgee: str, registration_ref: str | None, by: str, on: date) -> Change:
    """质押: pledge a holding to `pledgee` (a bank, for a chain loan); registered like a financing."""
    _movable(v, h, by, on)
    ref = _registration(registration_ref)
    pledgee = party_id(pledgee, "pledgee")
    if pledgee == h.holder:
        raise ValidationError(f"{pledgee} cannot take a pledge of its own holding", code="pledgee_is_holder",
                              field="pledgee")
    w = _Work(v, [h])
    w.put(replace(h, status=HoldingStatus.PLEDGED, prior_status=HoldingStatus.ACTIVE, pledgee=pledgee,
                  pledge_ref=ref))
    return w.change("pledged", on, by, [h.seq], {"pledgee": pledgee, "registration_ref": ref})


def release_pledge(v: Voucher, h: Holding, *, by: str, on: date) -> Change:
    """解除质押: the pledgee releases the pledge; the holding is active again."""
    _belongs(v, h)
    _dated(v, on)
    _status(h, HoldingStatus.PLEDGED)
    if by != h.pledgee:
        raise PolicyViolation(f"only the pledgee {h.pledgee} may release {h.ref}", code="not_pledgee", holding=h.ref)
    w = _Work(v, [h])
    w.put(replace(h, status=HoldingStatus.ACTIVE, prior_status=None, pledgee=None, pledge_ref=None))
    return w.change("pledge_released", on, by, [h.seq], {"pledgee": by, "registration_ref": h.pledge_ref})


def _leaves(v: Voucher, holdings: Iterable[Holding]) -> list[Holding]:
    """The voucher's live holdings, all of them (they must tile the face: a partial set is a caller bug)."""
    live = sorted((h for h in holdings if h.status in LIVE_STATUSES), key=lambda h: h.start)
    for h in live:
        _belongs(v, h)
    if sum(h.amount_fen for h in live) != v.face_fen:
        raise ValueError(f"voucher {v.no}: pass every live holding (they cover {sum(h.amount_fen for h in live)} "
                         f"of {v.face_fen} fen)")
    return live


def _voucher_state(v: Voucher, *allowed: VoucherStatus) -> None:
    if v.status in allowed:
        return
    code = {VoucherStatus.SETTLED: "already_settled", VoucherStatus.CANCELLED: "voucher_cancelled",
            VoucherStatus.ISSUED: "voucher_not_accepted", VoucherStatus.PRESENTED: "already_presented",
            VoucherStatus.DISHONOURED: "already_dishonoured", VoucherStatus.ACTIVE: "voucher_active"}[v.status]
    raise Conflict(f"voucher {v.no} is {v.status.value}", code=code, voucher_no=v.no, status=v.status.value)


def _due(v: Voucher, on: date) -> None:
    if on < v.maturity_date:
        raise PolicyViolation(f"voucher {v.no} matures on {v.maturity_date}, not before", code="not_yet_due",
                              maturity_date=v.maturity_date.isoformat(), on=on.isoformat())


def _present(w: _Work, live: list[Holding], on: date) -> list[int]:
    lapsed = []
    for h in live:
        prior = h.status
        if h.status is HoldingStatus.LOCKED:  # a transfer still waiting at maturity lapses (nothing matured moves)
            prior = h.prior_status or HoldingStatus.ACTIVE
            lapsed.append(h.seq)
        w.put(replace(h, status=HoldingStatus.PRESENTED, prior_status=prior, pending=None))
    w.voucher = replace(w.voucher, status=VoucherStatus.PRESENTED)
    return lapsed


def present(v: Voucher, holdings: Iterable[Holding], *, on: date, by: str = "system") -> Change:
    """提示付款: at maturity every live holding is presented to the issuer; pending transfers lapse."""
    _dated(v, on)
    _voucher_state(v, VoucherStatus.ACTIVE)
    _due(v, on)
    live = _leaves(v, holdings)
    w = _Work(v, live)
    lapsed = _present(w, live, on)
    return w.change("presented", on, by, [h.seq for h in live], {"lapsed_transfers": len(lapsed)})


def settle(v: Voucher, holdings: Iterable[Holding], *, limit: ChainLimit, on: date, by: str | None = None) -> Change:
    """兑付: the issuer pays the face; every current holder (its pledgee, for a pledged part) gets its fen.

    Presents first if needed. A dishonoured voucher settles too (late payment); a settled one is refused
    (`already_settled`).
    """
    _dated(v, on)
    _voucher_state(v, VoucherStatus.ACTIVE, VoucherStatus.PRESENTED, VoucherStatus.DISHONOURED)
    _due(v, on)
    if limit.core != v.issuer:
        raise ValueError("settle needs the issuer's chain limit")
    live = _leaves(v, holdings)
    w = _Work(v, live)
    if v.status is VoucherStatus.ACTIVE:
        _present(w, live, on)
    for h in live:
        cur = w.current[h.seq]
        prior = cur.prior_status
        capacity = "funder" if prior is HoldingStatus.FINANCED else "pledgee" if prior is HoldingStatus.PLEDGED else (
            "holder")
        paid_to = cur.pledgee if capacity == "pledgee" and cur.pledgee else cur.holder
        w.payments.append(Payment(voucher_no=v.no, seq=h.seq, holder=cur.holder, paid_to=paid_to, capacity=capacity,
                                  amount_fen=cur.amount_fen, on=on))
        w.put(replace(cur, status=HoldingStatus.SETTLED, closed_on=on))
    paid = sum(p.amount_fen for p in w.payments)
    if paid != v.face_fen:
        raise LedgerInvariantError(f"settlement of {v.no} pays {paid} fen of a {v.face_fen}-fen face", voucher_no=v.no)
    w.voucher = replace(w.voucher, status=VoucherStatus.SETTLED, settled_fen=v.face_fen)
    return w.change("settled", on, by or v.issuer, [h.seq for h in live],
                    {"paid": _yuan(paid), "holdings": len(live), "late": v.status is VoucherStatus.DISHONOURED},
                    limit=limit.restore(v.face_fen))


def dishonour(v: Voucher, holdings: Iterable[Holding], *, on: date, reason: str, by: str = "system") -> Change:
    """拒付: the issuer did not pay at presentment; every holding is dishonoured (still a claim on it)."""
    _dated(v, on)
    _voucher_state(v, VoucherStatus.ACTIVE, VoucherStatus.PRESENTED)
    _due(v, on)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError("give the reason for the dishonour", code="reason_required", field="reason")
    live = _leaves(v, holdings)
    w = _Work(v, live)
    if v.status is VoucherStatus.ACTIVE:
        _present(w, live, on)
    for h in live:
        w.put(replace(w.current[h.seq], status=HoldingStatus.DISHONOURED))
    w.voucher = replace(w.voucher, status=VoucherStatus.DISHONOURED)
    return w.change("dishonoured", on, by, [h.seq for h in live], {"reason": reason[:500]})


# ---- invariants ---------------------------------------------------------------------------------------------


def _broken(v: Voucher, message: str) -> LedgerInvariantError:
    return LedgerInvariantError(f"voucher {v.no}: {message}", voucher_no=v.no)


def check_voucher(v: Voucher, holdings: Iterable[Holding]) -> dict[str, int]:
    """Assert the invariants of one voucher over **all** its holdings; return its fen totals by class.

    1. Tiling: the non-superseded holdings cover [0, face) with no overlap and no gap, so
       live + settled + cancelled = face to the fen; 2. every superseded holding is tiled exactly by its
       children; 3. every holding traces through parent links to the root [0, face) held by the payee (and
       the voucher names the issuer); 4. statuses agree with the voucher's and with their own fields
       (locked ⇔ pending, pledged ⇔ pledgee, closed ⇔ superseded/settled/cancelled).
    """
    hs = sorted(holdings, key=lambda h: h.seq)
    by_seq = {h.seq: h for h in hs}
    if len(by_seq) != len(hs):
        raise _broken(v, "two holdings share a sequence number")
    if not hs or hs[0].seq != 1:
        raise _broken(v, "it has no root holding")
    root = hs[0]
    if (root.start, root.end, root.parent, root.holder) != (0, v.face_fen, None, v.payee):
        raise _broken(v, "the root holding is not [0, face) of the payee")
    if max(by_seq) >= v.next_seq:
        raise _broken(v, "a holding has a sequence number not yet allocated")
    children: dict[int, list[Holding]] = {}
    for h in hs:
        _check_holding(v, h, by_seq)
        if h.parent is not None:
            children.setdefault(h.parent, []).append(h)
    for seq, h in by_seq.items():
        if h.status is HoldingStatus.SUPERSEDED:
            _tiles(v, sorted(children.get(seq, []), key=lambda c: c.start), h.start, h.end, f"children of {h.ref}")
    leaves = sorted((h for h in hs if h.status is not HoldingStatus.SUPERSEDED), key=lambda h: h.start)
    _tiles(v, leaves, 0, v.face_fen, "the holdings")
    allowed = _LEAVES_BY_VOUCHER[v.status]
    bad = [h.ref for h in leaves if h.status not in allowed]
    if bad:
        raise _broken(v, f"holdings {bad[:5]} disagree with the voucher's status {v.status.value}")
    totals = {"live": 0, "settled": 0, "cancelled": 0}
    for h in leaves:
        key = "live" if h.status in LIVE_STATUSES else h.status.value
        totals[key] += h.amount_fen
    if totals["live"] + totals["settled"] + totals["cancelled"] != v.face_fen:
        raise _broken(v, f"live + settled + cancelled = {sum(totals.values())} fen, face {v.face_fen}")
    if totals["settled"] != v.settled_fen or totals["cancelled"] != v.cancelled_fen:
        raise _broken(v, "the voucher's settled/cancelled amounts disagree with its holdings")
    return totals


def _check_holding(v: Voucher, h: Holding, by_seq: Mapping[int, Holding]) -> None:
    if h.voucher_no != v.no:
        raise _broken(v, f"{h.ref} belongs elsewhere")
    if h.start >= h.end:
        raise _broken(v, f"{h.ref} has an empty range")
    if h.parent is not None:
        parent = by_seq.get(h.parent)
        if parent is None or parent.status is not HoldingStatus.SUPERSEDED or h.parent >= h.seq:
            raise _broken(v, f"{h.ref} does not trace to a superseded parent")
        if not parent.start <= h.start < h.end <= parent.end:
            raise _broken(v, f"{h.ref} lies outside its parent {parent.ref}")
    elif h.seq != 1:
        raise _broken(v, f"{h.ref} has no parent")
    if (h.status is HoldingStatus.LOCKED) != (h.pending is not None):
        raise _broken(v, f"{h.ref} is {h.status.value} with pending={h.pending}")
    if (h.status is HoldingStatus.PLEDGED) and not h.pledgee:
        raise _broken(v, f"{h.ref} is pledged to nobody")
    closed = h.status in {HoldingStatus.SUPERSEDED, HoldingStatus.SETTLED, HoldingStatus.CANCELLED}
    if closed != (h.closed_on is not None):
        raise _broken(v, f"{h.ref} is {h.status.value} with closed_on={h.closed_on}")


def _tiles(v: Voucher, parts: list[Holding], start: int, end: int, what: str) -> None:
    cursor = start
    for h in parts:
        if h.start != cursor:
            kind = "overlap" if h.start < cursor else "gap"
            raise _broken(v, f"{what} leave a {kind} at fen {min(cursor, h.start)} ({h.ref})")
        cursor = h.end
    if cursor != end:
        raise _broken(v, f"{what} end at fen {cursor}, not {end}")


# ---- the in-memory ledger -----------------------------------------------------------------------------------


class VoucherLedger:
    """The whole voucher book in memory: chain limits, payables, vouchers, holdings and their records.

    The reference implementation the service is tested against, and the engine of the property tests.
    Methods take yuan (str, int, Decimal, Money) and references, call the pure operations, and apply the
    `Change`; a refused operation raises before anything is applied.
    """

    def __init__(self, *, book: SettingsBook = REGULATORY, calendar: ChinaCalendar | None = None) -> None:
        self.book = book
        self.calendar = calendar
        self.limits: dict[str, ChainLimit] = {}
        self.payables: dict[str, Payable] = {}
        self.vouchers: dict[str, Voucher] = {}
        self.holdings: dict[str, dict[int, Holding]] = {}
        self.events: list[VoucherEvent] = []
        self.financings: list[Financing] = []
        self.payments: list[Payment] = []
        self._serial = 0

    # -- plumbing
    def apply(self, c: Change) -> Change:
        self.vouchers[c.voucher.no] = c.voucher
        book = self.holdings.setdefault(c.voucher.no, {})
        for h in (*c.updated, *c.created):
            book[h.seq] = h
        if c.payable is not None:
            self.payables[c.payable.no] = c.payable
        if c.limit is not None:
            self.limits[c.limit.core] = c.limit
        self.events.append(c.event)
        self.financings.extend(c.financings)
        self.payments.extend(c.payments)
        return c

    def voucher(self, no: str) -> Voucher:
        try:
            return self.vouchers[no]
        except KeyError:
            raise NotFound(f"voucher {no} does not exist", code="voucher_not_found", voucher_no=no) from None

    def holding(self, ref: str) -> tuple[Voucher, Holding]:
        no, seq = parse_ref(ref)
        v = self.voucher(no)
        h = self.holdings[no].get(seq)
        if h is None:
            raise NotFound(f"holding {ref} does not exist", code="holding_not_found", holding=ref)
        return v, h

    def live(self, no: str) -> list[Holding]:
        return sorted((h for h in self.holdings[no].values() if h.status in LIVE_STATUSES), key=lambda h: h.start)

    def holdings_of(self, party: str, *, live_only: bool = True) -> list[Holding]:
        return [h for hs in self.holdings.values() for h in hs.values()
                if h.holder == party and (h.is_live or not live_only)]

    def limit(self, core: str) -> ChainLimit:
        try:
            return self.limits[core]
        except KeyError:
            raise NotFound(f"core enterprise {core} has no approved chain limit", code="no_chain_limit",
                           core=core) from None

    # -- chain limits and payables
    def approve_limit(self, core: str, limit: Number | Money, *, valid_from: date, valid_to: date) -> ChainLimit:
        from puhui.supplychain.chains import approve_limit

        core = enterprise_id(core, "core")
        fen = to_fen_or_zero(limit, "limit")
        new = approve_limit(core, fen, valid_from=valid_from, valid_to=valid_to, current=self.limits.get(core))
        self.limits[core] = new
        return new

    def confirm_payable(self, no: str, *, core: str, supplier: str, amount: Number | Money, on: date,
                        due_date: date | None = None) -> Payable:
        if no in self.payables:
            raise Conflict(f"payable {no} already exists", code="payable_exists", payable_no=no)
        p = confirm_payable(no, core=core, supplier=supplier, amount_fen=to_fen(amount), on=on, due_date=due_date)
        self.payables[p.no] = p
        return p

    # -- operations
    def issue(self, payable_no: str, *, face: Number | Money, maturity: date, on: date, by: str,
              transferable: bool = True, transfer_mode: TransferMode | str = TransferMode.ACCEPTANCE,
              no: str | None = None) -> Voucher:
        payable = self.payables.get(payable_no)
        if payable is None:
            raise NotFound(f"payable {payable_no} does not exist", code="payable_not_found", payable_no=payable_no)
        if no is None:
            self._serial += 1
            no = f"CV{on:%Y%m%d}{self._serial:010d}"
        if no in self.vouchers:
            raise Conflict(f"voucher {no} already exists", code="voucher_exists", voucher_no=no)
        c = issue(no, payable=payable, limit=self.limit(payable.core), face_fen=to_fen(face, "face"),
                  maturity=maturity, on=on, by=by, transferable=transferable, transfer_mode=transfer_mode,
                  book=self.book)
        return self.apply(c).voucher

    def accept(self, ref: str, *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        if h.status is HoldingStatus.ISSUED:
            return self.apply(accept_issue(v, h, by=by, on=on))
        return self.apply(accept_transfer(v, h, by=by, on=on))

    def reject(self, ref: str, *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        if h.status is HoldingStatus.ISSUED:
            return self._cancel(v, h, by, on)
        return self.apply(reject_transfer(v, h, by=by, on=on))

    def withdraw(self, ref: str, *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        if h.status is HoldingStatus.ISSUED:
            return self._cancel(v, h, by, on)
        return self.apply(withdraw_transfer(v, h, by=by, on=on))

    def _cancel(self, v: Voucher, h: Holding, by: str, on: date) -> Change:
        return self.apply(cancel_issue(v, h, payable=self.payables[v.payable_no], limit=self.limit(v.issuer),
                                       by=by, on=on))

    def split(self, ref: str, parts: Sequence[Number | Money], *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        return self.apply(split(v, h, parts_fen=[to_fen(p, "parts") for p in parts], by=by, on=on))

    def transfer(self, ref: str, *, to: str, by: str, on: date, amount: Number | Money | None = None) -> Change:
        v, h = self.holding(ref)
        fen = None if amount is None else to_fen(amount)
        return self.apply(transfer(v, h, to=enterprise_id(to, "to"), by=by, on=on, amount_fen=fen))

    def distribute(self, ref: str, transfers: Sequence[tuple[str, Number | Money]], *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        parsed = [(enterprise_id(t, "to"), to_fen(a)) for t, a in transfers]
        return self.apply(distribute(v, h, transfers=parsed, by=by, on=on))

    def finance(self, ref: str, *, funder: str, annual_rate: AnnualRate | Number, registration_ref: str | None,
                by: str, on: date, amount: Number | Money | None = None, basis: int = 360) -> Change:
        v, h = self.holding(ref)
        fen = None if amount is None else to_fen(amount)
        return self.apply(finance(v, h, funder=funder, annual_rate=annual_rate, registration_ref=registration_ref,
                                  by=by, on=on, amount_fen=fen, basis=basis, calendar=self.calendar))

    def pledge(self, ref: str, *, pledgee: str, registration_ref: str | None, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        return self.apply(pledge(v, h, pledgee=pledgee, registration_ref=registration_ref, by=by, on=on))

    def release_pledge(self, ref: str, *, by: str, on: date) -> Change:
        v, h = self.holding(ref)
        return self.apply(release_pledge(v, h, by=by, on=on))

    def present(self, no: str, *, on: date) -> Change:
        v = self.voucher(no)
        return self.apply(present(v, self.live(no), on=on))

    def settle(self, no: str, *, on: date) -> Change:
        v = self.voucher(no)
        return self.apply(settle(v, self.live(no), limit=self.limit(v.issuer), on=on))

    def dishonour(self, no: str, *, on: date, reason: str) -> Change:
        v = self.voucher(no)
        return self.apply(dishonour(v, self.live(no), on=on, reason=reason))

    # -- checks
    def check(self) -> dict[str, dict[str, int]]:
        """Every voucher's invariants, plus: each chain limit's outstanding = the face of its issuer's open
        vouchers; each payable's vouchered = the face of its non-cancelled vouchers; settlements pay each
        settled voucher's face exactly."""
        totals = {no: check_voucher(v, self.holdings[no].values()) for no, v in self.vouchers.items()}
        outstanding: dict[str, int] = {}
        vouchered: dict[str, int] = {}
        for v in self.vouchers.values():
            if v.status not in {VoucherStatus.SETTLED, VoucherStatus.CANCELLED}:
                outstanding[v.issuer] = outstanding.get(v.issuer, 0) + v.face_fen
            if v.status is not VoucherStatus.CANCELLED:
                vouchered[v.payable_no] = vouchered.get(v.payable_no, 0) + v.face_fen
        for core, lim in self.limits.items():
            if lim.outstanding_fen != outstanding.get(core, 0):
                raise LedgerInvariantError(f"chain limit of {core}: outstanding {lim.outstanding_fen} fen, vouchers "
                                           f"open {outstanding.get(core, 0)} fen", core=core)
        for no, p in self.payables.items():
            if p.vouchered_fen != vouchered.get(no, 0) or p.vouchered_fen > p.amount_fen:
                raise LedgerInvariantError(f"payable {no}: vouchered {p.vouchered_fen} fen disagrees", payable_no=no)
        paid: dict[str, int] = {}
        for pay in self.payments:
            paid[pay.voucher_no] = paid.get(pay.voucher_no, 0) + pay.amount_fen
        for no, v in self.vouchers.items():
            if paid.get(no, 0) != v.settled_fen:
                raise LedgerInvariantError(f"voucher {no}: paid {paid.get(no, 0)} fen, settled {v.settled_fen}",
                                           voucher_no=no)
        return totals

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused operation must leave unchanged (compare before and after)."""
        return (dict(self.limits), dict(self.payables), dict(self.vouchers),
                {no: dict(hs) for no, hs in self.holdings.items()}, len(self.events), len(self.financings),
                len(self.payments))

    def history(self, no: str) -> dict[str, Any]:
        """Who held which part when (every holding, superseded ones included) and the events, in order."""
        v = self.voucher(no)
        return {"voucher": v.to_dict(),
                "holdings": [h.to_dict() for h in sorted(self.holdings[no].values(), key=lambda h: h.seq)],
                "events": [e.to_dict() for e in self.events if e.voucher_no == no]}
