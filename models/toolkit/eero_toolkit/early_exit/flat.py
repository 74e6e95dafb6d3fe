"""Every node of the early-exit graph, flat, each tagged with the segment it runs in.

A segment is the blocks between two compactions. Its rows (`prow`) are the rows that reached its
first exit; at a later exit inside it, `alive` marks those that have not left yet, and the exit's
outputs are compressed to them (small tensors only): the rows that left run on to the segment's
end, but the features never leave onnxruntime's blocked layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from onnx import ModelProto, TensorProto, helper

from .. import ToolkitError
from .builder import GraphBuilder
from .channels_last import NCHW_TO_NHWC, leading_transpose, to_channels_last
from .compaction import compacts
from .grant import grant
from .interface import OUTPUT_TYPES, OUTPUTS, batch_dim, local_name
from .scores import ExitScore, exit_scores
from .scores.graph import exit_score, select_score, top_k
from .stages import add_stage, gap_head

DBL_MIN = 2.2250738585072014e-308  # the smallest normal float64: entropy's floor under its log


def shared_constants(b: GraphBuilder, k: int) -> dict[str, str]:
    """The main graph's constants that the scores and the grant read."""
    return {
        "axis1": b.const(1, "int64"),
        "top_k": b.const(k, "int64"),
        "dbl_min": b.const(DBL_MIN, "float64", scalar=True),
        "axis0": b.const(0, "int64", scalar=True),
    }


@dataclass
class _Rows:
    """What one exit hands the next: the stage input and the rows it runs on."""

    x: str  # the features (the graph input at exit 1)
    transposed: bool  # x is already past the next stage's leading Transpose
    nhwc: bool  # x is channels-last
    prow: str  # the row ids of the segment's rows
    alive: str | None  # within a segment, after its first exit: which of its rows have not left
    credit: str
    history: dict[str, str]  # per score with history (ExitScore.history): its [rows, width] state, by name


