"""Multiply-accumulate counts, measured by running the modules with hooks.

Counted: Conv2d (output elements x in_channels/groups x kernel area) and
Linear (rows x in x out).  Norms, activations, pooling and additions are
not counted (they are <1% of a conv net's MACs), as is customary.
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn


def count_macs(module: nn.Module, x: torch.Tensor) -> (int, torch.Tensor):
    """MACs for ONE image through `module` (x has batch 1); returns (macs, output)."""
    total = [0]

    def conv_hook(m: nn.Conv2d, inp, out):
        kh, kw = m.kernel_size
        total[0] += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, inp, out):
        total[0] += (out.numel() // m.out_features) * m.in_features * m.out_features

    hooks = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            out = module(x)
    finally:
        for h in hooks:
            h.remove()
    return total[0], out


def exit_costs(model, input_shape) -> dict:
    """Per segment and head MACs, and cumulative cost per exit (backbone to the exit plus every head on the way)."""
    was = model.training
    model.eval()
    x = torch.zeros((1,) + tuple(input_shape))
    seg_macs: List[int] = []
    head_macs: List[int] = []
    for seg, head in zip(model.segments, model.heads):
        m, x = count_macs(seg, x)
        seg_macs.append(m)
        head_macs.append(count_macs(head, x)[0])
    model.train(was)
    cum, acc = [], 0
    for s, h in zip(seg_macs, head_macs):
        acc += s + h
        cum.append(acc)
    return {"segment": seg_macs, "head": head_macs, "cumulative": cum}
