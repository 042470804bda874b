"""Loan contracts (借款合同 / 授信合同) and their e-signature evidence, pure.

A contract carries the terms a credit line and its drawdowns are built from (民法典 Art 668: type,
currency, purpose, amount, rate, term, repayment method) and the evidence of its signature. Under
电子签名法 Art 13 a reliable electronic signature must make *any later change to the signature or to the
document detectable*; the certificate authority (Art 16) proves the signer's exclusive control, and puhui
keeps what lets anyone check the document later:

* `text_sha256` — SHA-256 of the contract text exactly as signed (UTF-8 bytes);
* `evidence_sha256` — SHA-256 of the canonical JSON of everything signed: contract number, borrower,
  text digest, structured terms, signer, signing instant, signature value and certificate;
* `signer`, `signed_at` (an aware instant), and, when a CA signed, the `signature` value and
  `certificate` serial it returned.

`verify(contract, text)` recomputes both digests: a changed text, term, signer or time no longer matches.
The store keeps contracts append-only, so evidence is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from puhui.core.calendar import RollRule
from puhui.core.dates import parse_date
from puhui.core.daycount import DayCount
from puhui.core.errors import PolicyViolation, ValidationError
from puhui.core.money import DEFAULT_ROUNDING, MINOR_UNIT, Money, Rounding, to_decimal
from puhui.core.rates import AnnualRate
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.lending.allocation import DEFAULT_ORDER, Bucket, parse_order
from puhui.lending.terms import MAX_TERM_MONTHS, RepaymentMethod

__all__ = ["ContractTerms", "SignedContract", "parse_amount", "sign", "text_digest", "verify"]


def parse_amount(value: Any, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """A yuan amount from text/int/Decimal: whole fen, positive (or zero if allowed); floats refused.

    Unlike `Money(...)`, a sub-fen value is refused, not rounded: an amount a client sends is exact or wrong.
    """
    if isinstance(value, Money):
        value = value.amount
    d = to_decimal(value, field=field)
    if d != d.quantize(MINOR_UNIT["CNY"]):
        raise ValidationError(
            f"{field}: {d} is not a whole number of fen", code="sub_fen_amount", field=field, value=str(d)
        )
    if d < 0 or (d == 0 and not allow_zero):
        raise ValidationError(
            f"{field} must be {'non-negative' if allow_zero else 'positive'}, got {d}",
            code="non_positive_amount", field=field, value=str(d),
        )
    return d.quantize(MINOR_UNIT["CNY"])


def text_digest(text: str) -> str:
    """SHA-256 (hex) of the contract text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _positive_int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{name}: expected a whole number, got {value!r}", code=f"invalid_{name}", field=name)
    try:
        n = int(value)
    except ValueError:
        raise ValidationError(f"{name}: expected a whole number, got {value!r}", code=f"invalid_{name}",
                              field=name) from None
    if not low <= n <= high:
        raise ValidationError(f"{name} must be {low}–{high}, got {n}", code=f"invalid_{name}", field=name)
    return n


