"""The online engine's input checks and its two paths (batch index, fresh computation)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from puhui.core.dates import FixedClock
from puhui.core.errors import NotFound, ValidationError
from puhui.core.identifiers import make_uscc
from puhui.indicators.batch import BatchReport
from puhui.indicators.library import Library
from puhui.indicators.online import OnlineEngine

from .conftest import AS_OF


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91110108551385082", "uscc_length"),  # 17 characters
        ("91110108551385082I", "uscc_charset"),  # I is not in the GB 32100 alphabet
        ("91110108551385082Y", "uscc_check"),  # wrong MOD 31 check character
    ],
)
def test_a_malformed_uscc_is_refused_naming_the_failed_check(engine: OnlineEngine, uscc: str, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        engine.compute(uscc, AS_OF)
    assert err.value.code == code
    assert err.value.http_status == 422


def test_an_unknown_uscc_is_not_found(engine: OnlineEngine) -> None:
    unknown = make_uscc("9", "1", "110108", "MA000001")
    with pytest.raises(NotFound) as err:
        engine.indicators(unknown, AS_OF)
    assert err.value.code == "enterprise_not_found" and err.value.http_status == 404


def test_an_enterprise_founded_after_the_date_is_not_yet_registered(universe: Path, engine: OnlineEngine) -> None:
    reg = pq.read_table(universe / "raw" / "registration", columns=["uscc", "founding_date"]).to_pylist()
    youngest = max(reg, key=lambda r: r["founding_date"])
    day = youngest["founding_date"]  # known one day after registration (lag 1)
    with pytest.raises(NotFound) as err:
        engine.compute(youngest["uscc"], day)
    assert err.value.code == "enterprise_not_registered"
    assert engine.compute(youngest["uscc"], day + timedelta(days=1))["reg_age_months"] == 0


def test_dates_in_the_future_or_before_the_data_are_refused(universe: Path, library: Library) -> None:
    engine = OnlineEngine(universe, library=library, clock=FixedClock("2026-07-01"))
    some = next(iter(engine._open().keys))
    with pytest.raises(ValidationError) as err:
        engine.compute(some, date(2026, 7, 2))
    assert err.value.code == "as_of_in_future"
    start = engine.window().start
    assert start == date(2023, 12, 1)  # the first month, November 2023, is complete and known on 1 December
    with pytest.raises(ValidationError) as err:
        engine.compute(some, start - timedelta(days=1))
    assert err.value.code == "as_of_before_data"
    with pytest.raises(ValidationError) as err:
        engine.compute(some, "2026-02-30")
    assert err.value.code == "invalid_date"
    engine.close()


def test_the_hot_path_serves_the_batch_table_and_memoises_computations(
    universe: Path, library: Library, batch_report: BatchReport, batch_rows: dict[str, dict]
) -> None:
    engine = OnlineEngine(universe, library=library)
    some = sorted(batch_rows)[5]
    served = engine.indicators(some, AS_OF)
    assert served.origin == "batch"
    assert served.values == {i.id: batch_rows[some][i.id] for i in library.indicators}
    other_day = AS_OF - timedelta(days=1)  # no table for that date: computed, then memoised
    first = engine.indicators(some, other_day)
    assert first.origin == "computed"
    assert engine.indicators(some, other_day) is first
    engine.close()
