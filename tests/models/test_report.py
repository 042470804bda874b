"""The evaluation report against independent sources (scikit-learn's AUC and ROC, scipy's two-sample KS,
scipy.stats.beta / binomtest per grade, numpy sorts for lift and gain, np.histogram for the PSI); the
HTML is self-contained (no http link, script or stylesheet), has every section, and its plots are valid
PNGs; `puhui model report` on a small universe fits exactly what `evaluate_models` fits."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.stats import beta, binomtest, ks_2samp
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from puhui.models import metrics
from puhui.models.report import build_report, render_html, report_from_summary, write_report

from .conftest import make_credit

SECTIONS = ("summary", "roc", "ks", "calibration", "grades", "lift-gain", "stability", "auc-by-industry",
            "auc-by-month", "context")  # fmt: skip
PREFIXES = ("bur_worst", "bur_overdue", "bur_loan_quer", "tax_grade", "tax_sales", "reg_age")  # a quick slice


@pytest.fixture(scope="module")
def data() -> dict:
    df, y, true_pd = make_credit(5000, seed=21)
    rng = np.random.default_rng(4)
    p = np.clip(true_pd * np.exp(rng.normal(0, 0.6, y.size)), 1e-4, 0.99)  # a noisy model
    train_p = np.clip(true_pd * np.exp(rng.normal(0.2, 0.6, y.size)), 1e-4, 0.99)
    month = rng.choice(np.array(["2025-07-31", "2025-08-31", "2025-09-30"], dtype="datetime64[D]"), y.size)
    return {"y": y, "p": p, "true": true_pd, "train_p": train_p, "industry": df["industry"].to_numpy(), "month": month}


@pytest.fixture(scope="module")
def report(data: dict) -> dict:
    return build_report(data["y"], {"noisy": data["p"], "truth_as_model": data["true"]},
                        train_pd={"noisy": data["train_p"], "truth_as_model": data["train_p"]}, train_y=data["y"],
                        groups={"industry": data["industry"], "month": data["month"]}, oracle_pd=data["true"],
                        title="测试报告 test report")  # fmt: skip


def test_headline_numbers_match_sklearn_and_scipy(data: dict, report: dict) -> None:
    y, p = data["y"], data["p"]
    s = report["models"]["noisy"]["summary"]
    assert s["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert s["gini"] == pytest.approx(2 * roc_auc_score(y, p) - 1, abs=1e-12)
    assert s["ks"] == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic, abs=1e-12)
    oracle = roc_auc_score(y, data["true"])
    assert report["oracle"]["auc"] == pytest.approx(oracle, abs=1e-12)
    assert s["share_of_oracle"] == pytest.approx(roc_auc_score(y, p) / oracle)
    assert report["models"]["truth_as_model"]["summary"]["share_of_oracle"] == pytest.approx(1.0)
    assert s["share_of_oracle"] < 1


def test_curves_agree_with_the_statistics(data: dict, report: dict) -> None:
    y, p = data["y"], data["p"]
    m = report["models"]["noisy"]
    roc = m["roc"]
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc_auc_score(y, p), abs=2e-3)  # thinned curve
    ks = m["ks_curve"]
    assert ks["ks"] == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic, abs=1e-12)
    # at the KS point: share of rows with PD ≥ the threshold
    assert ks["at_population"] == pytest.approx(np.mean(p >= ks["at_pd"]), abs=1e-12)


def test_lift_and_gain_from_an_independent_sort(data: dict, report: dict) -> None:
    y, p = data["y"], data["p"]
    lg = report["models"]["noisy"]["lift_gain"]
    order = np.argsort(-p, kind="stable")
    top = y[order][: y.size // 10]
    assert lg[0]["bads"] == top.sum()
    assert lg[0]["lift"] == pytest.approx(top.mean() / y.mean())
    assert lg[4]["cum_gain"] == pytest.approx(y[order][: y.size // 2].sum() / y.sum())
    assert lg[-1]["cum_gain"] == pytest.approx(1.0) and lg[-1]["cum_lift"] == pytest.approx(1.0)
    assert [r["decile"] for r in lg] == list(range(1, 11))


def test_jeffreys_and_binomial_per_grade_against_scipy(data: dict, report: dict) -> None:
    y, p = data["y"], data["p"]
    grades = report["models"]["noisy"]["grades"]
    assert grades[-1]["grade"] == "all" and grades[-1]["n"] == y.size
    assert sum(g["n"] for g in grades[:-1]) == y.size
    for g in grades[:-1]:
        m = p > {"1": 0, "2": 0.005, "3": 0.01, "4": 0.02, "5": 0.04, "6": 0.08, "7": 0.15, "8": 0.30}[g["grade"]]
        m &= p <= {"1": 0.005, "2": 0.01, "3": 0.02, "4": 0.04, "5": 0.08, "6": 0.15, "7": 0.30, "8": 1.0}[g["grade"]]
        n, d, pd_ = int(m.sum()), int(y[m].sum()), float(p[m].mean())
        assert (g["n"], g["defaults"]) == (n, d)
        assert g["jeffreys_p"] == pytest.approx(beta.cdf(pd_, d + 0.5, n - d + 0.5), abs=1e-12)
        assert g["binomial_p"] == pytest.approx(binomtest(d, n, pd_, alternative="greater").pvalue, abs=1e-10)
        assert g["reject"] == (g["jeffreys_p"] < 0.05 or g["binomial_p"] < 0.05)


def test_psi_train_test_from_histograms(data: dict, report: dict) -> None:
    tr, p = data["train_p"], data["p"]
    st = report["models"]["noisy"]["stability"]
    edges = np.unique(np.quantile(tr, np.linspace(0, 1, 11))[1:-1])
    e = np.histogram(tr, bins=[-np.inf, *edges, np.inf])[0] / tr.size
    a = np.histogram(p, bins=[-np.inf, *edges, np.inf])[0] / p.size
    want = sum((ai - ei) * math.log(ai / ei) for ei, ai in zip(e, a, strict=True))
    assert st["psi"] == pytest.approx(want, abs=1e-12)
    assert [r["train_share"] for r in st["table"]] == pytest.approx(e)
    assert sum(r["contribution"] for r in st["table"]) == pytest.approx(want)


def test_auc_by_group(data: dict, report: dict) -> None:
    y, p = data["y"], data["p"]
    by = report["models"]["noisy"]["by_group"]
    it = {r["group"]: r for r in by["industry"]}
    m = data["industry"] == "it"
    assert it["it"]["auc"] == pytest.approx(roc_auc_score(y[m], p[m]))
    assert [r["group"] for r in by["month"]] == ["2025-07-31", "2025-08-31", "2025-09-30"]


def test_html_is_self_contained_with_every_section_and_valid_pngs(report: dict, tmp_path: Path) -> None:
    html_path, json_path = write_report(report, tmp_path / "out")
    html = html_path.read_text(encoding="utf-8")
    assert "http:" not in html and "https:" not in html and "//cdn" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html, sid
    srcs = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert {k for k, _ in srcs} == {"roc", "ks", "calibration", "lift_gain", "distribution", "by_industry", "by_month"}
    for _, b64 in srcs:
        raw = base64.b64decode(b64, validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        img = Image.open(io.BytesIO(raw))
        img.verify()
        assert img.format == "PNG" and img.size[0] > 200
    assert re.findall(r"<img[^>]*>", html) and all("data:image/png" in t for t in re.findall(r"<img[^>]*>", html))
    assert "测试报告" in html
    assert json.loads(json_path.read_text(encoding="utf-8")) == report


def test_report_from_an_evaluation_dict_without_row_pds(data: dict) -> None:
    y, p = data["y"], data["p"]
    cal = metrics.calibration_by_decile(y, p).to_dict(orient="records")
    evaluation = {"trainset": {"test_rows": y.size}, "oracle": {"test_auc": 0.8, "ks": 0.45, "mean_pd_test": 0.1,
                  "calibration": cal}, "models": {"scorecard": {"test_auc": 0.75, "ks": 0.4, "gini": 0.5,
                  "train_auc": 0.77, "share_of_oracle": 0.9375, "mean_pd_test": float(p.mean()),
                  "psi_train_test": 0.02, "calibration": cal, "auc_by_industry": [], "auc_by_month": []}}}  # fmt: skip
    rep = report_from_summary(evaluation, title="from evaluation.json")
    m = rep["models"]["scorecard"]
    want = metrics.lift_gain(y, p)
    assert [r["lift"] for r in m["lift_gain"]] == pytest.approx(want["lift"].tolist())
    assert [r["cum_gain"] for r in m["lift_gain"]] == pytest.approx(want["cum_gain"].tolist())
    d1 = m["grades"][0]
    assert d1["jeffreys_p"] == pytest.approx(beta.cdf(cal[0]["mean_pd"], cal[0]["bads"] + 0.5,
                                                      cal[0]["n"] - cal[0]["bads"] + 0.5))  # fmt: skip
    assert rep["rows"] == y.size and rep["oracle"]["gini"] == pytest.approx(0.6)
    html = render_html(rep)
    assert "http:" not in html and "https:" not in html
    assert html.count("not available") >= 3  # ROC, KS, distribution: no row-level PDs
    assert html.count("data:image/png;base64,") == 2  # calibration, lift/gain
    # a `puhui model train` summary (one model) renders too
    one = report_from_summary({"kind": "gbm", "test_auc": 0.7, "ks": 0.3, "gini": 0.4, "calibration": cal,
                               "psi_train_test": 0.01, "split": "out_of_time"}, title="train")  # fmt: skip
    assert list(one["models"]) == ["gbm"] and '<section id="grades">' in render_html(one)


def test_build_report_refuses_mismatched_lengths(data: dict) -> None:
    with pytest.raises(Exception, match="differ in length"):
        build_report(data["y"], data["p"][:-1], title="x")


# ---------------------------------------------------------------- `puhui model report` on a small universe
def test_cli_report_fits_what_evaluate_models_fits(tmp_path: Path) -> None:
    from puhui.cli import app
    from puhui.data.synth.config import SynthConfig
    from puhui.data.synth.runner import run_synth
    from puhui.models.evaluate_universe import EvaluationConfig, evaluate_models
    from puhui.models.scorecard import Scorecard
    from puhui.models.trainset import TrainsetConfig, build_trainset

    home = tmp_path / "universe"
    run_synth(SynthConfig(enterprises=1_200, months=30, chunk_size=1_200, compounds=100, property_years=2),
              home=home, fresh=True, console=None)  # fmt: skip
    out = tmp_path / "report"
    args = ["--home", str(home), "--holdout", "0", "--test-snapshots", "1", "--max-snapshots", "3"]
    r = CliRunner().invoke(app, ["model", "report", *args, "--include", ",".join(PREFIXES), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(f'<section id="{sid}">' in html for sid in SECTIONS) and "https:" not in html

    cfg = TrainsetConfig(max_snapshots=3, test_snapshots=1, holdout_fraction=0.0)
    ts = build_trainset(home, cfg)
    include = tuple(f for f in ts.features if f.startswith(PREFIXES))
    ev = evaluate_models(ts, EvaluationConfig(trainset=cfg, include=include))
    assert rep["oracle"]["auc"] == pytest.approx(ev["oracle"]["test_auc"], abs=1e-12)
    for kind in ("scorecard", "gbm"):
        assert rep["models"][kind]["summary"]["auc"] == pytest.approx(ev["models"][kind]["test_auc"], abs=1e-12)
        assert rep["models"][kind]["summary"]["psi_train_test"] == pytest.approx(ev["models"][kind]["psi_train_test"])
        meta = json.loads((out / kind / "metadata.json").read_text(encoding="utf-8"))
        assert meta["reference"]["performance"]["auc"] == pytest.approx(ev["models"][kind]["test_auc"])
        assert meta["reference"]["rows"] == len(ts.train)
    card = Scorecard.load(out / "scorecard" / "scorecard.json")
    assert card.features == ev["models"]["scorecard"]["features"]
