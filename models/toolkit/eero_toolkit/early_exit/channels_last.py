"""ConvNeXt's features kept NHWC between blocks (the stage graphs go back to NCHW at every block end).

Exported ConvNeXt blocks compute in NHWC but transpose back to NCHW at their end, and the next
block transposes to NHWC again (or feeds a depthwise conv, which onnxruntime reorders from either
layout). In one graph onnxruntime cancels such pairs; across a boundary's Compress it cannot, so
they are removed here.
"""

from __future__ import annotations

from onnx import GraphProto, ModelProto, NodeProto, helper

from .builder import ints_attribute

NCHW_TO_NHWC, NHWC_TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def perm(node: NodeProto) -> list[int] | None:
    return ints_attribute(node, "perm")


def leading_transpose(stage: ModelProto) -> list[int] | None:
    """The perm when every consumer of the stage's input is the same row-keeping Transpose.

    ConvNeXt's downsampling stages start NCHW -> NHWC for their LayerNorm, and the stage before ends
    NHWC -> NCHW. Transposing before the boundary's Compress instead of after it (the two commute
    when axis 0 stays first) lets onnxruntime cancel the pair, as it does in full.onnx."""
    name = stage.graph.input[0].name
    users = [n for n in stage.graph.node if name in n.input]
    perms = [perm(n) for n in users if n.op_type == "Transpose"]
    if users and len(perms) == len(users) and all(p == perms[0] for p in perms) and perms[0][0] == 0:
        return perms[0]
    return None


def _reads(graph: GraphProto, name: str) -> int:
    return sum(name in n.input for n in graph.node)


def channels_last_tail(graph: GraphProto) -> dict | None:
    """A ConvNeXt block's tail feeding the exit head, in the exported (NCHW) form:
        F = Add(Mul(scale[C,1,1], Transpose<NHWC->NCHW>(y)), residual);  head = ReduceMean(F, axes=[2, 3])
    with F read by nothing else. Returns the nodes and names involved, or None."""
    made = {o: n for n in graph.node for o in n.output}
    inits = {t.name: t for t in graph.initializer}
    for red in graph.node:
        axes = ints_attribute(red, "axes")
        add = made.get(red.input[0]) if red.op_type == "ReduceMean" else None
        if axes != [2, 3] or add is None or add.op_type != "Add" or _reads(graph, red.input[0]) != 1:
            continue
        for i, other in ((0, 1), (1, 0)):
            mul = made.get(add.input[i])
            if mul is None or mul.op_type != "Mul":
                continue
            for j, k in ((0, 1), (1, 0)):
                scale, tr = inits.get(mul.input[j]), made.get(mul.input[k])
                if (
                    scale is not None
                    and len(scale.dims) == 3
                    and list(scale.dims[1:]) == [1, 1]
                    and tr is not None
                    and _reads(graph, scale.name) == 1
                    and tr.op_type == "Transpose"
                    and perm(tr) == NHWC_TO_NCHW
                    and _reads(graph, tr.output[0]) == 1
                ):
                    return {
                        "reduce": red,
                        "add": add,
                        "mul": mul,
                        "transpose": tr,
                        "scale": scale,
                        "residual": add.input[other],
                        "y": tr.input[0],
                        "scale_first": j == 0,
                    }
    return None


def to_channels_last(stage: ModelProto, input_nhwc: bool) -> tuple[GraphProto, bool]:
    """The stage graph with its features in NHWC where its tail allows (ConvNeXt), and reading an NHWC
    input when `input_nhwc`; returns (graph, features are NHWC).

    The layer scale multiplies the NHWC tensor (same bytes, shape [C]), the residual is transposed
    instead when it is not already NHWC, and the head averages over axes 1 and 2. Transposes are
    exact; only the head's summation order changes."""
    src = stage.graph
    x = src.input[0].name
    tail = channels_last_tail(src)
    add, reduce = (tail["add"].output[0], tail["reduce"].output[0]) if tail else (None, None)
    g = GraphProto()
    g.CopyFrom(src)
    del g.node[:]
    # With an NHWC input, leading NCHW -> NHWC transposes become the input itself, the block's
    # residual add reads it as it is, and any other reader gets it back in NCHW.
    leading = {
        n.output[0]
        for n in src.node
        if input_nhwc and n.op_type == "Transpose" and list(n.input) == [x] and perm(n) == NCHW_TO_NHWC
    }
    residual_nhwc = bool(tail) and input_nhwc and tail["residual"] == x
    nchw_readers = input_nhwc and any(
        x in n.input and n.output[0] not in leading and not (residual_nhwc and n.output[0] == add) for n in src.node
    )
    if nchw_readers:
        g.node.append(helper.make_node("Transpose", [x], [x + "/nchw"], perm=NHWC_TO_NCHW))
    rename = {o: x for o in leading}
    if nchw_readers:
        rename[x] = x + "/nchw"
    skip = leading | ({tail["transpose"].output[0], tail["mul"].output[0]} if tail else set())
    for n in src.node:
        if n.output[0] in skip:
            continue
        node = NodeProto()
        node.CopyFrom(n)
        node.input[:] = [rename.get(v, v) for v in n.input]
        if n.output[0] == add:
            node.input[list(n.input).index(tail["residual"])] = _scale_in_nhwc(g, tail, x, residual_nhwc)
        if n.output[0] == reduce:
            axes = next(a for a in node.attribute if a.name == "axes")
            axes.ints[:] = [1, 2]
        g.node.append(node)
    return g, tail is not None


def _scale_in_nhwc(g: GraphProto, tail: dict, x: str, residual_nhwc: bool) -> str:
    """Appends scale * y in NHWC (the scale's bytes as they are, shape [C]) and, when needed, the
    residual's Transpose to NHWC; returns the name the tail's Add reads the residual from."""
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
    return residual