@dataclass(frozen=True)
class ContractTerms:
    """The product terms of a credit-line contract, normalised and checked on creation.

    - `limit`: 授信额度, > 0. `revolving`: 循环额度 (repaid principal restores availability) or one-off.
    - `valid_from`, `valid_to`: 额度有效期, inclusive ("以内" includes the day, 民法典 Art 1259).
    - `annual_rate`: 年利率; `methods`: the repayment methods a drawdown may choose (the first is the
      default); `max_term_months`: the longest term of one drawdown.
    - `day_count`, `rounding`, `multiples_of`, `repayment_day`, `roll`: schedule settings (`LoanTerms`).
    - `penalty_uplift`: 罚息上浮 inside the regulatory band in force on `valid_from`; None = the default.
    - `allocation_order`: 还款冲账顺序 (default 罚息 → 复利 → 逾期利息 → 逾期本金 → 当期利息 → 当期本金).
    - `purpose`: 借款用途.
    """

    limit: Decimal
    valid_from: date
    valid_to: date
    annual_rate: AnnualRate
    methods: tuple[RepaymentMethod, ...]
    max_term_months: int = 12
    revolving: bool = True
    day_count: DayCount = DayCount.ACT_360
    rounding: Rounding = DEFAULT_ROUNDING
    multiples_of: Decimal | None = None
    repayment_day: int | None = None
    roll: RollRule = RollRule.FOLLOWING
    penalty_uplift: Decimal | None = None
    allocation_order: tuple[Bucket, ...] = DEFAULT_ORDER
    purpose: str = "经营周转"
    currency: str = "CNY"
    settings: SettingsBook = field(default=REGULATORY, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "limit", parse_amount(self.limit, "limit"))
        s(self, "valid_from", parse_date(self.valid_from, field="valid_from"))
        s(self, "valid_to", parse_date(self.valid_to, field="valid_to"))
        if self.valid_to < self.valid_from:
            raise ValidationError(
                f"valid_to {self.valid_to} is before valid_from {self.valid_from}",
                code="invalid_validity", field="valid_to",
            )
        s(self, "annual_rate", AnnualRate.of(self.annual_rate))
        methods = self.methods
        if isinstance(methods, str | RepaymentMethod):
            methods = (methods,)
        parsed = tuple(RepaymentMethod.parse(m) for m in methods)
        if not parsed or len(set(parsed)) != len(parsed):
            raise ValidationError("methods must name one or more distinct repayment methods",
                                  code="invalid_methods", field="methods")
        s(self, "methods", parsed)
        s(self, "max_term_months", _positive_int(self.max_term_months, "max_term_months", 1, MAX_TERM_MONTHS))
        if not isinstance(self.revolving, bool):
            raise ValidationError("revolving must be true or false", code="invalid_flag", field="revolving")
        s(self, "day_count", DayCount.parse(self.day_count))
        if not isinstance(self.rounding, Rounding):
            s(self, "rounding", Rounding.parse(str(self.rounding)))
        if self.multiples_of is not None:
            m = to_decimal(self.multiples_of, field="multiples_of")
            if m <= 0 or m % MINOR_UNIT["CNY"] != 0:
                raise ValidationError(f"multiples_of must be a positive multiple of 0.01, got {m}",
                                      code="invalid_multiple", field="multiples_of")
            s(self, "multiples_of", m)
        if self.repayment_day is not None:
            s(self, "repayment_day", _positive_int(self.repayment_day, "repayment_day", 1, 31))
        s(self, "roll", RollRule.parse(self.roll))
        if self.penalty_uplift is not None:
            u = to_decimal(self.penalty_uplift, field="penalty_uplift")
            low = self.settings.get("penalty_uplift_min", self.valid_from)
            high = self.settings.get("penalty_uplift_max", self.valid_from)
            if not low <= u <= high:
                raise PolicyViolation(
                    f"penalty uplift {u} is outside the band {low}–{high} in force on {self.valid_from} "
                    "(银发〔2003〕251号)",
                    code="penalty_uplift_out_of_band", uplift=str(u), min=str(low), max=str(high),
                )
            s(self, "penalty_uplift", u)
        s(self, "allocation_order", parse_order(self.allocation_order))
        if self.currency != "CNY":
            raise ValidationError("only CNY lines are supported", code="unknown_currency", field="currency")
        if not isinstance(self.purpose, str) or not self.purpose.strip() or len(self.purpose) > 200:
            raise ValidationError("purpose must be 1–200 characters", code="invalid_purpose", field="purpose")

    @property
    def method(self) -> RepaymentMethod:
        """The default repayment method of a drawdown."""
        return self.methods[0]

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON-ready form (money and rates as strings), the one that is hashed and stored."""
        return {
            "limit": str(self.limit),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "annual_rate": str(self.annual_rate.value),
            "methods": [m.value for m in self.methods],
            "max_term_months": self.max_term_months,
            "revolving": self.revolving,
            "day_count": self.day_count.value,
            "rounding": self.rounding.name.lower(),
            "multiples_of": None if self.multiples_of is None else str(self.multiples_of),
            "repayment_day": self.repayment_day,
            "roll": self.roll.value,
            "penalty_uplift": None if self.penalty_uplift is None else str(self.penalty_uplift),
            "allocation_order": [b.value for b in self.allocation_order],
            "purpose": self.purpose,
            "currency": self.currency,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractTerms:
        """Inverse of `to_json` (and the parser for API bodies: unknown codes are ValidationErrors)."""
        known = set(cls.__dataclass_fields__) - {"settings"}
        unknown = set(data) - known
        if unknown:
            raise ValidationError(f"unknown contract terms {sorted(unknown)}", code="unknown_terms",
                                  field=sorted(unknown)[0])
        values = dict(data)
        if "rounding" in values and values["rounding"] is not None:
            values["rounding"] = Rounding.parse(values["rounding"])
        if "methods" in values and isinstance(values["methods"], list):
            values["methods"] = tuple(values["methods"])
        if "allocation_order" in values and isinstance(values["allocation_order"], list):
            values["allocation_order"] = tuple(values["allocation_order"])
        return cls(**{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class SignedContract:
    """A contract and its signature evidence (电子签名法 Art 13/14)."""

    contract_no: str
    borrower_id: str
    text: str
    terms: ContractTerms
    signer: str
    signed_at: datetime
    text_sha256: str
    evidence_sha256: str
    signature: str | None = None
    certificate: str | None = None

    def evidence(self) -> dict[str, Any]:
        return _evidence(self.contract_no, self.borrower_id, self.text_sha256, self.terms, self.signer,
                         self.signed_at, self.signature, self.certificate)


def _evidence(contract_no: str, borrower_id: str, text_sha: str, terms: ContractTerms, signer: str,
              signed_at: datetime, signature: str | None, certificate: str | None) -> dict[str, Any]:
    return {
        "contract_no": contract_no,
        "borrower_id": borrower_id,
        "text_sha256": text_sha,
        "terms": terms.to_json(),
        "signer": signer,
        "signed_at": signed_at.astimezone(UTC).isoformat(),
        "signature": signature,
        "certificate": certificate,
    }


def _digest(evidence: dict[str, Any]) -> str:
    canonical = json.dumps(evidence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _ident(value: Any, name: str, limit: int = 64) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit or not text.isprintable():
        raise ValidationError(f"{name} must be 1–{limit} printable characters, got {value!r}",
                              code=f"invalid_{name}", field=name)
    return text


def sign(
    *,
    contract_no: str,
    borrower_id: str,
    text: str,
    terms: ContractTerms,
    signer: str,
    signed_at: datetime,
    signature: str | None = None,
    certificate: str | None = None,
) -> SignedContract:
    """Record a signature: hash the text as signed and bind it to the terms, signer and instant."""
    contract_no = _ident(contract_no, "contract_no")
    borrower_id = _ident(borrower_id, "borrower_id")
    signer = _ident(signer, "signer", 128)
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("the contract text is empty", code="empty_contract_text", field="text")
    if not isinstance(signed_at, datetime) or signed_at.tzinfo is None or signed_at.utcoffset() is None:
        raise ValidationError("signed_at must be an aware datetime (the instant of signing)",
                              code="naive_datetime", field="signed_at")
    if not isinstance(terms, ContractTerms):
        raise ValidationError("terms must be ContractTerms", code="invalid_terms", field="terms")
    signed_at = signed_at.astimezone(UTC)
    text_sha = text_digest(text)
    evidence = _evidence(contract_no, borrower_id, text_sha, terms, signer, signed_at, signature, certificate)
    return SignedContract(contract_no, borrower_id, text, terms, signer, signed_at, text_sha, _digest(evidence),
                          signature, certificate)


def verify(contract: SignedContract, text: str | None = None) -> bool:
    """True when `text` (default: the stored text) and every signed field still match the evidence."""
    body = contract.text if text is None else text
    if text_digest(body) != contract.text_sha256:
        return False
    return _digest(contract.evidence()) == contract.evidence_sha256
