"""The global stage of the generator: drawn once from the seed, persisted, then read by every chunk.

It holds what enterprises share — the macro, industry and region shock paths, the calibration of default
intercepts per industry and city, and the supply chains' core enterprises (their register entry goes to
the raw zone as `chain_core_enterprises`; their hidden health path goes to the truth). The chunks never
recompute it: `load_global` reads the persisted Parquet back (float64 round-trips exactly), so a run that
resumes after a crash sees bit-for-bit the same global state as the run that wrote it.

Truth tables written here: `truth/synth_shocks` (series, key, month, value, jump), `truth/synth_calibration`
(industry, city, target yearly PD, region multiplier, logit intercept) and `truth/core_health`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from puhui.data.contracts.enterprise import CHAIN_CORE_ENTERPRISES, CHAIN_SECTORS, INDUSTRY_SECTIONS, RATINGS
from puhui.data.rawzone import RawZone
from puhui.data.synth import ids, names
from puhui.data.synth.arrowkit import amount, choice, codes, dates, join, month_starts, strings
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.geography import CITIES, city_weights, district_arrays, sample_districts
from puhui.data.synth.health import GlobalState, build_global_paths
from puhui.data.synth.universe import months_of
from puhui.data.synth.vocab import CORE_SECTOR_INDUSTRY, CORE_SECTOR_WORDS, INDUSTRIES

GLOBAL_PART = "global"
_STREAM = 0


def write_truth(truth_root: Path, table_name: str, part: str, table: pa.Table) -> Path:
    """Write a truth table part atomically (`<truth>/<table>/<part>.parquet`)."""
    folder = truth_root / table_name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{part}.parquet"
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(target)
    return target


def _cores(config: SynthConfig, rng: np.random.Generator) -> dict[str, np.ndarray | pa.Array]:
    k = config.core_enterprises
    sector = rng.permutation(np.arange(k) % len(CHAIN_SECTORS))
    w = city_weights() ** 1.5
    city = choice(rng, w / w.sum(), k)
    district = sample_districts(city, rng)
    revenue = np.clip(np.exp(np.log(8e9) + 0.9 * rng.standard_normal(k)), 1e9, 2e11)
    employees = np.round(revenue / np.exp(np.log(1.5e6) + 0.3 * rng.standard_normal(k))).astype(np.int64)
    listed = rng.random(k) < 0.55
    rank = np.log(revenue) + 0.5 * rng.standard_normal(k)
    rating = np.clip(np.digitize(-rank, np.quantile(-rank, [0.15, 0.4, 0.65, 0.85, 0.95])), 0, len(RATINGS) - 1)
    founding = (np.datetime64("1993-01-01").astype(np.int64) + rng.integers(0, 6000, k)).astype(np.int64)
    da = district_arrays()
    bodies = ids.org_bodies(ids.CORE_INDEX_BASE + np.arange(k), founding, config.seed)
    uscc = ids.usccs(np.full(k, "1"), da.code[district], bodies)
    word = codes(sector, [CORE_SECTOR_WORDS[s] for s in CHAIN_SECTORS])
    suffix = codes(listed.astype(np.int64), ["集团有限公司", "集团股份有限公司"])
    name = join(names.city_names(city), names.brands(rng, k), word, suffix)
    return {"sector": sector, "city": city, "revenue": revenue, "employees": employees, "listed": listed,
            "rating": rating, "uscc": uscc, "name": name}  # fmt: skip


def build_global(config: SynthConfig, zone: RawZone, truth_root: Path) -> None:
    """Draw the global stage from the seed and persist it (raw: core enterprises; truth: paths)."""
    ss = np.random.SeedSequence([config.seed, _STREAM, 0])
    r_paths, r_cores = (np.random.default_rng(s) for s in ss.spawn(2))
    cores = _cores(config, r_cores)
    gp = build_global_paths(config, r_paths, config.core_enterprises)
    sec_idx = [CORE_SECTOR_INDUSTRY[s] for s in CHAIN_SECTORS]
    core_table = pa.table({
        "core_uscc": strings(cores["uscc"]),
        "name": cores["name"],
        "sector": codes(cores["sector"], CHAIN_SECTORS),
        "industry_section": codes(np.array([INDUSTRY_SECTIONS.index(a) for a, _ in sec_idx])[cores["sector"]],
                                  INDUSTRY_SECTIONS),
        "industry_code": codes(cores["sector"], [b for _, b in sec_idx]),
        "city_code": codes(cores["city"], [c.code for c in CITIES]),
        "annual_revenue": amount(np.round(cores["revenue"], -4)),
        "employees": pa.array(cores["employees"]),
        "listed": pa.array(cores["listed"]),
        "rating": codes(cores["rating"], RATINGS),
    })  # fmt: skip
    zone.write_part(CHAIN_CORE_ENTERPRISES, GLOBAL_PART, core_table)
    months = months_of(config)
    mdays = month_starts(months.first_ext, months.n_ext)
    e = months.n_ext
    series, key, month, value, jump = [], [], [], [], []

    def add(name: str, keys: list[str], paths: np.ndarray, jumps: np.ndarray | None = None) -> None:
        paths = np.atleast_2d(paths)
        for i, k in enumerate(keys):
            series.append(np.full(e, name))
            key.append(np.full(e, k))
            month.append(mdays)
            value.append(paths[i])
            jump.append(jumps[i] if jumps is not None else np.zeros(e, bool))

    add("macro", ["CN"], gp["macro"])
    add("industry", [p.key for p in INDUSTRIES], gp["industry"])
    add("region", [c.code for c in CITIES], gp["region"])
    add("core", list(cores["uscc"]), gp["core_health"], gp["core_jump"])
    shocks = pa.table({
        "series": pa.array(np.concatenate(series)), "key": pa.array(np.concatenate(key)),
        "month": dates(np.concatenate(month)), "value": pa.array(np.concatenate(value)),
        "jump": pa.array(np.concatenate(jump)),
    })  # fmt: skip
    write_truth(truth_root, "synth_shocks", GLOBAL_PART, shocks)
    g_n, c_n = gp["intercept"].shape
    calib = pa.table({
        "industry": pa.array(np.repeat([p.key for p in INDUSTRIES], c_n)),
        "city_code": pa.array(np.tile([c.code for c in CITIES], g_n)),
        "target_annual_pd": pa.array(gp["target_pd"].ravel()),
        "region_multiplier": pa.array(np.tile(gp["region_multiplier"], g_n)),
        "intercept": pa.array(gp["intercept"].ravel()),
    })  # fmt: skip
    write_truth(truth_root, "synth_calibration", GLOBAL_PART, calib)
    core_rows = shocks.filter(pc.equal(shocks["series"], "core"))
    write_truth(truth_root, "core_health", GLOBAL_PART, pa.table({
        "core_uscc": core_rows["key"], "month": core_rows["month"], "health": core_rows["value"],
        "distress_jump": core_rows["jump"],
    }))  # fmt: skip


def load_global(config: SynthConfig, zone: RawZone, truth_root: Path) -> GlobalState:
    """Read the persisted global stage back into a `GlobalState`."""
    months = months_of(config)
    e = months.n_ext
    shocks = pq.read_table(truth_root / "synth_shocks" / f"{GLOBAL_PART}.parquet")
    ser = np.asarray(shocks["series"].to_numpy(zero_copy_only=False), dtype=str)
    val = shocks["value"].to_numpy()
    jmp = shocks["jump"].to_numpy(zero_copy_only=False)

    def paths(name: str) -> np.ndarray:
        return val[ser == name].reshape(-1, e)

    calib = pq.read_table(truth_root / "synth_calibration" / f"{GLOBAL_PART}.parquet")
    g_n, c_n = len(INDUSTRIES), len(CITIES)
    cores = pq.read_table(zone.part_path(CHAIN_CORE_ENTERPRISES.name, GLOBAL_PART))
    sector = np.array([CHAIN_SECTORS.index(s) for s in cores["sector"].to_pylist()], dtype=np.int64)
    code_index = {c.code: i for i, c in enumerate(CITIES)}
    core_city = np.array([code_index[c] for c in cores["city_code"].to_pylist()], dtype=np.int64)
    revenue = np.array([float(x) for x in cores["annual_revenue"].to_pylist()])
    return GlobalState(
        first_ext_month=months.first_ext,
        macro=paths("macro")[0],
        industry=paths("industry"),
        region=paths("region"),
        region_multiplier=calib["region_multiplier"].to_numpy()[:c_n].copy(),
        intercept=calib["intercept"].to_numpy().reshape(g_n, c_n),
        target_pd=calib["target_annual_pd"].to_numpy().reshape(g_n, c_n),
        core_health=paths("core"),
        core_jump=jmp[ser == "core"].reshape(-1, e),
        core_sector=sector,
        core_city=core_city,
        core_revenue=revenue,
        core_uscc=np.array(cores["core_uscc"].to_pylist(), dtype="<U18"),
    )
