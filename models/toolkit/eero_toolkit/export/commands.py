"""The export, compose and export-untrained commands."""

from __future__ import annotations

import json
import os

import torch
import yaml

from .. import ToolkitError
from ..archs import ArchConfig, build_model
from ..data import load_fashion_mnist
from ..early_exit import compose_bundle
from ..families import family_names
from ..macs import exit_costs
from ..readme import write_readme
from .bundle import export_bundle, log
from .files import write_manifest
from .graphs import export_full_graph, export_stages, fold_batchnorm


def cmd_export_untrained(args) -> None:
    """Stage graphs of an untrained network (benchmarks: speed does not depend on the weights)."""
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
    with open(os.path.join(args.out, "graphs.json"), "w") as f:
        json.dump(
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
