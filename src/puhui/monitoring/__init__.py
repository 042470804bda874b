"""puhui.monitoring: centralised off-site monitoring (风险集中监测) with tiered early warnings (分层预警).

What this package offers (everything not listed in `__all__` is private):

* **Signals** (`signals`, pure) — `signals.yaml` as data: each signal reads one indicator and crosses a
  threshold per tier (yellow 关注 → orange 压降 → red 冻结); `load_signals` validates the file (errors name the
  file and the field), `evaluate_frame` runs every signal over a batch indicator table at once,
  `evaluate_one` over one enterprise's indicator dict.
* **Contagion** (`contagion`, pure) — `contagion_warnings`: a distressed core enterprise warns each
  exposed chain member, tier by dependence × core severity (thresholds in `signals.yaml`).
* **Service** (`service`) — `run_monitoring(engine, home, as_of)`: signals and contagion on the exposed
  portfolio (or everyone), alerts deduplicated across re-runs, and the tier's action (red freezes the
  enterprise's open credit lines through lending, once); `do_acknowledge`, `do_close`, `do_flag`;
  `list_alerts`, `get_alert`, and for other packages `open_alerts(engine, uscc)` and
  `worst_open_tier(engine, uscc)`. **API** (`api.router`, `/v1/alerts`) and **CLI** (`cli.monitor_app`,
  `puhui monitor run | alerts | show | ack | close | flag`) sit on it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Catalogue": "signals", "ContagionRule": "signals", "Hit": "signals", "Signal": "signals", "Tier": "signals",
    "TierSpec": "signals", "default_catalogue": "signals", "evaluate_frame": "signals", "evaluate_one": "signals",
    "load_signals": "signals", "worst_tier": "signals",
    "CoreDistress": "contagion", "MemberWarning": "contagion", "contagion_warnings": "contagion",
    "RunReport": "service", "do_acknowledge": "service", "do_close": "service", "do_flag": "service",
    "exposure": "service", "get_alert": "service", "list_alerts": "service", "open_alerts": "service",
    "run_monitoring": "service", "worst_open_tier": "service",
}  # fmt: skip

__all__ = [
    "Catalogue", "ContagionRule", "CoreDistress", "Hit", "MemberWarning", "RunReport", "Signal", "Tier", "TierSpec",
    "contagion_warnings", "default_catalogue", "do_acknowledge", "do_close", "do_flag", "evaluate_frame",
    "evaluate_one", "exposure", "get_alert", "list_alerts", "load_signals", "open_alerts", "run_monitoring",
    "worst_open_tier", "worst_tier",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing the package (e.g. for `worst_open_tier`) does not load pandas or DuckDB.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'puhui.monitoring' has no attribute {name!r}")
    return getattr(import_module(f"puhui.monitoring.{module}"), name)


def __dir__() -> list[str]:
    return __all__
