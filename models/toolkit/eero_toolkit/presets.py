"""The shipped bundles' recipes: one place, so `make -C models` rebuilds exactly what ships."""

from .archs import ArchConfig
from .train import TrainConfig

PRESETS = {
    "resnet18-fmnist": (
        ArchConfig(family="resnet18", width=16, stem="small", exits="block"),
        # Later exits weigh more ("linear"): the final exit trains faster (70% vs 64% in a short test).
        TrainConfig(epochs=12, optimizer="sgd", lr=0.1, weight_decay=5e-4, batch_size=128, exit_weights="linear"),
    ),
    # Wider than the first recipe ([16..128] with 16 epochs underfit: 90.5% on training images),
    # layer scale 1 instead of torchvision's 1e-6 (short schedule), no label smoothing, and later
    # exits weigh more so that twelve exit losses do not starve the final one.
    "convnext-fmnist": (
        ArchConfig(
            family="convnext", depths=[2, 2, 6, 2], dims=[24, 48, 96, 192], patch=2, exits="block", layer_scale=1.0
        ),
        TrainConfig(epochs=20, optimizer="adamw", lr=2e-3, weight_decay=0.05, batch_size=128, exit_weights="linear"),
    ),
    # CI's smoke run: a tiny net on a few hundred images.
    "tiny-smoke": (
        ArchConfig(family="resnet18", width=4, stem="small", exits="stage"),
        TrainConfig(epochs=1, optimizer="sgd", lr=0.05, batch_size=64, warmup_epochs=0.2),
    ),
}
