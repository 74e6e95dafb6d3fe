"""Map a torchvision ResNet-18 / ConvNeXt state dict onto a MultiExitNet backbone."""

from __future__ import annotations

import torch


def map_torchvision_state(model, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename torchvision keys to ours; the classifier ("fc.", "classifier.") is not taken."""
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    ours = {id(m): name for name, m in model.named_modules()}
    prefixes = sorted(model.tv_modules.items(), key=lambda kv: -len(kv[0]))
    mapped = {}
    for key, tensor in state.items():
        key = key[len("module.") :] if key.startswith("module.") else key
        for tv_prefix, module in prefixes:
            if key.startswith(tv_prefix + "."):
                mapped[ours[id(module)] + key[len(tv_prefix) :]] = tensor
                break
    return mapped