def build_flat(
    stages: list[ModelProto],
    specs: list[dict],
    classes: int,
    channels_last: bool,
    macs: list[float] | None = None,
    compact: list[int] | None = None,
    scores: list[ExitScore] | None = None,
) -> GraphBuilder:
    """Every node, tagged with its level (the first exit of the segment it runs in: 1 = the main
    graph); the exits' outputs under their level-local names.

    `compact` names the exits after which the rows are compacted; by default compaction.compacts
    decides from the cumulative `macs` of the exits (every exit without them). `scores`: the exit
    scores the graph offers (the registry's by default)."""
    m, b = len(stages), GraphBuilder()
    if compact is not None and any(not 1 <= c < m for c in compact):
        raise ToolkitError(f"early exit: compaction exits must be in 1..{m - 1}, got {compact}")
    scores = exit_scores() if scores is None else scores
    g = shared_constants(b, top_k(scores))
    selection = select_score(b, scores)
    # Exit-major copies of the per-row inputs: one Gather per segment picks its rows, one per exit its column.
    noise_t = b.node("Transpose", ["noise"], 1, perm=[1, 0, 2])  # [M, batch, K]
    thresholds_t = b.node("Transpose", ["thresholds"], 1, perm=[1, 0])  # [M, batch]
    count = b.node("Squeeze", [b.node("Shape", ["input"], 1, end=1), b.const(0, "int64")], 1)
    prow = b.node(
        "Range",
        [b.const(0, "int64", scalar=True), count, b.const(1, "int64", scalar=True)],
        1,
        out=local_name(1, 1, "rows"),
    )
    rows = _Rows("input", False, False, prow, None, "credit", _start_history(b, scores))
    noise_seg, thresholds_seg, level = noise_t, thresholds_t, 1
    for l in range(1, m + 1):
        if l == b.levels[-1] and l > 1:  # a segment starts: its rows, noise and thresholds
            level = l
            rows.prow = b.node("Identity", [rows.prow], l, out=local_name(l, l, "rows"))  # a branch's own output
            noise_seg = b.node("Gather", [noise_t, rows.prow], l, axis=1)  # [M, rows, K]
            thresholds_seg = b.node("Gather", [thresholds_t, rows.prow], l, axis=1)  # [M, rows]
            rows.alive = None
        alive = rows.alive
        logits = local_name(level, l, "logits") if alive is None else f"l{level}/ee/logits{l}"
        graph, features_nhwc = (
            to_channels_last(stages[l - 1], rows.nhwc) if channels_last else (stages[l - 1].graph, False)
        )
        if not features_nhwc:
            copy = type(graph)()
            copy.CopyFrom(graph)
            gap_head(copy)
            graph = copy
        if l == level and l > 1 and not (rows.nhwc or rows.transposed) and _reads_input_beside_conv(graph):
            rows.x = blocked_entry(b, rows.x, level)
        features = add_stage(b, graph, specs[l - 1], l, level, logits, rows.x, rows.transposed)
        column = b.const(l - 1, "int64", scalar=True, level=level)
        noise = b.node("Gather", [noise_seg, column], level, axis=0)  # [rows, K]
        # The outputs: the segment's rows at its first exit; later in it, compressed to the alive ones.
        out = {kind: local_name(level, l, kind) if alive is None else f"l{level}/ee/{kind}{l}" for kind in OUTPUTS}
        scores_l, history = exit_score(b, selection, g, logits, noise, level, l, m, out["scores"], rows.history)
        rows.history.update(history)
        last = l == m
        leave = stay = None
        if not last:
            threshold = b.node("Gather", [thresholds_seg, column], level, axis=0)  # [rows]
            leave, stay, rows.credit = grant(b, g, scores_l, threshold, alive, rows.credit, l, level, out["leave"])
        if alive is not None:
            outputs = {"rows": rows.prow, "logits": logits, "scores": scores_l, "leave": leave}
            _compress_outputs(b, outputs, alive, level, l, classes)
        if last:
            _all_leave(b, level, l)
            break
        _left_here(b, level, l, classes)
        # The rows granted the step are the ones that go on (alive ones only).
        next_macs = None if macs is None else macs[l] - macs[l - 1]
        if not (l in compact if compact is not None else compacts(specs[l - 1], next_macs, features_nhwc)):
            # The next block runs on the same rows, in the same layout; `alive` tells which still count.
            rows.alive, rows.x, rows.transposed, rows.nhwc = stay, features, False, features_nhwc
            continue
        _compact(b, rows, stages, specs, features, features_nhwc, stay, level, l)
    return b


def _start_history(b: GraphBuilder, scores: list[ExitScore]) -> dict[str, str]:
    """Each row's history before exit 1 ([batch, width]) for each score that carries one; each is compacted
    with the rows and handed through the segments' Ifs under the name `hist_<score><exit>` (builder.carried)."""
    history = {}
    for s in scores:
        if s.history:
            width = len(s.history)
            scope = f"ee/{s.name}"
            rows = b.node("Shape", ["input"], 1, end=1, scope=scope)
            shape = b.node("Concat", [rows, b.const(width, "int64")], 1, axis=0, scope=scope)
            zero = helper.make_tensor("0", TensorProto.DOUBLE, [1], [0.0])
            zeros = b.node("ConstantOfShape", [shape], 1, value=zero, scope=scope)
            b.value_info.append(helper.make_tensor_value_info(zeros, TensorProto.DOUBLE, ["batch", width]))
            history[s.name] = b.node("Add", [zeros, b.const(list(s.history), "float64")], 1, scope=scope)
            b.carried[f"hist_{s.name}"] = width
    return history


def _reads_input_beside_conv(graph) -> bool:
    """Whether a node other than a Conv reads the stage's input (a residual Add: ResNet's identity shortcut)."""
    x = graph.input[0].name
    return any(x in n.input and n.op_type != "Conv" for n in graph.node)


def blocked_entry(b: GraphBuilder, x: str, level: int) -> str:
    """A 1x1 MaxPool of a segment's NCHW input: the identity, but one that onnxruntime runs in its blocked
    NCHWc layout (a ReorderInput and a copy). Its output counts as an NCHWc value, so the block's
    residual Add fuses into its last convolution as in full.onnx; read straight from the Compress, the
    residual stays NCHW and costs the block an unfused Add and Relu and two more reorders of the map."""
    return b.node("MaxPool", [x], level, kernel_shape=[1, 1], strides=[1, 1])


