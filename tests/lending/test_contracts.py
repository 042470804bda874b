"""Contracts and e-signature evidence (电子签名法 Art 13): any later change to the document is detectable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from puhui.core.errors import PolicyViolation, ValidationError
from puhui.lending.contracts import ContractTerms, parse_amount, sign, text_digest, verify

TERMS = {"limit": "300000", "valid_from": "2026-01-05", "valid_to": "2027-01-04", "annual_rate": "3.45%",
         "methods": ["revolving", "equal_instalment"], "max_term_months": 12}


def _contract(text: str = "借款合同 第一条 …") -> object:
    return sign(contract_no="HT-2026-0001", borrower_id="91350100M000100Y43", text=text,
                terms=ContractTerms.from_json(TERMS), signer="王五 (法定代表人)",
                signed_at=datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=8))))


def test_text_digest_is_sha256() -> None:
    # FIPS 180-2, Appendix B.1: SHA-256("abc")
    assert text_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_signed_contract_verifies_and_detects_changes() -> None:
    c = _contract()
    assert verify(c)  # type: ignore[arg-type]
    assert c.signed_at.tzinfo is UTC  # type: ignore[attr-defined]
    assert not verify(c, "借款合同 第一条 … (amended)")  # type: ignore[arg-type]
    tampered_terms = dataclasses.replace(c, terms=ContractTerms.from_json({**TERMS, "limit": "900000"}))  # type: ignore[type-var]
    assert not verify(tampered_terms)
    assert not verify(dataclasses.replace(c, signer="someone else"))  # type: ignore[type-var]
    assert not verify(dataclasses.replace(c, signed_at=c.signed_at + timedelta(seconds=1)))  # type: ignore


def test_terms_normalise_and_round_trip() -> None:
    t = ContractTerms.from_json(TERMS)
    assert str(t.annual_rate.value) == "0.0345"
    assert ContractTerms.from_json(t.to_json()) == t
    assert t.method.value == "revolving"


@pytest.mark.parametrize(("change", "code"), [
    ({"methods": ["equal_payments"]}, "unknown_repayment_method"),
    ({"day_count": "ACT/365"}, "unknown_day_count"),
    ({"day_count": "bogus"}, "unknown_day_count"),
    ({"valid_to": "2025-12-31"}, "invalid_validity"),
    ({"limit": "-1"}, "non_positive_amount"),
    ({"annual_rate": 0.0345}, "float_not_allowed"),
    ({"rounding": "bankers"}, "unknown_rounding_mode"),
    ({"surprise": 1}, "unknown_terms"),
    ({"allocation_order": ["penalty", "penalty"]}, "invalid_allocation_order"),
])
def test_bad_terms_are_refused_with_a_code(change: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as e:
        ContractTerms.from_json({**TERMS, **change})
    assert e.value.code == code


def test_penalty_uplift_must_sit_in_the_regulatory_band() -> None:
    # 银发〔2003〕251号: 逾期罚息 +30% … +50% (regulatory.yaml penalty_uplift_min/max)
    assert ContractTerms.from_json({**TERMS, "penalty_uplift": "0.30"}).penalty_uplift is not None
    with pytest.raises(PolicyViolation) as e:
        ContractTerms.from_json({**TERMS, "penalty_uplift": "0.60"})
    assert e.value.code == "penalty_uplift_out_of_band"


def test_signing_needs_an_aware_instant_and_text() -> None:
    t = ContractTerms.from_json(TERMS)
    with pytest.raises(ValidationError) as e:
        sign(contract_no="X", borrower_id="B", text="t", terms=t, signer="s", signed_at=datetime(2026, 1, 5))
    assert e.value.code == "naive_datetime"
    with pytest.raises(ValidationError) as e:
        sign(contract_no="X", borrower_id="B", text="  ", terms=t, signer="s", signed_at=datetime.now(UTC))
    assert e.value.code == "empty_contract_text"


@pytest.mark.parametrize(("value", "code"), [("0", "non_positive_amount"), ("-0.01", "non_positive_amount"),
                                             ("1.005", "sub_fen_amount"), (1.5, "float_not_allowed"),
                                             ("abc", "not_a_number")])
def test_parse_amount_refuses_instead_of_rounding(value: object, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_amount(value)
    assert e.value.code == code
