"""learned: the log-odds of a per-exit logistic model over the exit history (src/router/scorers/learned.ts).

The features are the service's (src/router/learned/features.ts), computed in float64 from the noisy
probabilities q and the row's history, each as the service computes it, so that every feature is
the router's double (up to the last bits of onnxruntime's exp and log):

- S, the exit's statistics: one MatMul of the two largest q [top1, top2] by a matrix of 0, 1 and -1,
  then * scale + offset, column by column: 1 (0 x top1 + 0 x top2, x 0, + 1), top1 - top2,
  1 - (top1 - top2) (as -(top1 - top2) + 1), top1, top2, 1 - top1. A product by 0, 1 or -1 is
  exact and a sum with zeros adds nothing, so each column is one rounding of the same operation
  as the router's. L = slog(S) = log(max(S, 0) + 1e-6), elementwise.
- the history features (agreement with the previous exit, the streak, the earlier margins), from
  the history each row carries.
- X = Base x Sel, one MatMul of the concatenated columns by a 0/1/-1 matrix that picks each
  feature (logGap = L[top1] - L[top2]: one rounding, as slog(top1) - slog(top2)), in the params'
  order, after a first column of ones.

z = bias + w[0] x[0] + w[1] x[1] + ... is added left to right as learnedScore adds it: the products
in one Mul of X = [1, x...] by the exit's row [bias, w...] of the graph input `learned_weights`, then
a CumSum along them (a running sum, one addition after another: a MatMul or a ReduceSum may add in
another order). The weights are an input, so a refit with the same features needs no recomposition.

History: per row, after each exit, what the service's RowState keeps (src/router/policy.ts): the
prediction (-1 before exit 1), the streak of exits that agreed on it, the margin, the largest and
the sum of the margins so far; only the columns the features read are carried. The last exit's
score is +inf: it takes every row that reaches it. An MLP's params are not computed in the graph
(build returns None: the service then scores them on the stage chain)."""

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto, helper

from ... import ToolkitError
from ..interface import batch_dim
from .base import ExitScore, GraphInput, ScoreContext
from .registry import FittedScore, register_fitted

LOG_EPS = 1e-6  # features.ts LOG_EPS: slog(x) = log(max(x, 0) + 1e-6)
SCOPE = "ee/learned"  # the nodes' name prefix (benchmarks/learned-graph.ts sums their time in profiles)
# S's columns: (coefficient of top1, of top2, scale, offset).
STATS = {
    "one": (0.0, 0.0, 0.0, 1.0),
    "margin": (1.0, -1.0, 1.0, 0.0),
    "oneMinusMargin": (1.0, -1.0, -1.0, 1.0),
    "top1": (1.0, 0.0, 1.0, 0.0),
    "top2": (0.0, 1.0, 1.0, 0.0),
    "oneMinusTop1": (1.0, 0.0, -1.0, 1.0),
}
# Each feature as a sum of (block, column, coefficient): S and L above; E the negated entropy; A the
# exit's history features; H the history after the previous exit.
FEATURES = {
    "margin": [("S", "margin", 1.0)],
    "logMargin": [("L", "margin", 1.0)],
    "log1mMargin": [("L", "oneMinusMargin", 1.0)],
    "logGap": [("L", "top1", 1.0), ("L", "top2", -1.0)],
    "maxprob": [("S", "top1", 1.0)],
    "log1mMaxprob": [("L", "oneMinusTop1", 1.0)],
    "negEntropy": [("E", "negEntropy", 1.0)],
    "agree": [("A", "agree", 1.0)],
    "streak": [("A", "streak", 1.0)],
    "prevMargin": [("H", "margin", 1.0)],
    "maxPrevMargin": [("H", "maxMargin", 1.0)],
    "meanPrevMargin": [("A", "meanPrevMargin", 1.0)],  # no term at exit 1: the feature is 0 there
}
# The history columns, in RowState's order, their values before exit 1, and the features that read each.
HISTORY = {"prediction": -1.0, "streak": 0.0, "margin": 0.0, "maxMargin": 0.0, "sumMargin": 0.0}
READS = {
    "agree": ("prediction",),
    "streak": ("prediction", "streak"),
    "prevMargin": ("margin",),
    "maxPrevMargin": ("maxMargin",),
    "meanPrevMargin": ("sumMargin",),
}


