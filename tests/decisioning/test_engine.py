"""The decision engine on hand-built facts: outcomes, reason codes, no-data, caps, JSON round trip, input hash."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest

from puhui.decisioning.engine import Decision, Facts, decide, decide_frame, grade_for
from puhui.decisioning.scenario import Scenario

from ._core_kit import AS_OF, USCC, facts, model, scenario, to_yaml, variant


@pytest.fixture(scope="module")
def s() -> Scenario:
    return scenario()


def test_approve_with_offer(s: Scenario) -> None:
    d = decide(s, facts(), model(0.004))
    assert d.outcome == "approve" and d.reasons == () and d.grade == "A"
    assert all(r.passed for r in d.rules) and len(d.rules) == 6
    o = d.offer
    assert o is not None
    # min(3 × 123,456.78, 0.2 × 2,500,000) = 370,370.34 → 370,000; 3.00% + 45 bp = 3.45%
    assert o.limit == Decimal("370000.00")
    assert o.annual_rate == Decimal("0.034500") and o.apr == Decimal("0.034500") and o.spread_bp == 45
    assert o.term_months == 12 and o.methods == ("revolving", "interest_only")
    assert o.line_valid_until == date(2027, 6, 30) and o.expires_on == date(2026, 7, 30)
    assert d.scenario_id == "test_tax" and d.policy_version == s.version and d.uscc == USCC


def test_decline_on_a_rule_with_its_code(s: Scenario) -> None:
    d = decide(s, facts(tax_flag_arrears=True), model(0.004))
    assert d.outcome == "decline" and d.offer is None
    assert d.reason_codes == ("tax_arrears",)
    assert d.reasons[0].zh == "存在欠税" and d.reasons[0].en == "Tax arrears" and d.reasons[0].kind == "rule"
    arrears = next(r for r in d.rules if r.code == "tax_arrears")
    assert arrears.status == "fail" and arrears.inputs == {"tax_flag_arrears": True}


def test_every_failing_rule_is_reported(s: Scenario) -> None:
    d = decide(s, facts(reg_age_months=10, tax_grade="C"), model(0.004))
    assert d.reason_codes == ("operating_under_2y", "tax_grade_not_eligible")


def test_refer_rule_keeps_a_provisional_offer(s: Scenario) -> None:
    d = decide(s, facts(tax_grade="M"), model(0.004))
    assert d.outcome == "refer" and d.reason_codes == ("tax_grade_m_review",)
    assert d.offer is not None and d.offer.limit == Decimal("370000.00")


def test_refer_on_grade(s: Scenario) -> None:
    d = decide(s, facts(), model(0.03))
    assert d.grade == "D" and d.outcome == "refer" and d.reason_codes == ("grade_refer",)
    # D: 370,370.34 × 0.5 = 185,185.17 → 180,000; 3.00% + 600 bp capped at 8%
    assert d.offer is not None and d.offer.limit == Decimal("180000.00")
    assert d.offer.annual_rate == Decimal("0.080000")


def test_decline_on_grade(s: Scenario) -> None:
    d = decide(s, facts(), model(0.2))
    assert d.grade == "E" and d.outcome == "decline" and d.reason_codes == ("grade_decline",) and d.offer is None


def test_grade_cut_offs_include_the_bound(s: Scenario) -> None:
    assert grade_for(s, 0.005) == "A" and grade_for(s, 0.0050001) == "B"
    assert grade_for(s, 0.0) == "A" and grade_for(s, 1.0) == "E"


def test_missing_input_fails_with_no_data(s: Scenario) -> None:
    d = decide(s, facts(tax_grade=None), model(0.004))
    assert d.outcome == "decline"
    # both rules reading tax_grade fail as no-data; the refer rule keeps its own action
    assert d.reason_codes == ("tax_grade_not_eligible_no_data", "tax_grade_m_review_no_data")
    assert [r.action for r in d.reasons] == ["decline", "refer"]
    rr = next(r for r in d.rules if r.code == "tax_grade_not_eligible")
    assert rr.status == "no_data" and rr.reason_code == "tax_grade_not_eligible_no_data"
    assert "tax_grade" in d.reasons[0].en


def test_if_missing_overrides_the_action(s: Scenario) -> None:
    d = decide(s, facts(tax_sales_yoy_12m=None), model(0.004))
    assert d.outcome == "refer" and d.reason_codes == ("sales_trend_no_data",)


def test_guarded_rule_passes_without_the_source_but_not_with_it(s: Scenario) -> None:
    assert decide(s, facts(), model(0.004)).outcome == "approve"  # no bureau record: the guard holds
    d = decide(s, facts(sources={"bureau_enterprise_accounts": True}), model(0.004))
    assert d.reason_codes == ("bureau_overdue_no_data",)  # record present but the value missing
    d = decide(s, facts(sources={"bureau_enterprise_accounts": True}, bur_worst_dpd_12m=45), model(0.004))
    assert d.reason_codes == ("bureau_overdue",)


def test_required_source_missing(s: Scenario) -> None:
    d = decide(s, facts(sources={"tax_credit_grades": False}), model(0.004))
    assert d.outcome == "decline" and d.reason_codes == ("missing_tax_credit_grades",)
    assert d.reasons[0].kind == "data" and "纳税信用" in d.reasons[0].zh


def test_consents_checked_when_given(s: Scenario) -> None:
    ok = decide(s, facts(consents=("registration", "tax_data", "credit_bureau")), model(0.004))
    assert ok.outcome == "approve"
    d = decide(s, facts(consents=("registration", "tax_data")), model(0.004))
    assert d.outcome == "decline" and d.reason_codes == ("consent_missing",) and "credit_bureau" in d.reasons[0].en


def test_no_model_refers(s: Scenario) -> None:
    d = decide(s, facts(), None)
    assert d.outcome == "refer" and d.reason_codes == ("model_unavailable",) and d.grade is None and d.offer is None


def test_inclusive_exposure_cap_bites(s: Scenario) -> None:
    # 10,000,000 − 9,900,000 = 100,000 headroom < 370,000 → the offer is 100,000
    d = decide(s, facts(exposure="9900000"), model(0.004))
    assert d.outcome == "approve" and d.offer is not None and d.offer.limit == Decimal("100000.00")
    assert d.limit_trace is not None and d.limit_trace["binding"] == "inclusive_cap"
    d = decide(s, facts(exposure="9990000"), model(0.004))
    assert d.outcome == "decline" and d.reason_codes == ("inclusive_cap_reached",)


def test_limit_below_minimum_declines(s: Scenario) -> None:
    d = decide(s, facts(tax_total_paid_12m=Decimal("5000")), model(0.004))
    assert d.outcome == "decline" and d.reason_codes == ("limit_below_minimum",)


CHAIN_CAP = [{"code": "core_exposure_cap", "cap": "core_annual_revenue * 0.05", "used": "core_exposure",
              "zh": "核心企业敞口已达上限", "en": "Core enterprise exposure cap reached"}]  # fmt: skip


def test_core_enterprise_exposure_cap() -> None:
    s = scenario(**{"limit.exposure_caps": CHAIN_CAP})
    extra = {"core_annual_revenue": Decimal("50000000"), "core_exposure": Decimal("2400000")}
    # cap 5% × 50,000,000 = 2,500,000; used 2,400,000 → headroom 100,000 binds below 370,000
    d = decide(s, facts(extra=extra), model(0.004))
    assert d.offer is not None and d.offer.limit == Decimal("100000.00")
    assert d.limit_trace is not None and d.limit_trace["binding"] == "core_exposure_cap"
    # used 2,480,000 → headroom 20,000 < min 30,000 → declined with the cap's own code and message
    d = decide(s, facts(extra={**extra, "core_exposure": Decimal("2480000")}), model(0.004))
    assert d.outcome == "decline" and d.reason_codes == ("core_exposure_cap",)
    assert d.reasons[0].zh == "核心企业敞口已达上限"
    # exposure unknown → never silently uncapped
    d = decide(s, facts(extra={"core_annual_revenue": Decimal("50000000")}), model(0.004))
    assert d.reason_codes == ("core_exposure_cap_no_data",)


@pytest.mark.parametrize("values", [{}, {"tax_flag_arrears": True}, {"tax_grade": None}, {"tax_grade": "M"}])
def test_decision_json_round_trips_exactly(s: Scenario, values: dict) -> None:
    d = decide(s, facts(exposure="123.45", **values), model(0.03))
    doc = d.to_json()
    again = Decision.from_json(json.loads(json.dumps(doc, ensure_ascii=False)))
    assert again == d
    assert again.to_json() == doc


def test_inputs_hash_is_the_canonical_facts_json(s: Scenario) -> None:
    f = facts()
    d = decide(s, f, model(0.004))
    canonical = json.dumps(f.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert d.inputs_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    # a replay from the stored JSON proves the same inputs and gives the same decision
    replayed = Facts.from_json(json.loads(json.dumps(f.to_json())))
    assert replayed.indicators["tax_total_paid_12m"] == Decimal("123456.78")
    assert replayed.sha256 == d.inputs_sha256
    assert decide(s, replayed, model(0.004)) == d
    # any change of input changes the hash
    assert decide(s, facts(reg_age_months=61), model(0.004)).inputs_sha256 != d.inputs_sha256


def test_decide_frame_matches_decide(s: Scenario) -> None:
    rows = [facts(reg_age_months=12 + 7 * i, tax_total_paid_12m=Decimal(1000 * i)) for i in range(40)]
    models = [model(0.001 * (i % 9)) if i % 7 else None for i in range(40)]
    assert decide_frame(s, rows, models) == [decide(s, f, m) for f, m in zip(rows, models, strict=True)]
    with pytest.raises(ValueError):
        decide_frame(s, rows, models[:-1])


def test_scenario_not_loaded_through_parse_is_refused() -> None:
    import yaml

    from puhui.decisioning.scenario import Scenario, ScenarioError

    raw = Scenario.model_validate(yaml.safe_load(to_yaml(variant())))
    with pytest.raises(ScenarioError):
        decide(raw, facts(), model())


def test_decide_is_pure_and_repeatable(s: Scenario) -> None:
    f = facts()
    before = f.to_json()
    a, b = decide(s, f, model()), decide(s, f, model())
    assert a == b and f.to_json() == before and f.as_of == AS_OF


def test_scenario_pickles_for_worker_processes(s: Scenario) -> None:
    import pickle

    again = pickle.loads(pickle.dumps(s))
    assert again == s and again.version == s.version
    assert decide(again, facts(tax_grade="M"), model()) == decide(s, facts(tax_grade="M"), model())


def test_subset_keeps_what_the_scenario_reads(s: Scenario) -> None:
    f = facts(extra={"core_exposure": Decimal("5")})
    small = f.subset([*s.variables, "not_an_indicator"])
    assert set(small.indicators) == {v for v in s.variables if v in f.indicators}
    assert small.value("core_exposure") == Decimal("5") and small.sources == f.sources
    assert decide(s, small, model()).outcome == decide(s, f, model()).outcome == "approve"
    assert small.value("src_tax_monthly") is True and small.value("has_bureau_enterprise_accounts") is False
