"""A trained checkpoint exported as an EERO bundle (models/FORMAT.md)."""

from __future__ import annotations

import os
import sys
import time

import torch

from .. import ToolkitError
from ..archs import ArchConfig, build_model
from ..data import Dataset, load_fashion_mnist, load_folder
from ..early_exit import compose_bundle
from ..families import get_family
from ..macs import exit_costs
from ..train import accuracies, predict_logits
from .files import write_fixtures, write_manifest, write_outputs
from .graphs import OPSET, export_full_graph, export_stages, fold_batchnorm, sha256


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_checkpoint(path: str):
    if not os.path.exists(path):
        raise ToolkitError(f"checkpoint missing: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu")
        model = build_model(ArchConfig.from_dict(ckpt["arch"]))
        model.load_state_dict(ckpt["state"])
    except (KeyError, RuntimeError, ValueError) as e:
        raise ToolkitError(f"{path} is not a checkpoint of this toolkit's architecture: {e}") from e
    model.eval()
    return ckpt, model


def export_bundle(ckpt_path: str, out_dir: str, name: str, ds: Dataset = None) -> dict:
    t0 = time.time()
    ckpt, model = load_checkpoint(ckpt_path)
    arch = ArchConfig.from_dict(ckpt["arch"])
    if ds is None:
        ds = (
            load_fashion_mnist()
            if ckpt["data"] == "fashion-mnist"
            else load_folder(ckpt["data"], arch.image_size, arch.in_channels)
        )
    if len(ds.labels) != arch.num_classes or ds.channels != arch.in_channels:
        raise ToolkitError(
            f"data ({len(ds.labels)} classes, {ds.channels} channels) does not match the checkpoint "
            f"({arch.num_classes} classes, {arch.in_channels} channels)"
        )
    params = sum(p.numel() for p in model.parameters())
    folded = fold_batchnorm(model)
    os.makedirs(out_dir, exist_ok=True)
    input_shape = (arch.in_channels, arch.image_size, arch.image_size)
    costs = exit_costs(model, input_shape)
    log(f"{name}: folded {folded} BatchNorms; cumulative MACs per exit {costs['cumulative']}")
    stages = export_stages(model, input_shape, out_dir)
    full_graph = export_full_graph(model, input_shape, os.path.join(out_dir, "full.onnx"))
    log(f"{name}: exported {len(stages)} stage graphs and full.onnx (opset {OPSET}, checker full_check passed)")
    outputs, acc = {}, {}
    for split_name, split in (("calibration", ds.calibration), ("test", ds.test)):
        logits = predict_logits(model, split, ds.mean, ds.std)
        acc[split_name] = accuracies(logits, split.labels)
        path = os.path.join(out_dir, f"outputs-{split_name}.bin")
        write_outputs(path, logits, split.labels)
        outputs[split_name] = {"file": os.path.basename(path), "sha256": sha256(path), "images": len(split)}
    write_fixtures(out_dir, ds, model)
    manifest = _manifest(name, ckpt, arch, ds, params, costs, acc, stages, outputs, full_graph)
    # early-exit.onnx, composed from the stage graphs; every graph's weights move into weights.bin.
    compose_bundle(out_dir, manifest)
    write_manifest(
        os.path.join(out_dir, "manifest.yaml"),
        manifest,
        f"# EERO bundle, written by models/toolkit ({time.strftime('%Y-%m-%d')}); format: models/FORMAT.md",
    )
    log(
        f"{name}: final exit test accuracy {acc['test'][-1] * 100:.2f}%; bundle written to {out_dir} "
        f"({sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out_dir) for fn in fns) / 1e6:.1f} MB) "
        f"in {time.time() - t0:.0f}s"
    )
    return manifest


def _manifest(
    name: str,
    ckpt: dict,
    arch: ArchConfig,
    ds: Dataset,
    params: int,
    costs: dict,
    acc: dict,
    stages: list[dict],
    outputs: dict,
    reference: dict,
) -> dict:
    """The manifest of an exported bundle, before compose adds `weights` and `earlyExit`."""
    family = get_family(arch.family)
    t, r, b, l = ds.source["pad"]
    content = ds.source["content"]
    return {
        "format": 1,
        "name": name,
        "architecture": {
            **{k: v for k, v in arch.to_dict().items() if k == "family" or k in family.manifest_fields},
            "parameters": params,
        },
        "labels": ds.labels,
        "input": {
            "channels": arch.in_channels,
            "colorSpace": "gray" if arch.in_channels == 1 else "srgb",
            "height": arch.image_size,
            "width": arch.image_size,
            "resize": {"width": content[1], "height": content[0], "fit": "fill" if t + r + b + l else "cover"},
            "pad": [t, r, b, l],
            "background": [0, 0, 0],
            "scale": 255,
            "mean": [round(v, 6) for v in ds.mean],
            "std": [round(v, 6) for v in ds.std],
        },
        "stages": stages,
        "exits": [
            {
                "exit": i + 1,
                "macs": int(c),
                "calibrationAccuracy": round(acc["calibration"][i], 4),
                "testAccuracy": round(acc["test"][i], 4),
            }
            for i, c in enumerate(costs["cumulative"])
        ],
        "outputs": outputs,
        "fixtures": {"folder": "fixtures", "logits": "fixtures/logits.json"},
        # The network without early exits as one graph: the speed reference of benchmarks/.
        "reference": reference,
        "training": {
            "data": ckpt["data"],
            "splits": {"train": len(ds.train), "calibration": len(ds.calibration), "test": len(ds.test)},
            "recipes": ckpt.get("recipes") or [ckpt["train"]],
            "seconds": round(ckpt["seconds"]),
            "epochs": len(ckpt["history"]),
            "macsPerSegment": costs["segment"],
            "macsPerHead": costs["head"],
        },
    }
