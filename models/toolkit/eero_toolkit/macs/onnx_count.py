"""MACs of an ONNX graph, counted node by node from the shapes onnx's shape inference gives (the rules
are convention.py's). Symbolic dimensions (the batch, a segment's rows) take the values given,
1 by default: the cost of one image that runs through every node."""

from __future__ import annotations

import math

import onnx
from onnx import GraphProto, ModelProto, NodeProto, helper, shape_inference

from .. import ToolkitError
from .convention import BATCH_NORM_OPS, LAYER_NORM_OPS, SOFTMAX_OPS, Macs

_FREE = {
    "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Gather", "Identity", "Constant",
    "Shape", "Size", "Cast", "Compress", "Range", "ConstantOfShape", "Slice", "Expand", "Split",
}  # fmt: skip
_ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs", "Max", "Min", "Relu", "LeakyRelu",
    "Erf", "Exp", "Log", "Sigmoid", "Tanh", "Clip", "HardSwish", "HardSigmoid", "Where", "Equal", "Greater",
    "GreaterOrEqual", "Less", "LessOrEqual", "Not", "And", "Or", "CumSum",
}  # fmt: skip
_REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "GlobalAveragePool", "GlobalMaxPool", "TopK"}


def _shapes(graph: GraphProto, symbols: dict[str, int], default: int | None) -> dict[str, list[int]]:
    """Every value's shape with its symbols resolved: the graph's and, recursively, its subgraphs'."""

    def dims(vi) -> list[int]:
        out = []
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                out.append(d.dim_value)
            elif d.dim_param in symbols or default is not None:
                out.append(symbols.get(d.dim_param, default))
            else:
                raise ToolkitError(f"MAC count: {vi.name} has the unknown dimension {d.dim_param or '?'}")
        return out

    shapes = {t.name: list(t.dims) for t in graph.initializer}
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        if vi.type.tensor_type.HasField("shape"):
            shapes[vi.name] = dims(vi)
    for node in graph.node:
        if node.op_type == "Constant":
            shapes[node.output[0]] = list(helper.get_attribute_value(node.attribute[0]).dims)
        for attr in node.attribute:
            if attr.HasField("g"):
                shapes.update(_shapes(attr.g, symbols, default))
    return shapes


def _node_macs(node: NodeProto, shape) -> Macs:
    m = Macs()
    op = node.op_type
    out = math.prod(shape(node.output[0])) if node.output else 0
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if op in ("Conv", "ConvTranspose"):
        w = shape(node.input[1])
        moved = math.prod(shape(node.input[0])) if op == "ConvTranspose" else out
        m.add("conv", moved * w[1] * math.prod(w[2:]))
        if len(node.input) > 2 and node.input[2]:
            m.add("bias", out)
    elif op == "Gemm":
        a = shape(node.input[0])
        m.add("matmul", out * (a[0] if attrs.get("transA", 0) else a[1]))
        if len(node.input) > 2 and node.input[2]:
            m.add("bias", out)
    elif op == "MatMul":
        m.add("matmul", out * shape(node.input[0])[-1])
    elif op in _ELEMENTWISE:
        m.add("elementwise", out)
    elif op == "LayerNormalization":
        m.add("norm", out * LAYER_NORM_OPS)
    elif op == "BatchNormalization":
        m.add("norm", out * BATCH_NORM_OPS)
    elif op in _REDUCE:
        m.add("reduce", math.prod(shape(node.input[0])))
    elif op in ("AveragePool", "MaxPool"):
        m.add("reduce", out * math.prod(attrs["kernel_shape"]))
    elif op in ("Softmax", "LogSoftmax"):
        m.add("softmax", out * SOFTMAX_OPS)
    elif op not in _FREE and op != "If":
        raise ToolkitError(f"MAC count: no rule for the ONNX operator {op} (add one to eero_toolkit/macs)")
    return m


def _graph_macs(graph: GraphProto, shapes: dict[str, list[int]]) -> Macs:
    def shape(name: str) -> list[int]:
        if name not in shapes:
            raise ToolkitError(f"MAC count: shape inference left {name} without a shape")
        return shapes[name]

    total = Macs()
    for node in graph.node:
        total = total + _node_macs(node, shape)
        for attr in node.attribute:  # an If counts both branches (the composer's else-branches are constants)
            if attr.HasField("g"):
                total = total + _graph_macs(attr.g, shapes)
    return total


def graph_macs(model: ModelProto, symbols: dict[str, int] | None = None, default: int | None = 1) -> Macs:
    """MACs of one run of `model` by class, its symbolic dimensions set by `symbols` (else `default`)."""
    inferred = shape_inference.infer_shapes(model)
    return _graph_macs(inferred.graph, _shapes(inferred.graph, symbols or {}, default))


def file_macs(path: str, **kwargs) -> Macs:
    """graph_macs of an ONNX file (its weights need not be loaded: only their shapes count)."""
    return graph_macs(onnx.load(path, load_external_data=False), **kwargs)
