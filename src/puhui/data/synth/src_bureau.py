"""Credit-bureau sources of a chunk: enterprise accounts by lender (monthly), enterprise queries,
guarantees given, and the legal representative's personal accounts (24-month repayment strings) and
queries — all consistent with the hidden default.

**Enterprise accounts.** Firms that have borrowed hold one to four facilities from before the history
(one-year working-capital lines renewed yearly — each renewal a new account — or three-year fixed-asset
loans) and, when their business state falls, open up to two more, mostly with small lenders (多头借贷:
monthly probability 0.004·exp(−1.2·S − 0.5·u)). Renewal is refused more often to weak firms. Balances
follow utilisation, which rises as the state falls. Before a default, a weak firm misses a payment now and
then (1–25 days, cured; σ(−5.2 − 1.4·H)) or is put on 关注 by its lender. At the default onset every account
stops paying on the 20th of the month: days past due run 12 → 40 → 70 → 100+ at the following month ends,
so the accounts cross 90 days (次级, the 90+ DPD default) in the third month after onset, 270 (可疑) after
about nine and 360 (损失) after twelve; balances freeze and become overdue in full from the third month.
Classes follow the overdue floors of 商业银行金融资产风险分类办法 (2023), read from the dated setting
`five_class_dpd_floors` (`puhui.core.regulatory`) at the data cut.

**Queries.** Loan-approval queries arrive at a rate rising as the state falls and spike when a new
facility is sought; after a default, lenders' post-loan queries dominate.

**Guarantees given** are listed as of the data cut: about one firm with credit in eight guarantees one
or two others (mostly in its own city) for 1–3 years running at the cut. Both parties only need to operate
when the guarantee starts; who appears never depends on a later cancellation or revocation, which a bank at
an earlier as-of could not know. The debtor's class is the one at the cut (known from the cut only).

**Personal report.** The legal representative's cards, mortgage, business and consumer loans carry a
24-month string (N normal, 1–7 overdue buckets of 30 days, * no payment due, / not opened, C closed).
Personal and business finances are entangled: occasional 1s when the firm's health is low, the business
loan runs into 1…7 from the firm's default onset, and about half of the other accounts follow a few
months later.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from puhui.core.regulatory import REGULATORY
from puhui.data.contracts.enterprise import (
    CREDIT_ACCOUNT_TYPES,
    ENTERPRISE_QUERY_REASONS,
    FIVE_CLASSES,
    GUARANTEE_TYPES,
    LENDERS,
    PERSON_ACCOUNT_STATUSES,
    PERSON_ACCOUNT_TYPES,
    PERSON_QUERY_REASONS,
)
from puhui.data.synth.arrowkit import (
    amount,
    ascii_matrix_to_strings,
    choice,
    codes,
    dates,
    ids,
    month_starts,
    ragged,
    rows,
    sigmoid,
)
from puhui.data.synth.geography import city_price_levels
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk

SOURCE_IDS = {
    "bureau_enterprise_accounts": 50, "bureau_enterprise_queries": 51, "bureau_enterprise_guarantees": 52,
    "bureau_person_accounts": 53, "bureau_person_queries": 54, "facilities": 55,
}  # fmt: skip

_FLOOR_KEYS = ("special_mention", "substandard", "doubtful", "loss")


def five_class_floors(on: date) -> tuple[int, int, int, int]:
    """Overdue floors in force on `on` (days past due strictly above each → 关注, 次级, 可疑, 损失), read from
    the dated setting `five_class_dpd_floors` (商业银行金融资产风险分类办法, 2023; "超过" excludes the bound)."""
    raw = REGULATORY.get("five_class_dpd_floors", on)
    return tuple(int(raw[k]) for k in _FLOOR_KEYS)  # type: ignore[return-value]


DUE_DAY = 20  # instalments and interest fall due on the 20th (the common settlement day [U])

_LENDER_BIG = np.array(
    [0.16, 0.14, 0.12, 0.11, 0.07, 0.05, 0.06, 0.04, 0.04, 0.04, 0.03, 0.02, 0.03, 0.02, 0.04, 0.03, 0, 0, 0]
)
_LENDER_SMALL = np.array([.03, .02, .02, .02, .01, .02, .02, .02, .02, .02, .02, .02, .03, .02, .12, .15, .12,
                          .24, .08])  # fmt: skip


def five_class(dpd: np.ndarray, floors: tuple[int, int, int, int]) -> np.ndarray:
    """Index into FIVE_CLASSES from days past due (overdue floors only)."""
    b = floors
    return np.select([dpd > b[3], dpd > b[2], dpd > b[1], dpd > b[0]], [4, 3, 2, 1], 0)


def _floors(ch: Chunk) -> tuple[int, int, int, int]:
    """The floors at the data cut: the report classifies the whole history by the rules then in force."""
    return five_class_floors(ch.config.last_month)


def _dpd_after_onset(ch: Chunk, onset: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Days past due at the end of window month t for a default whose onset is window month `onset`."""
    mo = ch.months
    due = mo.w_start[np.minimum(onset, ch.t - 1)] + DUE_DAY - 1
    month_end = mo.w_start[t] + mo.w_days[t] - 1
    return np.maximum(month_end - due + 1, 0)


