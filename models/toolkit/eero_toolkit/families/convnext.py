"""ConvNeXt (torchvision's CNBlock), an exit after every block or every stage."""

from __future__ import annotations

from torch import nn
from torchvision.models.convnext import CNBlock, LayerNorm2d

from .base import Family, Segments, group_exits
from .registry import register_family


@register_family("convnext")
class ConvNeXt(Family):
    manifest_fields = ("depths", "dims", "patch", "exits", "head_hidden")

    def segments(self, cfg) -> Segments:
        if len(cfg.depths) != len(cfg.dims):
            raise ValueError("depths and dims must have the same length")
        total = sum(cfg.depths)
        blocks, chans, k = [], [], 0
        tv = {}
        for si, (depth, dim) in enumerate(zip(cfg.depths, cfg.dims, strict=True)):
            if si == 0:
                pre = nn.Sequential(nn.Conv2d(cfg.in_channels, dim, cfg.patch, cfg.patch), LayerNorm2d(dim, eps=1e-6))
            else:
                prev = cfg.dims[si - 1]
                pre = nn.Sequential(LayerNorm2d(prev, eps=1e-6), nn.Conv2d(prev, dim, 2, 2))
            tv[f"features.{2 * si}"] = pre
            for bi in range(depth):
                sd = cfg.drop_path * k / max(1, total - 1)
                block = CNBlock(dim, cfg.layer_scale, sd, norm_layer=None)
                tv[f"features.{2 * si + 1}.{bi}"] = block
                blocks.append(nn.Sequential(pre, block) if bi == 0 else block)
                chans.append(dim)
                k += 1
        return (*group_exits(blocks, chans, cfg.depths, cfg.exits), tv)

    def init_weights(self, model: nn.Module) -> None:
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
