"""A stage graph's nodes and weights copied into the early-exit graph."""

from __future__ import annotations

from onnx import GraphProto, helper

from .. import ToolkitError
from .builder import GraphBuilder, attribute, ints_attribute


def add_stage(
    b: GraphBuilder, graph: GraphProto, spec: dict, l: int, level: int, logits: str, x: str, transposed: bool
) -> str | None:
    """Copy stage l's nodes and initializers under the prefix `s<l>/` into graph level `level`, its
    logits output named `logits`; returns its features value. With `transposed`, `x` is already the
    stage's input after its leading Transpose."""
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
        copy = helper.make_node(
            n.op_type,
            [r(i) for i in n.input],
            [r(o) for o in n.output],
            name=prefix + n.name if n.name else None,
            domain=n.domain or None,
        )
        copy.attribute.extend(n.attribute)
        b.nodes.append((level, copy))
        for o in copy.output:
            b.rows_of[o] = level
    return r(features) if features else None


def gap_head(graph: GraphProto) -> None:
    """The exit head's ReduceMean over H and W (keepdims 0) as GlobalAveragePool + Flatten, in place.

    onnxruntime runs GlobalAveragePool on its blocked NCHWc layout, so the head no longer needs the
    feature map back in plain NCHW; a block boundary without compaction then costs no reorder at
    all. The mean sums in another order, so logits may differ from the stage graph's in the last
    bits."""
    nodes = []
    for n in graph.node:
        if n.op_type == "ReduceMean" and ints_attribute(n, "axes") == [2, 3] and attribute(n, "keepdims", 1) == 0:
            pooled = n.output[0] + "/gap"
            nodes.append(helper.make_node("GlobalAveragePool", [n.input[0]], [pooled], name=n.name + "/gap"))
            nodes.append(helper.make_node("Flatten", [pooled], [n.output[0]], name=n.name + "/flatten", axis=1))
        else:
            nodes.append(n)
    del graph.node[:]
    graph.node.extend(nodes)
