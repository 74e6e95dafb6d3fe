"""The ledger's step-by-step grant in the graph (src/router/ledger.ts PoolSpender on the stage chain)."""

from __future__ import annotations

from onnx import TensorProto

from .builder import GraphBuilder


def grant(
    b: GraphBuilder,
    g: dict[str, str],
    scores: str,
    threshold: str,
    alive: str | None,
    credit: str,
    l: int,
    level: int,
    leave_name: str,
) -> tuple[str, str, str]:
    """Exit l's leave mask, the rows granted the step (those that go on: a subset of `alive`), and the
    credit left after it.

    The rows that want to go on (score below their threshold; `alive` ones only), in row order, are
    each granted the step to the next exit, cost[l + 1] - cost[l] (input `steps`), while the credit
    pays it; the rest leave here, forced. The first i + 1 of them fit when (i + 1) x step <= credit,
    the credit being what the batch's pool holds after every row paid exit 1, plus the ledger's
    rounding slack (input `credit`; +inf when the pool covers every row to the end, and then nothing
    is forced). For a row that wants, i + 1 is the inclusive running count of the rows that want."""

    def n(op: str, ins: list[str], **kw) -> str:
        return b.node(op, ins, level, **kw)

    want = n("Not", [n("GreaterOrEqual", [scores, threshold])])
    if alive is not None:
        want = n("And", [alive, want])
    count = n("CumSum", [n("Cast", [want], to=TensorProto.DOUBLE), g["axis0"]])  # [rows]: i + 1 where wanted
    step = n("Gather", ["steps", b.const(l - 1, "int64", scalar=True, level=level)], axis=0)  # scalar
    granted = n("And", [want, n("GreaterOrEqual", [credit, n("Mul", [count, step])])])
    leave = n("Not", [granted], out=leave_name)
    spent = n("Mul", [n("ReduceSum", [n("Cast", [granted], to=TensorProto.DOUBLE)], keepdims=1), step])  # [1]
    return leave, granted, n("Sub", [credit, spent])
