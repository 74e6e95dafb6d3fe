"""Every registered score in the one graph, and `score_kind` picking one per call.

Per exit: p = Softmax(z / T) of the logits cast to float64: onnxruntime subtracts the row maximum,
exponentiates, sums and divides, as softmaxRow does; at T = 1 the argument is the same z - max, at
other temperatures z / T - max / T differs from (z - max) / T by an ulp. q = p + noise. The top-k
scores share one TopK of q (top2 = top1 on a tie, as scoreProbs finds them) and one MatMul with the
weight row `score_kind` picks (margin [1, -1], maxprob [1, 0]: top1 - top2 and top1 - 0 exactly);
each subgraph score is built, and a Where per subgraph score picks the one asked for.

TopK must never see zero rows (onnxruntime's CPU TopK dies of a division by zero, SIGFPE): every
segment after the first runs in an If on "some row reached it", and an empty batch is never run
(src/engine/early-exit-graph.ts returns before it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from onnx import TensorProto

from ..builder import GraphBuilder
from .base import ExitScore, ScoreContext


@dataclass(frozen=True)
class ScoreSelection:
    """The main graph's values that pick a score from `score_kind`."""

    subgraph: list[ExitScore]  # built at every exit, by code
    is_kind: dict[str, str]  # subgraph score -> bool "score_kind is its code"
    top_weights: str | None  # the weight row of the top-k scores score_kind picks
    k: int  # how many of the largest probabilities the shared TopK gives


def top_k(scores: list[ExitScore]) -> int:
    """How many of the largest probabilities the top-k scores read."""
    return max((len(s.top_k_weights) for s in scores if s.top_k_weights), default=1)


def select_score(b: GraphBuilder, scores: list[ExitScore]) -> ScoreSelection:
    """The nodes, in the main graph, that turn `score_kind` into the selection."""
    subgraph = [s for s in scores if s.subgraph]
    linear = [s for s in scores if s.top_k_weights]
    # Without top-k scores the last subgraph score is the fallback: it needs no test of its own.
    tested = subgraph if linear else subgraph[:-1]
    is_kind = {s.name: b.node("Equal", ["score_kind", b.const(s.code, "int64")], 1) for s in tested}
    k = top_k(scores)
    return ScoreSelection(subgraph, is_kind, _weights(b, linear, k) if linear else None, k)


def _weights(b: GraphBuilder, linear: list[ExitScore], k: int) -> str:
    """Where(kind is the first, its weights, Where(kind is the second, ..., the last one's weights))."""
    weights = list(linear[0].top_k_weights) + [0.0] * (k - len(linear[0].top_k_weights))
    if len(linear) == 1:
        return b.const(weights, "float64")
    is_first = b.node("Equal", ["score_kind", b.const(linear[0].code, "int64")], 1)
    first = b.const(weights, "float64")
    return b.node("Where", [is_first, first, _weights(b, linear[1:], k)], 1)


def exit_score(
    b: GraphBuilder,
    selection: ScoreSelection,
    constants: dict[str, str],
    logits: str,
    noise: str,
    level: int,
    exit_no: int,
    exits: int,
    out: str,
    history: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """float64 scores of one exit's rows, named `out`, as the service scores them (src/router/scores.ts),
    and the history of each score that carries one (ExitScore.history), after this exit. `history`:
    each such score's history after the previous exit, by name."""

    def n(op: str, ins: list[str], **kw):
        return b.node(op, ins, level, **kw)

    z = n("Cast", [logits], to=TensorProto.DOUBLE)
    probs = n("Add", [n("Softmax", [n("Div", [z, "temperature"])], axis=1), noise])
    score = values = indices = None
    if selection.top_weights is not None:
        values, indices = n("TopK", [probs, constants["top_k"]], axis=1, outputs=2)  # [rows, k], largest first
        score = n("MatMul", [values, selection.top_weights])
    ctx = ScoreContext(b, level, exit_no, exits, logits, probs, constants, values, indices, selection.k)
    built, after = [], {}
    for s in selection.subgraph:
        if s.history:
            value, after[s.name] = s.subgraph(replace(ctx, history=(history or {})[s.name]))
        else:
            value = s.subgraph(ctx)
        built.append((s, value))
    if score is None:
        score = built.pop()[1]
    for i, (s, value) in reversed(list(enumerate(built))):
        kw = {"out": out} if i == 0 else {}
        score = n("Where", [selection.is_kind[s.name], value, score], scope=f"ee/{s.name}", **kw)
    return (score if score == out else n("Identity", [score], out=out)), after
