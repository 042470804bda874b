"""Shared helpers for the records tests (not a test module): a small valid scenario and its variants."""

from __future__ import annotations

SCENARIO = """\
id: test_tax_loan
family: credit
name_zh: 测试税务贷
name_en: Test tax loan
data_sources:
  - source: registration
  - source: annual_reports
eligibility:
  - code: too_young
    require: reg_age_months >= {min_age}
    zh: 成立时间不足
    en: founded too recently
model:
  grades:
    - {{grade: A, max_pd: 0.02}}
    - {{grade: B, max_pd: 0.08}}
    - {{grade: C, max_pd: 1.0}}
  decline: [C]
limit:
  candidates:
    - name: revenue
      expr: ar_revenue * 0.2
  grade_multipliers: {{A: 1.0, B: 0.5}}
  max: 3000000
  min: 10000
  step: 10000
pricing:
  spread_bp: {{A: 50, B: {spread_b}}}
  floor: 0.03
  cap: 0.12
term:
  months: 12
repayment_methods: [revolving, equal_instalment]
line_validity_months: 12
"""


def scenario_text(*, min_age: int = 24, spread_b: int = 150, scenario_id: str = "test_tax_loan") -> str:
    """The test scenario; other `min_age` / `spread_b` give other policy versions."""
    text = SCENARIO.format(min_age=min_age, spread_b=spread_b)
    return text.replace("id: test_tax_loan", f"id: {scenario_id}", 1)