def _facilities(ch: Chunk) -> dict[str, np.ndarray]:
    """Facilities of the chunk: base ones (from before the history) and distress ones (opened in it)."""
    if "facilities" in ch.cache:
        return ch.cache["facilities"]  # type: ignore[return-value]
    r = ch.rng(SOURCE_IDS["facilities"])
    n, t_len = ch.n, ch.t
    credit = ch.cov["credit"]
    n_base = np.where(credit, 1 + r.binomial(3, 0.3, n), 0)
    s = ch.state_w
    p_new = np.minimum(0.3, 0.004 * np.exp(-1.2 * s - 0.5 * ch.u[:, None]))
    pre = (np.arange(t_len)[None, :] < ch.hp.onset[:, None]) & ch.hp.active
    hits = credit[:, None] & pre & (r.random((n, t_len)) < p_new)
    cum = np.cumsum(hits, axis=1)
    m1 = np.where(cum[:, -1] >= 1, (cum >= 1).argmax(axis=1), -1)
    m2 = np.where(cum[:, -1] >= 2, (cum >= 2).argmax(axis=1), -1)
    firm_b, _ = ragged(n_base)
    nb = len(firm_b)
    f_d1 = np.flatnonzero(m1 >= 0)
    f_d2 = np.flatnonzero(m2 >= 0)
    firm = np.concatenate([firm_b, f_d1, f_d2])
    distress = np.concatenate([np.zeros(nb, bool), np.ones(len(f_d1) + len(f_d2), bool)])
    nf = len(firm)
    p_distress = np.array([0.8, 0.05, 0.05, 0.05, 0.0, 0.05])
    p_base = np.array([0.55, 0.1, 0.15, 0.05, 0.05, 0.1])
    acct_type = np.where(distress, choice(r, p_distress, nf), choice(r, p_base, nf))
    acct_type = np.where((acct_type == 5) & (ch.core[firm] < 0), 0, acct_type)
    cycle = np.where(acct_type == 4, 36, 12)
    anchor = np.where(distress, np.concatenate([np.zeros(nb, np.int64), m1[f_d1], m2[f_d2]]),
                      -np.floor(r.random(nf) * cycle).astype(np.int64))  # fmt: skip
    first_founded = np.where(ch.hp.founded.any(axis=1), ch.hp.founded.argmax(axis=1), t_len)
    anchor = np.maximum(anchor, np.where(first_founded[firm] > 0, first_founded[firm] + r.integers(0, 4, nf), anchor))
    lev = np.clip(0.25 * np.exp(-0.3 * ch.u + 0.4 * r.standard_normal(n)), 0.02, 1.2)
    total = ch.revenue * lev
    w = r.gamma(1.0, 1.0, nf)
    wsum = np.bincount(firm, weights=np.where(distress, 0.0, w), minlength=n)
    base_amt = total[firm] * w / np.maximum(wsum[firm], 1e-9)
    amt = np.where(distress, total[firm] * r.uniform(0.05, 0.2, nf), base_amt)
    amt = np.maximum(10_000.0, np.round(amt / 10_000) * 10_000)
    lender = np.where(distress, choice(r, _LENDER_SMALL, nf), choice(r, _LENDER_BIG, nf))
    guarantee = choice(r, np.array([0.35, 0.3, 0.3, 0.05]), nf)
    day = 1 + np.floor(r.random(nf) * 28).astype(np.int64)
    # renewals: cycle c ≥ 1 is renewed with probability σ(3 + H at its start)
    max_c = t_len // 12 + 3
    starts = anchor[:, None] + cycle[:, None] * np.arange(max_c)[None, :]
    ext = np.clip(PRE_MONTHS + starts, 0, ch.months.n_ext - 1)
    h_start = ch.hp.health[firm[:, None], ext]
    ok = r.random((nf, max_c)) < sigmoid(3.0 + h_start)
    ok[:, 0] = True
    alive = np.cumprod(ok, axis=1).astype(bool)
    out = {"firm": firm, "distress": distress, "type": acct_type, "cycle": cycle, "anchor": anchor, "amount": amt,
           "lender": lender, "guarantee": guarantee, "day": day, "alive": alive, "m1": m1, "m2": m2}  # fmt: skip
    ch.cache["facilities"] = out
    return out


