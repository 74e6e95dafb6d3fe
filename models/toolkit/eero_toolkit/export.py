"""Export a trained multi-exit checkpoint as an EERO bundle (models/FORMAT.md)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import time

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from . import ToolkitError
from .archs import ArchConfig, build_model
from .data import Dataset, load_fashion_mnist, load_folder, to_input
from .early_exit import compose_bundle
from .families import family_names, get_family
from .macs import exit_costs
from .readme import write_readme
from .train import accuracies, predict_logits

OPSET = 17
MAGIC = b"EEROLGT1"


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


# Version 1 holds float32 logits, version 2 float16: half the bytes, and a logit's rounding
# error (at most 0.004 for |logit| < 16) is far below what moves a calibrated threshold.
OUTPUT_DTYPES = {1: "<f4", 2: "<f2"}


def write_outputs(path: str, logits: torch.Tensor, labels: torch.Tensor, version: int = 2) -> None:
    m, n, k = logits.shape
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<IIII", version, n, m, k))
        f.write(labels.numpy().astype("<i4").tobytes())
        f.write(logits.numpy().astype(OUTPUT_DTYPES[version]).tobytes())


def export_stages(model, input_shape, out_dir: str) -> list[dict]:
    import onnx

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
    import onnx

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


def write_fixtures(out_dir: str, ds: Dataset, model, count: int = 16) -> None:
    from PIL import Image

    fdir = os.path.join(out_dir, "fixtures")
    os.makedirs(fdir, exist_ok=True)
    labels = ds.test.labels.tolist()
    # Round-robin over classes so every class is represented.
    picked, per_class = [], {}
    for i, y in enumerate(labels):
        per_class.setdefault(y, []).append(i)
    while len(picked) < min(count, len(labels)):
        for y in sorted(per_class):
            if per_class[y] and len(picked) < count:
                picked.append(per_class[y].pop(0))
    t, r, b, l = ds.source["pad"]
    imgs = ds.test.images[picked]
    h, w = imgs.shape[2], imgs.shape[3]
    content = imgs[:, :, t : h - b, l : w - r]
    files = []
    for j, img in enumerate(content):
        name = f"{j:02d}.png"
        arr = img.numpy()
        Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)).save(os.path.join(fdir, name))
        files.append(name)
    with torch.no_grad():
        logits = torch.stack(model(to_input(imgs, ds.mean, ds.std)))  # [M, n, K]
    with open(os.path.join(fdir, "logits.json"), "w") as f:
        json.dump(
            {
                "files": files,
                "labels": [labels[i] for i in picked],
                "logits": [
                    [[round(float(v), 6) for v in logits[e, j]] for e in range(logits.shape[0])]
                    for j in range(len(picked))
                ],
            },
            f,
        )


def write_manifest(path: str, manifest: dict, header: str) -> None:
    import yaml

    with open(path, "w") as f:
        f.write(header + "\n")
        yaml.safe_dump(manifest, f, sort_keys=False, default_flow_style=None, width=120)


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
    t, r, b, l = ds.source["pad"]
    content = ds.source["content"]
    manifest = {
        "format": 1,
        "name": name,
        "architecture": {
            **{
                k: v for k, v in arch.to_dict().items() if k == "family" or k in get_family(arch.family).manifest_fields
            },
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
        "reference": full_graph,
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


def cmd_export_untrained(args) -> None:
    """Stage graphs of an untrained network (benchmarks: speed does not depend on the weights)."""
    from .macs import exit_costs

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(0)
    arch = ArchConfig(
        family=args.family,
        width=args.width,
        stem=args.stem,
        exits=args.exits,
        in_channels=3,
        num_classes=args.classes,
        image_size=args.image_size,
    )
    model = build_model(arch).eval()
    fold_batchnorm(model)
    os.makedirs(args.out, exist_ok=True)
    shape = (3, args.image_size, args.image_size)
    stages = export_stages(model, shape, args.out)
    full = export_full_graph(model, shape, os.path.join(args.out, "full.onnx"))
    costs = exit_costs(model, shape)
    import json as _json

    with open(os.path.join(args.out, "graphs.json"), "w") as f:
        _json.dump(
            {
                "arch": arch.to_dict(),
                "untrained": True,
                "stages": stages,
                "reference": full,
                "macs": costs["cumulative"],
            },
            f,
            indent=1,
        )
    log(
        f"untrained {arch.family} ({args.image_size}x{args.image_size}, width {args.width}): {len(stages)} stages, "
        f"{costs['cumulative'][-1] / 1e9:.3f} GMACs; written to {args.out}"
    )


def cmd_export(args) -> None:
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    name = args.name or os.path.basename(os.path.normpath(args.out))
    ds = None
    if args.limit:
        ds = load_fashion_mnist(limit=args.limit)
    export_bundle(args.checkpoint, args.out, name, ds)
    if args.readme:
        write_readme(args.readme)


def cmd_compose(args) -> None:
    """Rewrite an existing bundle in place: early-exit.onnx and the shared weights.bin."""
    import yaml

    path = os.path.join(args.bundle, "manifest.yaml")
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ToolkitError(f"{path}: cannot be read ({e.strerror})") from e
    header = text.splitlines()[0] if text.startswith("#") else "# EERO bundle; format: models/FORMAT.md"
    manifest = compose_bundle(args.bundle, yaml.safe_load(text), channels_last=args.channels_last)
    write_manifest(path, manifest, header)
    log(
        f"{args.bundle}: early-exit.onnx ({manifest['earlyExit']['bytes']} bytes) and weights.bin "
        f"({manifest['weights']['bytes']} bytes) written; manifest updated"
    )


def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint as an EERO bundle folder")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help="bundle folder, e.g. models/resnet18-fmnist")
    p.add_argument("--name", help="bundle name (default: the folder's name)")
    p.add_argument("--limit", type=int, help="smoke runs: export outputs for a data subset")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--readme", help="regenerate the tables of this README (e.g. models/README.md)")
    p.set_defaults(fn=cmd_export)

    c = sub.add_parser("compose", help="add early-exit.onnx to a bundle and share its weights in weights.bin")
    c.add_argument("--bundle", required=True, help="bundle folder, rewritten in place, e.g. ../resnet18-fmnist")
    c.add_argument(
        "--no-channels-last",
        dest="channels_last",
        action="store_false",
        help="copy every stage as it is (logits bit-equal to the stage graphs'; ConvNeXt keeps its "
        "NCHW<->NHWC transposes at block ends)",
    )
    c.set_defaults(fn=cmd_compose)

    u = sub.add_parser("export-untrained", help="stage graphs + full graph of an untrained network (speed benchmarks)")
    u.add_argument("--out", required=True)
    u.add_argument("--family", default="resnet18", choices=family_names())
    u.add_argument("--width", type=int, default=64)
    u.add_argument("--stem", default="imagenet", choices=["small", "imagenet"])
    u.add_argument("--exits", default="stage", choices=["block", "stage"])
    u.add_argument("--image-size", dest="image_size", type=int, default=224)
    u.add_argument("--classes", type=int, default=1000)
    u.add_argument("--threads", type=int, default=0)
    u.set_defaults(fn=cmd_export_untrained)
