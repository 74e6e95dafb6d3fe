"""The stage graphs and the full graph of a trained multi-exit network, exported to ONNX."""

from __future__ import annotations

import hashlib
import os

import onnx
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .. import ToolkitError
from ..families import get_family

OPSET = 17


def fold_batchnorm(model: nn.Module) -> int:
    """Fuse every Conv2d -> BatchNorm2d pair into the conv (eval mode); returns pairs folded.

    The family folds the pairs inside its blocks; the pairs adjacent in an nn.Sequential are folded here."""
    folded = get_family(model.cfg.family).fold_batchnorm(model)
    for m in model.modules():
        if isinstance(m, nn.Sequential):
            for i in range(len(m) - 1):
                if isinstance(m[i], nn.Conv2d) and isinstance(m[i + 1], nn.BatchNorm2d):
                    m[i], m[i + 1] = fuse_conv_bn_eval(m[i], m[i + 1]), nn.Identity()
                    folded += 1
    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        raise ToolkitError("a BatchNorm layer was left unfolded")
    return folded


class Stage(nn.Module):
    def __init__(self, segment: nn.Module, head: nn.Module, last: bool):
        super().__init__()
        self.segment, self.head, self.last = segment, head, last

    def forward(self, x):
        f = self.segment(x)
        return self.head(f) if self.last else (f, self.head(f))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_stages(model, input_shape, out_dir: str) -> list[dict]:
    stages, x = [], torch.zeros((2,) + tuple(input_shape))
    n = model.num_exits
    for i, (seg, head) in enumerate(zip(model.segments, model.heads, strict=True)):
        last = i == n - 1
        stage = Stage(seg, head, last).eval()
        path = os.path.join(out_dir, f"stage-{i + 1}.onnx")
        outs = ["logits"] if last else ["features", "logits"]
        with torch.no_grad():
            torch.onnx.export(
                stage,
                x,
                path,
                opset_version=OPSET,
                input_names=["input"],
                output_names=outs,
                dynamic_axes={k: {0: "batch"} for k in ["input"] + outs},
                do_constant_folding=True,
            )
            y = stage(x)
        proto = onnx.load(path)
        onnx.checker.check_model(proto, full_check=True)
        if any(node.op_type == "BatchNormalization" for node in proto.graph.node):
            raise ToolkitError(f"{path}: BatchNormalization survived folding")
        feat = None if last else y[0]
        logits = y if last else y[1]
        spec = {
            "file": os.path.basename(path),
            "sha256": sha256(path),
            "bytes": os.path.getsize(path),
            "input": {"name": "input", "shape": [-1] + list(x.shape[1:])},
        }
        if not last:
            spec["features"] = {"name": "features", "shape": [-1] + list(feat.shape[1:])}
        spec["logits"] = {"name": "logits", "shape": [-1, int(logits.shape[1])]}
        stages.append(spec)
        if not last:
            x = feat
    return stages


class FullModel(nn.Module):
    """The whole backbone and the final exit only: the no-early-exit reference graph."""

    def __init__(self, model):
        super().__init__()
        self.segments, self.head = model.segments, model.heads[-1]

    def forward(self, x):
        for seg in self.segments:
            x = seg(x)
        return self.head(x)


def export_full_graph(model, input_shape, path: str) -> dict:
    """One ONNX graph of the full network (no auxiliary heads), for speed comparisons."""
    x = torch.zeros((2,) + tuple(input_shape))
    with torch.no_grad():
        torch.onnx.export(
            FullModel(model).eval(),
            x,
            path,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return {
        "file": os.path.basename(path),
        "sha256": sha256(path),
        "bytes": os.path.getsize(path),
        "input": {"name": "input", "shape": [-1] + list(input_shape)},
        "logits": {"name": "logits", "shape": [-1, int(model.cfg.num_classes)]},
    }
