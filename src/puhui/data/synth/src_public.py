"""Public records of a chunk: lawsuits, enforcement, dishonest-debtor listings, the abnormal-operation list
and administrative penalties.

Ordinary commercial and labour disputes arrive at a low rate that rises as the business state falls
(0.0015·exp(−S − 0.4·u) a month, more for bigger firms). A default sets off the lenders' chain: a 金融借款
合同纠纷 suit 3–9 months after onset (three in four), enforcement 4–10 months later (two in three) and the
dishonest-debtor list 2–8 months after that (under half) — each only if it falls inside the history. Firms
that miss an annual report are listed as abnormal on 1 July; distressed firms also become unreachable at
their address (σ(−7 − 1.8·H) a month, 4% a month after default). Case numbers follow the court format
(年份)省简称+法院代码+民初/执+序号+号.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from puhui.data.contracts.enterprise import RECORD_CAUSES, RECORD_TYPES
from puhui.data.synth.arrowkit import amount, choice, codes, dates, ids, int_text, join, ragged, rows, sigmoid
from puhui.data.synth.geography import district_arrays
from puhui.data.synth.universe import Chunk
from puhui.data.synth.vocab import PROVINCE_ABBR, industry_array

SOURCE_IDS = {"public_records": 60}

_CAUSE = {c: i for i, c in enumerate(RECORD_CAUSES)}
_TYPE = {c: i for i, c in enumerate(RECORD_TYPES)}


def _first_hit(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    has = mask.any(axis=1)
    f = np.flatnonzero(has)
    return f, mask[f].argmax(axis=1)


class _Records:
    """Accumulates records of several kinds; keeps only those dated by the data cut."""

    def __init__(self, cut: int) -> None:
        self.cut = cut
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("firm", "day", "type", "cause", "amount", "case",
                                                                     "removed")}  # fmt: skip

    def add(self, f: np.ndarray, day: np.ndarray, typ: str, cause: np.ndarray | str, amt: np.ndarray, case: int,
            removed: np.ndarray) -> None:  # fmt: skip
        """`case`: 0 none, 1 civil first instance (民初), 2 enforcement (执); `removed` −1 while open."""
        keep = day <= self.cut
        cause_idx = np.full(len(f), _CAUSE[cause]) if isinstance(cause, str) else cause
        removed = np.where(removed <= self.cut, removed, -1)
        for name, v in (("firm", f), ("day", day), ("type", np.full(len(f), _TYPE[typ])), ("cause", cause_idx),
                        ("amount", np.asarray(amt, dtype=np.float64)), ("case", np.full(len(f), case)),
                        ("removed", removed)):  # fmt: skip
            self.cols[name].append(np.broadcast_to(v, f.shape)[keep])

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def _disputes(ch: Chunk, r: np.random.Generator, rec: _Records) -> None:
    """Ordinary commercial and labour suits against the firm, more when its business state is low."""
    s = np.minimum(ch.state_w, 2.0)
    med = industry_array("revenue_median")[ch.industry]
    lam = 0.0015 * np.exp(-1.0 * s - 0.4 * ch.u[:, None]) * ((ch.revenue / med) ** 0.2)[:, None]
    counts = r.poisson(np.where(ch.hp.active & ~ch.defaulted_w, lam, 0.0))
    fi, ti = rows(counts > 0)
    parent, _ = ragged(counts[fi, ti])
    fi, ti = fi[parent], ti[parent]
    day = ch.day_in_month(ti, r)
    cause = np.array([_CAUSE["sales_contract"], _CAUSE["labour"], _CAUSE["lease"], _CAUSE["other"]])[
        choice(r, np.array([0.55, 0.25, 0.15, 0.05]), len(fi))
    ]
    closed = day + r.integers(60, 400, len(fi))
    rec.add(fi, day, "lawsuit", cause, ch.revenue[fi] * np.exp(-3 + r.standard_normal(len(fi))), 1, closed)


def _lenders_chain(ch: Chunk, r: np.random.Generator, rec: _Records) -> None:
    """After a default: the lenders' suit, enforcement and the dishonest-debtor list."""
    d = np.flatnonzero(ch.hp.onset < ch.t)
    k = len(d)
    debt = ch.revenue[d] * np.clip(0.25 * np.exp(-0.3 * ch.u[d] + 0.4 * r.standard_normal(k)), 0.02, 1.2)
    suit = r.random(k) < 0.75
    suit_day = ch.months.w_start[np.minimum(ch.hp.onset[d], ch.t - 1)] + r.integers(90, 275, k)
    never = np.full(k, -1)
    rec.add(d[suit], suit_day[suit], "lawsuit", "loan_contract", debt[suit], 1, never[suit])
    enf = suit & (r.random(k) < 0.65)
    enf_day = suit_day + r.integers(120, 310, k)
    enf_amt = debt * r.uniform(0.8, 1.1, k)
    rec.add(d[enf], enf_day[enf], "enforcement", "loan_contract", enf_amt[enf], 2, never[enf])
    dis = enf & (r.random(k) < 0.45)
    dis_day = enf_day + r.integers(60, 245, k)
    rec.add(d[dis], dis_day[dis], "dishonest_debtor", "loan_contract", enf_amt[dis], 2, never[dis])


