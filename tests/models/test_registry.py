"""The model registry on real SQLite and PostgreSQL: metadata, bit-identical reload, life cycle, locks, audit.

Golden numbers come from outside the code under test: the reference shares of a scorecard feature are
the bin counts the scorecard kept from its own fit (divided by their sum); the frame fingerprint is
rebuilt here byte by byte from its documented layout with hashlib.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, text

from puhui.core.errors import Conflict, NotFound, PuhuiError, ValidationError
from puhui.models import registry
from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.scorecard import Scorecard
from puhui.models.store import ModelEventRow, ModelVersionRow, ShadowScoreRow
from puhui.store import Base, audit, make_engine
from puhui.store.db import transaction
from puhui.store.idempotency import IdempotencyKey
from tests.models.conftest import make_credit


def registry_engine(url: str, **kw) -> Engine:
    """An engine on `url` with only the tables the registry writes (fast to create on PostgreSQL)."""
    engine = make_engine(url, **kw)
    Base.metadata.create_all(engine, tables=[t.__table__ for t in (ModelVersionRow, ModelEventRow, ShadowScoreRow,
                                                                   audit.AuditEntry, IdempotencyKey)])  # fmt: skip
    return engine


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """Overrides the suite's `db_engine` (every table) with the registry's tables only, on both engines."""
    engine = registry_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def fitted() -> dict:
    df, y, _ = make_credit(3000, seed=11)
    card = Scorecard.fit(df, y)
    gbm = GBMModel.fit(df, y, config=GBMConfig(max_rounds=80, trends={"debt_ratio": "ascending"}))
    return {"df": df, "y": y, "card": card, "gbm": gbm, "training": df.assign(label=y)}


def _variant(card: Scorecard, k: int) -> Scorecard:
    """Another artifact (a different base score), cheaply."""
    return replace(card, base_score=card.base_score + k)


def _reg(engine: Engine, model, home: Path, **kw) -> registry.RegisteredModel:
    return registry.register(engine, model, author="staff:analyst", home=home, **kw)


def test_metadata_has_everything_monitoring_and_audit_need(db_engine: Engine, tmp_path: Path, fitted: dict) -> None:
    card, training = fitted["card"], fitted["training"]
    m = _reg(db_engine, card, tmp_path, training=training, metrics={"test_auc": 0.71, "train_rows": 3000})
    assert (m.name, m.version, m.kind, m.state, m.shadow) == ("sme_pd", "sme_pd-v1", "scorecard", "candidate", True)
    meta = m.metadata
    assert m.features == card.features == meta["features"]
    assert meta["author"] == "staff:analyst" and meta["created_at"].startswith(m.created_at.date().isoformat())
    assert meta["training_data"]["sha256"] == registry.frame_fingerprint(training)
    assert meta["training_data"]["rows"] == 3000
    assert meta["metrics"] == {"test_auc": 0.71, "train_rows": 3000}
    assert [b["name"] for b in meta["bins"]["binning"]] == card.features
    assert {r["feature"] for r in meta["bins"]["table"]} == set(card.features)
    # the artifact folder holds the model file and the same metadata document
    folder = tmp_path / "models" / "registry" / "sme_pd" / "sme_pd-v1"
    assert m.artifact_dir == folder
    assert json.loads((folder / "metadata.json").read_text(encoding="utf-8")) == meta
    assert (folder / "scorecard.json").is_file()
    # reference profile: PD deciles, and each feature's shares on the scorecard's own bins
    ref = meta["reference"]
    assert ref["score"] == "pd" and len(ref["score_shares"]) == len(ref["score_edges"]) + 1
    assert sum(ref["score_shares"]) == pytest.approx(1.0)
    assert all(s == pytest.approx(0.1, abs=0.02) for s in ref["score_shares"])
    for f in card.features:
        counts = np.asarray(card.bins[f].counts, dtype=float)
        assert ref["features"][f]["shares"] == pytest.approx(list(counts / counts.sum()))
        assert ref["features"][f]["labels"] == card.bins[f].labels()


def test_gbm_metadata_lists_monotone_constraints_and_decile_bins(db_engine: Engine, tmp_path: Path,
                                                                 fitted: dict) -> None:  # fmt: skip
    gbm, training = fitted["gbm"], fitted["training"]
    m = _reg(db_engine, gbm, tmp_path, training=training)
    bins = m.metadata["bins"]
    assert bins["kind"] == "gbm" and bins["features"] == gbm.features
    assert bins["monotone"]["debt_ratio"] == 1 and bins["monotone"]["noise"] == 0
    ref = m.metadata["reference"]["features"]
    # ten deciles of debt_ratio (no missing values): nine interior edges, about 10 % of rows in each
    assert len(ref["debt_ratio"]["edges"]) == 9
    assert ref["debt_ratio"]["shares"][:10] == pytest.approx([0.1] * 10, abs=0.002)
    assert ref["industry"]["labels"][:-2] == [f"{{{c}}}" for c in gbm.categories["industry"]]


@pytest.mark.parametrize("kind", ["card", "gbm"])
def test_scores_identical_to_the_last_bit_after_registry_round_trip(db_engine: Engine, tmp_path: Path, fitted: dict,
                                                                    kind: str) -> None:  # fmt: skip
    model, df = fitted[kind], fitted["df"]
    m = _reg(db_engine, model, tmp_path)
    registry.clear_cache()
    loaded = registry.get(db_engine, "sme_pd", m.version, home=tmp_path).load()
    assert loaded is not model
    want, got = model.predict_pd(df), loaded.predict_pd(df)
    assert want.dtype == got.dtype == np.float64
    assert np.array_equal(want.view(np.int64), got.view(np.int64))
    if kind == "card":
        assert np.array_equal(model.score(df).view(np.int64), loaded.score(df).view(np.int64))


def test_load_is_cached_per_version_and_checks_the_artifact(db_engine: Engine, tmp_path: Path, fitted: dict) -> None:
    m = _reg(db_engine, fitted["card"], tmp_path)
    registry.clear_cache()
    first = m.load()
    assert registry.get(db_engine, "sme_pd", m.version, home=tmp_path).load() is first
    # a changed file on disk is refused on the next cold load
    path = m.artifact_dir / "scorecard.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"pdo": 20.0', '"pdo": 21.0'), encoding="utf-8")
    registry.clear_cache()
    with pytest.raises(ValidationError) as e:
        m.load()
    assert e.value.code == "artifact_corrupt"


def test_versions_are_sequential_and_reregistering_an_artifact_is_idempotent(db_engine: Engine, tmp_path: Path,
                                                                             fitted: dict) -> None:  # fmt: skip
    card = fitted["card"]
    a = _reg(db_engine, card, tmp_path)
    assert _reg(db_engine, card, tmp_path).version == a.version == "sme_pd-v1"
    b = _reg(db_engine, _variant(card, 1), tmp_path)
    c = _reg(db_engine, fitted["gbm"], tmp_path, name="sme_pd_gbm")
    assert (b.version, c.version) == ("sme_pd-v2", "sme_pd_gbm-v1")
    assert [v.version for v in registry.list_versions(db_engine, "sme_pd")] == ["sme_pd-v1", "sme_pd-v2"]
    assert len(registry.list_versions(db_engine)) == 3
    assert sum(e["action"] == "register" for e in registry.events(db_engine, "sme_pd")) == 2
    with pytest.raises(ValidationError) as e:
        _reg(db_engine, card, tmp_path, name="Bad Name")
    assert e.value.code == "invalid_model_name"


def _state(engine: Engine, name: str = "sme_pd") -> dict[str, str]:
    return {v.version: v.state for v in registry.list_versions(engine, name)}


def test_promote_and_rollback_life_cycle(db_engine: Engine, tmp_path: Path, fitted: dict) -> None:
    card = fitted["card"]
    v1, v2, v3 = (_reg(db_engine, _variant(card, k), tmp_path).version for k in range(3))
    assert registry.champion(db_engine, "sme_pd") is None
    p = registry.promote(db_engine, "sme_pd", v1, actor="staff:risk.li", reason="first card")
    assert p.body["previous_champion"] is None and p.body["state"] == "champion"
    registry.promote(db_engine, "sme_pd", v2, actor="staff:risk.li", reason="better KS")
    registry.promote(db_engine, "sme_pd", v3, actor="staff:risk.li", reason="newer data")
    assert _state(db_engine) == {v1: "retired", v2: "retired", v3: "champion"}
    champ = registry.champion(db_engine, "sme_pd", home=tmp_path)
    assert champ is not None and champ.version == v3 and not champ.shadow

    # rollback walks the champion history back: v3 → v2 → v1, then there is nothing before v1
    r = registry.rollback(db_engine, "sme_pd", actor="staff:risk.wang", reason="v3 drifts")
    assert (r.body["version"], r.body["previous_champion"]) == (v2, v3)
    assert _state(db_engine) == {v1: "retired", v2: "champion", v3: "retired"}
    registry.rollback(db_engine, "sme_pd", actor="staff:risk.wang", reason="v2 too")
    assert _state(db_engine) == {v1: "champion", v2: "retired", v3: "retired"}
    with pytest.raises(Conflict) as e:
        registry.rollback(db_engine, "sme_pd", actor="staff:risk.wang", reason="again")
    assert e.value.code == "no_previous_champion"

    # refusals
    with pytest.raises(Conflict) as e:
        registry.promote(db_engine, "sme_pd", v1, actor="a", reason="r")
    assert e.value.code == "already_champion"
    with pytest.raises(Conflict) as e:
        registry.promote(db_engine, "sme_pd", v3, actor="a", reason="r")
    assert e.value.code == "version_retired"
    with pytest.raises(NotFound) as e:
        registry.promote(db_engine, "sme_pd", "sme_pd-v9", actor="a", reason="r")
    assert e.value.code == "unknown_version"
    with pytest.raises(NotFound) as e:
        registry.rollback(db_engine, "nope", actor="a", reason="r")
    assert e.value.code == "unknown_model"
    with pytest.raises(ValidationError):
        registry.promote(db_engine, "sme_pd", v1, actor="a", reason="  ")

    # every step is an event and an audit entry with actor and reason
    evs = [(e["action"], e["version"], e["previous_champion"], e["actor"])
           for e in registry.events(db_engine, "sme_pd")]  # fmt: skip
    assert evs[3:] == [("promote", v1, None, "staff:risk.li"), ("promote", v2, v1, "staff:risk.li"),
                       ("promote", v3, v2, "staff:risk.li"), ("rollback", v2, v3, "staff:risk.wang"),
                       ("rollback", v1, v2, "staff:risk.wang")]  # fmt: skip
    with transaction(db_engine, write=False) as s:
        trail = [(a.action, a.actor, a.payload["reason"]) for a in audit.history(s, "model_version", v2)]
    assert trail == [("model_register", "staff:analyst", "registered"), ("model_promote", "staff:risk.li", "better KS"),
                     ("model_rollback", "staff:risk.wang", "v3 drifts")]  # fmt: skip


def test_rollback_needs_a_champion_and_retire_only_takes_candidates(db_engine: Engine, tmp_path: Path,
                                                                    fitted: dict) -> None:  # fmt: skip
    v1 = _reg(db_engine, fitted["card"], tmp_path).version
    v2 = _reg(db_engine, _variant(fitted["card"], 1), tmp_path).version
    with pytest.raises(Conflict) as e:
        registry.rollback(db_engine, "sme_pd", actor="a", reason="r")
    assert e.value.code == "no_champion"
    registry.promote(db_engine, "sme_pd", v1, actor="a", reason="r", only_if_no_champion=True)
    with pytest.raises(Conflict) as e:  # retrain's first-champion promotion never replaces a champion
        registry.promote(db_engine, "sme_pd", v2, actor="a", reason="r", only_if_no_champion=True)
    assert e.value.code == "champion_exists"
    with pytest.raises(Conflict) as e:
        registry.retire(db_engine, "sme_pd", v1, actor="a", reason="r")
    assert e.value.code == "champion_retire"
    registry.set_shadow(db_engine, "sme_pd", v2, False, actor="a", reason="enough")
    assert registry.challengers(db_engine, "sme_pd") == []
    registry.set_shadow(db_engine, "sme_pd", v2, True, actor="a", reason="again")
    assert [c.version for c in registry.challengers(db_engine, "sme_pd")] == [v2]
    registry.retire(db_engine, "sme_pd", v2, actor="a", reason="weaker")
    assert _state(db_engine) == {v1: "champion", v2: "retired"}
    assert registry.challengers(db_engine, "sme_pd") == []


def test_promote_is_idempotent_with_a_key(db_engine: Engine, tmp_path: Path, fitted: dict) -> None:
    v1 = _reg(db_engine, fitted["card"], tmp_path).version
    a = registry.promote(db_engine, "sme_pd", v1, actor="a", reason="r", idempotency_key="k1")
    b = registry.promote(db_engine, "sme_pd", v1, actor="a", reason="r", idempotency_key="k1")
    assert not a.replayed and b.replayed and a.body == b.body
    assert [e["action"] for e in registry.events(db_engine, "sme_pd")] == ["register", "promote"]


def test_one_champion_per_name_is_enforced_by_the_database(db_engine: Engine, tmp_path: Path, fitted: dict) -> None:
    v1 = _reg(db_engine, fitted["card"], tmp_path).version
    v2 = _reg(db_engine, _variant(fitted["card"], 1), tmp_path).version
    registry.promote(db_engine, "sme_pd", v1, actor="a", reason="r")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), transaction(db_engine) as s:
        s.execute(text("UPDATE model_versions SET state = 'champion' WHERE version = :v"), {"v": v2})
    with pytest.raises(Exception, match="append-only"), transaction(db_engine) as s:
        s.execute(text("DELETE FROM model_events"))


def _race(n: int, fn) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return fn(i)
        except PuhuiError as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_promotes_leave_exactly_one_champion(db_url: str, tmp_path: Path, fitted: dict) -> None:
    n = 4
    pg = db_url.startswith("postgresql")
    engine = registry_engine(db_url, pool_size=n, max_overflow=0) if pg else registry_engine(db_url)
    try:
        versions = [_reg(engine, _variant(fitted["card"], k), tmp_path).version for k in range(n)]
        results = _race(n, lambda i: registry.promote(engine, "sme_pd", versions[i], actor=f"t{i}", reason="race"))
        assert all(not isinstance(r, Exception) for r in results)  # serialised, so each promote succeeds in turn
        with transaction(engine, write=False) as s:
            champs = s.scalars(select(ModelVersionRow.version).where(ModelVersionRow.state == "champion")).all()
            promotes = s.scalars(select(ModelEventRow).where(ModelEventRow.action == "promote")
                                 .order_by(ModelEventRow.id)).all()  # fmt: skip
        assert len(champs) == 1
        # the events form one chain: each promote retired the one before it, the last one is champion
        assert promotes[0].previous_champion is None
        assert [p.previous_champion for p in promotes[1:]] == [p.version for p in promotes[:-1]]
        assert promotes[-1].version == champs[0]

        # the same version promoted twice at once: one promote, one already_champion
        extra = _reg(engine, _variant(fitted["card"], 99), tmp_path).version
        twice = _race(2, lambda i: registry.promote(engine, "sme_pd", extra, actor=f"d{i}", reason="dup"))
        codes = sorted(getattr(r, "code", "ok") for r in twice)
        assert codes == ["already_champion", "ok"]
        with transaction(engine, write=False) as s:
            assert s.scalar(select(func.count()).select_from(ModelVersionRow)
                            .where(ModelVersionRow.state == "champion")) == 1  # fmt: skip
    finally:
        engine.dispose()


def test_frame_fingerprint_follows_its_documented_layout() -> None:
    df = pd.DataFrame({"b": [1, None], "a": ["x", None], "t": pd.to_datetime(["2026-01-31", None])})
    h = hashlib.sha256(b"puhui.frame/1\n2\n")
    h.update(b'["a", "s"]\n' + b'["x",null]' + b"\n")
    h.update(b'["b", "f"]\n' + np.array([1.0, np.nan], dtype="<f8").tobytes() + b"\n")
    ns = np.array([pd.Timestamp("2026-01-31").value, np.iinfo(np.int64).min], dtype="<i8")
    h.update(b'["t", "t"]\n' + ns.tobytes() + b"\n")
    assert registry.frame_fingerprint(df) == h.hexdigest()
    # column order and index do not matter; a value, a row order or an int/float spelling of a number does/doesn't
    assert registry.frame_fingerprint(df[["t", "a", "b"]].set_index(pd.Index([7, 8]))) == h.hexdigest()
    assert registry.frame_fingerprint(df.assign(b=[1.0, 2.0])) != h.hexdigest()
    assert registry.frame_fingerprint(df.iloc[::-1]) != h.hexdigest()
    assert registry.frame_fingerprint(pd.DataFrame({"v": [1, 2]})) == registry.frame_fingerprint(
        pd.DataFrame({"v": [1.0, 2.0]}))
