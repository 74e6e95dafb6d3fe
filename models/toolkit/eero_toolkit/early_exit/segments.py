"""The flat graph cut into the main graph and one If per later segment.

Each segment after the first runs in the then-branch of an If on "some row reached it": without it,
a batch whose rows have all left still runs every later kernel on zero rows (measured: ~1.5 ms of
empty ConvNeXt blocks at batch 1).
"""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, ValueInfoProto, helper, mapping, numpy_helper, shape_inference

from .. import ToolkitError
from .builder import GraphBuilder
from .interface import LEFT, OPSET, OUTPUTS, batch_dim, local_name


def _unnamed(dim) -> bool:
    return not dim.HasField("dim_value") and (not dim.dim_param or dim.dim_param.startswith("unk__"))


def value_infos(b: GraphBuilder, inputs: list[ValueInfoProto]) -> dict[str, ValueInfoProto]:
    """Shape inference on the flat graph; each value's row dimension named after its exit.

    onnxruntime needs the names: with an anonymous row count after a Compress, its NCHWc layout
    transformer reshapes residual Adds with `Reshape(0, -1, ...)`, which fails on zero rows."""
    graph = helper.make_graph(
        [n for _, n in b.nodes],
        "flat",
        inputs,
        [],
        initializer=[t for _, t in b.initializers],
        value_info=b.value_info,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    inferred = shape_inference.infer_shapes(model, strict_mode=True).graph
    infos = {}
    for vi in inferred.value_info:
        dims = vi.type.tensor_type.shape.dim
        # An unknown row count is anonymous or named unk__<i> by onnx's inference.
        if dims and _unnamed(dims[0]):
            dims[0].dim_param = batch_dim(b.rows_of[vi.name])
        if not vi.type.tensor_type.HasField("shape") or any(_unnamed(d) for d in dims):
            raise ToolkitError(f"early exit: shape inference left {vi.name} without a full shape")
        infos[vi.name] = vi
    return infos


def renamed(info: ValueInfoProto, name: str) -> ValueInfoProto:
    copy = ValueInfoProto()
    copy.CopyFrom(info)
    copy.name = name
    return copy


def _fixed_rows(info: ValueInfoProto) -> bool:
    """Whether a value's leading dimension is a number (the credit, [1]) rather than a row count."""
    dims = info.type.tensor_type.shape.dim
    return len(dims) > 0 and dims[0].HasField("dim_value")


def _empty(info: ValueInfoProto, name: str) -> NodeProto:
    """A Constant node with no rows, of `info`'s type and trailing dims (a scalar bool is false; a
    value of a fixed leading size, the credit, is zeros of that shape: onnxruntime plans its buffer
    from the declared shape)."""
    tt = info.type.tensor_type
    if _fixed_rows(info):
        shape = [d.dim_value for d in tt.shape.dim]
    else:
        shape = [0] + [d.dim_value for d in tt.shape.dim[1:]] if len(tt.shape.dim) else []
    value = numpy_helper.from_array(np.zeros(shape, mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]), name)
    return helper.make_node("Constant", [], [name], value=value)


def _branch(b: GraphBuilder, infos: dict, f: int, outs: list[tuple[str, str]], handed: list[tuple[str, str]]):
    """The If of the segment starting at exit f: (then-branch, else-branch)."""
    local = {g: loc for loc, g in handed}
    nodes = []
    for n in (n for lv, n in b.nodes if lv == f):
        copy = NodeProto()
        copy.CopyFrom(n)
        for i, v in enumerate(copy.input):
            copy.input[i] = local.get(v, v)
        for i, v in enumerate(copy.output):
            copy.output[i] = local.get(v, v)
        nodes.append(copy)
    flat = {loc: g for loc, g in handed}  # a value's name in the flat graph
    branch_outputs = [renamed(infos[flat.get(loc, loc)], loc) for loc, _ in outs]
    own = {loc for loc, _ in outs}
    value_info = [
        renamed(infos[flat.get(o, o)], o) for n in nodes for o in n.output if o not in own and flat.get(o, o) in infos
    ]
    then = helper.make_graph(
        nodes,
        f"exit-{f}",
        [],
        branch_outputs,
        value_info=value_info,
        initializer=[t for lv, t in b.initializers if lv == f],
    )
    empties = [_empty(vi, f"l{f}/none/{vi.name.split('/')[-1]}") for vi in branch_outputs]
    none = helper.make_graph(
        empties,
        f"no-row-reaches-exit-{f}",
        [],
        [renamed(vi, e.output[0]) for vi, e in zip(branch_outputs, empties, strict=True)],
    )
    for vi in none.output:  # no row: a zero row count, not the symbol
        if len(vi.type.tensor_type.shape.dim) and not _fixed_rows(vi):
            vi.type.tensor_type.shape.dim[0].Clear()
            vi.type.tensor_type.shape.dim[0].dim_value = 0
    return then, none


def chain_ifs(b: GraphBuilder, m: int, infos: dict[str, ValueInfoProto]):
    """The main graph: the first segment, then one If per later segment, in sequence.

    The If of the segment starting at exit f runs its blocks on the rows that reached exit f (read
    from the main graph) and returns its exits' outputs and the next segment's rows, features and
    "some row continues"; its else-branch returns them empty. Sequential rather than nested Ifs:
    nested, every exit's outputs would be handed up through every enclosing If (measured: ~65 us
    per If at batch 1 on ConvNeXt, over a flat graph). Returns (nodes, initializers, value_info)
    of the main graph."""
    top = [n for lv, n in b.nodes if lv == 1]
    top_info = [infos[o] for n in top for o in n.output if o in infos and not o.startswith("exit")]
    starts = [*b.levels, m + 1]
    for f, nf in zip(starts[1:-1], starts[2:], strict=True):
        exits = [
            (local_name(f, l, kind), local_name(1, l, kind))
            for l in range(f, nf)
            for kind in list(OUTPUTS) + (list(LEFT) if l < m else [])
        ]
        carried = (f"x{nf}", f"rows{nf}", f"go{nf}", f"credit{nf}", *(f"{c}{nf}" for c in b.carried))
        handed = [(f"l{f}/{v}", v) for v in carried] if nf <= m else []
        outs = exits + handed
        then, none = _branch(b, infos, f, outs, handed)
        top.append(
            helper.make_node(
                "If", [f"go{f}"], [g for _, g in outs], name=f"ee/if_exit_{f}", then_branch=then, else_branch=none
            )
        )
        # Name the row counts of the If's outputs that are not graph outputs (else onnx's shape
        # inference, which onnx.checker's full check writes back into the file, leaves unk__ dims).
        top_info += [infos[g] for _, g in handed]
        top_info += [renamed(infos[loc], g) for loc, g in exits if g.startswith("left")]
    return top, [t for lv, t in b.initializers if lv == 1], top_info
