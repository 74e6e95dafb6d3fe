"""The exit scores by name: one module per score in this package registers itself on import.

A fixed score (margin, maxprob, entropy) is one ExitScore. A fitted score (learned) registers how
to build its ExitScore from a bundle's fitted params: its features are fixed when the graph is
composed, its weights are graph inputs given per call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .base import ExitScore

_SCORES: dict[str, ExitScore] = {}


@dataclass(frozen=True)
class FittedScore:
    """A score whose graph depends on a bundle's fitted params (its learned-score file).

    `build(params)` returns its ExitScore, or None when the graph cannot compute those params (the
    service then scores such rows on the stage chain)."""

    name: str
    code: int
    build: Callable[[dict], ExitScore | None]


_FITTED: dict[str, FittedScore] = {}


def _check_new(name: str, code: int) -> None:
    if name in _SCORES or name in _FITTED:
        raise ValueError(f"score {name!r} is registered twice")
    taken = {s.code: s.name for s in [*_SCORES.values(), *_FITTED.values()]}
    if code in taken:
        raise ValueError(f"score {name!r}: code {code} is {taken[code]!r}'s")


def register_score(score: ExitScore) -> ExitScore:
    """Adds a score; its name and its `score_kind` code must be new."""
    _check_new(score.name, score.code)
    _SCORES[score.name] = score
    return score


def register_fitted(score: FittedScore) -> FittedScore:
    """Adds a fitted score; its name and its `score_kind` code must be new."""
    _check_new(score.name, score.code)
    _FITTED[score.name] = score
    return score


def exit_scores(fitted: Mapping[str, dict] | None = None) -> list[ExitScore]:
    """Every fixed score, and every fitted one whose params `fitted` gives (by name) and the graph can
    compute; by code (the order the graph selects them in)."""
    built = [f.build(fitted[f.name]) for f in _FITTED.values() if fitted and f.name in fitted]
    return sorted([*_SCORES.values(), *(s for s in built if s is not None)], key=lambda s: s.code)


def get_score(name: str) -> ExitScore:
    if name not in _SCORES:
        known = ", ".join(s.name for s in exit_scores())
        raise KeyError(
            f"unknown score {name!r}; known: {known}" + ("" if name not in _FITTED else " (fitted: build it)")
        )
    return _SCORES[name]


def score_codes() -> dict[str, int]:
    """name -> code in the graph's `score_kind` input, of every registered score (fixed and fitted)."""
    every = [(s.name, s.code) for s in _SCORES.values()] + [(f.name, f.code) for f in _FITTED.values()]
    return dict(sorted(every, key=lambda e: e[1]))
