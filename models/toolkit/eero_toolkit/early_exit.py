"""early-exit.onnx: the whole multi-exit network as one graph that routes rows in-graph.

Composed from the bundle's stage graphs (their weights unchanged, bit for bit), so the service runs
a whole early-exit batch in one onnxruntime call. Interface: models/FORMAT.md "early-exit.onnx".

Per exit l: the stage's nodes, the score of each row in float64 as src/router/scores.ts computes it
(softmax, tie noise added to the probabilities, then margin / maxprob / entropy; see _scores), and
the decision `score >= thresholds[row, l]`, and the ledger's grant: the rows below their threshold
go on, in row order, while the batch's credit pays their step to the next exit (_grant). The rows
that continue are compacted (`Compress`, axis 0, of the features and row ids) after the exits where
that pays (_compacts): a compaction costs onnxruntime a layout round trip of the feature map (its
blocked NCHWc layout must come back to NCHW for Compress), so after an exit without one the next
block runs on the same rows, the rows that left included, and only the exit's small outputs are
compressed to the rows still there. Each
segment (the blocks between compactions) after the first runs in the then-branch of an `If` on
"some row reached it": without it, a batch whose rows have all left still runs every later kernel
on zero rows (measured: ~1.5 ms of empty ConvNeXt blocks at batch 1). ConvNeXt features stay NHWC
between blocks (see _to_channels_last); exit heads over NCHW maps average with GlobalAveragePool,
which reads the blocked layout (see _gap_head). The summary outputs (every row's exit and logits in
three tensors) let a reader that only routes fetch three outputs instead of four per exit.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from . import ToolkitError

OPSET = 17
SCORE_KINDS = {"margin": 0, "maxprob": 1, "entropy": 2}
INPUTS = {"input": "input", "thresholds": "thresholds", "temperature": "temperature", "noise": "noise",
          "scoreKind": "score_kind", "credit": "credit", "steps": "steps"}
OUTPUTS = {"rows": "exit{l}_rows", "logits": "exit{l}_logits", "scores": "exit{l}_scores", "leave": "exit{l}_leave"}
OUTPUT_TYPES = {"rows": 7, "logits": 1, "scores": 11, "leave": 9}  # onnx TensorProto: INT64, FLOAT, DOUBLE, BOOL
# Every row's exit and logits in three outputs (models/FORMAT.md): the rows in the order they left, exit by
# exit, how many left at each exit, and their logits there. A reader that routes needs only these.
SUMMARY = {"rows": "left_rows", "counts": "left_counts", "logits": "left_logits"}
# Per exit l < M, inside its segment: the rows that leave there and their logits (for the summary).
_LEFT = {"left": "left{l}_rows", "left_logits": "left{l}_logits"}


def batch_dim(exit_no: int) -> str:
    """The symbolic row count of the rows that reach exit `exit_no` (1-based)."""
    return "batch" if exit_no == 1 else f"n{exit_no}"


def local_name(level: int, exit_no: int, kind: str) -> str:
    """Exit `exit_no`'s output `kind` in the graph of level `level` (1 = the main graph, f: the
    then-branch of the If of the segment that starts at exit f). Names must be unique across a graph
    and its subgraphs (ONNX's SSA rule), so only the main graph uses the interface names."""
    name = {**OUTPUTS, **_LEFT}[kind].format(l=exit_no)
    return name if level == 1 else f"l{level}/{name}"


class _Builder:
    """Nodes and initializers tagged with the graph they run in (level l: block l's If, 1: the main
    graph) and, per value, the exit whose row count leads its shape."""

    def __init__(self):
        self.nodes: List[Tuple[int, object]] = []
        self.initializers: List[Tuple[int, object]] = []
        self.value_info: List[object] = []
        self.rows_of: Dict[str, int] = {}
        self.levels: List[int] = [1]  # the first exit of each segment
        self._count = 0

    def node(self, op: str, inputs: List[str], level: int, rows: Optional[int] = None, out: Optional[str] = None,
             outputs: int = 1, **attrs):
        from onnx import helper

        self._count += 1
        names = [out] if out else [f"ee/{op}_{self._count}_{i}" for i in range(outputs)]
        self.nodes.append((level, helper.make_node(op, inputs, names, name=f"ee/{op}_{self._count}", **attrs)))
        for n in names:
            self.rows_of[n] = rows or level
        return names[0] if outputs == 1 else names

    def const(self, value, dtype: str, scalar: bool = False, level: int = 1) -> str:
        """A Constant node, not an initializer: every initializer lives in weights.bin."""
        import numpy as np
        from onnx import helper, numpy_helper

        arr = np.array(value if scalar else np.atleast_1d(value), dtype=dtype)
        self._count += 1
        name = f"ee/const_{self._count}"
        self.nodes.append((level, helper.make_node("Constant", [], [name], name=name,
                                                   value=numpy_helper.from_array(arr, name))))
        return name


NCHW_TO_NHWC, NHWC_TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _perm(node) -> Optional[List[int]]:
    from onnx import helper

    return next((list(helper.get_attribute_value(a)) for a in node.attribute if a.name == "perm"), None)


def _leading_transpose(stage) -> Optional[List[int]]:
    """The perm when every consumer of the stage's input is the same row-keeping Transpose.

    ConvNeXt's downsampling stages start NCHW -> NHWC for their LayerNorm, and the stage before ends
    NHWC -> NCHW. Transposing before the boundary's Compress instead of after it (the two commute
    when axis 0 stays first) lets onnxruntime cancel the pair, as it does in full.onnx."""
    name = stage.graph.input[0].name
    users = [n for n in stage.graph.node if name in n.input]
    perms = [_perm(n) for n in users if n.op_type == "Transpose"]
    if users and len(perms) == len(users) and all(p == perms[0] for p in perms) and perms[0][0] == 0:
        return perms[0]
    return None


def _channels_last_tail(graph) -> Optional[dict]:
    """A ConvNeXt block's tail feeding the exit head, in the exported (NCHW) form:
        F = Add(Mul(scale[C,1,1], Transpose<NHWC->NCHW>(y)), residual);  head = ReduceMean(F, axes=[2, 3])
    with F read by nothing else. Returns the nodes and names involved, or None."""
    from onnx import helper

    made = {o: n for n in graph.node for o in n.output}
    inits = {t.name: t for t in graph.initializer}
    for red in graph.node:
        axes = next((list(helper.get_attribute_value(a)) for a in red.attribute if a.name == "axes"), None)
        add = made.get(red.input[0]) if red.op_type == "ReduceMean" else None
        if axes != [2, 3] or add is None or add.op_type != "Add":
            continue
        if sum(red.input[0] in n.input for n in graph.node) != 1:
            continue
        for i, other in ((0, 1), (1, 0)):
            mul = made.get(add.input[i])
            if mul is None or mul.op_type != "Mul":
                continue
            for j, k in ((0, 1), (1, 0)):
                scale, tr = inits.get(mul.input[j]), made.get(mul.input[k])
                if (scale is not None and len(scale.dims) == 3 and list(scale.dims[1:]) == [1, 1] and tr is not None
                        and sum(scale.name in n.input for n in graph.node) == 1
                        and tr.op_type == "Transpose" and _perm(tr) == NHWC_TO_NCHW
                        and sum(tr.output[0] in n.input for n in graph.node) == 1):
                    return {"reduce": red, "add": add, "mul": mul, "transpose": tr, "scale": scale,
                            "residual": add.input[other], "y": tr.input[0], "scale_first": j == 0}
    return None


def _to_channels_last(stage, input_nhwc: bool) -> Tuple[object, bool]:
    """The stage graph with its features in NHWC where its tail allows (ConvNeXt), and reading an NHWC
    input when `input_nhwc`; returns (graph, features are NHWC).

    Exported ConvNeXt blocks compute in NHWC but transpose back to NCHW at their end, and the next
    block transposes to NHWC again (or feeds a depthwise conv, which onnxruntime reorders from
    either layout). In one graph onnxruntime cancels such pairs; across a boundary's Compress it
    cannot, so they are removed here: the layer scale multiplies the NHWC tensor (same bytes, shape
    [C]), the residual is transposed instead when it is not already NHWC, and the head averages over
    axes 1 and 2. Transposes are exact; only the head's summation order changes."""
    from onnx import GraphProto, helper

    src = stage.graph
    x = src.input[0].name
    tail = _channels_last_tail(src)
    add, reduce = (tail["add"].output[0], tail["reduce"].output[0]) if tail else (None, None)
    g = GraphProto()
    g.CopyFrom(src)
    del g.node[:]
    # With an NHWC input, leading NCHW -> NHWC transposes become the input itself, the block's
    # residual add reads it as it is, and any other reader gets it back in NCHW.
    leading = {n.output[0] for n in src.node if input_nhwc and n.op_type == "Transpose" and list(n.input) == [x]
               and _perm(n) == NCHW_TO_NHWC}
    residual_nhwc = bool(tail) and input_nhwc and tail["residual"] == x
    nchw_readers = input_nhwc and any(x in n.input and n.output[0] not in leading
                                      and not (residual_nhwc and n.output[0] == add) for n in src.node)
    if nchw_readers:
        g.node.append(helper.make_node("Transpose", [x], [x + "/nchw"], perm=NHWC_TO_NCHW))
    rename = {o: x for o in leading}
    if nchw_readers:
        rename[x] = x + "/nchw"
    skip = leading | ({tail["transpose"].output[0], tail["mul"].output[0]} if tail else set())
    for n in src.node:
        if n.output[0] in skip:
            continue
        node = type(n)()
        node.CopyFrom(n)
        node.input[:] = [rename.get(v, v) for v in n.input]
        if n.output[0] == add:
            # scale * y in NHWC (the scale's bytes as they are, shape [C]) + the residual in NHWC.
            scale = type(tail["scale"])()
            scale.CopyFrom(tail["scale"])
            scale.name += "/nhwc"
            del scale.dims[1:]
            g.initializer.remove(next(t for t in g.initializer if t.name == tail["scale"].name))
            g.initializer.append(scale)
            mul = [scale.name, tail["y"]] if tail["scale_first"] else [tail["y"], scale.name]
            g.node.append(helper.make_node("Mul", mul, [tail["mul"].output[0]]))
            residual = x
            if not residual_nhwc:
                residual = tail["residual"] + "/nhwc"
                g.node.append(helper.make_node("Transpose", [tail["residual"]], [residual], perm=NCHW_TO_NHWC))
            node.input[list(n.input).index(tail["residual"])] = residual
        if n.output[0] == reduce:
            axes = next(a for a in node.attribute if a.name == "axes")
            axes.ints[:] = [1, 2]
        g.node.append(node)
    return g, tail is not None


def _add_stage(b: _Builder, graph, spec: dict, l: int, level: int, logits: str, x: str,
               transposed: bool) -> Optional[str]:
    """Copy stage l's nodes and initializers under the prefix `s<l>/` into graph level `level`, its
    logits output named `logits`; returns its features value. With `transposed`, `x` is already the
    stage's input after its leading Transpose."""
    from onnx import helper

    prefix = f"s{l}/"
    inputs = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if inputs != [spec["input"]["name"]]:
        raise ToolkitError(f"stage {l}: graph inputs {inputs}, manifest says {spec['input']['name']}")
    outs = {o.name for o in graph.output}
    features = spec.get("features", {}).get("name")
    if spec["logits"]["name"] not in outs or (features and features not in outs):
        raise ToolkitError(f"stage {l}: outputs {sorted(outs)} lack the manifest's logits/features")
    rename = {spec["logits"]["name"]: logits}
    skip = set()
    for n in graph.node:
        if transposed and n.op_type == "Transpose" and spec["input"]["name"] in n.input:
            rename[n.output[0]], skip = x, skip | {n.output[0]}
    rename.setdefault(spec["input"]["name"], x)

    def r(name: str) -> str:
        return name if name == "" else rename.get(name, prefix + name)

    for t in graph.initializer:
        copy = type(t)()
        copy.CopyFrom(t)
        copy.name = r(t.name)
        b.initializers.append((level, copy))
    for n in graph.node:
        if n.output[0] in skip:
            continue
        copy = helper.make_node(n.op_type, [r(i) for i in n.input], [r(o) for o in n.output],
                                name=prefix + n.name if n.name else None, domain=n.domain or None)
        copy.attribute.extend(n.attribute)
        b.nodes.append((level, copy))
        for o in copy.output:
            b.rows_of[o] = level
    return r(features) if features else None


DBL_MIN = 2.2250738585072014e-308  # the smallest normal float64


def _scores(b: _Builder, logits: str, noise: str, g: Dict[str, str], level: int, out: str) -> str:
    """float64 scores of one exit's rows as src/router/scores.ts computes them, in 11 nodes.

    p = Softmax(z / T) of the logits cast to float64: onnxruntime subtracts the row maximum,
    exponentiates, sums and divides, as softmaxRow does; at T = 1 the argument is the same
    z - max, at other temperatures z / T - max / T differs from (z - max) / T by an ulp. q = p +
    noise; top1 and top2 of q by TopK (top2 = top1 on a tie, as scoreProbs finds them), margin or
    maxprob as one MatMul of [top1, top2] with [1, -1] or [1, 0] (top1 - top2 and top1 - 0
    exactly); entropy as sum q log(max(q, DBL_MIN)): q = 0 adds 0 as in scoreProbs, and a q below
    the smallest normal double adds nothing visible to a sum of probabilities.

    TopK must never see zero rows (onnxruntime's CPU TopK dies of a division by zero, SIGFPE):
    every segment after the first runs in an If on "some row reached it", and an empty batch is
    never run (src/engine/early-exit-graph.ts returns before it)."""
    from onnx import TensorProto

    n = lambda op, ins, **kw: b.node(op, ins, level, **kw)  # noqa: E731
    z = n("Cast", [logits], to=TensorProto.DOUBLE)
    noisy = n("Add", [n("Softmax", [n("Div", [z, "temperature"])], axis=1), noise])
    values = n("TopK", [noisy, g["two"]], axis=1, outputs=2)[0]  # [rows, 2]: top1, top2
    top = n("MatMul", [values, g["top_weights"]])  # margin or maxprob
    entropy = n("ReduceSum", [n("Mul", [noisy, n("Log", [n("Max", [noisy, g["dbl_min"]])])]), g["axis1"]],
                keepdims=0)
    return n("Where", [g["is_entropy"], entropy, top], out=out)


def _grant(b: _Builder, g: Dict[str, str], scores: str, threshold: str, alive: Optional[str], credit: str, l: int,
           level: int, leave_name: str) -> Tuple[str, str]:
    """Exit l's leave mask and the credit left after it: the ledger's step-by-step grant in the graph.

    As src/router/ledger.ts PoolSpender grants it on the stage chain: the rows that want to go on
    (score below their threshold; `alive` ones only), in row order, are each granted the step to the
    next exit, cost[l + 1] - cost[l] (input `steps`), while the credit pays it; the rest leave here,
    forced. The first i + 1 of them fit when (i + 1) x step <= credit, the credit being what the
    batch's pool holds after every row paid exit 1, plus the ledger's rounding slack (input
    `credit`; +inf when the pool covers every row to the end, and then nothing is forced)."""
    from onnx import TensorProto

    n = lambda op, ins, **kw: b.node(op, ins, level, **kw)  # noqa: E731
    want = n("Not", [n("GreaterOrEqual", [scores, threshold])])
    if alive is not None:
        want = n("And", [alive, want])
    before = n("CumSum", [n("Cast", [want], to=TensorProto.DOUBLE), g["axis0"]], exclusive=1)  # [rows]
    step = n("Gather", ["steps", b.const(l - 1, "int64", scalar=True, level=level)], axis=0)  # scalar
    granted = n("And", [want, n("GreaterOrEqual", [credit, n("Mul", [n("Add", [before, g["one"]]), step])])])
    leave = n("Not", [granted], out=leave_name)
    # credit - spent, as credit + (-spent) (the same double; Add and Mul are in the CUDA kernel table already).
    spent = n("Mul", [n("ReduceSum", [n("Cast", [granted], to=TensorProto.DOUBLE)], keepdims=1), step])  # [1]
    return leave, n("Add", [credit, n("Mul", [spent, g["minus_one"]])])


def _gap_head(graph) -> None:
    """The exit head's ReduceMean over H and W (keepdims 0) as GlobalAveragePool + Flatten, in place.

    onnxruntime runs GlobalAveragePool on its blocked NCHWc layout, so the head no longer needs the
    feature map back in plain NCHW; a block boundary without compaction then costs no reorder at
    all. The mean sums in another order, so logits may differ from the stage graph's in the last
    bits."""
    from onnx import helper

    nodes = []
    for n in graph.node:
        axes = next((list(helper.get_attribute_value(a)) for a in n.attribute if a.name == "axes"), None)
        keep = next((helper.get_attribute_value(a) for a in n.attribute if a.name == "keepdims"), 1)
        if n.op_type == "ReduceMean" and axes == [2, 3] and keep == 0:
            pooled = n.output[0] + "/gap"
            nodes.append(helper.make_node("GlobalAveragePool", [n.input[0]], [pooled], name=n.name + "/gap"))
            nodes.append(helper.make_node("Flatten", [pooled], [n.output[0]], name=n.name + "/flatten", axis=1))
        else:
            nodes.append(n)
    del graph.node[:]
    graph.node.extend(nodes)


# Compaction after exit l costs, per row that continues, a copy of its feature map and, for a map in
# plain NCHW, onnxruntime's layout round trip (NCHWc -> NCHW before Compress, back after it): measured
# on a 16x32x32 map, about the time of 75 multiply-adds of convolution per float of the map (a third of
# that for a channels-last map, which only the copy touches). It pays when the rows that leave there
# skip at least as much: assuming a quarter of the rows leave at a boundary, when the next stage costs
# 4 x 75 = 300 multiply-adds per float of the map (25 x 4 = 100 channels-last). ResNet-18 on 32x32 has
# 288 and 224 after exits 1 and 2 (16x32x32 maps; compacting there measured slower at budget 0.5 and
# with every row to the end), 576 and more later; its 224x224 form and ConvNeXt are above everywhere.
_COMPACT_MACS_PER_FLOAT = {False: 300, True: 100}  # by "the map is channels-last"


def _compacts(spec: dict, next_macs: Optional[float], nhwc: bool) -> bool:
    """Whether to compact the rows after this stage, whose features `spec` describes."""
    if next_macs is None:
        return True
    floats = 1
    for d in spec["features"]["shape"][1:]:
        floats *= d
    return next_macs >= _COMPACT_MACS_PER_FLOAT[nhwc] * floats


def _build_flat(stages: List[object], specs: List[dict], classes: int, channels_last: bool,
                macs: Optional[List[float]] = None, compact: Optional[List[int]] = None) -> _Builder:
    """Every node, tagged with its level (the first exit of the segment it runs in: 1 = the main
    graph); the exits' outputs under their level-local names.

    A segment is the blocks between two compactions. Its rows (`prow`) are the rows that reached
    its first exit; at a later exit inside it, `alive` marks those that have not left yet, and the
    exit's outputs are compressed to them (small tensors only): the rows that left run on to the
    segment's end, but the features never leave onnxruntime's blocked layout. `compact` names the
    exits after which the rows are compacted; by default _compacts decides from the cumulative
    `macs` of the exits (every exit without them)."""
    from onnx import TensorProto, helper

    m, b = len(stages), _Builder()
    if compact is not None and any(not 1 <= c < m for c in compact):
        raise ToolkitError(f"early exit: compaction exits must be in 1..{m - 1}, got {compact}")
    g = {"axis1": b.const(1, "int64"), "two": b.const(2, "int64"),
         "dbl_min": b.const(DBL_MIN, "float64", scalar=True),
         "axis0": b.const(0, "int64", scalar=True), "one": b.const(1.0, "float64", scalar=True),
         "minus_one": b.const(-1.0, "float64", scalar=True)}
    g["is_entropy"] = b.node("Equal", ["score_kind", b.const(SCORE_KINDS["entropy"], "int64")], 1)
    is_margin = b.node("Equal", ["score_kind", b.const(SCORE_KINDS["margin"], "int64")], 1)
    g["top_weights"] = b.node("Where", [is_margin, b.const([1.0, -1.0], "float64"), b.const([1.0, 0.0], "float64")], 1)
    # Exit-major copies of the per-row inputs: one Gather per segment picks its rows, one per exit its column.
    noise_t = b.node("Transpose", ["noise"], 1, perm=[1, 0, 2])  # [M, batch, K]
    thresholds_t = b.node("Transpose", ["thresholds"], 1, perm=[1, 0])  # [M, batch]
    count = b.node("Squeeze", [b.node("Shape", ["input"], 1, end=1), b.const(0, "int64")], 1)
    prow = b.node("Range", [b.const(0, "int64", scalar=True), count, b.const(1, "int64", scalar=True)], 1,
                  out=local_name(1, 1, "rows"))
    x, transposed, nhwc = "input", False, False
    noise_seg, thresholds_seg, alive, level = noise_t, thresholds_t, None, 1
    credit = "credit"
    for l in range(1, m + 1):
        if l == b.levels[-1] and l > 1:  # a segment starts: its rows, noise and thresholds
            level = l
            prow = b.node("Identity", [prow], l, out=local_name(l, l, "rows"))  # a branch's own output
            noise_seg = b.node("Gather", [noise_t, prow], l, axis=1)  # [M, rows, K]
            thresholds_seg = b.node("Gather", [thresholds_t, prow], l, axis=1)  # [M, rows]
            alive = None
        logits = local_name(level, l, "logits") if alive is None else f"l{level}/ee/logits{l}"
        graph, features_nhwc = _to_channels_last(stages[l - 1], nhwc) if channels_last else (stages[l - 1].graph, False)
        if not features_nhwc:
            copy = type(graph)()
            copy.CopyFrom(graph)
            _gap_head(copy)
            graph = copy
        features = _add_stage(b, graph, specs[l - 1], l, level, logits, x, transposed)
        column = b.const(l - 1, "int64", scalar=True, level=level)
        noise = b.node("Gather", [noise_seg, column], level, axis=0)  # [rows, K]
        # The outputs: the segment's rows at its first exit; later in it, compressed to the alive ones.
        out = {kind: local_name(level, l, kind) if alive is None else f"l{level}/ee/{kind}{l}" for kind in OUTPUTS}
        scores = _scores(b, logits, noise, g, level, out["scores"])
        last = l == m
        leave = None
        if not last:
            threshold = b.node("Gather", [thresholds_seg, column], level, axis=0)  # [rows]
            leave, credit = _grant(b, g, scores, threshold, alive, credit, l, level, out["leave"])
        if alive is not None:
            for kind, value in (("rows", prow), ("logits", logits), ("scores", scores), ("leave", leave)):
                if value is not None:
                    name = b.node("Compress", [value, alive], level, rows=l, axis=0, out=local_name(level, l, kind))
                    b.value_info.append(helper.make_tensor_value_info(
                        name, OUTPUT_TYPES[kind], [batch_dim(l)] + ([classes] if kind == "logits" else [])))
        if last:  # the last exit takes every row that reached it
            leave = b.node("ConstantOfShape", [b.node("Shape", [local_name(level, l, "rows")], level, rows=l)], level,
                           rows=l, out=local_name(level, l, "leave"),
                           value=helper.make_tensor("true", TensorProto.BOOL, [1], [True]))
            b.value_info.append(helper.make_tensor_value_info(leave, TensorProto.BOOL, [batch_dim(l)]))
            break
        # The rows that leave here and their logits, for the summary outputs.
        leave_out = local_name(level, l, "leave")
        left = b.node("Compress", [local_name(level, l, "rows"), leave_out], level, axis=0,
                      out=local_name(level, l, "left"))
        left_logits = b.node("Compress", [local_name(level, l, "logits"), leave_out], level, axis=0,
                             out=local_name(level, l, "left_logits"))
        b.value_info += [helper.make_tensor_value_info(left, TensorProto.INT64, [f"left{l}"]),
                         helper.make_tensor_value_info(left_logits, TensorProto.FLOAT, [f"left{l}", classes])]
        stay = b.node("Not", [leave], level)
        if alive is not None:
            stay = b.node("And", [alive, stay], level)
        next_macs = None if macs is None else macs[l] - macs[l - 1]
        if not (l in compact if compact is not None else _compacts(specs[l - 1], next_macs, features_nhwc)):
            # The next block runs on the same rows, in the same layout; `alive` tells which still count.
            alive, x, transposed, nhwc = stay, features, False, features_nhwc
            continue
        shape = [batch_dim(l + 1)] + list(specs[l - 1]["features"]["shape"][1:])
        perm = None if features_nhwc else _leading_transpose(stages[l])
        if perm:
            features = b.node("Transpose", [features], level, perm=perm)
        if perm or features_nhwc:
            shape = [shape[p] for p in perm or NCHW_TO_NHWC]
        nhwc = features_nhwc
        x, transposed = b.node("Compress", [features, stay], level, rows=l + 1, axis=0, out=f"x{l + 1}"), bool(perm)
        prow = b.node("Compress", [prow, stay], level, rows=l + 1, axis=0, out=f"rows{l + 1}")
        credit = b.node("Identity", [credit], level, out=f"credit{l + 1}")  # handed to the next segment
        # Shape inference cannot tell a Compress output's row count: state it, named, so that
        # inference carries the name through the next block.
        b.value_info += [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape),
                         helper.make_tensor_value_info(prow, TensorProto.INT64, [batch_dim(l + 1)])]
        b.node("Greater", [b.node("Size", [prow], level), b.const(0, "int64", scalar=True, level=level)], level,
               out=f"go{l + 1}")
        b.levels.append(l + 1)
    return b


