"""The shipped bundles' recipes: one place, so `make -C models` rebuilds exactly what ships."""
from .archs import ArchConfig
from .train import TrainConfig

PRESETS = {
    "resnet18-fmnist": (
        ArchConfig(family="resnet18", width=16, stem="small", exits="block"),
        # Later exits weigh more ("linear"): the final exit trains faster (70% vs 64% in a short test).
        TrainConfig(epochs=12, optimizer="sgd", lr=0.1, weight_decay=5e-4, batch_size=128, exit_weights="linear"),
    ),
    "convnext-fmnist": (
        ArchConfig(family="convnext", depths=[2, 2, 6, 2], dims=[16, 32, 64, 128], patch=2, exits="block"),
        TrainConfig(epochs=12, optimizer="adamw", lr=3e-3, weight_decay=0.05, batch_size=128,
                    label_smoothing=0.1),
    ),
    # Second pass for ConvNeXt, from the first pass's weights (`--init-checkpoint`): a short
    # low-learning-rate schedule without label smoothing.
    "convnext-fmnist-finetune": (
        ArchConfig(family="convnext", depths=[2, 2, 6, 2], dims=[16, 32, 64, 128], patch=2, exits="block"),
        TrainConfig(epochs=4, optimizer="adamw", lr=1e-3, weight_decay=0.05, batch_size=128,
                    warmup_epochs=0.2, label_smoothing=0.0),
    ),
    # CI's smoke run: a tiny net on a few hundred images.
    "tiny-smoke": (
        ArchConfig(family="resnet18", width=4, stem="small", exits="stage"),
        TrainConfig(epochs=1, optimizer="sgd", lr=0.05, batch_size=64, warmup_epochs=0.2),
    ),
}
