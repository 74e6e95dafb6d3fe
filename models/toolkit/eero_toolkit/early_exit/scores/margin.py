"""margin: top1 - top2 of the noisy probabilities (src/router/scorers/margin.ts)."""

from .base import ExitScore
from .registry import register_score

MARGIN = register_score(ExitScore(name="margin", code=0, top_k_weights=(1.0, -1.0)))
