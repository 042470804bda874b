"""The synthetic universe: structure, identifiers, contracts, cross-source consistency, calibration of
defaults against the true hazards, and early warning in the data. One small universe per module.

Bounds are statistical, not golden numbers: the realised number of defaults must sit within a binomial
z-bound of the sum of true hazards (the hazards are the exact probabilities the draws used), and
deterioration is judged against the non-defaulters' sampling spread.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
import stdnum.cn.uscc

from puhui.core.identifiers import is_valid_ric, validate_uscc
from puhui.data.contracts import CONTRACTS
from puhui.data.contracts.enterprise import ENTERPRISE_CONTRACTS
from puhui.data.summary import summarize
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth

CFG = SynthConfig(enterprises=4000, months=30, chunk_size=1400, compounds=80, property_years=2, seed=11)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("universe")
    run_synth(CFG, home=h, fresh=False, console=None)
    return h


@pytest.fixture(scope="module")
def con(home: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for folder in (home / "raw").iterdir():
        if folder.is_dir() and any(folder.glob("*.parquet")):
            c.execute(f"CREATE VIEW {folder.name} AS SELECT * FROM read_parquet('{folder}/*.parquet')")
    for folder in (home / "truth").iterdir():
        if folder.is_dir() and any(folder.glob("*.parquet")):
            c.execute(f"CREATE VIEW truth_{folder.name} AS SELECT * FROM read_parquet('{folder}/*.parquet')")
    return c


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_universe_shape(con):
    assert _one(con, "SELECT count(*) FROM registration") == CFG.enterprises
    assert _one(con, "SELECT count(DISTINCT industry_section) FROM registration") >= 12
    assert _one(con, "SELECT count(DISTINCT city_code) FROM registration") >= 30
    assert _one(con, "SELECT count(*) FROM chain_core_enterprises") == CFG.core_enterprises >= 50
    kinds = set(con.execute("SELECT DISTINCT role, tier FROM chain_relations").fetchall())
    assert {("supplier", 1), ("supplier", 2), ("distributor", 1)} <= kinds
    # tier-2 members trade with a tier-1 member of the same core
    bad = _one(con, """SELECT count(*) FROM chain_relations c2 WHERE tier = 2 AND NOT EXISTS (
        SELECT 1 FROM chain_relations c1 WHERE c1.member_uscc = c2.counterparty_uscc AND c1.tier = 1
        AND c1.core_uscc = c2.core_uscc)""")  # fmt: skip
    assert bad == 0
    # heavy-tailed size: the top 1% of firms by tax sales hold far more than 1% of sales
    top = _one(
        con,
        """WITH s AS (SELECT uscc, sum(invoice_sales) v FROM tax_monthly GROUP BY uscc)
        SELECT sum(v) FILTER (WHERE v >= (SELECT quantile_cont(v, 0.99) FROM s)) / sum(v) FROM s""",
    )
    assert top > 0.08
    # some firms are founded inside the history and some leave it
    first = CFG.first_month.isoformat()
    assert _one(con, f"SELECT count(*) FROM registration WHERE founding_date >= DATE '{first}'") > 0
    assert _one(con, "SELECT count(*) FROM registration WHERE status <> 'active'") > 0


def test_identifiers_are_valid_and_unique(con):
    usccs = [r[0] for r in con.execute("SELECT uscc FROM registration").fetchall()]
    cores = [r[0] for r in con.execute("SELECT core_uscc FROM chain_core_enterprises").fetchall()]
    assert len(set(usccs + cores)) == len(usccs) + len(cores)
    for u in usccs + cores:
        validate_uscc(u)  # GB 32100 pos 18 and GB 11714 pos 17, authority 9, category 1/2, region
        assert stdnum.cn.uscc.is_valid(u)  # an independent implementation of the MOD 31 check
    kinds = {u[1] for u in usccs}
    assert kinds == {"1", "2"}
    reps = [r[0] for r in con.execute("SELECT legal_rep_id FROM registration").fetchall()]
    assert len(set(reps)) == len(reps)
    cut = date(2026, 11, 1)
    assert all(is_valid_ric(x, today=cut) for x in reps)


def test_every_part_matches_its_contract_and_keys_are_unique(home, con):
    raw = home / "raw"
    seen = set()
    for folder in raw.iterdir():
        if not folder.is_dir() or folder.name.startswith("_"):
            continue
        contract = CONTRACTS[folder.name]  # no folder outside the contracts
        seen.add(folder.name)
        for part in folder.glob("*.parquet"):
            assert pq.read_schema(part).remove_metadata() == contract.arrow_schema, part
        keys = ", ".join(contract.key)
        dup = _one(con, f"SELECT count(*) - count(DISTINCT ({keys})) FROM {folder.name}")
        assert dup == 0, folder.name
    assert {c.name for c in ENTERPRISE_CONTRACTS} <= seen


def test_truth_stays_out_of_the_raw_zone(home):
    hidden = {"health", "hazard", "pd_12m", "business_state", "firm_level", "default_onset", "in_default"}
    for folder in (home / "raw").iterdir():
        if folder.is_dir() and not folder.name.startswith("_"):
            for part in folder.glob("*.parquet"):
                assert not hidden & set(pq.read_schema(part).names), part
    assert (home / "truth" / "health_monthly").is_dir()


def test_invoice_sales_track_settlement_inflow(con):
    r = _one(
        con,
        """SELECT corr(ln(t.invoice_sales), ln(s.inflow)) FROM tax_monthly t
        JOIN settlement_monthly s USING (uscc, month) WHERE t.invoice_sales > 0 AND s.inflow > 0""",
    )
    assert r > 0.8
    # month-on-month changes agree too, not only the levels
    r2 = _one(con, """WITH j AS (SELECT uscc, month, ln(t.invoice_sales) a, ln(s.inflow) b FROM tax_monthly t
        JOIN settlement_monthly s USING (uscc, month) WHERE t.invoice_sales > 0 AND s.inflow > 0),
        d AS (SELECT a - lag(a) OVER w da, b - lag(b) OVER w db FROM j WINDOW w AS (PARTITION BY uscc ORDER BY month))
        SELECT corr(da, db) FROM d""")  # fmt: skip
    assert r2 > 0.3


def test_kwh_tracks_output_for_manufacturers_only(con):
    def corr(section_filter: str) -> float:
        return _one(con, f"""WITH j AS (SELECT uscc, month, ln(t.invoice_sales) a, ln(e.kwh) b FROM tax_monthly t
            JOIN electricity_monthly e USING (uscc, month) JOIN registration r USING (uscc)
            WHERE t.invoice_sales > 0 AND e.kwh > 0 AND {section_filter}),
            d AS (SELECT a - avg(a) OVER (PARTITION BY uscc) da, b - avg(b) OVER (PARTITION BY uscc) db FROM j)
            SELECT corr(da, db) FROM d""")  # fmt: skip

    manufacturers = corr("r.industry_section = 'C'")
    others = corr("r.industry_section IN ('F', 'L', 'I')")
    assert manufacturers > 0.7  # within-firm: the month's kWh follows the month's output
    assert manufacturers > others + 0.2


def test_spring_festival_dip_in_manufacturing(con):
    # 2026-02-17 is 正月初一: February output of manufacturers falls below January and March
    rows = dict(con.execute("""SELECT month, sum(kwh) FROM electricity_monthly JOIN registration USING (uscc)
        WHERE industry_section = 'C' AND month BETWEEN DATE '2026-01-01' AND DATE '2026-03-01'
        GROUP BY month""").fetchall())  # fmt: skip
    jan, feb, mar = (rows[date(2026, m, 1)] for m in (1, 2, 3))
    assert feb < 0.85 * min(jan, mar)


def test_sources_are_missing_for_some_firms_as_in_life(home):
    cov = summarize(home)["coverage"]
    assert cov["tax_monthly"]["share"] > 0.7
    for source in ("settlement_monthly", "payroll_monthly", "electricity_monthly", "bureau_enterprise_accounts"):
        assert 0.05 < cov[source]["share"] < 0.8, source
    for source in ("customs_monthly", "medical_insurance_monthly", "agriculture_annual"):
        assert 0 < cov[source]["share"] < 0.15, source


def test_medical_and_agriculture_sources_only_for_their_industries(con):
    assert _one(con, """SELECT count(*) FROM medical_insurance_monthly JOIN registration USING (uscc)
        WHERE industry_code NOT IN ('84', '5251')""") == 0  # fmt: skip
    assert _one(con, """SELECT count(*) FROM agriculture_annual JOIN registration USING (uscc)
        WHERE industry_section <> 'A'""") == 0  # fmt: skip


def test_shares_sum_to_one_and_capital_adds_up(con):
    worst = _one(con, "SELECT max(abs(s - 1)) FROM (SELECT sum(capital_share) s FROM registration_shareholders "
                      "GROUP BY uscc)")  # fmt: skip
    assert worst < 1e-9
    mismatch = _one(
        con,
        """SELECT count(*) FROM registration r JOIN (SELECT uscc, sum(subscribed_capital) c
        FROM registration_shareholders GROUP BY uscc) s USING (uscc) WHERE s.c <> r.registered_capital""",
    )
    assert mismatch == 0


def test_realised_defaults_agree_with_true_hazards(con):
    d, expected, var = con.execute("""SELECT count(*) FILTER (WHERE default_onset), sum(hazard),
        sum(hazard * (1 - hazard)) FROM truth_health_monthly WHERE at_risk""").fetchone()
    months = _one(con, "SELECT count(*) FROM truth_health_monthly WHERE at_risk")
    assert months > 30_000
    z = (d - expected) / np.sqrt(var)
    assert abs(z) < 3.5, (d, expected, z)
    # and within each half of the history
    for half in ("<", ">="):
        d_h, e_h, v_h = con.execute(f"""SELECT count(*) FILTER (WHERE default_onset), sum(hazard),
            sum(hazard * (1 - hazard)) FROM truth_health_monthly WHERE at_risk
            AND month {half} DATE '2025-11-01'""").fetchone()  # fmt: skip
        assert abs(d_h - e_h) / np.sqrt(v_h) < 3.5


def test_forward_pd_is_calibrated_against_realised_defaults(con):
    """12-month outcomes from the first month, one observation per firm.

    Given the hazards actually realised along each firm's path, the 12-month defaults are independent
    Bernoulli draws with probability 1 − Π(1 − h): a binomial z-bound holds exactly. The ex-ante `pd_12m`
    averages over future shocks as well; the one realised path of the common (macro, industry, region)
    shocks moves all firms together, so it agrees only within that wider spread (±30% here).
    """
    start = CFG.first_month.isoformat()
    pd, path_pd, d = con.execute(f"""
        WITH s AS (SELECT uscc, pd_12m FROM truth_health_monthly WHERE month = DATE '{start}' AND pd_12m IS NOT NULL),
        f AS (SELECT uscc, 1 - exp(sum(ln(1 - hazard))) AS p FROM truth_health_monthly JOIN s USING (uscc)
              WHERE at_risk AND month > DATE '{start}' AND month <= DATE '{start}' + INTERVAL 12 MONTH GROUP BY uscc)
        SELECT list(s.pd_12m), list(coalesce(f.p, 0)),
               list(CASE WHEN e.default_onset_month > DATE '{start}'
                    AND e.default_onset_month <= DATE '{start}' + INTERVAL 12 MONTH THEN 1 ELSE 0 END)
        FROM s LEFT JOIN f USING (uscc) JOIN truth_enterprises e USING (uscc)""").fetchone()  # fmt: skip
    pd, path_pd, d = np.array(pd), np.array(path_pd), np.array(d)
    z = (d.sum() - path_pd.sum()) / np.sqrt((path_pd * (1 - path_pd)).sum())
    assert abs(z) < 3.5, (d.sum(), path_pd.sum())
    assert pd.sum() == pytest.approx(path_pd.sum(), rel=0.3)
    assert np.corrcoef(pd, path_pd)[0, 1] > 0.6  # the forward PD ranks firms like their realised risk


def test_yearly_default_rate_in_range_and_varies_by_industry(home, con):
    s = summarize(home)
    assert 0.02 <= s["default"]["yearly_rate"] <= 0.06
    targets = con.execute("SELECT industry, avg(target_annual_pd) FROM truth_synth_calibration GROUP BY 1").fetchall()
    t = np.array([x[1] for x in targets])
    assert t.min() < 0.03 and t.max() > 0.045  # industries differ
    by_city = np.array(
        [
            x[0]
            for x in con.execute(
                "SELECT avg(target_annual_pd) FROM truth_synth_calibration GROUP BY city_code"
            ).fetchall()
        ]
    )
    assert by_city.max() / by_city.min() > 1.3  # and so do regions


def test_sales_deteriorate_before_default(con):
    """Invoice sales of firms about to default fall against firms of the same industry in the same months.

    For each defaulter (founded over a year before the history) with onset month d: mean log sales over
    d-3 … d-1 minus over d-9 … d-7, less the same statistic averaged over non-defaulters of its industry
    (same calendar months, so seasonality and industry shocks cancel); months without sales (dormant
    shells) are left out. The mean difference must be negative by more than two standard errors.
    """
    rows = con.execute("""SELECT t.uscc, t.month, t.invoice_sales, r.industry_code, r.founding_date
        FROM tax_monthly t JOIN registration r USING (uscc)""").fetchnumpy()
    onset = dict(con.execute("""SELECT uscc, default_onset_month FROM truth_enterprises
        WHERE default_onset_month IS NOT NULL""").fetchall())  # fmt: skip
    months = np.unique(rows["month"])
    firms, first, fi = np.unique(rows["uscc"], return_index=True, return_inverse=True)
    industry = np.asarray(rows["industry_code"])[first]
    old = np.asarray(rows["founding_date"])[first] < months[0] - np.timedelta64(365, "D")
    sales = np.full((len(firms), len(months)), np.nan)
    value = np.asarray(rows["invoice_sales"], float)
    sales[fi, np.searchsorted(months, rows["month"])] = np.where(value > 0, np.log(np.maximum(value, 1.0)), np.nan)
    index = {m: i for i, m in enumerate(months.astype("datetime64[D]").astype(object))}
    d_of = np.array([index.get(onset.get(f), -1) for f in firms])
    diffs = []
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", RuntimeWarning)
        for d in range(9, len(months)):
            trend = np.nanmean(sales[:, d - 3 : d], axis=1) - np.nanmean(sales[:, d - 9 : d - 6], axis=1)
            control = (d_of < 0) & old & np.isfinite(trend)
            for i in np.flatnonzero((d_of == d) & old & np.isfinite(trend)):
                peers = control & (industry == industry[i])
                if peers.sum() >= 5:
                    diffs.append(trend[i] - trend[peers].mean())
    diffs = np.array(diffs)
    assert len(diffs) >= 50
    se = diffs.std(ddof=1) / np.sqrt(len(diffs))
    assert diffs.mean() < -2 * se, (diffs.mean(), se, len(diffs))


def test_default_shows_in_the_credit_report(con):
    # at the 90+ DPD month every account of a defaulted firm is more than 90 days past due (次级 or worse),
    # the month before none is; before onset no account is 90+
    at, before, pre = con.execute("""SELECT
        min(overdue_days) FILTER (WHERE b.month = e.dpd90_month),
        max(overdue_days) FILTER (WHERE b.month = e.dpd90_month - INTERVAL 1 MONTH),
        max(overdue_days) FILTER (WHERE b.month < e.default_onset_month)
        FROM bureau_enterprise_accounts b JOIN truth_enterprises e USING (uscc)
        WHERE e.default_onset_month IS NOT NULL""").fetchone()  # fmt: skip
    assert at > 90 and before <= 90 and pre < 30
    classes = {r[0] for r in con.execute("""SELECT DISTINCT five_class FROM bureau_enterprise_accounts b
        JOIN truth_enterprises e USING (uscc) WHERE b.month = e.dpd90_month""").fetchall()}  # fmt: skip
    assert classes <= {"substandard", "doubtful", "loss"}
    # the personal business loan of a defaulted operator runs into the buckets too
    assert _one(con, """SELECT count(*) FROM bureau_person_accounts p JOIN truth_enterprises e USING (uscc)
        WHERE p.account_type = 'business_loan' AND p.report_month = e.dpd90_month
        AND substr(repayment_24m, 24, 1) = '4'""") > 0  # fmt: skip
    lengths = con.execute("SELECT DISTINCT length(repayment_24m) FROM bureau_person_accounts").fetchall()
    assert lengths == [(24,)]


def test_distress_raises_queries_and_arrears(con):
    # firms whose truth health sits in the bottom decile query the bureau and fall into tax arrears more
    rate = con.execute("""WITH h AS (SELECT uscc, month, health, ntile(10) OVER (ORDER BY health) dec
            FROM truth_health_monthly WHERE active AND NOT in_default),
        q AS (SELECT uscc, date_trunc('month', query_date) m, count(*) n FROM bureau_enterprise_queries
            GROUP BY ALL)
        SELECT dec, avg(coalesce(q.n, 0)), avg(CASE WHEN t.arrears > 0 THEN 1 ELSE 0 END)
        FROM h LEFT JOIN q ON q.uscc = h.uscc AND q.m = h.month
        LEFT JOIN tax_monthly t ON t.uscc = h.uscc AND t.month = h.month
        WHERE dec IN (1, 10) GROUP BY dec ORDER BY dec""").fetchall()  # fmt: skip
    (_, q_low, a_low), (_, q_high, a_high) = rate
    assert q_low > 2 * q_high
    assert a_low > 2 * a_high


def test_summary_classes_sizes_under_miit(home):
    s = summarize(home)
    sizes = s["size_classes"]
    assert sum(sizes.values()) == CFG.enterprises
    assert sizes["micro"] + sizes["small"] > 0.85 * CFG.enterprises
    assert sizes["medium"] > 0
    assert sizes["large"] < 0.01 * CFG.enterprises
    assert len(s["industries"]) >= 12