def _value_infos(b: _Builder, inputs) -> Dict[str, object]:
    """Shape inference on the flat graph; each value's row dimension named after its exit.

    onnxruntime needs the names: with an anonymous row count after a Compress, its NCHWc layout
    transformer reshapes residual Adds with `Reshape(0, -1, ...)`, which fails on zero rows."""
    from onnx import helper, shape_inference

    graph = helper.make_graph([n for _, n in b.nodes], "flat", inputs, [],
                              initializer=[t for _, t in b.initializers], value_info=b.value_info)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inferred = shape_inference.infer_shapes(model, strict_mode=True).graph
    infos = {}
    for vi in inferred.value_info:
        dims = vi.type.tensor_type.shape.dim
        # An unknown row count is anonymous or named unk__<i> by onnx's inference.
        if dims and not dims[0].HasField("dim_value") and (not dims[0].dim_param
                                                           or dims[0].dim_param.startswith("unk__")):
            dims[0].dim_param = batch_dim(b.rows_of[vi.name])
        if not vi.type.tensor_type.HasField("shape") or any(
                not d.HasField("dim_value") and (not d.dim_param or d.dim_param.startswith("unk__")) for d in dims):
            raise ToolkitError(f"early exit: shape inference left {vi.name} without a full shape")
        infos[vi.name] = vi
    return infos


