"""entropy: sum q log q of the noisy probabilities q, the negated entropy (src/router/scorers/entropy.ts)."""

from .base import ExitScore, ScoreContext
from .registry import register_score


def negated_entropy(ctx: ScoreContext) -> str:
    """sum q log(max(q, DBL_MIN)): q = 0 adds 0 as in entropyScorer, and a q below the smallest normal
    double adds nothing visible to a sum of probabilities."""
    q, c = ctx.probs, ctx.constants
    log_q = ctx.node("Log", [ctx.node("Max", [q, c["dbl_min"]])])
    return ctx.node("ReduceSum", [ctx.node("Mul", [q, log_q]), c["axis1"]], keepdims=0)


ENTROPY = register_score(ExitScore(name="entropy", code=2, subgraph=negated_entropy))
