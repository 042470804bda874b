"""Monitoring against independent sources: a hand-worked PSI, np.histogram shares, scikit-learn's AUC,
scipy's two-sample KS, scipy.stats.beta / binomtest for the Jeffreys and binomial tests, a hand-made
vintage table; thresholds (identical sample → no finding, drifted sample → red; AUC-drop and ratio
bands at their edges); and `puhui model monitor` on a small synthetic universe, whose snapshot must be
the training set's population with the training set's labels."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta, binomtest, ks_2samp
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from puhui.models import monitoring as mon
from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.scorecard import Scorecard

from .conftest import make_credit


@pytest.fixture(scope="module")
def card_data() -> tuple[Scorecard, pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    df, y, _ = make_credit(4000, seed=11)
    train, test = df.iloc[:2500].reset_index(drop=True), df.iloc[2500:].reset_index(drop=True)
    card = Scorecard.fit(train, y[:2500])
    return card, train, y[:2500], test, y[2500:]


def _shares_by_histogram(values: np.ndarray, edges: list[float]) -> np.ndarray:
    # [e_i, e_{i+1}) bins: np.histogram is right-open except its last bin, closed by +inf here
    counts, _ = np.histogram(values, bins=[-np.inf, *edges, np.inf])
    return counts / values.size


def _psi_by_hand(e: np.ndarray, a: np.ndarray) -> float:
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    return float(sum((ai - ei) * math.log(ai / ei) for ei, ai in zip(e, a, strict=True)))


def test_thresholds_file_has_siddiqi_bands() -> None:
    t = mon.load_thresholds()
    assert t["psi"]["score"] == {"amber": 0.10, "red": 0.25}
    assert t["psi"]["feature"] == {"amber": 0.10, "red": 0.25}
    assert (t["auc_drop"]["amber"], t["auc_drop"]["red"]) == (0.03, 0.05)
    assert t["calibration"]["jeffreys_amber"] == 0.05


def test_psi_report_hand_worked_and_score_psi_from_histograms(card_data) -> None:
    card, train, _, test, _ = card_data
    ref = mon.reference_profile(card, train)
    # a hand-made feature: reference 25/25/25/25 % on [−inf,1) [1,2) [2,3) [3,inf), current 10/20/30/40 %:
    # PSI = (−.15)ln(.4) + (−.05)ln(.8) + (.05)ln(1.2) + (.15)ln(1.6) = 0.228218 (worked in test_metrics)
    ref["features"]["x"] = {"kind": "numerical", "edges": [1.0, 2.0, 3.0], "special_codes": [],
                            "labels": ["a", "b", "c", "d", "Special", "Missing"],
                            "shares": [0.25, 0.25, 0.25, 0.25, 0.0, 0.0]}  # fmt: skip
    cur = test.iloc[:100].copy()
    cur["x"] = np.repeat([0.5, 1.5, 2.5, 3.5], [10, 20, 30, 40])
    rep = mon.psi_report(ref, card, cur)
    assert rep["features"]["x"]["psi"] == pytest.approx(0.228218, abs=1e-6)
    assert [r["actual"] for r in rep["features"]["x"]["table"]] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0, 0])
    # the score PSI equals the one computed from np.histogram shares on the frozen edges
    p_ref, p_cur = card.predict_pd(train), card.predict_pd(cur, allow_extra=True)
    e = _shares_by_histogram(p_ref, ref["score_edges"])
    a = _shares_by_histogram(p_cur, ref["score_edges"])
    assert np.allclose(e, ref["score_shares"])
    assert rep["score"]["psi"] == pytest.approx(_psi_by_hand(e, a), abs=1e-12)
    assert len(ref["score_shares"]) == len(ref["score_edges"]) + 1 <= 10  # ties in the card's points merge deciles


def test_reference_is_json_and_uses_the_cards_bins(card_data) -> None:
    card, train, y, _, _ = card_data
    ref = json.loads(json.dumps(mon.reference_profile(card, train, y=y)))
    assert ref["score"] == "pd"
    for f in card.features:
        b = card.bins[f]
        assert ref["features"][f]["labels"] == b.labels()
        # the card's own training counts give the same release shares
        assert ref["features"][f]["shares"] == pytest.approx(np.asarray(b.counts) / len(train))
    assert ref["performance"]["auc"] == pytest.approx(roc_auc_score(y, card.predict_pd(train)))


def test_identical_sample_raises_nothing_drifted_sample_raises_red(card_data) -> None:
    card, train, _, test, _ = card_data
    ref = mon.reference_profile(card, train)
    same = mon.psi_report(ref, card, train)
    assert same["score"]["psi"] == pytest.approx(0.0, abs=1e-12)
    assert all(r["psi"] == pytest.approx(0.0, abs=1e-12) for r in same["features"].values())
    assert mon.findings(psi=same) == []
    drifted = test.copy()
    drifted["debt_ratio"] = np.clip(drifted["debt_ratio"] + 0.35, 0, 1)
    drifted["revenue"] = drifted["revenue"] * 0.1
    rep = mon.psi_report(ref, card, drifted)
    fs = mon.findings(psi=rep)
    codes = {(f.code, f.subject): f.severity for f in fs}
    assert rep["score"]["psi"] >= 0.25 and codes[("score_psi", "score")] == "red"
    assert codes[("feature_csi", "debt_ratio")] == "red"
    assert fs[0].severity == "red" and fs[0].message_zh and fs[0].message_en
    assert fs[0].values  # the numbers travel with the finding


def test_gbm_profile_bins_categories_and_deciles(card_data) -> None:
    _, train, y, test, _ = card_data
    gbm = GBMModel.fit(train, y, config=GBMConfig(max_rounds=60))
    ref = mon.reference_profile(gbm, train)
    ind = ref["features"]["industry"]
    assert ind["groups"] == [[c] for c in sorted(train["industry"].unique())]
    assert ind["shares"][:5] == pytest.approx(train["industry"].value_counts(normalize=True).sort_index().to_numpy())
    debt = ref["features"]["debt_ratio"]
    assert len(debt["edges"]) == 9 and debt["shares"][:10] == pytest.approx([0.1] * 10, abs=0.002)
    assert mon.psi_report(ref, gbm, test)["score"]["psi"] < 0.1


def test_cohort_performance_matches_sklearn_and_scipy() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    p = rng.uniform(0.01, 0.3, n)
    y = (rng.random(n) < p).astype(int)
    cohort = rng.choice(["2025-01", "2025-02", "2025-03"], n)
    t = mon.cohort_performance(y, p, cohort)
    assert list(t["cohort"]) == ["2025-01", "2025-02", "2025-03"]
    for r in t.itertuples():
        m = cohort == r.cohort
        assert r.auc == pytest.approx(roc_auc_score(y[m], p[m]), abs=1e-12)
        assert r.ks == pytest.approx(ks_2samp(p[m][y[m] == 1], p[m][y[m] == 0]).statistic, abs=1e-12)
        assert r.rows == m.sum() and r.bads == y[m].sum()
    thin = mon.cohort_performance(np.array([1, 0, 0]), np.array([0.2, 0.1, 0.3]), np.array(["a"] * 3), min_bads=2)
    assert thin["auc"].iloc[0] is None


def test_vintage_curves_on_a_hand_made_loan_table() -> None:
    rows = [  # loan, vintage, months on book, dpd
        ("A", "2025-01-15", 1, 0),
        ("A", "2025-01-15", 2, 95),
        ("A", "2025-01-15", 3, 0),  # bad at 2, cured: stays bad
        ("B", "2025-01-20", 1, 30),
        ("B", "2025-01-20", 2, 60),
        ("B", "2025-01-20", 3, 90),  # bad at 3
        ("C", "2025-01-03", 1, 0),
        ("C", "2025-01-03", 2, 0),
        ("C", "2025-01-03", 3, 10),  # never bad
        ("D", "2025-01-09", 1, 0),
        ("D", "2025-01-09", 2, 0),  # paid off after month 2: still in the vintage
        ("E", "2025-02-01", 1, 120),
        ("E", "2025-02-01", 2, 150),  # bad at 1
        ("F", "2025-02-11", 1, 0),
        ("F", "2025-02-11", 2, 0),
    ]
    loans = pd.DataFrame(rows, columns=["loan_id", "origination_month", "months_on_book", "dpd"])
    v = mon.vintage_curves(loans)
    got = {(r.vintage, r.months_on_book): (r.loans, r.bads, r.cum_bad_rate) for r in v.itertuples()}
    assert got == {("2025-01", 1): (4, 0, 0.0), ("2025-01", 2): (4, 1, 0.25), ("2025-01", 3): (4, 2, 0.5),
                   ("2025-02", 1): (2, 1, 0.5), ("2025-02", 2): (2, 1, 0.5)}  # fmt: skip
    # a stricter bad definition (dpd ≥ 120) keeps only E
    assert mon.vintage_curves(loans, bad_dpd=120)["bads"].tolist() == [0, 0, 0, 1, 1]
    # without loan ids the flag is taken as cumulative per row
    flat = pd.DataFrame({"origination_month": ["2025-03-01"] * 4, "months_on_book": [1, 1, 2, 2],
                         "defaulted": [False, True, True, True]})  # fmt: skip
    assert mon.vintage_curves(flat)["cum_bad_rate"].tolist() == [0.5, 1.0]
    with pytest.raises(Exception, match="defaulted or dpd"):
        mon.vintage_curves(loans.drop(columns="dpd"))


def test_calibration_drift_against_scipy() -> None:
    y = np.array([1] * 7 + [0] * 93 + [1] * 30 + [0] * 170)
    p = np.array([0.03] * 100 + [0.10] * 200)
    t = mon.calibration_drift(y, p).set_index("grade")
    assert list(t.index) == ["4", "6", "all"]  # 0.03 ≤ 4 %, 0.10 in (8 %, 15 %]
    g4 = t.loc["4"]
    assert (g4["n"], g4["defaults"]) == (100, 7)
    assert g4["ratio"] == pytest.approx(0.07 / 0.03)
    assert g4["jeffreys_p"] == pytest.approx(beta.cdf(0.03, 7.5, 93.5), abs=1e-12)
    assert g4["binomial_p"] == pytest.approx(binomtest(7, 100, 0.03, alternative="greater").pvalue, abs=1e-12)
    allr = t.loc["all"]
    assert allr["expected_pd"] == pytest.approx(p.mean()) and allr["defaults"] == 37
    assert allr["jeffreys_p"] == pytest.approx(beta.cdf(p.mean(), 37.5, 263.5), abs=1e-12)


def test_grade_boundaries_follow_the_master_scale() -> None:
    assert list(mon.grade_of(np.array([0.0, 0.005, 0.0051, 0.3, 0.31, 1.0]))) == ["1", "1", "2", "7", "8", "8"]


def test_auc_drop_bands() -> None:
    c = pd.DataFrame({"cohort": ["a", "b", "c", "d"], "rows": [1000] * 4, "bads": [50, 50, 50, 5],
                      "auc": [0.78, 0.77, 0.745, 0.60]})  # fmt: skip
    fs = {f.subject: f for f in mon.findings(cohorts=c, release_auc=0.80)}
    assert "a" not in fs  # drop 0.02
    assert fs["b"].severity == "amber" and fs["b"].values["drop"] == pytest.approx(0.03)  # exactly the amber edge
    assert fs["c"].severity == "red"
    assert "d" not in fs  # 5 bads: too thin for a finding
    assert mon.findings(cohorts=c) == []  # without a release AUC nothing to compare


def test_calibration_bands_and_jeffreys_finding() -> None:
    def row(grade: str, n: int, d: int, pd_: float) -> dict:
        return {
            "grade": grade,
            "n": n,
            "defaults": d,
            "expected_pd": pd_,
            "observed_rate": d / n,
            "ratio": d / n / pd_,
            "expected_defaults": n * pd_,
            "jeffreys_p": beta.cdf(pd_, d + 0.5, n - d + 0.5),
        }

    cal = pd.DataFrame([row("1", 1000, 45, 0.05), row("2", 1000, 65, 0.05), row("3", 1000, 125, 0.05),
                        row("4", 20, 3, 0.01)])  # fmt: skip
    fs = mon.findings(calibration=cal)
    got = {(f.code, f.subject): f.severity for f in fs}
    assert ("calibration_ratio", "grade 1") not in got  # ratio 0.9
    assert got[("calibration_ratio", "grade 2")] == "amber"  # 1.3
    assert got[("calibration_ratio", "grade 3")] == "red"  # 2.5
    assert ("calibration_ratio", "grade 4") not in got  # 0.2 expected defaults: too few for a ratio
    assert got[("calibration_jeffreys", "grade 3")] == "red"
    assert got[("calibration_jeffreys", "grade 4")] == "red"  # 3/20 against 1 %: p ≈ 0.0006
    assert [f.severity for f in fs] == sorted((f.severity for f in fs), key=lambda s: s != "red")


# ---------------------------------------------------------------- `puhui model monitor` on a small universe
@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, Path]:
    from puhui.data.synth.config import SynthConfig
    from puhui.data.synth.runner import run_synth
    from puhui.models.trainset import TrainsetConfig, build_trainset

    home = tmp_path_factory.mktemp("universe")
    run_synth(SynthConfig(enterprises=1_200, months=30, chunk_size=1_200, compounds=100, property_years=2),
              home=home, fresh=True, console=None)  # fmt: skip
    ts = build_trainset(home, TrainsetConfig(max_snapshots=4, test_snapshots=1, holdout_fraction=0.0))
    feats = [f for f in ts.features if f.startswith(("bur_", "tax_", "reg_"))][:25]
    train = ts.train
    card = Scorecard.fit(train, train["label"].to_numpy(), features=feats, kinds=ts.kinds)
    folder = tmp_path_factory.mktemp("model")
    card.save(folder / "scorecard.json")
    meta = {"reference": mon.reference_profile(card, train, y=train["label"].to_numpy())}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return home, ts, folder


def _run(args: list[str]):
    from puhui.cli import app

    return CliRunner().invoke(app, ["model", "monitor", *args])


def test_monitor_matured_cohort_is_the_training_sets_population(universe) -> None:
    home, ts, folder = universe
    as_of = ts.test_as_of[-1]
    r = _run(["--model", str(folder), "--as-of", as_of.isoformat(), "--home", str(home), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["labelled"] is True and res["reference_source"] == "metadata"
    rows = ts.test
    card = Scorecard.load(folder / "scorecard.json")
    y, p = rows["label"].to_numpy(), card.predict_pd(rows, allow_extra=True)
    assert res["rows"] == len(rows)
    assert res["cohort"]["bads"] == int(y.sum())
    assert res["cohort"]["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert res["mean_pd"] == pytest.approx(p.mean(), abs=1e-12)
    assert res["calibration"][-1]["grade"] == "all" and res["calibration"][-1]["defaults"] == int(y.sum())
    assert res["vintage"][-1]["months_on_book"] == 12
    assert res["vintage"][-1]["bads"] == int(y.sum())  # 12 months after the as-of: the label itself
    assert isinstance(res["findings"], list)


def test_monitor_unmatured_needs_a_reference_and_takes_one_from_a_snapshot(universe) -> None:
    home, ts, folder = universe
    bare = folder.parent / "bare_model"
    bare.mkdir(exist_ok=True)
    (bare / "scorecard.json").write_text((folder / "scorecard.json").read_text(encoding="utf-8"), encoding="utf-8")
    r = _run(["--model", str(bare / "scorecard.json"), "--as-of", "2026-08-31", "--home", str(home)])
    assert r.exit_code == 2 and "no_reference" in r.output
    ref_as_of = ts.train_as_of[0].isoformat()
    r = _run(["--model", str(bare / "scorecard.json"), "--as-of", "2026-08-31", "--home", str(home),
              "--reference-as-of", ref_as_of, "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["labelled"] is False and res["cohort"] is None and res["calibration"] is None
    assert res["reference_source"] == f"snapshot {ref_as_of}"
    assert {v["vintage"] for v in res["vintage"]} == {ref_as_of[:7], "2026-08"}
    assert max(v["months_on_book"] for v in res["vintage"] if v["vintage"] == "2026-08") == 2  # history ends 2026-10
    # the human-readable form prints the findings table and still exits 0
    r = _run(["--model", str(folder), "--as-of", "2026-08-31", "--home", str(home)])
    assert r.exit_code == 0 and "Findings" in r.output and "not matured" in r.output
