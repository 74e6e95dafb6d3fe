"""maxprob: top1 of the noisy probabilities (src/router/scorers/maxprob.ts); top1 - 0 x top2, exactly top1."""

from .base import ExitScore
from .registry import register_score

MAXPROB = register_score(ExitScore(name="maxprob", code=1, top_k_weights=(1.0, 0.0)))