def _compress_outputs(b: GraphBuilder, outputs: dict, alive: str, level: int, l: int, classes: int) -> None:
    """Exit l's outputs inside a segment, compressed to the rows that have not left."""
    for kind, value in outputs.items():
        if value is not None:
            name = b.node("Compress", [value, alive], level, rows=l, axis=0, out=local_name(level, l, kind))
            shape = [batch_dim(l)] + ([classes] if kind == "logits" else [])
            b.value_info.append(helper.make_tensor_value_info(name, OUTPUT_TYPES[kind], shape))


def _all_leave(b: GraphBuilder, level: int, l: int) -> None:
    """The last exit takes every row that reached it."""
    leave = b.node(
        "ConstantOfShape",
        [b.node("Shape", [local_name(level, l, "rows")], level, rows=l)],
        level,
        rows=l,
        out=local_name(level, l, "leave"),
        value=helper.make_tensor("true", TensorProto.BOOL, [1], [True]),
    )
    b.value_info.append(helper.make_tensor_value_info(leave, TensorProto.BOOL, [batch_dim(l)]))


def _left_here(b: GraphBuilder, level: int, l: int, classes: int) -> None:
    """The rows that leave at exit l and their logits, for the summary outputs."""
    leave_out = local_name(level, l, "leave")
    left = b.node(
        "Compress", [local_name(level, l, "rows"), leave_out], level, axis=0, out=local_name(level, l, "left")
    )
    left_logits = b.node(
        "Compress", [local_name(level, l, "logits"), leave_out], level, axis=0, out=local_name(level, l, "left_logits")
    )
    left_scores = b.node(
        "Compress", [local_name(level, l, "scores"), leave_out], level, axis=0, out=local_name(level, l, "left_scores")
    )
    b.value_info += [
        helper.make_tensor_value_info(left, TensorProto.INT64, [f"left{l}"]),
        helper.make_tensor_value_info(left_logits, TensorProto.FLOAT, [f"left{l}", classes]),
        helper.make_tensor_value_info(left_scores, TensorProto.DOUBLE, [f"left{l}"]),
    ]


def _compact(
    b: GraphBuilder,
    rows: _Rows,
    stages: list[ModelProto],
    specs: list[dict],
    features: str,
    features_nhwc: bool,
    stay: str,
    level: int,
    l: int,
) -> None:
    """The rows that continue past exit l, compressed out of the features: the next segment's rows."""
    shape = [batch_dim(l + 1)] + list(specs[l - 1]["features"]["shape"][1:])
    perm = None if features_nhwc else leading_transpose(stages[l])
    if perm:
        features = b.node("Transpose", [features], level, perm=perm)
    if perm or features_nhwc:
        shape = [shape[p] for p in perm or NCHW_TO_NHWC]
    rows.nhwc = features_nhwc
    rows.x = b.node("Compress", [features, stay], level, rows=l + 1, axis=0, out=f"x{l + 1}")
    rows.transposed = bool(perm)
    rows.prow = b.node("Compress", [rows.prow, stay], level, rows=l + 1, axis=0, out=f"rows{l + 1}")
    rows.credit = b.node("Identity", [rows.credit], level, out=f"credit{l + 1}")  # handed to the next segment
    for name, history in rows.history.items():
        rows.history[name] = b.node(
            "Compress", [history, stay], level, rows=l + 1, axis=0, out=f"hist_{name}{l + 1}", scope=f"ee/{name}"
        )
        dims = [batch_dim(l + 1), b.carried[f"hist_{name}"]]
        b.value_info.append(helper.make_tensor_value_info(rows.history[name], TensorProto.DOUBLE, dims))
    # Shape inference cannot tell a Compress output's row count: state it, named, so that
    # inference carries the name through the next block.
    b.value_info += [
        helper.make_tensor_value_info(rows.x, TensorProto.FLOAT, shape),
        helper.make_tensor_value_info(rows.prow, TensorProto.INT64, [batch_dim(l + 1)]),
    ]
    b.node(
        "Greater",
        [b.node("Size", [rows.prow], level), b.const(0, "int64", scalar=True, level=level)],
        level,
        out=f"go{l + 1}",
    )
    b.levels.append(l + 1)
