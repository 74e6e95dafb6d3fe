"""`python3 -m eero_toolkit <command>`: train, export, compose (early-exit.onnx + shared weights), selfsup."""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from . import ToolkitError
from .archs import ArchConfig, build_model, load_backbone_weights
from .data import load_fashion_mnist, load_folder
from .families import family_names
from .presets import PRESETS
from .train import TrainConfig, train


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _configs(args) -> (ArchConfig, TrainConfig):
    if args.preset:
        if args.preset not in PRESETS:
            raise ToolkitError(f"unknown preset {args.preset!r}; known: {', '.join(PRESETS)}")
        arch, tcfg = PRESETS[args.preset]
        arch, tcfg = ArchConfig.from_dict(arch.to_dict()), TrainConfig(**tcfg.to_dict())
    else:
        arch, tcfg = ArchConfig(), TrainConfig()
    for k in ("family", "width", "stem", "exits", "head_hidden", "patch", "layer_scale"):
        if getattr(args, k, None) is not None:
            setattr(arch, k, getattr(args, k))
    if args.depths:
        arch.depths = [int(v) for v in args.depths.split(",")]
    if args.dims:
        arch.dims = [int(v) for v in args.dims.split(",")]
    for k in (
        "epochs",
        "lr",
        "optimizer",
        "batch_size",
        "seed",
        "weight_decay",
        "label_smoothing",
        "warmup_epochs",
        "exit_weights",
    ):
        if getattr(args, k, None) is not None:
            setattr(tcfg, k, getattr(args, k))
    return arch, tcfg


def load_data(args, arch: ArchConfig):
    if args.data == "fashion-mnist":
        ds = load_fashion_mnist(limit=args.limit)
    else:
        ds = load_folder(args.data, size=arch.image_size, channels=args.channels)
        ds.train, ds.calibration, ds.test = (
            ds.train.subset(args.limit),
            ds.calibration.subset(args.limit),
            ds.test.subset(args.limit),
        )
    arch.in_channels, arch.num_classes = ds.channels, len(ds.labels)
    return ds


def cmd_train(args) -> None:
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    arch, tcfg = _configs(args)
    ds = load_data(args, arch)
    torch.manual_seed(tcfg.seed)  # the initial weights are part of the seeded run
    model = build_model(arch)
    prev = {"history": [], "seconds": 0.0, "recipes": []}
    if args.init_checkpoint:
        # Continue from one of our own checkpoints with a fresh schedule (a fine-tuning pass).
        try:
            prev = torch.load(args.init_checkpoint, map_location="cpu")
            model.load_state_dict(prev["state"])
        except Exception as e:
            raise ToolkitError(f"{args.init_checkpoint} is not a checkpoint of this architecture: {e}") from e
        log(f"starting from {args.init_checkpoint} ({len(prev.get('history', []))} epochs)")
    if args.backbone_weights:
        try:
            state = torch.load(args.backbone_weights, map_location="cpu")
        except Exception as e:
            raise ToolkitError(f"cannot read checkpoint {args.backbone_weights}: {e}") from e
        try:
            n = load_backbone_weights(model, state)
        except ValueError as e:
            raise ToolkitError(f"{args.backbone_weights}: {e}") from e
        log(f"loaded {n} backbone tensors from {args.backbone_weights}")
    log(
        f"training {arch.family} ({model.num_exits} exits, {sum(p.numel() for p in model.parameters())} parameters) "
        f"on {len(ds.train)} images; calibration {len(ds.calibration)}, test {len(ds.test)}"
    )
    t0 = time.time()
    history = train(model, ds.train, ds.calibration, ds.mean, ds.std, tcfg, log=log)
    os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)
    torch.save(
        {
            "arch": arch.to_dict(),
            "train": tcfg.to_dict(),
            "history": prev["history"] + history,
            "recipes": prev.get("recipes", []) + [tcfg.to_dict()],
            "seconds": prev["seconds"] + time.time() - t0,
            "data": args.data,
            "labels": ds.labels,
            "mean": ds.mean,
            "std": ds.std,
            "source": ds.source,
            "state": model.state_dict(),
        },
        args.checkpoint,
    )
    log(f"saved {args.checkpoint} after {time.time() - t0:.0f}s")


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="fashion-mnist", help="'fashion-mnist' or a labeled folder root/<class>/*")
    p.add_argument("--channels", type=int, default=3, help="channels for folder data (1 gray, 3 RGB)")
    p.add_argument("--limit", type=int, default=None, help="use at most this many training images (smoke runs)")
    p.add_argument("--threads", type=int, default=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="eero_toolkit", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="supervised multi-exit training")
    add_common(t)
    t.add_argument("--preset", choices=sorted(PRESETS))
    t.add_argument("--family", choices=family_names())
    t.add_argument("--width", type=int)
    t.add_argument("--stem", choices=["small", "imagenet"])
    t.add_argument("--exits", choices=["block", "stage"])
    t.add_argument("--head-hidden", dest="head_hidden", type=int)
    t.add_argument("--depths")
    t.add_argument("--dims")
    t.add_argument("--patch", type=int)
    t.add_argument("--layer-scale", dest="layer_scale", type=float, help="ConvNeXt blocks' initial layer scale")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--weight-decay", dest="weight_decay", type=float)
    t.add_argument("--optimizer", choices=["sgd", "adamw"])
    t.add_argument("--batch-size", dest="batch_size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--backbone-weights", dest="backbone_weights", help="torchvision checkpoint (.pth) to start from")
    t.add_argument("--init-checkpoint", dest="init_checkpoint", help="start from this toolkit checkpoint (fine-tuning)")
    t.add_argument("--label-smoothing", dest="label_smoothing", type=float)
    t.add_argument("--warmup-epochs", dest="warmup_epochs", type=float)
    t.add_argument(
        "--exit-weights",
        dest="exit_weights",
        choices=["uniform", "linear"],
        help="uniform, or linear: exit l of L weighs l/L in the loss",
    )
    t.add_argument("--checkpoint", required=True, help="where to save the trained model (.pt)")
    t.set_defaults(fn=cmd_train)

    from .export import add_export_parser
    from .selfsup import add_selfsup_parser

    add_export_parser(sub)
    add_selfsup_parser(sub)

    args = ap.parse_args(argv)
    try:
        args.fn(args)
    except ToolkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