def history_columns(features: list[str]) -> tuple[str, ...]:
    return tuple(c for c in HISTORY if any(c in READS.get(f, ()) for f in features))


class _Exit:
    """One exit's blocks of columns, each [rows, n] float64, built from the features it must give."""

    def __init__(self, ctx: ScoreContext, features: list[str], columns: tuple[str, ...]):
        self.ctx, self.features, self.columns = ctx, features, columns
        self.blocks: dict[str, tuple[str, list[str]]] = {}  # name -> (tensor, its column names)

    def n(self, op: str, ins: list[str], **kw) -> str:
        return self.ctx.node(op, ins, scope=SCOPE, **kw)

    def c(self, value, scalar: bool = True) -> str:
        return self.ctx.const(value, "float64", scalar=scalar)

    def column(self, matrix: str, j: int) -> str:
        return self.n("Gather", [matrix, self.ctx.const([j], "int64")], axis=1)

    def terms(self) -> list[list[tuple[str, str, float]]]:
        """X's columns: the ones (for the bias), then each feature's terms at this exit."""
        first = self.ctx.exit == 1
        return [[("S", "one", 1.0)]] + [[] if f == "meanPrevMargin" and first else FEATURES[f] for f in self.features]

    def build_blocks(self) -> None:
        ctx, terms = self.ctx, [t for col in self.terms() for t in col]
        wanted = {"one", *(c for b, c, _ in terms if b in "SL"), *(["margin"] if self.margins() else [])}
        stats = [s for s in STATS if s in wanted]
        values, k = ctx.top_values, ctx.top_k
        if values is None:
            values, k = self.n("TopK", [ctx.probs, ctx.const(2, "int64")], axis=1, outputs=2)[0], 2
        rows = [[STATS[s][0] for s in stats], [STATS[s][1] for s in stats]] + [[0.0] * len(stats)] * (k - 2)
        coefficients = self.c(rows, scalar=False)
        scale, offset = (self.c([STATS[s][i] for s in stats], scalar=False) for i in (2, 3))
        s = self.n("Add", [self.n("Mul", [self.n("MatMul", [values, coefficients]), scale]), offset])
        self.blocks["S"] = (s, stats)
        if any(b == "L" for b, _, _ in terms):
            log = self.n("Log", [self.n("Add", [self.n("Max", [s, self.c(0.0)]), self.c(LOG_EPS)])])
            self.blocks["L"] = (log, stats)
        if any(b == "E" for b, _, _ in terms):
            self.blocks["E"] = (self.neg_entropy(), ["negEntropy"])
        history = {"H": (ctx.history, list(self.columns))} if self.columns else {}
        own = {}
        if "prediction" in self.columns:
            indices = ctx.top_indices
            if indices is None:
                indices = self.n("TopK", [ctx.probs, ctx.const(2, "int64")], axis=1, outputs=2)[1]
            # The lower class first on a tie, as argmax finds it.
            self.prediction = self.n("Cast", [self.column(indices, 0)], to=TensorProto.DOUBLE)
            self.agrees = self.n("Equal", [self.prediction, self.past("prediction")])
            if any(c == "agree" for _, c, _ in terms):
                own["agree"] = self.n("Cast", [self.agrees], to=TensorProto.DOUBLE)
        if "streak" in self.columns:
            one = self.c(1.0)
            own["streak"] = self.n("Where", [self.agrees, self.n("Add", [self.past("streak"), one]), one])
        if any(c == "meanPrevMargin" for _, c, _ in terms):
            own["meanPrevMargin"] = self.n("Div", [self.past("sumMargin"), self.c(float(ctx.exit - 1))])
        for name, value in own.items():
            self.blocks[name] = (value, [name])
        self.blocks.update(history)

    def margins(self) -> bool:
        """Whether the history keeps this exit's margin (itself, the largest or the sum)."""
        return any(c in self.columns for c in ("margin", "maxMargin", "sumMargin"))

    def past(self, name: str) -> str:
        return self.column(self.ctx.history, self.columns.index(name))

    def neg_entropy(self) -> str:
        """sum over c ascending of q log q for q > 0: a running sum over the classes (CumSum), its last column."""
        q = self.ctx.probs
        terms = self.n(
            "Where", [self.n("Greater", [q, self.c(0.0)]), self.n("Mul", [q, self.n("Log", [q])]), self.c(0.0)]
        )
        return self.column(self.n("CumSum", [terms, self.ctx.const(1, "int64", scalar=True)]), -1)

    def features_matrix(self) -> str:
        """X = [1, x...]: the blocks side by side, times the 0/1/-1 matrix that picks each feature."""
        names = list(self.blocks)
        offsets, width = {}, 0
        for name in names:
            offsets[name] = width
            width += len(self.blocks[name][1])
        terms = self.terms()
        pick = np.zeros((width, len(terms)))
        for j, col in enumerate(terms):
            for block, column, coefficient in col:
                key = column if block == "A" else block
                pick[offsets[key] + self.blocks[key][1].index(column), j] = coefficient
        base = self.n("Concat", [self.blocks[name][0] for name in names], axis=1)
        return self.n("MatMul", [base, self.c(pick, scalar=False)])

    def next_history(self) -> str:
        """RowState after this exit (decideScored, advanceMargins in src/router/policy.ts)."""
        s, stats = self.blocks["S"]
        margin = self.column(s, stats.index("margin")) if self.margins() else None
        after = {
            "prediction": lambda: self.prediction,
            "streak": lambda: self.blocks["streak"][0],
            "margin": lambda: margin,
            "maxMargin": lambda: self.n("Max", [self.past("maxMargin"), margin]),  # max(0, m) = m at exit 1: m >= 0
            "sumMargin": lambda: self.n("Add", [self.past("sumMargin"), margin]),  # 0 + m = m at exit 1
        }
        return self.n("Concat", [after[c]() for c in self.columns], axis=1)


