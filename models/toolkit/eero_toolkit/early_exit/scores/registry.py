"""The exit scores by name: one module per score in this package registers itself on import."""

from __future__ import annotations

from .base import ExitScore

_SCORES: dict[str, ExitScore] = {}


def register_score(score: ExitScore) -> ExitScore:
    """Adds a score; its name and its `score_kind` code must be new."""
    if score.name in _SCORES:
        raise ValueError(f"score {score.name!r} is registered twice")
    taken = {s.code: s.name for s in _SCORES.values()}
    if score.code in taken:
        raise ValueError(f"score {score.name!r}: code {score.code} is {taken[score.code]!r}'s")
    _SCORES[score.name] = score
    return score


def exit_scores() -> list[ExitScore]:
    """Every registered score, by code (the order the graph selects them in)."""
    return sorted(_SCORES.values(), key=lambda s: s.code)


def get_score(name: str) -> ExitScore:
    if name not in _SCORES:
        raise KeyError(f"unknown score {name!r}; known: {', '.join(s.name for s in exit_scores())}")
    return _SCORES[name]


def score_codes() -> dict[str, int]:
    """name -> code in the graph's `score_kind` input."""
    return {s.name: s.code for s in exit_scores()}