def _renamed(info, name: str):
    copy = type(info)()
    copy.CopyFrom(info)
    copy.name = name
    return copy


def _fixed_rows(info) -> bool:
    """Whether a value's leading dimension is a number (the credit, [1]) rather than a row count."""
    dims = info.type.tensor_type.shape.dim
    return len(dims) > 0 and dims[0].HasField("dim_value")


def _empty(info, name: str):
    """A Constant node with no rows, of `info`'s type and trailing dims (a scalar bool is false; a
    value of a fixed leading size, the credit, is zeros of that shape: onnxruntime plans its buffer
    from the declared shape)."""
    import numpy as np
    from onnx import helper, mapping, numpy_helper

    tt = info.type.tensor_type
    if _fixed_rows(info):
        shape = [d.dim_value for d in tt.shape.dim]
    else:
        shape = [0] + [d.dim_value for d in tt.shape.dim[1:]] if len(tt.shape.dim) else []
    value = numpy_helper.from_array(np.zeros(shape, mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]), name)
    return helper.make_node("Constant", [], [name], value=value)


def _chain_ifs(b: _Builder, m: int, infos: Dict[str, object]):
    """The main graph: the first segment, then one If per later segment, in sequence.

    The If of the segment starting at exit f runs its blocks on the rows that reached exit f (read
    from the main graph) and returns its exits' outputs and the next segment's rows, features and
    "some row continues"; its else-branch returns them empty. Sequential rather than nested Ifs:
    nested, every exit's outputs would be handed up through every enclosing If (measured: ~65 us
    per If at batch 1 on ConvNeXt, over a flat graph). Returns (nodes, initializers, value_info)
    of the main graph."""
    from onnx import helper

    top = [n for lv, n in b.nodes if lv == 1]
    top_info = [infos[o] for n in top for o in n.output if o in infos and not o.startswith("exit")]
    starts = list(b.levels) + [m + 1]
    for f, nf in zip(starts[1:-1], starts[2:]):
        exits = [(local_name(f, l, kind), local_name(1, l, kind)) for l in range(f, nf)
                 for kind in list(OUTPUTS) + (list(_LEFT) if l < m else [])]
        handed = [(f"l{f}/{v}", v) for v in (f"x{nf}", f"rows{nf}", f"go{nf}", f"credit{nf}")] if nf <= m else []
        local = {g: loc for loc, g in handed}
        nodes = []
        for _, n in ((lv, n) for lv, n in b.nodes if lv == f):
            copy = type(n)()
            copy.CopyFrom(n)
            for i, v in enumerate(copy.input):
                copy.input[i] = local.get(v, v)
            for i, v in enumerate(copy.output):
                copy.output[i] = local.get(v, v)
            nodes.append(copy)
        outs = exits + handed
        flat = {loc: g for loc, g in handed}  # a value's name in the flat graph
        branch_outputs = [_renamed(infos[flat.get(loc, loc)], loc) for loc, _ in outs]
        own = {loc for loc, _ in outs}
        value_info = [_renamed(infos[flat.get(o, o)], o) for n in nodes for o in n.output
                      if o not in own and flat.get(o, o) in infos]
        then = helper.make_graph(nodes, f"exit-{f}", [], branch_outputs, value_info=value_info,
                                 initializer=[t for lv, t in b.initializers if lv == f])
        empties = [_empty(vi, f"l{f}/none/{vi.name.split('/')[-1]}") for vi in branch_outputs]
        none = helper.make_graph(empties, f"no-row-reaches-exit-{f}", [],
                                 [_renamed(vi, e.output[0]) for vi, e in zip(branch_outputs, empties)])
        for vi in none.output:  # no row: a zero row count, not the symbol
            if len(vi.type.tensor_type.shape.dim) and not _fixed_rows(vi):
                vi.type.tensor_type.shape.dim[0].Clear()
                vi.type.tensor_type.shape.dim[0].dim_value = 0
        top.append(helper.make_node("If", [f"go{f}"], [g for _, g in outs], name=f"ee/if_exit_{f}",
                                    then_branch=then, else_branch=none))
        # Name the row counts of the If's outputs that are not graph outputs (else onnx's shape
        # inference, which onnx.checker's full check writes back into the file, leaves unk__ dims).
        top_info += [infos[g] for _, g in handed]
        top_info += [_renamed(infos[loc], g) for loc, g in exits if g.startswith("left")]
    return top, [t for lv, t in b.initializers if lv == 1], top_info