def _abnormal(ch: Chunk, r: np.random.Generator, rec: _Records) -> None:
    """经营异常名录: a missed annual report (listed on 1 July) or unreachable at the registered address."""
    miss_f, miss_y = ch.cache.get("annual_report_missing", (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    miss_f, miss_y = np.asarray(miss_f), np.asarray(miss_y)
    july1 = (miss_y + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + 181
    removed = np.where(r.random(len(miss_f)) < 0.4, july1 + r.integers(30, 300, len(miss_f)), -1)
    rec.add(miss_f, july1, "abnormal_operation", "annual_report_missing", np.full(len(miss_f), np.nan), 0, removed)
    post = ch.defaulted_w
    p_unreach = np.where(post, 0.04, sigmoid(-7.0 - 1.8 * ch.health_w))
    f, t = _first_hit(ch.hp.active & (r.random((ch.n, ch.t)) < p_unreach))
    day = ch.day_in_month(t, r)
    removed = np.where((r.random(len(f)) < 0.2) & ~post[f, t], day + r.integers(30, 300, len(f)), -1)
    rec.add(f, day, "abnormal_operation", "unreachable", np.full(len(f), np.nan), 0, removed)


def _penalties(ch: Chunk, r: np.random.Generator, rec: _Records) -> None:
    """行政处罚: environment and safety for manufacturers, safety and tax elsewhere."""
    section = industry_array("section")[ch.industry]
    factor = np.select([section == "C", np.isin(section, ["E", "H"])], [3.0, 2.0], 1.0)
    counts = r.poisson(np.where(ch.hp.active, 0.001 * factor[:, None], 0.0))
    fi, ti = rows(counts > 0)
    day = ch.day_in_month(ti, r)
    cause = np.where(section[fi] == "C", choice(r, np.array([0.5, 0.3, 0.1, 0.1]), len(fi)),
                     choice(r, np.array([0.1, 0.4, 0.3, 0.2]), len(fi)))  # fmt: skip
    cause = np.array([_CAUSE["environment"], _CAUSE["safety"], _CAUSE["tax"], _CAUSE["other"]])[cause]
    fine = np.round(np.exp(np.log(10_000) + r.standard_normal(len(fi))), -2)
    rec.add(fi, day, "admin_penalty", cause, fine, 0, np.full(len(fi), -1))


def public_records(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["public_records"])
    rec = _Records(ch.months.end_day)
    _disputes(ch, r, rec)
    _lenders_chain(ch, r, rec)
    _abnormal(ch, r, rec)
    _penalties(ch, r, rec)
    a = rec.arrays()
    order = np.lexsort((a["type"], a["day"], a["firm"]))
    firm, day, typ, cause, amt, case, removed = (a[k][order] for k in ("firm", "day", "type", "cause", "amount",
                                                                        "case", "removed"))  # fmt: skip
    m = len(firm)
    da = district_arrays()
    court = codes(ch.district[firm], [c[2:6] for c in da.code])
    prov = codes(ch.district[firm], [PROVINCE_ABBR[c[:2]] for c in da.code])
    year = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    kind = codes((case == 2).astype(np.int64), ["民初", "执"])
    case_no = join("(", int_text(year), ")", prov, court, kind, int_text(1 + r.integers(0, 20_000, m)), "号")
    return pa.table({
        "record_id": ids("PR", ch.index * 10**9 + np.arange(m), 15),
        "uscc": ch.uscc_col(firm),
        "record_date": dates(day),
        "record_type": codes(typ, RECORD_TYPES),
        "cause": codes(cause, RECORD_CAUSES),
        "case_no": pc.if_else(pa.array(case > 0), case_no, pa.scalar(None, pa.string())),
        "amount": amount(np.nan_to_num(amt), ~np.isnan(amt)),
        "removed_date": dates(removed, removed >= 0),
    })  # fmt: skip
