"""What an exit score declares: its name, its code in the graph's `score_kind` input, and how the
early-exit graph computes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..builder import GraphBuilder


@dataclass(frozen=True)
class GraphInput:
    """An input the early-exit graph gains for a score (a learned score's per-exit weights).

    `key` is its name in the manifest's `earlyExit.inputs`; in `dims`, the string "exits" stands for
    the number of exits and "batch" for the row count."""

    key: str
    name: str
    elem_type: int
    dims: tuple[int | str, ...]


@dataclass(frozen=True)
class ScoreContext:
    """What a score's subgraph reads at one exit, and where its nodes go.

    `probs` is float64 [rows, K]: softmax(logits / temperature) plus the tie noise, as
    src/router/scores.ts scores a row; `constants` are the graph's shared constants (see
    flat.shared_constants); a score's own inputs (ExitScore.inputs) are read by their names."""

    builder: GraphBuilder
    level: int
    exit: int  # 1-based
    exits: int
    logits: str
    probs: str
    constants: Mapping[str, str]
    # The shared TopK of `probs` (its `top_k` values largest first, their classes; the lower class
    # first on a tie), when the graph has top-k scores; None otherwise.
    top_values: str | None = None
    top_indices: str | None = None
    top_k: int = 0
    # A score with history: its per-row state after the previous exit, float64 [rows, columns]
    # (ExitScore.history before exit 1).
    history: str | None = None

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        return self.builder.node(op, inputs, self.level, **attrs)

    def const(self, value, dtype: str, scalar: bool = False) -> str:
        return self.builder.const(value, dtype, scalar=scalar, level=self.level)


@dataclass(frozen=True)
class ExitScore:
    """One exit score of the service's Scorer registry (src/router/scorers), as the early-exit graph
    computes it: `name` is the Scorer's name and `code` its graphCode (a host-only Scorer has none
    and no entry here).

    Exactly one of:
    - `top_k_weights`: the score is a linear form of the row's largest noisy probabilities, sorted
      (margin: top1 - top2). All such scores share one TopK and one MatMul per exit, whose weight
      row `score_kind` selects.
    - `subgraph`: builds the score of every row (float64 [rows]) from a ScoreContext.

    `inputs` are graph inputs the score needs (given per call, e.g. per-exit weights).
    `history`: the float64 values per row the score carries from exit to exit (what each row saw
    at its earlier exits: the service's ExitHistory), as they are before exit 1. The composer starts
    every row with them, compacts them with the rows and hands them through the segments' Ifs as it
    does the row ids (flat.py); such a score's subgraph reads them as `ctx.history` and returns
    (score, history after this exit)."""

    name: str
    code: int
    top_k_weights: tuple[float, ...] | None = None
    subgraph: Callable[[ScoreContext], str | tuple[str, str]] | None = None
    inputs: tuple[GraphInput, ...] = ()
    history: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if (self.top_k_weights is None) == (self.subgraph is None):
            raise ValueError(f"score {self.name!r}: give exactly one of top_k_weights and subgraph")
        if self.history and self.subgraph is None:
            raise ValueError(f"score {self.name!r}: a score with history needs a subgraph")
