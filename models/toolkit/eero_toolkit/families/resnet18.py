"""ResNet-18 (torchvision's BasicBlock), an exit after every block or every layer."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models.resnet import BasicBlock

from .base import Family, Segments, group_exits
from .registry import register_family


@register_family("resnet18")
class ResNet18(Family):
    manifest_fields = ("width", "stem", "exits", "head_hidden")

    def segments(self, cfg) -> Segments:
        w = cfg.width
        if cfg.stem == "small":
            stem = nn.Sequential(
                nn.Conv2d(cfg.in_channels, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)
            )
        elif cfg.stem == "imagenet":
            stem = nn.Sequential(
                nn.Conv2d(cfg.in_channels, w, 7, 2, 3, bias=False),
                nn.BatchNorm2d(w),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        else:
            raise ValueError(f"unknown stem {cfg.stem!r} (small | imagenet)")
        blocks, chans = [], []
        inplanes = w
        for li, planes in enumerate([w, 2 * w, 4 * w, 8 * w]):
            for bi in range(2):
                stride = 2 if (li > 0 and bi == 0) else 1
                down = None
                if stride != 1 or inplanes != planes:
                    down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
                blocks.append(BasicBlock(inplanes, planes, stride, down))
                chans.append(planes)
                inplanes = planes
        tv = {"conv1": stem[0], "bn1": stem[1]}
        for j, b in enumerate(blocks):
            tv[f"layer{j // 2 + 1}.{j % 2}"] = b
        blocks[0] = nn.Sequential(stem, blocks[0])
        return (*group_exits(blocks, chans, [2, 2, 2, 2], cfg.exits), tv)

    def init_weights(self, model: nn.Module) -> None:
        for m in model.modules():
            if isinstance(m, nn.Conv2d) and m.groups == 1:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # Zero-init the last BN of each residual branch (Goyal et al.): faster, stabler start.
        for m in model.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def fold_batchnorm(self, model: nn.Module) -> int:
        folded = 0
        for m in model.modules():
            if isinstance(m, BasicBlock):
                m.conv1, m.bn1 = fuse_conv_bn_eval(m.conv1, m.bn1), nn.Identity()
                m.conv2, m.bn2 = fuse_conv_bn_eval(m.conv2, m.bn2), nn.Identity()
                folded += 2
        return folded
