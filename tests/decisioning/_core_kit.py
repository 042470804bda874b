"""Shared helpers for the core decisioning tests (not a test module): a test scenario as a dict, facts builders.

The scenario is deliberately independent of the shipped `scenarios/*.yaml`, so the golden numbers of the
engine, limit and pricing tests do not move when a product manager retunes a shipped policy.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from puhui.decisioning.engine import Facts, ModelResult
from puhui.decisioning.scenario import Scenario, parse_scenario

AS_OF = date(2026, 6, 30)  # LPR 1Y in force: 3.00% (2025-05-20); APR ceiling 24% (2025-10-01)
USCC = "91110108551385082Q"  # a valid USCC (cn_domain §2.1 test vector)

BASE: dict[str, Any] = {
    "id": "test_tax",
    "family": "credit",
    "name_zh": "测试税务贷",
    "name_en": "Test tax loan",
    "data_sources": [
        {"source": "registration"},
        {"source": "tax_monthly"},
        {"source": "tax_credit_grades"},
        {"source": "bureau_enterprise_accounts", "required": False},
    ],
    "eligibility": [
        {"code": "operating_under_2y", "require": "reg_age_months >= 24", "zh": "成立不满2年",
         "en": "Operating for less than 2 years"},
        {"code": "tax_grade_not_eligible", "require": 'tax_grade in ["A", "B", "M"]', "zh": "纳税信用等级不符",
         "en": "Tax grade not eligible"},
        {"code": "tax_grade_m_review", "require": 'tax_grade != "M"', "action": "refer", "zh": "M级转人工",
         "en": "Grade M referred"},
        {"code": "tax_arrears", "require": "!tax_flag_arrears", "zh": "存在欠税", "en": "Tax arrears"},
        {"code": "bureau_overdue", "require": "!has_bureau_enterprise_accounts || bur_worst_dpd_12m < 30",
         "zh": "征信逾期", "en": "Bureau overdue"},
        {"code": "sales_trend", "require": "tax_sales_yoy_12m > -0.5", "if_missing": "refer",
         "zh": "销售大幅下滑", "en": "Sales collapsed"},
    ],
    "model": {
        "name": "sme_pd",
        "grades": [{"grade": "A", "max_pd": 0.005}, {"grade": "B", "max_pd": 0.01}, {"grade": "C", "max_pd": 0.02},
                   {"grade": "D", "max_pd": 0.05}, {"grade": "E", "max_pd": 1.0}],
        "refer": ["D"],
        "decline": ["E"],
    },
    "limit": {
        "candidates": [
            {"name": "tax_paid_multiple", "expr": "tax_total_paid_12m * 3.0"},
            {"name": "sales_share", "expr": "tax_sales_12m * 0.2"},
            {"name": "balance_multiple", "expr": "stl_avg_balance_12m * 30.0", "optional": True},
        ],
        "grade_multipliers": {"A": "1.0", "B": "0.9", "C": "0.7", "D": "0.5"},
        "max": 3000000,
        "min": 30000,
        "step": 10000,
    },
    "pricing": {"base": "lpr_1y", "spread_bp": {"A": 45, "B": 80, "C": 150, "D": 600}, "floor": "0.0345",
                "cap": "0.08"},
    "term": {"months": 12, "max_drawdown_months": 12},
    "repayment_methods": ["revolving", "interest_only"],
    "line_validity_months": 12,
}  # fmt: skip


def variant(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with dotted-path changes: `variant(**{"pricing.floor": "0.09"})`; None deletes."""
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        node: Any = doc
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last: Any = int(keys[-1]) if isinstance(node, list) else keys[-1]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return doc


def to_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def scenario(**changes: Any) -> Scenario:
    return parse_scenario(to_yaml(variant(**changes)), source="test_tax.yaml")


GOOD: dict[str, Any] = {
    "reg_age_months": 60,
    "tax_grade": "A",
    "tax_flag_arrears": False,
    "bur_worst_dpd_12m": None,
    "tax_sales_yoy_12m": 0.05,
    "tax_total_paid_12m": Decimal("123456.78"),
    "tax_sales_12m": Decimal("2500000.00"),
    "stl_avg_balance_12m": None,
}
SOURCES = {"registration": True, "tax_monthly": True, "tax_credit_grades": True, "bureau_enterprise_accounts": False}


def facts(exposure: str = "0", sources: dict[str, bool] | None = None, consents: tuple[str, ...] | None = None,
          extra: dict[str, Any] | None = None, **values: Any) -> Facts:  # fmt: skip
    return Facts(uscc=USCC, as_of=AS_OF, indicators={**GOOD, **values}, sources={**SOURCES, **(sources or {})},
                 exposure=Decimal(exposure), extra=extra or {}, consents=consents)  # fmt: skip


def model(pd: float = 0.004) -> ModelResult:
    return ModelResult(name="sme_pd", version="sme_pd-v1", pd=pd, score=612.5,
                       reasons=({"rank": 1, "feature": "tax_sales_12m", "points_lost": 3.5, "text_zh": "销售额",
                                 "text_en": "sales"},))  # fmt: skip