def enterprise_accounts(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["bureau_enterprise_accounts"])
    fac = _facilities(ch)
    t_len = ch.t
    firm = fac["firm"]
    tt = np.arange(t_len)[None, :]
    onset = ch.hp.onset[firm]
    c_raw = np.floor_divide(tt - fac["anchor"][:, None], fac["cycle"][:, None])
    c_onset = np.floor_divide(np.minimum(onset, t_len - 1) - fac["anchor"], fac["cycle"])
    c = np.where(tt >= onset[:, None], np.minimum(c_raw, c_onset[:, None]), c_raw)
    max_c = fac["alive"].shape[1]
    alive = np.take_along_axis(fac["alive"], np.clip(c, 0, max_c - 1), axis=1)
    founded = ch.hp.founded[firm]
    not_cancelled = tt < ch.hp.exit[firm][:, None]
    mask = (c >= 0) & alive & founded & not_cancelled & (tt >= np.maximum(fac["anchor"], 0)[:, None])
    ai, ti = rows(mask)
    fi = firm[ai]
    cyc = c[ai, ti]
    m = len(ai)
    open_m = fac["anchor"][ai] + cyc * fac["cycle"][ai]
    first_w = ch.months.first_ext + PRE_MONTHS
    open_day = (first_w + open_m).astype("datetime64[D]").astype(np.int64) + fac["day"][ai] - 1
    mat_day = (first_w + open_m + fac["cycle"][ai]).astype("datetime64[D]").astype(np.int64) + fac["day"][ai] - 2
    s = ch.state_w
    typ = fac["type"][ai]
    on = ch.hp.onset[fi]
    post = ti >= on
    ref_t = np.where(post, np.maximum(on - 1, 0), ti)
    util_rev = np.clip(0.55 - 0.25 * s[fi, ref_t] + 0.12 * r.standard_normal(m), 0.05, 1.0)
    util_bill = r.uniform(0.5, 1.0, m)
    age = np.clip((np.where(post, ref_t, ti) - open_m) / fac["cycle"][ai], 0, 1)
    util = np.select([typ == 4, np.isin(typ, (2, 3))], [1.0 - 0.9 * age, util_bill], util_rev)
    bal = fac["amount"][ai] * util
    h = ch.health_w[fi, ti]
    dpd_def = _dpd_after_onset(ch, on, ti)
    minor = ~post & (r.random(m) < sigmoid(-5.2 - 1.4 * h))
    dpd = np.where(post, dpd_def, np.where(minor, r.integers(1, 26, m), 0))
    j = ti - on
    overdue = np.where(post, bal * np.where(j >= 3, 1.0, 0.05 * (j + 1)), np.where(minor, bal * 0.03, 0.0))
    cls = five_class(dpd, _floors(ch))
    mention = ~post & (r.random(m) < sigmoid(-4.2 - 1.3 * h))
    cls = np.maximum(cls, mention.astype(np.int64))
    acct_no = ch.index * 10**9 + ai * 100 + np.minimum(cyc, 99)
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": dates(month_starts(first_w, t_len)[ti]),
        "account_id": ids("EA", acct_no, 15),
        "lender": codes(fac["lender"][ai], LENDERS),
        "account_type": codes(typ, CREDIT_ACCOUNT_TYPES),
        "guarantee_type": codes(fac["guarantee"][ai], GUARANTEE_TYPES),
        "open_date": dates(open_day),
        "maturity_date": dates(mat_day),
        "credit_amount": amount(fac["amount"][ai]),
        "balance": amount(bal),
        "overdue_amount": amount(overdue),
        "overdue_days": pa.array(dpd.astype(np.int64)),
        "five_class": codes(cls, FIVE_CLASSES),
    })  # fmt: skip


