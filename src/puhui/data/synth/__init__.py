"""The synthetic SME universe: a deterministic, seeded generator of every enterprise-side source (and,
through the property helper, the property database) into the Parquet raw zone, with the hidden truth —
health, true monthly default hazards, forward PDs, defaults — beside it for evaluation only.

Entry point: `run_synth(SynthConfig(...), home=..., fresh=..., console=...)` (the `puhui synth` command).
Modules: `config` (settings and fingerprint), `vocab` (industries, names, calendars), `geography` (shared
cities), `health` (the hidden process and calibration), `globalstage` (shocks and core enterprises,
persisted), `universe` (one chunk's firms, chain ties, health and business volume), `src_*` (one builder per
source), `truth` (evaluation tables), `ids`/`names`/`arrowkit` (vectorised identifiers, names, columns),
`runner` (manifest, markers, progress, resume), `property` (the property database, another module owner).
"""

from puhui.data.synth.config import SynthConfig

__all__ = ["SynthConfig", "run_synth"]


def __getattr__(name: str):  # lazy: importing the package stays cheap
    if name == "run_synth":
        from puhui.data.synth.runner import run_synth

        return run_synth
    raise AttributeError(name)
