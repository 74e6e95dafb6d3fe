"""The exit scores the early-exit graph computes, one module each, found and registered on import.

Adding a score is one module here that calls register_score (or register_fitted, for a score fitted
per bundle) and the matching Scorer in src/router on the service's side, under the same name and
code."""

import importlib
import os
import pkgutil

from .base import ExitScore, GraphInput, ScoreContext
from .registry import FittedScore, exit_scores, get_score, register_fitted, register_score, score_codes

_INFRASTRUCTURE = {"base", "registry", "graph"}
for _module in pkgutil.iter_modules([os.path.dirname(__file__)]):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ExitScore",
    "FittedScore",
    "GraphInput",
    "ScoreContext",
    "exit_scores",
    "get_score",
    "register_fitted",
    "register_score",
    "score_codes",
]
