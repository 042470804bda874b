"""Point in time: data that arrives later never changes what was known on an earlier date.

Later rows are appended to a private copy of the universe — rows dated on the very first day they are
not yet known (the boundary), and later ones — in every source with a time field; the registration
snapshot is replaced by a later one whose changes (status, capital) are recorded in the change log.
The table of the earlier as-of must not move by one bit (batch and online), while a later as-of does
see the new data (so the test is not vacuous). Snapshots without history cannot be restored: a later
change of shareholders hides the shareholder indicators as of the earlier date (NULL) rather than
leak the later structure — the second test; the same holds for the legal representative's ID number.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from puhui.core.dates import add_months
from puhui.data.contracts import CONTRACTS
from puhui.data.rawzone import RawZone
from puhui.indicators.batch import run_batch
from puhui.indicators.library import Library, SourceKind
from puhui.indicators.online import OnlineEngine
from puhui.indicators.pit import anchor_month, known_by

from .conftest import copy_home

AS_OF = date(2026, 2, 28)
LATER = date(2026, 10, 31)


def _later_dates(kind: SourceKind, lag: int, n: int, rng: random.Random) -> list[date]:
    """Dates not yet known on AS_OF: the first unknown day/month (boundary) and a spread after it."""
    if kind is SourceKind.MONTHLY:
        first = add_months(anchor_month(AS_OF, lag), 1)
        return [add_months(first, 0 if i % 3 == 0 else rng.randint(1, 6)) for i in range(n)]
    first = known_by(AS_OF, lag) + timedelta(days=1)
    return [first if i % 3 == 0 else first + timedelta(days=rng.randint(1, 200)) for i in range(n)]


def _append_later_rows(home: Path, library: Library) -> int:
    rng = random.Random(5)
    zone = RawZone(home / "raw")
    appended = 0
    for source, spec in library.sources.items():
        # the change log is the history of the registration snapshot: a later change comes with a later
        # snapshot (see _later_registration), never on its own
        if spec.kind is SourceKind.SNAPSHOT or source == "registration_changes" or not zone.parts(source):
            continue
        table = pq.read_table(zone.folder(source))
        take = sorted(rng.sample(range(table.num_rows), min(400, table.num_rows)))
        rows = table.take(take).to_pylist()
        for r, d in zip(rows, _later_dates(spec.kind, spec.lag_days, len(rows), rng), strict=True):
            r[spec.time_field] = d
            for k in CONTRACTS[source].key:  # new identities where the key is an id
                if k.endswith("_id") and isinstance(r[k], str):
                    r[k] = r[k] + "L"
            if source == "public_records":
                r["removed_date"] = None
        zone.write_part(source, "later-00000", pa.Table.from_pylist(rows, schema=table.schema))
        appended += len(rows)
    return appended


def _later_registration(home: Path) -> None:
    """The register as cut later: some firms revoked, some renamed after AS_OF (with their log).

    (A later capital change is restored too — see test_dimensions — but also hides the shareholder
    structure, by design, so it is left out here.)
    """
    zone = RawZone(home / "raw")
    reg = pq.read_table(zone.folder("registration")).to_pylist()
    changes = []
    after = known_by(AS_OF, 1) + timedelta(days=1)
    active = [r for r in reg if r["status"] == "active" and r["founding_date"] < AS_OF]
    for i, r in enumerate(active[:60]):
        if i % 2 == 0:
            r["status"], r["status_date"] = "revoked", after + timedelta(days=i)
        else:
            changes.append({"uscc": r["uscc"], "seq": 5000 + i, "change_date": after + timedelta(days=i),
                            "change_item": "name", "before_value": r["name"],
                            "after_value": r["name"] + "新"})  # fmt: skip
            r["name"] = r["name"] + "新"
    for p in zone.parts("registration"):
        p.unlink()
    zone.write_part("registration", "cut-later", pa.Table.from_pylist(reg))
    zone.write_part("registration_changes", "later-names", pa.Table.from_pylist(changes))


def test_appending_later_data_never_changes_an_earlier_as_of(universe: Path, library: Library, tmp_path: Path) -> None:
    home = copy_home(universe, tmp_path / "pit")
    before = pq.read_table(run_batch(AS_OF, home=home, library=library).path)
    later_before = pq.read_table(run_batch(LATER, home=home, library=library).path)
    engine = OnlineEngine(home, library=library, use_batch=False)
    sample = random.Random(3).sample(before.column("uscc").to_pylist(), 6)
    online_before = {u: engine.compute(u, AS_OF).values for u in sample}

    assert _append_later_rows(home, library) > 5_000
    _later_registration(home)

    after = pq.read_table(run_batch(AS_OF, home=home, library=library, fresh=True).path)
    assert after.equals(before)  # bit for bit: values, types, order
    engine.refresh()  # the data changed: the serving store is rebuilt
    for u in sample:
        assert engine.compute(u, AS_OF).values == online_before[u]
    renamed = pq.read_table(home / "raw" / "registration_changes" / "later-names.parquet").to_pylist()[0]
    assert engine.identity(renamed["uscc"], AS_OF)["name"] == renamed["before_value"]
    engine.close()

    # not vacuous: an as-of after the new rows sees them
    later_after = pq.read_table(run_batch(LATER, home=home, library=library, fresh=True).path)
    assert not later_after.equals(later_before)
    revoked = pc.sum(pc.cast(later_after.column("reg_flag_inactive"), pa.int64())).as_py()
    assert revoked > pc.sum(pc.cast(later_before.column("reg_flag_inactive"), pa.int64())).as_py()


def test_a_later_shareholder_change_hides_the_structure_instead_of_leaking_it(
    universe: Path, library: Library, tmp_path: Path
) -> None:
    """The shareholder register has no history: once a later change is known, the as-of state is unknown (NULL)."""
    home = copy_home(universe, tmp_path / "sh")
    zone = RawZone(home / "raw")
    target = pq.read_table(zone.folder("registration_shareholders")).column("uscc")[0].as_py()
    engine = OnlineEngine(home, library=library, use_batch=False)
    assert engine.compute(target, AS_OF)["sh_count"] is not None
    change = {"uscc": target, "seq": 9000, "change_date": AS_OF + timedelta(days=10), "change_item": "shareholder",
              "before_value": "甲", "after_value": "乙"}  # fmt: skip
    zone.write_part("registration_changes", "later-shareholder", pa.Table.from_pylist([change]))
    engine.refresh()
    assert engine.compute(target, AS_OF)["sh_count"] is None
    assert engine.compute(target, AS_OF + timedelta(days=12))["sh_count"] is not None
    engine.close()
