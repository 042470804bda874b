"""Determinism and resume of `run_synth`: the same config gives byte-identical files, a resumed run after a
lost chunk gives the same bytes, a different config is refused without --fresh."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from puhui.core.errors import ConfigurationError
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth

SMALL = SynthConfig(enterprises=600, months=13, chunk_size=200, compounds=40, property_years=1, seed=5,
                    core_enterprises=12)  # fmt: skip


def _files(home: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(home.rglob("*")):
        if p.is_file() and (p.suffix == ".parquet" or p.name == "_universe.json"):
            out[str(p.relative_to(home))] = p.read_bytes()
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    home = tmp_path_factory.mktemp("ref")
    report = run_synth(SMALL, home=home)
    assert report["generated_chunks"] == 3 and report["skipped_chunks"] == 0
    return home, _files(home)


def test_same_seed_gives_identical_files(reference, tmp_path):
    _, ref = reference
    run_synth(SMALL, home=tmp_path)
    got = _files(tmp_path)
    assert got.keys() == ref.keys()
    assert len([k for k in got if k.startswith("raw/")]) > 3 * 24
    different = [k for k in ref if got[k] != ref[k]]
    assert different == []


def test_different_seed_gives_different_files(reference, tmp_path):
    _, ref = reference
    run_synth(replace(SMALL, seed=SMALL.seed + 1), home=tmp_path)
    got = _files(tmp_path)
    assert got["raw/registration/chunk-00000.parquet"] != ref["raw/registration/chunk-00000.parquet"]


def test_resume_after_losing_a_chunk_gives_identical_files(reference, tmp_path):
    src, ref = reference
    home = tmp_path / "home"
    shutil.copytree(src, home)
    # a crash in chunk 1: its marker and some parts are gone, one part is left half-way
    (home / "raw" / "_synth" / "chunk-00001.done").unlink()
    for part in home.rglob("chunk-00001.parquet"):
        if "tax" in str(part) or "truth" in str(part):
            part.unlink()
    report = run_synth(SMALL, home=home)
    assert report["generated_chunks"] == 1 and report["skipped_chunks"] == 2
    got = _files(home)
    assert got.keys() == ref.keys()
    assert [k for k in ref if got[k] != ref[k]] == []


def test_another_config_needs_fresh(reference, tmp_path):
    src, _ = reference
    home = tmp_path / "home"
    shutil.copytree(src, home)
    other = replace(SMALL, enterprises=400)
    with pytest.raises(ConfigurationError) as e:
        run_synth(other, home=home)
    assert e.value.code == "universe_mismatch" and "--fresh" in e.value.message
    report = run_synth(other, home=home, fresh=True)
    assert report["generated_chunks"] == 2
    assert not (home / "raw" / "registration" / "chunk-00002.parquet").exists()


def test_data_without_manifest_is_not_overwritten(tmp_path):
    folder = tmp_path / "raw" / "registration"
    folder.mkdir(parents=True)
    (folder / "mine.parquet").write_bytes(b"not ours")
    with pytest.raises(ConfigurationError):
        run_synth(SMALL, home=tmp_path)
    assert (folder / "mine.parquet").read_bytes() == b"not ours"


@pytest.mark.parametrize(
    "bad",
    [{"enterprises": 0}, {"months": 6}, {"chunk_size": 10}, {"core_enterprises": 0}, {"end_month": "2026/10"},
     {"end_month": "2040-01"}],
)  # fmt: skip
def test_invalid_settings_are_refused(bad, tmp_path):
    with pytest.raises(ConfigurationError) as e:
        run_synth(replace(SMALL, **bad), home=tmp_path)
    assert e.value.code == "invalid_synth_config"
    assert not (tmp_path / "raw").exists()
