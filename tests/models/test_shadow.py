"""Shadow scoring on real SQLite and PostgreSQL: champion and challengers side by side, stored and compared.

The comparison numbers are recomputed here independently: Spearman's rho with pandas' rank correlation,
AUC with scikit-learn, grade changes by counting with a grading function of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import Engine

from puhui.core.errors import Conflict, ValidationError
from puhui.models import registry
from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.scorecard import Scorecard
from puhui.models.shadow import compare_scores, grade_pd, shadow_score, shadow_scores
from tests.models.conftest import make_credit
from tests.models.test_registry import registry_engine

EDGES = np.array([0.05, 0.1, 0.2, 0.4])


def four_grades(pd_: np.ndarray) -> np.ndarray:
    return np.array(["A", "B", "C", "D", "E"])[np.searchsorted(EDGES, pd_, side="right")]


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """The registry's tables only, on SQLite and PostgreSQL (overrides the suite's every-table engine)."""
    engine = registry_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def models() -> dict:
    df, y, _ = make_credit(2500, seed=5)
    card = Scorecard.fit(df, y)
    gbm = GBMModel.fit(df, y, config=GBMConfig(max_rounds=60))
    test, y_te, _ = make_credit(600, seed=6)
    test = test.assign(uscc=[f"E{i:05d}" for i in range(len(test))], label=y_te, as_of=pd.Timestamp("2026-10-31"))
    return {"card": card, "gbm": gbm, "test": test}


@pytest.fixture
def registered(db_engine: Engine, tmp_path: Path, models: dict) -> dict:
    card, gbm = models["card"], models["gbm"]
    champ = registry.register(db_engine, card, author="a", home=tmp_path)
    registry.promote(db_engine, "sme_pd", champ.version, actor="a", reason="first")
    shadow = registry.register(db_engine, gbm, author="a", home=tmp_path)
    quiet = registry.register(db_engine, replace(card, base_score=650.0), author="a", home=tmp_path, shadow=False)
    return {"champion": champ.version, "shadow": shadow.version, "quiet": quiet.version}


def test_shadow_run_scores_champion_and_shadow_challengers(db_engine: Engine, tmp_path: Path, models: dict,
                                                           registered: dict) -> None:  # fmt: skip
    test, card, gbm = models["test"], models["card"], models["gbm"]
    out = shadow_score(db_engine, test, home=tmp_path, grade=four_grades)
    assert out["champion"]["version"] == registered["champion"]
    assert [c["version"] for c in out["challengers"]] == [registered["shadow"]]  # the quiet candidate is left out
    assert out["stored"] == 2 * len(test)

    stored = shadow_scores(db_engine, out["run_id"])
    champ_rows = stored[stored["role"] == "champion"]
    chal_rows = stored[stored["role"] == "challenger"]
    assert list(champ_rows["entity_id"]) == list(test["uscc"])
    assert set(champ_rows["as_of"].astype(str)) == {"2026-10-31"}
    p_card, p_gbm = card.predict_pd(test, allow_extra=True), gbm.predict_pd(test, allow_extra=True)
    assert np.array_equal(champ_rows["pd"].to_numpy(), p_card)  # a float64 survives the store exactly
    assert np.array_equal(champ_rows["score"].to_numpy(), card.score(test, allow_extra=True))
    assert np.array_equal(chal_rows["pd"].to_numpy(), p_gbm) and chal_rows["score"].isna().all()
    assert list(champ_rows["grade"]) == list(four_grades(p_card))

    c = out["challengers"][0]
    assert c["rank_correlation"] == pytest.approx(pd.Series(p_card).corr(pd.Series(p_gbm), method="spearman"))
    g1, g2 = four_grades(p_card), four_grades(p_gbm)
    assert c["grade_changed_share"] == pytest.approx(np.mean(g1 != g2))
    assert c["grade_worse_share"] == pytest.approx(np.mean(g2 > g1))  # letters sort as the grades run
    assert c["grade_better_share"] + c["grade_worse_share"] == pytest.approx(c["grade_changed_share"])
    assert sum(sum(r.values()) for r in c["migration"].values()) == len(test)
    assert c["auc_champion"] == pytest.approx(roc_auc_score(test["label"], p_card))
    assert c["auc_challenger"] == pytest.approx(roc_auc_score(test["label"], p_gbm))
    assert 0.3 < c["rank_correlation"] <= 1


def test_shadow_refusals(db_engine: Engine, tmp_path: Path, models: dict) -> None:
    test = models["test"]
    registry.register(db_engine, models["card"], author="a", home=tmp_path)
    with pytest.raises(Conflict) as e:
        shadow_score(db_engine, test, home=tmp_path)
    assert e.value.code == "no_champion"
    registry.promote(db_engine, "sme_pd", "sme_pd-v1", actor="a", reason="r")
    with pytest.raises(ValidationError) as e:
        shadow_score(db_engine, test.drop(columns=[models["card"].features[0]]), home=tmp_path)
    assert models["card"].features[0] in e.value.message
    with pytest.raises(ValidationError) as e:
        shadow_score(db_engine, test.drop(columns=["uscc"]), home=tmp_path)
    assert e.value.code == "missing_column"


def test_compare_scores_agreement_extremes() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0.001, 0.5, 400)
    same = compare_scores(p, p.copy(), grade=four_grades)
    assert same["rank_correlation"] == pytest.approx(1.0) and same["grade_changed_share"] == 0
    flipped = compare_scores(p, 0.501 - p, grade=four_grades)
    assert flipped["rank_correlation"] == pytest.approx(-1.0)
    # the default master scale (monitoring.yaml): 0.004 is grade 1, 0.5 the riskiest grade
    assert list(grade_pd(np.array([0.004, 0.5]))) == ["1", "8"]
    with pytest.raises(ValidationError):
        compare_scores(p, p[:10])
