"""The LightGBM challenger: monotone in the risk direction, calibrated, identical after save/load, and
reason codes that add up to LightGBM's own margin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from puhui.models import metrics
from puhui.models.gbm import GBMConfig, GBMModel, _apply_calibrator, choose_calibrator

TRENDS = {"debt_ratio": "ascending", "revenue": "descending", "late_payments": "ascending", "lenders_6m": "ascending"}


@pytest.fixture(scope="module")
def gbm(credit: tuple) -> GBMModel:
    tr, ytr, _, _ = credit
    return GBMModel.fit(tr, ytr, config=GBMConfig(trends=TRENDS, names={"debt_ratio": ("资产负债率", "Debt ratio")}))


def test_discrimination_and_calibration(gbm: GBMModel, credit: tuple) -> None:
    _, _, te, yte = credit
    p = gbm.predict_pd(te)
    assert metrics.auc(yte, p) > 0.77
    assert abs(p.mean() - yte.mean()) < 0.03  # calibrated: mean PD close to the observed bad rate
    assert gbm.calibrator["kind"] in ("platt", "isotonic")
    assert set(gbm.calibration_losses) == {"platt", "isotonic"}
    assert gbm.monotone[gbm.features.index("debt_ratio")] == 1
    assert gbm.monotone[gbm.features.index("revenue")] == -1


def test_monotone_in_the_risk_direction(gbm: GBMModel, credit: tuple) -> None:
    _, _, te, _ = credit
    grid = np.linspace(0, 1, 41)
    for r in range(60):
        rows = te.iloc[[r] * grid.size].reset_index(drop=True).assign(debt_ratio=grid)
        assert np.all(np.diff(gbm.margin(rows)) >= 0)
        rows = te.iloc[[r] * grid.size].reset_index(drop=True).assign(revenue=np.exp(10 + 10 * grid))
        assert np.all(np.diff(gbm.margin(rows)) <= 0)


def test_one_score_everywhere(gbm: GBMModel, credit: tuple, tmp_path: Path) -> None:
    _, _, te, _ = credit
    rows = te.iloc[:200]
    batch = gbm.predict_pd(rows)
    one = np.array([gbm.predict_pd(r)[0] for r in rows.to_dict(orient="records")])
    gbm.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gbm.json", "gbm.txt"]
    again = GBMModel.load(tmp_path)
    assert np.array_equal(batch, one)
    assert np.array_equal(batch, again.predict_pd(rows))


def test_reason_codes_from_pred_contrib(gbm: GBMModel, credit: tuple) -> None:
    _, _, te, _ = credit
    rows = te.iloc[:30]
    contrib = gbm.booster.predict(gbm._matrix(rows), pred_contrib=True)
    assert np.allclose(contrib.sum(axis=1), gbm.margin(rows))  # SHAP values add up to the margin
    for row in gbm.reasons(rows):
        c = [x["contribution"] for x in row]
        assert c == sorted(c, reverse=True) and all(v > 0 for v in c) and len(row) <= 4
    texts = [x for row in gbm.reasons(rows) for x in row if x["feature"] == "debt_ratio"]
    assert texts and "资产负债率" in texts[0]["text_zh"]


def test_calibrator_choice_follows_the_data() -> None:
    rng = np.random.default_rng(5)
    m = rng.normal(0, 2, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 * m - 1)))).astype(int)  # exactly logistic in the margin
    cal, losses = choose_calibrator(m, y)
    assert cal["kind"] == "platt" and losses["platt"] < losses["isotonic"]
    assert cal["a"] == pytest.approx(0.5, abs=0.08) and cal["b"] == pytest.approx(-1, abs=0.12)
    iso, _ = choose_calibrator(m, y, "isotonic")
    p = _apply_calibrator(iso, np.sort(m))
    assert np.all(np.diff(p) >= 0)
