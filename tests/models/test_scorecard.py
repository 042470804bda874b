"""The scorecard: Siddiqi scaling, selection, one score everywhere (batch = one row = reloaded = DuckDB SQL),
reason codes, exports, column checks, and test AUC against a default optbinning `Scorecard`."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from puhui.core.errors import ValidationError
from puhui.models import metrics
from puhui.models.binning import BinningConfig
from puhui.models.scorecard import Scorecard, ScorecardConfig

from .conftest import make_credit

pytestmark = pytest.mark.filterwarnings("ignore::Warning:optbinning.*")

TRENDS = {"debt_ratio": "ascending", "revenue": "descending", "late_payments": "ascending", "lenders_6m": "ascending"}
NAMES = {"debt_ratio": ("资产负债率", "Debt ratio")}
CONFIG = ScorecardConfig(binning=BinningConfig(special_codes=(-9,), trends=TRENDS), names=NAMES)


@pytest.fixture(scope="module")
def card(credit: tuple) -> Scorecard:
    tr, ytr, _, _ = credit
    return Scorecard.fit(tr, ytr, config=CONFIG)


def test_siddiqi_scaling_anchor_points(card: Scorecard) -> None:
    # Siddiqi (2006): at base_score the odds are base_odds (50:1); every PDO (20) points the odds double.
    assert card.factor == pytest.approx(20 / math.log(2))
    assert card.pd_from_score(600.0) == pytest.approx(1 / 51)
    assert card.pd_from_score(620.0) == pytest.approx(1 / 101)
    assert card.pd_from_score(580.0) == pytest.approx(1 / 26)


def test_unrounded_points_reproduce_the_logistic_regression(credit: tuple) -> None:
    tr, ytr, te, _ = credit
    exact = Scorecard.fit(tr, ytr, config=ScorecardConfig(binning=CONFIG.binning, point_decimals=None))
    woe = np.column_stack([exact.bins[f].transform(te[f]) for f in exact.features])
    logit = exact.intercept + woe @ np.array([exact.coef[f] for f in exact.features])
    assert np.allclose(exact.predict_pd(te, allow_extra=True), 1 / (1 + np.exp(-logit)), rtol=1e-9, atol=1e-12)


def test_selection_drops_noise_weak_and_correlated(credit: tuple) -> None:
    tr, ytr, _, _ = credit
    df = tr.assign(debt_copy=tr["debt_ratio"] * 2 + 1e-9)
    sc = Scorecard.fit(df, ytr, config=CONFIG)
    assert "noise" not in sc.features and sc.selection["noise"].startswith("dropped: IV")
    assert ("debt_ratio" in sc.features) != ("debt_copy" in sc.features)
    assert "corr" in sc.selection["debt_copy" if "debt_ratio" in sc.features else "debt_ratio"]
    assert all(c <= 0 for c in sc.coef.values())  # WoE good-positive ⇒ β ≤ 0


def test_one_score_everywhere(card: Scorecard, credit: tuple, tmp_path: Path) -> None:
    _, _, te, _ = credit
    rows = te.iloc[:300]
    batch = card.score(rows, allow_extra=True)
    one = np.array([card.score(r, allow_extra=True)[0] for r in rows.to_dict(orient="records")])
    card.save(tmp_path / "card.json")
    reloaded = Scorecard.load(tmp_path / "card.json")
    assert np.array_equal(batch, one)  # exact, not approx
    assert np.array_equal(batch, reloaded.score(rows, allow_extra=True))
    assert reloaded.reasons(rows.iloc[:5], allow_extra=True) == card.reasons(rows.iloc[:5], allow_extra=True)
    assert np.array_equal(card.predict_pd(rows, allow_extra=True), reloaded.predict_pd(rows, allow_extra=True))


def test_json_style_row_with_nulls(card: Scorecard, credit: tuple) -> None:
    _, _, te, _ = credit
    row = {k: (None if pd.isna(v) else v) for k, v in te.iloc[0].to_dict().items()}
    row.update(revenue=None, industry=None)
    frame = te.iloc[[0]].assign(revenue=np.nan, industry=np.nan)
    assert card.score(row)[0] == card.score(frame)[0]
    assert card.points_table(row)["revenue"].iloc[0] == card.points["revenue"][card.bins["revenue"].missing_bin]


@pytest.mark.parametrize("iv_min", [0.02, 0.0])
def test_sql_case_expression_in_duckdb_matches_python(card: Scorecard, credit: tuple, iv_min: float) -> None:
    tr, ytr, te, _ = credit
    if iv_min == 0.0:  # every feature, so categorical missing values (tax_grade) are in the SQL too
        card = Scorecard.fit(tr, ytr, config=ScorecardConfig(binning=CONFIG.binning, iv_min=0.0, vif_max=100))
        assert "tax_grade" in card.features and te["tax_grade"].isna().any()
    te = pd.concat([te, te.iloc[:3].assign(industry="unseen", lenders_6m=-9.0, revenue=float("inf"))])
    con = duckdb.connect()
    con.register("apps", te)
    got = np.array([r[0] for r in con.execute(f"SELECT {card.to_sql()} AS score FROM apps").fetchall()])
    assert np.array_equal(got, card.score(te, allow_extra=True))


def test_reason_codes_points_lost_against_best_bin(card: Scorecard, credit: tuple) -> None:
    _, _, te, _ = credit
    pts = card.points_table(te.iloc[:50], allow_extra=True)
    reasons = card.reasons(te.iloc[:50], k=3, allow_extra=True)
    for r, row in enumerate(reasons):
        assert len(row) <= 3
        lost = [x["points_lost"] for x in row]
        assert lost == sorted(lost, reverse=True) and all(v > 0 for v in lost)
        for x in row:
            f = x["feature"]
            best = max(p for p, c in zip(card.points[f], card.bins[f].counts, strict=True) if c > 0)
            assert x["points_lost"] == pytest.approx(best - pts[f].iloc[r])
    texts = [x for row in reasons for x in row if x["feature"] == "debt_ratio"]
    assert texts and "资产负债率" in texts[0]["text_zh"] and "Debt ratio" in texts[0]["text_en"]
    top = [x for row in reasons for x in row if x["feature"] == "revenue"]
    assert top and top[0]["text_en"].startswith("revenue (")  # unmapped name defaults to the column


def test_exports_csv_markdown(card: Scorecard, tmp_path: Path) -> None:
    card.to_csv(tmp_path / "card.csv")
    t = pd.read_csv(tmp_path / "card.csv")
    assert set(t["feature"]) == set(card.features)
    assert t["points"].tolist() == [p for f in card.features for p in card.points[f]]
    md = card.to_markdown().splitlines()
    assert md[0].startswith("| feature |") and len(md) == 2 + len(t)


def test_scoring_columns_checked(card: Scorecard, credit: tuple) -> None:
    _, _, te, _ = credit
    with pytest.raises(ValidationError, match="debt_ratio") as e:
        card.score(te.drop(columns=["debt_ratio"]))
    assert e.value.code == "missing_columns"
    with pytest.raises(ValidationError, match="surprise"):
        card.score(te.assign(surprise=1))
    card.score(te)  # unselected training inputs (noise) are accepted


def test_auc_at_least_default_optbinning_scorecard(card: Scorecard, credit: tuple) -> None:
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard
    from sklearn.linear_model import LogisticRegression

    tr, ytr, te, yte = credit
    ours = metrics.auc(yte, card.predict_pd(te))
    _, _, true_pd = make_credit()
    oracle = metrics.auc(yte, true_pd[len(tr) :])  # AUC of the true PDs on the same test rows
    bp = BinningProcess(list(tr.columns), categorical_variables=["industry", "tax_grade"])
    peer = OptScorecard(bp, LogisticRegression()).fit(tr, ytr)
    theirs = metrics.auc(yte, peer.predict_proba(te)[:, 1])
    print(f"test AUC ours {ours:.4f} vs optbinning default {theirs:.4f}; oracle {oracle:.4f}")
    assert ours >= theirs
    assert ours / oracle >= 0.97
    assert ours > 0.78


# ---- sample weights (reject inference's augmented rows) ----


@pytest.fixture(scope="module")
def small_credit() -> tuple[pd.DataFrame, np.ndarray]:
    df, y, _ = make_credit(2500, seed=11)
    return df, y


def test_weighted_fit_with_unit_weights_is_scorecard_fit(small_credit) -> None:
    df, y = small_credit
    a = Scorecard.fit(df, y)
    b = Scorecard.fit(df, y, sample_weight=np.ones(len(y)))
    assert a.features == b.features
    assert a.points == b.points
    assert np.array_equal(a.score(df), b.score(df))


def test_integer_weights_equal_replicated_rows(small_credit) -> None:
    df, y = small_credit
    w = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    w[::7] = 0.0  # zero weight = row left out
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    a = Scorecard.fit(df.iloc[rep].reset_index(drop=True), y[rep])
    b = Scorecard.fit(df, y, sample_weight=w)
    assert a.features == b.features
    for f in a.features:
        assert a.bins[f].splits == b.bins[f].splits and a.bins[f].groups == b.bins[f].groups
        assert a.bins[f].counts == b.bins[f].counts and a.bins[f].events == b.bins[f].events
        assert a.bins[f].woe == pytest.approx(b.bins[f].woe, abs=1e-12)
    assert np.allclose(a.score(df), b.score(df), atol=0.011)  # points rounded to 0.01 each


def test_weighted_fit_refuses_bad_weights(small_credit) -> None:
    df, y = small_credit
    with pytest.raises(ValidationError) as e:
        Scorecard.fit(df, y, sample_weight=np.ones(3))
    assert e.value.code == "length_mismatch"
    with pytest.raises(ValidationError) as e:
        Scorecard.fit(df, y, sample_weight=-np.ones(len(y)))
    assert e.value.code == "invalid_weights"