def _query_rows(ch: Chunk, r: np.random.Generator, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = r.poisson(lam)
    fi, ti = rows(counts > 0)
    parent, _ = ragged(counts[fi, ti])
    fi, ti = fi[parent], ti[parent]
    day = ch.day_in_month(ti, r)
    order = np.lexsort((day, fi))
    return fi[order], ti[order], day[order]


def enterprise_queries(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["bureau_enterprise_queries"])
    fac = _facilities(ch)
    credit = ch.cov["credit"]
    s = ch.state_w
    post = ch.defaulted_w
    base = np.where(credit, 0.06, 0.015)[:, None] * np.exp(-0.9 * np.minimum(s, 2) - 0.3 * ch.u[:, None])
    lam = np.where(post, np.where(credit[:, None], 0.25, 0.0), np.minimum(base, 3.0))
    seek = np.zeros(s.shape)
    for m in (fac["m1"], fac["m2"]):
        f = np.flatnonzero(m >= 0)
        seek[f, m[f]] += 2.0
    lam = np.where(ch.hp.active | (post & (np.arange(ch.t)[None, :] < ch.hp.exit[:, None])), lam + seek, 0.0)
    fi, ti, day = _query_rows(ch, r, lam)
    m = len(fi)
    post_r = post[fi, ti]
    pre_reason = np.where(credit[fi], choice(r, np.array([0.8, 0.08, 0.1, 0.02]), m), 0)
    reason = np.where(post_r, choice(r, np.array([0.2, 0, 0.8, 0]), m), pre_reason)
    weak = s[fi, ti] < -0.5
    querier = np.where(weak, choice(r, _LENDER_SMALL, m), choice(r, _LENDER_BIG, m))
    return pa.table({
        "query_id": ids("EQ", ch.index * 10**9 + np.arange(m), 15),
        "uscc": ch.uscc_col(fi),
        "query_date": dates(day),
        "querier": codes(querier, LENDERS),
        "reason": codes(reason, ENTERPRISE_QUERY_REASONS),
    })  # fmt: skip


def enterprise_guarantees(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["bureau_enterprise_guarantees"])
    end_t = ch.t - 1
    as_of = ch.months.end_day
    # Candidates are firms with credit that exist by the cut; whether one exits or is revoked later must not
    # decide who appears (a bank at an earlier as-of cannot know it), so each party only has to be operating
    # when the guarantee starts (below).
    pool = np.flatnonzero(ch.cov["credit"] & ch.hp.founded[:, -1])
    if len(pool) < 2:
        return _empty_guarantees()
    count = np.where(r.random(len(pool)) < 0.12, 1 + (r.random(len(pool)) < 0.3), 0)
    gi, _ = ragged(count)
    guarantor = pool[gi]
    m = len(guarantor)
    by_city = pool[np.argsort(ch.city[pool], kind="stable")]
    cities = ch.city[by_city]
    lo = np.searchsorted(cities, ch.city[guarantor], side="left")
    hi = np.searchsorted(cities, ch.city[guarantor], side="right")
    pick = lo + np.floor(r.random(m) * (hi - lo)).astype(np.int64)
    debtor = by_city[np.minimum(pick, len(by_city) - 1)]
    alone = (debtor == guarantor) | (hi - lo <= 1)
    other = pool[np.floor(r.random(m) * len(pool)).astype(np.int64)]
    debtor = np.where(alone, other, debtor)
    months_len = np.array([12, 24, 36])[choice(r, np.array([0.5, 0.3, 0.2]), m)]
    span = np.round(months_len * 30.4375).astype(np.int64)
    start = as_of - 1 - np.floor(r.random(m) * (span - 31)).astype(np.int64)
    end = start + span
    start_t = np.searchsorted(ch.months.w_start, start, side="right") - 1  # window month of the start (−1: before)

    def operating(f: np.ndarray) -> np.ndarray:
        """Founded by the start and neither cancelled nor revoked before the start month (known then)."""
        return (ch.founding_day[f] <= start) & (ch.hp.exit[f] > start_t) & (ch.hp.revoke[f] > start_t)

    keep = (debtor != guarantor) & operating(guarantor) & operating(debtor)
    guarantor, debtor, start, end = guarantor[keep], debtor[keep], start[keep], end[keep]
    m = len(guarantor)
    on = ch.hp.onset[debtor]
    dpd = np.where(on <= end_t, _dpd_after_onset(ch, on, np.full(m, end_t)), 0)
    cls = five_class(dpd, _floors(ch))
    cls = np.where((cls == 0) & (ch.hp.health[debtor, -1] < -1.5) & (r.random(m) < 0.3), 1, cls)
    amt = np.maximum(10_000.0, np.round(ch.revenue[guarantor] * r.uniform(0.05, 0.4, m) / 10_000) * 10_000)
    order = np.lexsort((start, guarantor))
    guarantor, debtor, start, end, cls, amt = (a[order] for a in (guarantor, debtor, start, end, cls, amt))
    return pa.table({
        "guarantee_id": ids("EG", ch.index * 10**9 + np.arange(m), 15),
        "uscc": ch.uscc_col(guarantor),
        "debtor_uscc": ch.uscc_col(debtor),
        "debtor_name": ch.name.take(pa.array(debtor)),
        "lender": codes(choice(r, _LENDER_BIG, m), LENDERS),
        "guaranteed_amount": amount(amt),
        "start_date": dates(start),
        "end_date": dates(end),
        "debtor_five_class": codes(cls, FIVE_CLASSES),
        "as_of": dates(np.full(m, as_of)),
    })  # fmt: skip


def _empty_guarantees() -> pa.Table:
    from puhui.data.contracts.enterprise import BUREAU_ENTERPRISE_GUARANTEES

    return BUREAU_ENTERPRISE_GUARANTEES.arrow_schema.empty_table()


# ---- personal report ----------------------------------------------------------------------------------

_N, _STAR, _SLASH, _C = ord("N"), ord("*"), ord("/"), ord("C")
_HIST = 23  # months before the first report month that its 24-month string reaches back


def _personal_book(ch: Chunk, r: np.random.Generator) -> dict[str, np.ndarray]:
    """The legal representatives' accounts: type, term, open and close months (window index), amount."""
    n, t_len = ch.n, ch.t
    has = ch.cov["personal_credit"]
    counts = np.stack([
        np.where(has, r.binomial(1, 0.45, n), 0),  # mortgage
        np.where(has, r.binomial(1, np.where(ch.individual, 0.55, 0.2)), 0),  # business loan
        np.where(has, r.binomial(1, 0.15, n), 0),  # consumer
        np.where(has, r.binomial(1, 0.15, n), 0),  # car
        np.where(has, r.binomial(2, 0.55, n), 0),  # credit cards
    ], axis=1)  # fmt: skip
    firm, _ = ragged(counts.sum(axis=1))
    typ = np.repeat(np.tile(np.arange(5), n), counts.ravel())
    na = len(firm)
    short, car = np.array([12, 24, 36]), np.array([36, 48, 60])
    term = np.select([typ == 0, typ == 1, typ == 2, typ == 3],
                     [np.full(na, 240), short[r.integers(0, 3, na)], short[r.integers(0, 3, na)],
                      car[r.integers(0, 3, na)]], 10_000)  # fmt: skip
    back = np.where((typ == 4) | (typ == 0), 120, term)
    open_m = (t_len - 1) - np.floor(r.random(na) * (back + t_len)).astype(np.int64)
    adult = np.datetime64("1970-01-01") + (ch.rep_birth[firm] + int(18.5 * 365.25)).astype("timedelta64[D]")
    first_w = ch.months.first_ext + PRE_MONTHS
    open_m = np.maximum(open_m, (adult.astype("datetime64[M]") - first_w).astype(np.int64))
    price = city_price_levels()[ch.city[firm]]
    amt = np.select(
        [typ == 0, typ == 1, typ == 2, typ == 3],
        [np.round(price * r.uniform(60, 120, na) * 0.6, -3),
         np.clip(np.round(ch.revenue[firm] * r.uniform(0.05, 0.3, na), -4), 30_000, 3_000_000),
         np.round(r.uniform(50_000, 300_000, na), -3), np.round(r.uniform(80_000, 300_000, na), -3)],
        np.round(np.exp(np.log(30_000) + 0.6 * r.standard_normal(na)), -3),
    )  # fmt: skip
    onset = ch.hp.onset[firm]
    follows = (typ == 1) | (r.random(na) < 0.45)
    return {
        "firm": firm, "type": typ, "term": term, "open": open_m, "close": open_m + term, "amount": amt,
        "follows": follows, "late_from": np.where(typ == 1, onset, onset + r.integers(0, 4, na)),
        "open_dom": r.integers(0, 28, na),
        "lender": np.where(typ == 1, choice(r, _LENDER_SMALL, na), choice(r, _LENDER_BIG, na)),
    }  # fmt: skip


def _repayment_codes(ch: Chunk, r: np.random.Generator, book: dict[str, np.ndarray]) -> np.ndarray:
    """(accounts, 23 + T) monthly status codes for months −23 … T−1 of the window (ASCII)."""
    firm = book["firm"]
    na, e_len = len(firm), _HIST + ch.t
    m_idx = np.arange(e_len)[None, :] - _HIST
    code = np.full((na, e_len), _N, dtype=np.uint8)
    code[(book["type"] == 4)[:, None] & (r.random((na, e_len)) < 0.3)] = _STAR
    h = ch.hp.health[firm][:, PRE_MONTHS - _HIST :]
    code[r.random((na, e_len)) < sigmoid(-5.6 - 1.2 * h)] = ord("1")
    k = m_idx - book["late_from"][:, None] + 1
    late = book["follows"][:, None] & (ch.hp.onset[firm] < ch.t)[:, None] & (k >= 1)
    code = np.where(late, (48 + np.minimum(k, 7)).astype(np.uint8), code).astype(np.uint8)
    code[m_idx < book["open"][:, None]] = _SLASH
    code[m_idx >= book["close"][:, None]] = _C
    return code


def person_accounts(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["bureau_person_accounts"])
    t_len = ch.t
    book = _personal_book(ch, r)
    code = _repayment_codes(ch, r, book)
    firm, typ, term = book["firm"], book["type"], book["term"]
    # report rows: opened by t, not closed before t (the closing month is reported), firm not cancelled
    tt = np.arange(t_len)[None, :]
    mask = (book["open"][:, None] <= tt) & (tt <= book["close"][:, None]) & (tt < ch.hp.exit[firm][:, None])
    ai, ti = rows(mask & ch.hp.founded[firm])
    windows = np.lib.stride_tricks.sliding_window_view(code, 24, axis=1)  # (accounts, T, 24)
    cur = code[ai, ti + _HIST]
    a_t = book["amount"][ai]
    t_a = typ[ai]
    amort = np.clip(1.0 - (ti - book["open"][ai]) / term[ai], 0.0, 1.0)
    card_util = np.clip(0.3 - 0.2 * ch.state_w[firm[ai], ti] + 0.15 * r.standard_normal(len(ai)), 0.0, 1.0)
    bal = np.select([t_a == 4, t_a == 1], [a_t * card_util, a_t], a_t * amort)
    bal = np.where((cur == _STAR) | (cur == _C), 0.0, bal)
    digit = (cur >= ord("1")) & (cur <= ord("7"))
    instalment = np.where(t_a == 4, 0.1 * bal, a_t / np.maximum(term[ai], 1))
    overdue = np.minimum(bal, instalment * np.where(digit, cur.astype(np.int64) - 48, 0))
    bad = (cur == ord("7")) & (ti - book["late_from"][ai] >= 9)
    status = np.select([cur == _C, bad, digit], [2, 3, 1], 0)
    first_w = ch.months.first_ext + PRE_MONTHS
    open_day = (first_w + book["open"][ai]).astype("datetime64[D]").astype(np.int64) + book["open_dom"][ai]
    return pa.table({
        "person_id": ch.rep_id_col(firm[ai]),
        "uscc": ch.uscc_col(firm[ai]),
        "report_month": dates(month_starts(first_w, t_len)[ti]),
        "account_id": ids("PA", ch.index * 10**9 + ai, 15),
        "lender": codes(book["lender"][ai], LENDERS),
        "account_type": codes(t_a, PERSON_ACCOUNT_TYPES),
        "open_date": dates(open_day),
        "credit_amount": amount(a_t),
        "balance": amount(bal),
        "overdue_amount": amount(overdue),
        "status": codes(status, PERSON_ACCOUNT_STATUSES),
        "repayment_24m": ascii_matrix_to_strings(windows[ai, ti]),
    })  # fmt: skip


def person_queries(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["bureau_person_queries"])
    s = ch.state_w
    post = ch.defaulted_w
    lam = np.where(post, 0.2, np.minimum(0.06 * np.exp(-0.8 * np.minimum(s, 2)), 2.0))
    lam = np.where(ch.hp.founded & (np.arange(ch.t)[None, :] < ch.hp.exit[:, None]), lam, 0.0)
    fi, ti, day = _query_rows(ch, r, lam)
    m = len(fi)
    reason = np.where(post[fi, ti], choice(r, np.array([.3, 0, 0, .7, 0]), m),
                      choice(r, np.array([.45, .25, .05, .15, .10]), m))  # fmt: skip
    querier = np.where(s[fi, ti] < -0.5, choice(r, _LENDER_SMALL, m), choice(r, _LENDER_BIG, m))
    return pa.table({
        "query_id": ids("PQ", ch.index * 10**9 + np.arange(m), 15),
        "person_id": ch.rep_id_col(fi),
        "uscc": ch.uscc_col(fi),
        "query_date": dates(day),
        "querier": codes(querier, LENDERS),
        "reason": codes(reason, PERSON_QUERY_REASONS),
    })  # fmt: skip
