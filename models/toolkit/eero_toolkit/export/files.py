"""The bundle's data files: the exits' logits (outputs-*.bin), the fixtures and the manifest."""

from __future__ import annotations

import json
import os
import struct

import torch
import yaml
from PIL import Image

from ..data import Dataset, to_input

MAGIC = b"EEROLGT1"


# Version 1 holds float32 logits, version 2 float16: half the bytes, and a logit's rounding
# error (at most 0.004 for |logit| < 16) is far below what moves a calibrated threshold.
OUTPUT_DTYPES = {1: "<f4", 2: "<f2"}


def write_outputs(path: str, logits: torch.Tensor, labels: torch.Tensor, version: int = 2) -> None:
    m, n, k = logits.shape
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<IIII", version, n, m, k))
        f.write(labels.numpy().astype("<i4").tobytes())
        f.write(logits.numpy().astype(OUTPUT_DTYPES[version]).tobytes())


def write_fixtures(out_dir: str, ds: Dataset, model, count: int = 16) -> None:
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
    with open(path, "w") as f:
        f.write(header + "\n")
        yaml.safe_dump(manifest, f, sort_keys=False, default_flow_style=None, width=120)
