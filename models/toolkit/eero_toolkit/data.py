"""Data sets as uint8 tensors in memory, and the fixed, documented splits.

Fashion-MNIST (Debian's dataset-fashion-mnist): 28x28 gray images, placed in
32x32 by padding 2 black pixels on each side.  Splits: a seeded permutation
(seed 0) of the 60,000 training images; its first 55,000 are *train*, the last
5,000 are *calibration*; *test* is the official 10,000.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass

import numpy as np
import torch

from . import ToolkitError

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
FMNIST_LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
SPLIT_SEED = 0
CALIBRATION_SIZE = 5000
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass
class Split:
    images: torch.Tensor  # uint8 [N, C, H, W], already placed in the model's input size
    labels: torch.Tensor  # int64 [N]; -1 where unlabeled

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, n: int | None) -> Split:
        if n is None or n >= len(self):
            return self
        return Split(self.images[:n], self.labels[:n])


@dataclass
class Dataset:
    train: Split
    calibration: Split
    test: Split
    labels: list[str]
    channels: int
    mean: list[float]
    std: list[float]
    source: dict  # how images become the tensor (written to the manifest)


def _read_idx(path: str) -> np.ndarray:
    if not os.path.exists(path):
        raise ToolkitError(f"dataset file missing: {path} (install Debian's dataset-fashion-mnist)")
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ToolkitError(f"dataset file unreadable: {path}: {e}") from e
    (magic,) = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ToolkitError(f"dataset file truncated: {path}")
    return arr.reshape(dims)


def split_indices(n: int, calibration: int = CALIBRATION_SIZE, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.RandomState(seed).permutation(n)
    return perm[: n - calibration], perm[n - calibration :]


def load_fashion_mnist(root: str = FMNIST_DIR, limit: int | None = None) -> Dataset:
    def load(prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = _read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
        y = _read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"))
        x = torch.from_numpy(np.pad(x, ((0, 0), (2, 2), (2, 2)))).unsqueeze(1).contiguous()
        return x, torch.from_numpy(y.astype(np.int64))

    x, y = load("train")
    tr, ca = split_indices(len(x))
    xt, yt = load("t10k")
    ds = Dataset(
        train=Split(x[tr], y[tr]),
        calibration=Split(x[ca], y[ca]),
        test=Split(xt, yt),
        labels=list(FMNIST_LABELS),
        channels=1,
        mean=[FMNIST_MEAN],
        std=[FMNIST_STD],
        source={"dataset": "fashion-mnist", "content": [28, 28], "pad": [2, 2, 2, 2]},
    )
    if limit:
        ds.train, ds.calibration, ds.test = (
            ds.train.subset(limit),
            ds.calibration.subset(limit // 4),
            ds.test.subset(limit // 4),
        )
    return ds


def _load_image(path: str, size: int, channels: int) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im = im.convert("L" if channels == 1 else "RGB")
            # Shorter side to `size`, then centre crop: the manifest's "cover" rule.
            im = ImageOps.fit(im, (size, size), method=Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except Exception as e:  # PIL raises many kinds; all mean "not a usable image"
        raise ToolkitError(f"not a readable image: {path}: {e}") from e
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def list_images(root: str) -> list[str]:
    out = []
    for dirpath, _, files in os.walk(root):
        out += [os.path.join(dirpath, f) for f in files if f.lower().endswith(IMAGE_EXTS)]
    return sorted(out)


def load_folder(
    root: str,
    size: int,
    channels: int,
    seed: int = SPLIT_SEED,
    calibration_fraction: float = 0.1,
    test_fraction: float = 0.15,
) -> Dataset:
    """A labeled folder tree root/<class>/*.jpg, split train/calibration/test by a seeded permutation."""
    if not os.path.isdir(root):
        raise ToolkitError(f"not a folder: {root}")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    loose = [f for f in os.listdir(root) if os.path.isfile(os.path.join(root, f)) and f.lower().endswith(IMAGE_EXTS)]
    if loose:
        raise ToolkitError(
            f"mixed folder: {root} holds images beside class folders ({loose[0]}); expected root/<class>/<image>"
        )
    if len(classes) < 2:
        raise ToolkitError(f"labeled folder needs at least two class folders: {root}")
    xs, ys = [], []
    for ci, c in enumerate(classes):
        files = list_images(os.path.join(root, c))
        if not files:
            raise ToolkitError(f"class folder has no images: {os.path.join(root, c)}")
        for f in files:
            xs.append(_load_image(f, size, channels))
            ys.append(ci)
    x = torch.from_numpy(np.stack(xs))
    y = torch.tensor(ys, dtype=torch.int64)
    n = len(x)
    perm = np.random.RandomState(seed).permutation(n)
    n_cal, n_test = max(1, int(n * calibration_fraction)), max(1, int(n * test_fraction))
    te, ca, tr = perm[:n_test], perm[n_test : n_test + n_cal], perm[n_test + n_cal :]
    mean = (x[tr].float() / 255).mean(dim=(0, 2, 3)).tolist()
    std = (x[tr].float() / 255).std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()
    return Dataset(
        Split(x[tr], y[tr]),
        Split(x[ca], y[ca]),
        Split(x[te], y[te]),
        classes,
        channels,
        mean,
        std,
        {"dataset": f"folder:{os.path.basename(os.path.abspath(root))}", "content": [size, size], "pad": [0, 0, 0, 0]},
    )


def load_unlabeled_folder(root: str, size: int, channels: int) -> Split:
    files = list_images(root) if os.path.isdir(root) else []
    if not files:
        raise ToolkitError(f"unlabeled folder is missing or has no images: {root}")
    x = torch.from_numpy(np.stack([_load_image(f, size, channels) for f in files]))
    return Split(x, torch.full((len(x),), -1, dtype=torch.int64))


def to_input(images: torch.Tensor, mean: list[float], std: list[float]) -> torch.Tensor:
    x = images.float().div_(255)
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return (x - m) / s


def augment(images: torch.Tensor, gen: torch.Generator, shift: int = 2, flip: bool = True) -> torch.Tensor:
    """Random translation by up to `shift` pixels (zero fill) and horizontal flip, on a uint8 batch."""
    n, c, h, w = images.shape
    padded = torch.nn.functional.pad(images, (shift, shift, shift, shift))
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    rows = dy.view(n, 1) + torch.arange(h).view(1, h)  # [n, h]
    cols = dx.view(n, 1) + torch.arange(w).view(1, w)  # [n, w]
    out = padded[
        torch.arange(n).view(n, 1, 1, 1), torch.arange(c).view(1, c, 1, 1), rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)
    ]
    if flip:
        fl = torch.rand(n, generator=gen) < 0.5
        out[fl] = out[fl].flip(-1)
    return out
