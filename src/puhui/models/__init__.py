"""Credit models (信用评分模型): optimal binning, the WoE scorecard, the LightGBM challenger and metrics.

Public surface: `BinningConfig`, `FrozenBinning`, `fit_binning` (binning); `Scorecard`, `ScorecardConfig`
(scorecard); `GBMModel`, `GBMConfig` (challenger); `train_and_evaluate`, `TrainResult` (generic training);
`metrics` (AUC, KS, Gini, calibration, Jeffreys, lift/gain, PSI). Heavy imports (optbinning, LightGBM)
happen only when a model is fitted or loaded.
"""

from puhui.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "BinningConfig": "binning", "FrozenBinning": "binning", "fit_binning": "binning",
    "GBMConfig": "gbm", "GBMModel": "gbm",
    "Scorecard": "scorecard", "ScorecardConfig": "scorecard",
    "TrainResult": "train", "train_and_evaluate": "train",
    "metrics": "",
})
