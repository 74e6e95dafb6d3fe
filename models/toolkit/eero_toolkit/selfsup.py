"""Self-supervised exit heads (Valade, arXiv 2407.21082): freeze a trained backbone,
attach fresh heads, and train each to reproduce the final exit's softmax (KL
divergence) on UNLABELED images.  Labels are used only to report accuracy."""

from __future__ import annotations

import copy
import os
import sys
import time

import torch
import torch.nn.functional as F

from . import ToolkitError
from .archs import ExitHead
from .data import load_fashion_mnist, load_unlabeled_folder
from .export import load_checkpoint
from .train import TrainConfig, accuracies, predict_logits, train


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def distill_loss(final_index: int):
    def loss(logits, _labels, _x):
        teacher = F.softmax(logits[final_index].detach(), dim=-1)
        heads = logits[:final_index]
        return sum(F.kl_div(F.log_softmax(l, -1), teacher, reduction="batchmean") for l in heads) / len(heads)

    return loss


def train_selfsup(model, unlabeled, mean, std, cfg: TrainConfig):
    """Replace heads 1..M-1 with fresh ones and train only them; the backbone and final head stay frozen."""
    ssl = copy.deepcopy(model)
    for p in ssl.parameters():
        p.requires_grad_(False)
    fresh = []
    for i in range(ssl.num_exits - 1):
        channels = ssl.heads[i].fc.in_features if not ssl.cfg.head_hidden else ssl.heads[i].fc[0].in_features
        ssl.heads[i] = ExitHead(channels, ssl.cfg.num_classes, ssl.cfg.head_hidden, norm=True)
        fresh += list(ssl.heads[i].parameters())

    class Frozen(torch.nn.Module):
        """Backbone in eval mode (BatchNorm statistics frozen) whatever train() says."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            self.num_exits = net.num_exits

        def forward(self, x):
            self.net.eval()
            return self.net(x)

    history = train(
        Frozen(ssl), unlabeled, None, mean, std, cfg, log=log, params=fresh, loss_fn=distill_loss(ssl.num_exits - 1)
    )
    ssl.eval()
    return ssl, history


def agreement(logits: torch.Tensor) -> list:
    final = logits[-1].argmax(-1)
    return [float((l.argmax(-1) == final).float().mean()) for l in logits]


def cmd_selfsup(args) -> None:
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    ckpt, model = load_checkpoint(args.checkpoint)
    if ckpt["data"] != "fashion-mnist" and not args.unlabeled:
        raise ToolkitError("--unlabeled FOLDER is required for a model not trained on fashion-mnist")
    ds = load_fashion_mnist(limit=args.limit)
    if args.unlabeled:
        unlabeled = load_unlabeled_folder(args.unlabeled, model.cfg.image_size, model.cfg.in_channels)
    else:  # the training images, labels dropped
        unlabeled = ds.train
        unlabeled = type(unlabeled)(unlabeled.images, torch.full_like(unlabeled.labels, -1))
    cfg = TrainConfig(
        epochs=args.epochs,
        optimizer="adamw",
        lr=3e-3,
        weight_decay=1e-4,
        warmup_epochs=0.2,
        batch_size=256,
        augment=True,
    )
    t0 = time.time()
    log(
        f"self-supervised heads: {model.num_exits - 1} fresh heads on a frozen backbone, "
        f"{len(unlabeled)} unlabeled images"
    )
    ssl, _ = train_selfsup(model, unlabeled, ckpt["mean"], ckpt["std"], cfg)
    seconds = time.time() - t0
    sup_logits = predict_logits(model, ds.test, ckpt["mean"], ckpt["std"])
    ssl_logits = predict_logits(ssl, ds.test, ckpt["mean"], ckpt["std"])
    sup_acc, ssl_acc = accuracies(sup_logits, ds.test.labels), accuracies(ssl_logits, ds.test.labels)
    sup_agr, ssl_agr = agreement(sup_logits), agreement(ssl_logits)
    lines = [
        f"# Self-supervised exit heads: {ckpt['arch']['family']} ({os.path.basename(args.checkpoint)})",
        "",
        f"Fresh heads trained for {args.epochs} epochs ({seconds:.0f} s) on {len(unlabeled)} unlabeled images to match "
        "the frozen final exit's softmax (KL divergence); labels used only for this table (test split, "
        f"{len(ds.test)} images). Written by `python3 -m eero_toolkit selfsup`.",
        "",
        "| exit | supervised acc. % | self-supervised acc. % | gap (points) | supervised agrees with final % "
        "| self-supervised agrees with final % |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for i in range(model.num_exits - 1):
        lines.append(
            f"| {i + 1} | {100 * sup_acc[i]:.2f} | {100 * ssl_acc[i]:.2f} | {100 * (ssl_acc[i] - sup_acc[i]):+.2f} | "
            f"{100 * sup_agr[i]:.2f} | {100 * ssl_agr[i]:.2f} |"
        )
    lines.append(
        f"| {model.num_exits} (final, shared) | {100 * sup_acc[-1]:.2f} | {100 * ssl_acc[-1]:.2f} | 0 | 100 | 100 |"
    )
    report = "\n".join(lines) + "\n"
    if args.report:
        with open(args.report, "w") as f:
            f.write(report)
    print(report)
    if args.save:
        torch.save(
            {**ckpt, "state": ssl.state_dict(), "selfsup": {"epochs": args.epochs, "seconds": seconds}}, args.save
        )
        log(f"saved {args.save}; export it with `export --checkpoint {args.save}`")


def add_selfsup_parser(sub) -> None:
    p = sub.add_parser("selfsup", help="train self-supervised exit heads on a frozen trained backbone")
    p.add_argument("--checkpoint", required=True, help="a trained multi-exit checkpoint")
    p.add_argument(
        "--unlabeled", help="folder of unlabeled images (default: Fashion-MNIST train images, labels dropped)"
    )
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int)
    p.add_argument("--report", help="write the comparison table (Markdown) here")
    p.add_argument("--save", help="save the self-supervised checkpoint here (export it as a bundle)")
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(fn=cmd_selfsup)
