"""puhui.decisioning: scenarios as data, CEL rules, limits, pricing, decisions, pre-approval and their records.

Public surface (lazy: importing the package loads nothing heavy):

* Scenarios (`scenario`) — `Scenario`, `parse_scenario`, `load_scenarios`, `policy_version`, `model_features`,
  `SCENARIOS_DIR`, `CONTEXT_NAMES`, `CONSENT_PURPOSES`, `ScenarioError`.
* Engine (`engine`, pure) — `Facts`, `ModelResult`, `RuleResult`, `Reason`, `Offer`, `Decision`, `decide`,
  `decide_frame`, `grade_for`; limits (`compute_limit`) and pricing (`price`, `all_in_apr`).
* Facts and scores (`facts`, `scoring`) — `facts_for`, `chain_facts`, `chain_context`, `facts_frame`,
  `facts_from_row`, `score_facts`.
* Records, policies, portfolio, arms, pre-approval, backtest (the records modules).
"""

from puhui.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "CONSENT_PURPOSES": "scenario", "CONTEXT_NAMES": "scenario", "SCENARIOS_DIR": "scenario",
    "Scenario": "scenario", "ScenarioError": "scenario", "load_scenarios": "scenario",
    "model_features": "scenario", "parse_scenario": "scenario", "policy_version": "scenario",
    "Decision": "engine", "Facts": "engine", "ModelResult": "engine", "Offer": "engine", "Reason": "engine",
    "RuleResult": "engine", "decide": "engine", "decide_frame": "engine", "grade_for": "engine",
    "LimitResult": "limits", "compute_limit": "limits",
    "Price": "pricing", "all_in_apr": "pricing", "price": "pricing",
    "chain_context": "facts", "chain_facts": "facts", "facts_for": "facts", "facts_frame": "facts",
    "facts_from_row": "facts",
    "score_facts": "scoring",
})
