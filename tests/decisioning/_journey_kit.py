"""Shared helpers for the journey tests (not a test module): a tiny universe, a scorecard, a test policy.

The universe (300 enterprises × 36 months, its batch indicator table of `AS_OF`) and the fitted scorecard
are built once per process (`universe()` caches them), so the four journey test modules and xdist workers
each pay for them once. The policy is a test scenario independent of the shipped ones: its rules read
registration and bureau indicators only, and its two grades both lend with the same multiplier, so the
outcome and the limit of an enterprise follow from its indicator row alone (read here straight from the
batch Parquet table, not through the code under test):

- decline `operating_under_2y` when `reg_age_months < 24`; decline `bureau_overdue` when the enterprise has
  bureau data with `bur_worst_dpd_12m >= 30`; refer `young_review` when `reg_age_months < 60`;
- limit = min(3,000,000, reg_capital × 0.5) rounded down to 10,000 (minimum 10,000).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

AS_OF = date(2026, 6, 30)
SCENARIO_ID = "jt_loan"
ENTERPRISES = 300

SCENARIO = f"""\
id: {SCENARIO_ID}
family: credit
name_zh: 测试经营贷
name_en: Test business loan
data_sources:
  - {{source: registration}}
  - {{source: bureau_enterprise_accounts, required: false}}
eligibility:
  - code: operating_under_2y
    require: reg_age_months >= 24
    zh: 成立不满2年
    en: Operating for less than 2 years
  - code: bureau_overdue
    require: "!has_bureau_enterprise_accounts || bur_worst_dpd_12m < 30"
    zh: 征信逾期30天以上
    en: Bureau shows 30+ days past due
  - code: young_review
    require: reg_age_months >= 60
    action: refer
    zh: 成立不满5年，转人工审核
    en: Operating for less than 5 years, referred
model:
  name: sme_pd
  grades:
    - {{grade: A, max_pd: 0.2}}
    - {{grade: B, max_pd: 1.0}}
limit:
  candidates:
    - {{name: capital_half, expr: "reg_capital * 0.5"}}
  grade_multipliers: {{A: 1.0, B: 1.0}}
  max: 3000000
  min: 10000
  step: 10000
pricing:
  spread_bp: {{A: 50, B: 150}}
  floor: 0.03
  cap: 0.12
term:
  months: 12
repayment_methods: [revolving, equal_instalment]
line_validity_months: 12
offer_validity_days: 30
"""


@dataclass(frozen=True)
class Universe:
    home: Path
    rows: dict[str, dict[str, Any]]  # uscc → batch indicator row
    card: Any  # a fitted Scorecard

    def pick(self, kind: str, n: int = 1) -> list[str]:
        """Enterprises whose expected outcome under the test policy is `kind` (approve | refer | decline_*)."""
        out = [u for u, r in sorted(self.rows.items()) if expected(r) == kind]
        assert len(out) >= n, f"the universe has only {len(out)} enterprises of kind {kind}"
        return out[:n]


def expected(r: dict[str, Any]) -> str:
    """The outcome of the test policy for one indicator row (see the module docstring)."""
    if r["reg_age_months"] < 24:
        return "decline_young"
    if r["src_bureau_enterprise_accounts"] and r["bur_worst_dpd_12m"] is not None and r["bur_worst_dpd_12m"] >= 30:
        return "decline_bureau"
    if expected_limit(r) < Decimal(10000):
        return "decline_small"
    return "refer" if r["reg_age_months"] < 60 else "approve"


def expected_limit(r: dict[str, Any]) -> Decimal:
    raw = min(Decimal(3_000_000), Decimal(r["reg_capital"]) * Decimal("0.5"))
    return (raw / 10000).to_integral_value(rounding=ROUND_DOWN) * 10000


@cache
def universe() -> Universe:
    from puhui.data.synth.runner import SynthConfig, run_synth
    from puhui.indicators.batch import run_batch
    from puhui.models.scorecard import Scorecard

    home = Path(tempfile.mkdtemp(prefix="puhui-journey-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    run_synth(SynthConfig(enterprises=ENTERPRISES, months=36, chunk_size=ENTERPRISES), home=home, fresh=True,
              console=None)  # fmt: skip
    report = run_batch(AS_OF, home=home, chunk_size=ENTERPRISES)
    table = pq.read_table(report.path).to_pylist()
    rows = {r["uscc"]: r for r in table}
    import pandas as pd

    feats = ["reg_age_months", "bur_worst_dpd_12m", "reg_capital"]
    df = pd.DataFrame([{f: (None if r[f] is None else float(r[f])) for f in feats} for r in table], columns=feats)
    rng = np.random.default_rng(11)
    dpd = df["bur_worst_dpd_12m"].fillna(0).to_numpy()
    y = ((df["reg_age_months"].to_numpy() < 48) & (rng.random(len(df)) < 0.6)) | (dpd >= 30) | \
        (rng.random(len(df)) < 0.05)  # fmt: skip
    card = Scorecard.fit(df, y.astype(int), features=feats)
    return Universe(home=home, rows=rows, card=card)


def online_engine() -> Any:
    from puhui.indicators.online import OnlineEngine

    return OnlineEngine(universe().home)


def setup_db(engine: Engine, *, with_model: bool = True, with_policy: bool = True) -> None:
    """Register and promote the scorecard (into the universe's registry folder) and activate the test policy."""
    from puhui.decisioning.policies import activate_policy, approve_policy, draft_policy
    from puhui.models.registry import promote, register

    u = universe()
    if with_model:
        reg = register(engine, u.card, name="sme_pd", author="test:modeller", home=u.home)
        promote(engine, "sme_pd", reg.version, actor="test:risk", reason="journey tests")
    if with_policy:
        row = draft_policy(engine, SCENARIO, author="test:pm")
        approve_policy(engine, row["id"], approver="test:risk")
        activate_policy(engine, row["id"], actor="test:pm")


def grant(engine: Engine, uscc: str, *, purposes: tuple[str, ...] = ("registration", "credit_bureau"),
          on: date = date(2026, 6, 1), expires_on: date = date(2027, 5, 31)) -> Any:  # fmt: skip
    from puhui.decisioning.consents import do_grant_consents

    return do_grant_consents(engine, uscc=uscc, purposes=purposes, granted_by="法定代表人 测试", expires_on=expires_on,
                             on=on, actor="test:borrower")  # fmt: skip


TABLES = (
    "decisions",
    "applications",
    "offers",
    "review_cases",
    "consents",
    "loan_contracts",
    "credit_lines",
    "audit_log",
    "idempotency_keys",
)


def counts(engine: Engine) -> dict[str, int]:
    """Row counts of every table the journey writes (to prove a refused request wrote nothing)."""
    from sqlalchemy import table

    with engine.connect() as c:
        return {t: int(c.execute(select(func.count()).select_from(table(t))).scalar_one()) for t in TABLES}
