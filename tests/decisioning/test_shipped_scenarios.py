"""The shipped scenarios: all load, each reads its own data mix, and they decide sanely on a tiny universe.

The universe (400 enterprises × 24 months, about 8 s to generate and batch) is built once per module in a
tmp dir; it checks the batch path (`facts_frame` → `decide_frame`), the online path (`facts_for` on a
fresh computation) and the chain path (`chain_facts`) end to end, with PDs from a fixed hash of the USCC
(no model training here: the engine is what is under test).
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from puhui.core.regulatory import REGULATORY
from puhui.decisioning.engine import MESSAGES, ModelResult, decide, decide_frame
from puhui.decisioning.facts import chain_context, chain_facts, facts_for, facts_frame, facts_from_row, facts_list
from puhui.decisioning.pricing import all_in_apr
from puhui.decisioning.scenario import SCENARIOS_DIR, Scenario, load_scenarios, model_features, scenario_files

if TYPE_CHECKING:
    import polars as pl

AS_OF = date(2026, 9, 30)

EXPECTED = {
    "tax_loan", "settlement_loan", "payroll_loan", "electricity_loan", "cross_border_loan", "medical_insurance_loan",
    "agriculture_loan", "logistics_loan", "ecommerce_loan", "gov_procurement_loan", "scitech_loan",
    "sole_trader_loan", "supply_chain_loan",
}  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> dict[str, Scenario]:
    return load_scenarios()


def test_all_shipped_scenarios_load(shipped: dict[str, Scenario]) -> None:
    assert set(shipped) >= EXPECTED and len(shipped) >= 13
    for path in scenario_files(SCENARIOS_DIR):
        assert shipped[path.stem].source == path.name  # the file is named after the scenario id


def test_each_scenario_uses_a_distinct_data_mix(shipped: dict[str, Scenario]) -> None:
    mixes = {frozenset(s.sources) for s in shipped.values()}
    assert len(mixes) == len(shipped)
    # and the data source that names the product is one it requires
    main = {"tax_loan": "tax_monthly", "settlement_loan": "settlement_monthly", "payroll_loan": "payroll_monthly",
            "electricity_loan": "electricity_monthly", "cross_border_loan": "customs_monthly",
            "medical_insurance_loan": "medical_insurance_monthly", "agriculture_loan": "agriculture_annual",
            "logistics_loan": "logistics_monthly", "ecommerce_loan": "ecommerce_monthly",
            "gov_procurement_loan": "gov_procurement_awards", "scitech_loan": "annual_reports",
            "sole_trader_loan": "bureau_person_accounts", "supply_chain_loan": "chain_trade_monthly"}  # fmt: skip
    for sid, source in main.items():
        assert source in shipped[sid].required_sources, sid


def test_published_admission_rules_are_encoded(shipped: dict[str, Scenario]) -> None:
    # cn_domain §3.1: 税务贷 needs tax-credit grade A/B (M referred); §3.2: 电e贷 ≥ 2 years, no unpaid bills,
    # ≤ 2,000,000; §3.3: 跨境 exports ≥ 1,000,000 in 12 months.
    tax = {r.code: r.require for r in shipped["tax_loan"].eligibility}
    assert tax["tax_grade_not_eligible"] == 'tax_grade in ["A", "B", "M"]'
    elec = shipped["electricity_loan"]
    assert elec.limit.max == Decimal("2000000") and elec.line_validity_months == 12
    assert "reg_age_months >= 24" in {r.require for r in elec.eligibility}
    assert any("cus_export_12m >= 1000000.0" in r.require for r in shipped["cross_border_loan"].eligibility)


def test_no_shipped_scenario_can_price_above_the_ceiling(shipped: dict[str, Scenario]) -> None:
    ceiling = REGULATORY.get("all_in_apr_cap", on=date(2026, 11, 29))
    for s in shipped.values():
        for method in s.repayment_methods:
            assert all_in_apr(s.pricing.cap, s.pricing.fees, s.term.months, method) <= ceiling, s.id


def test_every_shipped_message_is_bilingual(shipped: dict[str, Scenario]) -> None:
    for s in shipped.values():
        for r in s.eligibility:
            assert r.zh.strip() and r.en.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in r.zh), (s.id, r.code)


# ---- on a tiny universe ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.data.synth.runner import SynthConfig, run_synth
    from puhui.indicators.batch import run_batch

    home = tmp_path_factory.mktemp("dec_universe")
    run_synth(SynthConfig(enterprises=400, months=24, chunk_size=400, compounds=200, core_enterprises=50),
              home=home, fresh=True, console=None)  # fmt: skip
    run_batch(AS_OF, home=home, chunk_size=400)
    return home


def _pd(uscc: str) -> float:
    """A fixed PD per enterprise in [0, 0.08), spread over every grade."""
    return int(hashlib.sha256(uscc.encode()).hexdigest()[:8], 16) / 2**32 * 0.08


def _model(uscc: str) -> ModelResult:
    return ModelResult(name="sme_pd", version="test", pd=_pd(uscc))


@pytest.fixture(scope="module")
def frame(universe: Path, shipped: dict[str, Scenario]) -> pl.DataFrame:
    cols = sorted({c for s in shipped.values() for c in model_features(s)})
    return facts_frame(universe, AS_OF, columns=cols)


def test_decisions_on_the_universe_respect_the_policy(shipped: dict[str, Scenario], frame: pl.DataFrame) -> None:
    rows = facts_list(frame, AS_OF)
    assert len(rows) == 400
    engine_codes = set(MESSAGES) - {"source_missing"}
    approved = 0
    for s in shipped.values():
        known = (engine_codes | {r.code for r in s.eligibility} | {f"{r.code}_no_data" for r in s.eligibility}
                 | {f"missing_{src}" for src in s.sources} | {c.code for c in s.limit.exposure_caps})
        for d in decide_frame(s, rows, [_model(f.uscc) for f in rows]):
            assert d.outcome in ("approve", "decline", "refer")
            assert set(d.reason_codes) <= known, (s.id, d.reason_codes)
            assert (d.outcome == "approve") == (not d.reasons)
            if d.outcome == "decline":
                assert d.offer is None
            if d.offer is not None:
                o = d.offer
                approved += d.outcome == "approve"
                assert s.limit.min <= o.limit <= s.limit.max and o.limit % s.limit.step == 0
                assert s.pricing.floor <= o.annual_rate <= s.pricing.cap
                assert o.apr <= Decimal("0.24") and o.apr >= o.annual_rate
    assert approved > 0


def test_frame_path_equals_row_by_row(shipped: dict[str, Scenario], frame: pl.DataFrame) -> None:
    rows = list(frame.head(300).iter_rows(named=True))
    for sid in ("tax_loan", "settlement_loan", "sole_trader_loan"):
        s = shipped[sid]
        one_by_one = [decide(s, facts_from_row(r, AS_OF), _model(r["uscc"])) for r in rows]
        batch = decide_frame(s, facts_list(frame.head(300), AS_OF), [_model(r["uscc"]) for r in rows])
        assert batch == one_by_one


def test_online_path_decides_as_the_batch(universe: Path, shipped: dict[str, Scenario], frame: pl.DataFrame) -> None:
    from puhui.indicators.online import OnlineEngine

    s = shipped["tax_loan"]
    names = model_features(s)
    engine = OnlineEngine(universe, use_batch=False)
    try:
        for row in list(frame.iter_rows(named=True))[:8]:
            online = facts_for(engine, row["uscc"], AS_OF).subset(names)
            batch = facts_from_row(row, AS_OF).subset(names)
            assert online.indicators == batch.indicators
            assert decide(s, online, _model(row["uscc"])) == decide(s, batch, _model(row["uscc"]))
    finally:
        engine.close()


def test_chain_member_facts_and_decision(universe: Path, shipped: dict[str, Scenario]) -> None:
    from puhui.indicators.online import OnlineEngine
    from puhui.supplychain.chains import ChainSource

    source = ChainSource(universe / "raw")
    engine = OnlineEngine(universe)
    s = shipped["supply_chain_loan"]
    try:
        checked = 0
        for core in source.cores():
            chain = source.chain(core.uscc, as_of=AS_OF)
            for m in chain.members[:3]:
                ctx = chain_context(chain, m.uscc, core_exposure=Decimal("0"))
                assert ctx["chain_core"] == core.uscc and ctx["chain_tenure_months"] == m.tenure_months(AS_OF)
                assert ctx["chain_receivable"] == max(m.trade.invoiced - m.trade.paid, Decimal(0))
                assert "core_warning" not in ctx  # unknown stays unknown
                facts = chain_facts(engine, source, m.uscc, AS_OF, core=core.uscc, core_exposure=Decimal("0"),
                                    core_warning=False)  # fmt: skip
                d = decide(s, facts, _model(m.uscc))
                assert not any(c.startswith(("chain_", "core_")) and c.endswith("_no_data") and
                               c != "chain_payment_record_no_data" for c in d.reason_codes), d.reason_codes
                checked += 1
            if checked >= 6:
                break
        assert checked >= 1
    finally:
        engine.close()


def test_scores_from_a_frame_and_from_facts_agree(frame: pl.DataFrame) -> None:
    import numpy as np

    from puhui.decisioning.engine import Decision
    from puhui.decisioning.scoring import model_frame, score_facts
    from puhui.models.scorecard import Scorecard

    feats = ["tax_grade", "tax_sales_12m", "reg_age_months"]
    x = model_frame(feats, frame)
    assert x["tax_grade"].dtype == object and x["tax_sales_12m"].dtype == np.float64
    y = (x["tax_grade"].isin(["C", "D"]) | x["tax_grade"].isna() |
         (np.arange(len(x)) % 11 == 0)).astype(int).to_numpy()  # fmt: skip
    card = Scorecard.fit(x, y)
    from_frame = score_facts(card, frame, name="sme_pd", version="t1")
    from_facts = score_facts(card, facts_list(frame, AS_OF), name="sme_pd", version="t1")
    assert [r.pd for r in from_frame] == [r.pd for r in from_facts]
    assert np.allclose([r.pd for r in from_frame], card.predict_pd(x))
    assert all(r.score is not None and r.version == "t1" for r in from_frame)
    worst = max(from_frame, key=lambda r: r.pd)
    assert worst.reasons and {"feature", "text_zh", "text_en"} <= set(worst.reasons[0])
    # a decision carrying model reasons still round-trips through JSON
    s = load_scenarios()["tax_loan"]
    i = from_frame.index(worst)
    d = decide(s, facts_from_row(next(iter(frame.slice(i, 1).iter_rows(named=True))), AS_OF), worst)
    assert Decision.from_json(d.to_json()) == d


def test_facts_frame_filters_and_refuses_what_it_lacks(universe: Path, frame: pl.DataFrame) -> None:
    from puhui.core.errors import NotFound

    some = frame["uscc"].to_list()[5:8]
    small = facts_frame(universe, AS_OF, columns=["tax_sales_12m"], usccs=some)
    assert small["uscc"].to_list() == sorted(some)
    assert [c for c in small.columns if not c.startswith("src_")] == ["uscc", "tax_sales_12m"]
    with pytest.raises(NotFound) as info:
        facts_frame(universe, date(2026, 8, 31))
    assert info.value.code == "indicator_table_missing"
    with pytest.raises(NotFound):
        facts_frame(universe, AS_OF, columns=["tax_sales_13m"])