def _infinite(ctx: ScoreContext) -> str:
    shape = ctx.node("Shape", [ctx.probs], scope=SCOPE, end=1)
    value = helper.make_tensor("inf", TensorProto.DOUBLE, [1], [math.inf])
    out = ctx.node("ConstantOfShape", [shape], scope=SCOPE, value=value)
    ctx.builder.value_info.append(helper.make_tensor_value_info(out, TensorProto.DOUBLE, [batch_dim(ctx.level)]))
    return out


def learned_subgraph(features: list[str]):
    columns = history_columns(features)

    def build(ctx: ScoreContext) -> str | tuple[str, str]:
        if ctx.exit == ctx.exits:  # the last exit takes the rest
            return (_infinite(ctx), ctx.history) if columns else _infinite(ctx)
        e = _Exit(ctx, features, columns)
        e.build_blocks()
        row = e.n("Gather", ["learned_weights", ctx.const(ctx.exit - 1, "int64", scalar=True)], axis=0)
        sums = e.n("CumSum", [e.n("Mul", [e.features_matrix(), row]), ctx.const(1, "int64", scalar=True)])
        z = e.n("Gather", [sums, ctx.const(len(features), "int64", scalar=True)], axis=1)  # [rows]
        return (z, e.next_history()) if columns else z

    return build


def build_learned(params: dict) -> ExitScore | None:
    """The learned ExitScore for a bundle's params (its features fixed in the graph); None for an MLP."""
    if params.get("kind") != "logistic":
        return None
    features = list(params["features"])
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ToolkitError(f"learned score: features {unknown} unknown (known: {', '.join(FEATURES)})")
    weights = GraphInput("learnedWeights", "learned_weights", TensorProto.DOUBLE, ("exits-1", len(features) + 1))
    return ExitScore(
        name="learned",
        code=3,
        subgraph=learned_subgraph(features),
        inputs=(weights,),
        history=tuple(HISTORY[c] for c in history_columns(features)),
    )


LEARNED = register_fitted(FittedScore(name="learned", code=3, build=build_learned))