def compose_early_exit(stages: List[object], specs: List[dict], classes: int, channels_last: bool = True,
                       macs: Optional[List[float]] = None, compact: Optional[List[int]] = None) -> object:
    """One ModelProto from the stage graphs (loaded with their data) and their manifest specs.

    `channels_last` keeps ConvNeXt features NHWC between blocks (faster); without it every stage's
    nodes are copied as they are. Either way the exit heads may sum in another order than the stage
    graphs' (NHWC averages, GlobalAveragePool), so logits may differ from theirs in the last bits.
    `macs`: the exits' cumulative multiply-adds (the manifest's), which decide where the rows are
    compacted (_compacts; every exit without them); `compact` names those exits instead."""
    from onnx import TensorProto, helper

    m = len(stages)
    if m < 1 or len(specs) != m:
        raise ToolkitError("early exit: need one manifest spec per stage graph")
    if classes < 2:
        raise ToolkitError("early exit: the margin score needs at least 2 classes")
    b = _build_flat(stages, specs, classes, channels_last, macs, compact)
    chw = [d.dim_value for d in stages[0].graph.input[0].type.tensor_type.shape.dim[1:]]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch"] + chw),
              helper.make_tensor_value_info("thresholds", TensorProto.DOUBLE, ["batch", m]),
              helper.make_tensor_value_info("temperature", TensorProto.DOUBLE, [1]),
              helper.make_tensor_value_info("noise", TensorProto.DOUBLE, ["batch", m, classes]),
              helper.make_tensor_value_info("score_kind", TensorProto.INT64, [1]),
              helper.make_tensor_value_info("credit", TensorProto.DOUBLE, [1]),
              helper.make_tensor_value_info("steps", TensorProto.DOUBLE, [m - 1])]
    infos = _value_infos(b, inputs)
    nodes, inits, value_info = _chain_ifs(b, m, infos)
    lefts = [local_name(1, l, "left") for l in range(1, m)] + [local_name(1, m, "rows")]
    left_logits = [local_name(1, l, "left_logits") for l in range(1, m)] + [local_name(1, m, "logits")]
    counts = [f"ee/left_count{l}" for l in range(1, m + 1)]
    nodes += [helper.make_node("Shape", [v], [c], name=c) for v, c in zip(lefts, counts)]
    nodes += [helper.make_node("Concat", lefts, [SUMMARY["rows"]], name="ee/left_rows", axis=0),
              helper.make_node("Concat", counts, [SUMMARY["counts"]], name="ee/left_counts", axis=0),
              helper.make_node("Concat", left_logits, [SUMMARY["logits"]], name="ee/left_logits", axis=0)]
    value_info += [helper.make_tensor_value_info(c, TensorProto.INT64, [1]) for c in counts]
    level = {l: max(f for f in b.levels if f <= l) for l in range(1, m + 1)}
    outputs = [_renamed(infos[local_name(level[l], l, kind)], local_name(1, l, kind))
               for l in range(1, m + 1) for kind in OUTPUTS]
    outputs += [helper.make_tensor_value_info(SUMMARY["rows"], TensorProto.INT64, ["batch"]),
                helper.make_tensor_value_info(SUMMARY["counts"], TensorProto.INT64, [m]),
                helper.make_tensor_value_info(SUMMARY["logits"], TensorProto.FLOAT, ["batch", classes])]
    graph = helper.make_graph(nodes, "early-exit", inputs, outputs, initializer=inits,
                              value_info=value_info)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="eero_toolkit")
    model.ir_version = stages[0].ir_version
    return model


