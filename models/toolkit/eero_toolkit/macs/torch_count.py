"""MACs of a PyTorch module, counted per aten operator while it runs (every operator, functional ones
included, whatever module holds it); the rules are convention.py's."""

from __future__ import annotations

import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .. import ToolkitError
from .convention import BATCH_NORM_OPS, GELU_OPS, LAYER_NORM_OPS, SILU_OPS, SOFTMAX_OPS, Macs

# aten operators that compute nothing (views, copies, shapes).
_FREE = {
    "t", "permute", "view", "_reshape_alias", "_unsafe_view", "reshape", "clone", "expand", "transpose",
    "detach", "alias", "unsqueeze", "squeeze", "cat", "slice", "select", "_to_copy", "copy_", "flatten",
    "contiguous", "empty", "zeros", "new_empty", "split", "split_with_sizes", "as_strided", "stack",
}  # fmt: skip
# aten operators of one arithmetic operation per output element, and of several.
_ELEMENTWISE = {
    "add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "relu", "relu_", "sigmoid", "sigmoid_",
    "tanh", "tanh_", "exp", "log", "sqrt", "rsqrt", "neg", "abs", "pow", "maximum", "minimum", "clamp", "clamp_",
    "hardtanh", "hardtanh_", "hardswish", "hardswish_", "leaky_relu", "leaky_relu_", "erf", "where", "eq", "gt",
    "ge", "lt", "le", "logical_not", "logical_and", "cumsum",
}  # fmt: skip
_ELEMENTWISE_OPS = {"gelu": GELU_OPS, "silu": SILU_OPS, "silu_": SILU_OPS}


def _numel(shape) -> int:
    return math.prod(shape)


def op_macs(name: str, args: tuple, out) -> Macs:
    """The MACs of one aten call (`name`: its overload packet, e.g. "convolution")."""
    m = Macs()
    first = out[0] if isinstance(out, (tuple, list)) else out
    if name == "convolution":
        x, w, bias, transposed = args[0], args[1], args[2], args[6]
        m.add("conv", (x.numel() if transposed else first.numel()) * w.shape[1] * _numel(w.shape[2:]))
        if bias is not None:
            m.add("bias", first.numel())
    elif name in ("mm", "bmm"):
        m.add("matmul", first.numel() * args[0].shape[-1])
    elif name == "addmm":
        m.add("matmul", first.numel() * args[1].shape[-1])
        m.add("bias", first.numel())
    elif name in _ELEMENTWISE or name in _ELEMENTWISE_OPS:
        m.add("elementwise", first.numel() * _ELEMENTWISE_OPS.get(name, 1))
    elif name == "native_layer_norm":
        m.add("norm", args[0].numel() * LAYER_NORM_OPS)
    elif name in ("native_batch_norm", "_native_batch_norm_legit_no_training"):
        m.add("norm", args[0].numel() * BATCH_NORM_OPS)
    elif name in ("mean", "sum", "amax", "_adaptive_avg_pool2d"):
        m.add("reduce", args[0].numel())
    elif name in ("max_pool2d_with_indices", "avg_pool2d"):
        m.add("reduce", first.numel() * _numel(args[1]))
    elif name in ("_softmax", "_log_softmax"):
        m.add("softmax", first.numel() * SOFTMAX_OPS)
    elif name not in _FREE:
        raise ToolkitError(f"MAC count: no rule for aten.{name} (add one to eero_toolkit/macs)")
    return m


class _Counter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.macs = Macs()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.macs = self.macs + op_macs(func.overloadpacket.__name__, args, out)
        return out


def count_macs(module: torch.nn.Module, x: torch.Tensor) -> tuple[Macs, torch.Tensor]:
    """MACs for ONE image through `module` (x has batch 1), by class; returns (macs, output)."""
    with torch.no_grad(), _Counter() as counter:
        out = module(x)
    return counter.macs, out


def exit_costs(model, input_shape) -> dict:
    """Per segment and head MACs, and cumulative cost per exit (backbone to the exit plus every head
    on the way): `segment`, `head`, `cumulative` count conv + matmul (a manifest's `macs`);
    `stages` holds each stage's (segment + head) MACs by class, `complete` the cumulative total."""
    was = model.training
    model.eval()
    x = torch.zeros((1, *tuple(input_shape)))
    segments, heads = [], []
    for seg, head in zip(model.segments, model.heads, strict=True):
        m, x = count_macs(seg, x)
        segments.append(m)
        heads.append(count_macs(head, x)[0])
    model.train(was)
    stages = [s + h for s, h in zip(segments, heads, strict=True)]
    return {
        "segment": [s.linear for s in segments],
        "head": [h.linear for h in heads],
        "cumulative": [sum(s.linear for s in stages[: i + 1]) for i in range(len(stages))],
        "stages": stages,
        "complete": [sum(s.total for s in stages[: i + 1]) for i in range(len(stages))],
    }
