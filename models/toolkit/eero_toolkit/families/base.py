"""What an architecture family provides: its backbone cut into segments, and its own initialisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

if TYPE_CHECKING:
    from ..archs import ArchConfig

Segments = tuple[list[nn.Module], list[int], dict[str, nn.Module]]


class Family:
    """A family of multi-exit backbones, registered by name with @register_family.

    `segments` returns the backbone cut into segments (one exit after each), the channels of each
    segment's output, and torchvision's module paths mapped to the modules (for --backbone-weights).
    `manifest_fields`: the ArchConfig fields a bundle's manifest records (besides `family`)."""

    name: str = ""
    manifest_fields: tuple[str, ...] = ("exits", "head_hidden")

    def segments(self, cfg: ArchConfig) -> Segments:
        raise NotImplementedError

    def init_weights(self, model: nn.Module) -> None:
        """Initialises the freshly built model in place (PyTorch's defaults otherwise)."""

    def fold_batchnorm(self, model: nn.Module) -> int:
        """Folds the Conv -> BatchNorm pairs that are not adjacent in an nn.Sequential (export folds
        those); returns how many."""
        return 0


def group_exits(blocks: list[nn.Module], chans: list[int], depths: list[int], exits: str) -> tuple[list, list]:
    """Segments from blocks: one per block (`exits` "block") or one per stage of `depths` blocks ("stage")."""
    if exits == "block":
        return blocks, chans
    if exits != "stage":
        raise ValueError(f"unknown exits {exits!r} (block | stage)")
    segs, cs, i = [], [], 0
    for d in depths:
        segs.append(nn.Sequential(*blocks[i : i + d]))
        cs.append(chans[i + d - 1])
        i += d
    return segs, cs