EARLY_EXIT_FILE = "early-exit.onnx"


def compose_bundle(bundle_dir: str, manifest: dict, channels_last: bool = True) -> dict:
    """Write `early-exit.onnx` into a bundle and move every graph's weights into one shared
    `weights.bin`; returns `manifest` with the rewritten files' sha256/bytes and the `weights` and
    `earlyExit` blocks (models/FORMAT.md). Idempotent: a composed bundle is recomposed to the same
    bytes, since the graphs are read back with their external data first."""
    import os

    import onnx

    from .external_weights import share_weights

    def load(name: str):
        path = os.path.join(bundle_dir, name)
        if not os.path.exists(path):
            raise ToolkitError(f"{path}: missing; compose needs the bundle's stage graphs and full.onnx")
        return onnx.load(path)  # with its external data, if any

    stages = [load(s["file"]) for s in manifest["stages"]]
    reference = load(manifest["reference"]["file"])
    macs = [e["macs"] for e in manifest["exits"]] if "exits" in manifest else None
    model = compose_early_exit(stages, manifest["stages"], len(manifest["labels"]), channels_last, macs)
    onnx.checker.check_model(model, full_check=True)
    files = [(s["file"], g) for s, g in zip(manifest["stages"], stages)]
    files += [(manifest["reference"]["file"], reference), (EARLY_EXIT_FILE, model)]
    weights = share_weights(files, bundle_dir)
    for name, _ in files:
        onnx.checker.check_model(os.path.join(bundle_dir, name), full_check=True)
    for spec in manifest["stages"] + [manifest["reference"]]:
        spec.update(_file_facts(bundle_dir, spec["file"]))
    early = {"file": EARLY_EXIT_FILE, **_file_facts(bundle_dir, EARLY_EXIT_FILE), "inputs": dict(INPUTS),
             "outputs": dict(OUTPUTS)}
    # The new blocks go right after `reference`; yaml keeps the key order.
    out = {}
    for key, value in manifest.items():
        if key not in ("weights", "earlyExit"):
            out[key] = value
        if key == "reference":
            out["weights"], out["earlyExit"] = weights, early
    manifest.clear()
    manifest.update(out)
    return manifest


def _file_facts(bundle_dir: str, name: str) -> dict:
    import hashlib
    import os

    with open(os.path.join(bundle_dir, name), "rb") as f:
        data = f.read()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
