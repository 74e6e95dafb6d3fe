"""Supervised multi-exit training and evaluation."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .data import Split, augment, to_input


@dataclass
class TrainConfig:
    epochs: int = 15
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.1
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    exit_weights: str = "uniform"  # uniform | linear (later exits weigh more)
    augment: bool = True
    flip: bool = True
    seed: int = 0
    threads: int = 0  # 0: all cores

    def to_dict(self) -> dict:
        return asdict(self)


def lr_at(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * t))


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r} (sgd | adamw)")


def exit_weights(n: int, kind: str) -> list[float]:
    if kind == "uniform":
        return [1.0] * n
    if kind == "linear":
        return [(i + 1) / n for i in range(n)]
    raise ValueError(f"unknown exit weights {kind!r} (uniform | linear)")


@torch.no_grad()
def predict_logits(model, split: Split, mean, std, batch_size: int = 500) -> torch.Tensor:
    """Logits of every exit: float32 [M, N, K]."""
    model.eval()
    outs = []
    for i in range(0, len(split), batch_size):
        outs.append(torch.stack(model(to_input(split.images[i : i + batch_size], mean, std))))
    return torch.cat(outs, dim=1)


def accuracies(logits: torch.Tensor, labels: torch.Tensor) -> list[float]:
    return [float((l.argmax(-1) == labels).float().mean()) for l in logits]


def train(
    model,
    train_split: Split,
    eval_split: Split | None,
    mean,
    std,
    cfg: TrainConfig,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
    params=None,
    loss_fn=None,
) -> list[dict]:
    """Train `model` (all parameters, or `params`); returns one record per epoch.

    `loss_fn(logits_list, labels, images)` defaults to the weighted sum of the exits' cross-entropies.
    """
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    params = list(params if params is not None else model.parameters())
    opt = make_optimizer(params, cfg)
    n = len(train_split)
    steps_per_epoch = max(1, n // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    weights = exit_weights(model.num_exits, cfg.exit_weights)
    if loss_fn is None:

        def loss_fn(logits, y, _x):
            return sum(
                w * F.cross_entropy(l, y, label_smoothing=cfg.label_smoothing)
                for w, l in zip(weights, logits, strict=True)
            ) / sum(weights)

    history, step = [], 0
    for epoch in range(cfg.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        running = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            imgs = train_split.images[idx]
            if cfg.augment:
                imgs = augment(imgs, gen, flip=cfg.flip)
            x = to_input(imgs, mean, std)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, warmup, cfg.lr)
            loss = loss_fn(model(x), train_split.labels[idx], x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += float(loss)
            step += 1
        rec = {"epoch": epoch + 1, "loss": running / steps_per_epoch, "seconds": time.time() - t0}
        if eval_split is not None:
            rec["accuracy"] = accuracies(predict_logits(model, eval_split, mean, std), eval_split.labels)
            accs = " ".join(f"{a * 100:.1f}" for a in rec["accuracy"])
            log(f"epoch {epoch + 1}/{cfg.epochs}  loss {rec['loss']:.4f}  {rec['seconds']:.0f}s  exit acc % [{accs}]")
        else:
            log(f"epoch {epoch + 1}/{cfg.epochs}  loss {rec['loss']:.4f}  {rec['seconds']:.0f}s")
        history.append(rec)
    model.eval()
    return history
