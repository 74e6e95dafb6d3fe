import torch
from torch import nn

from eero_toolkit.archs import ArchConfig, build_model
from eero_toolkit.macs import count_macs, exit_costs


def test_conv_and_linear_macs_match_hand_counts():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),          # 8*8 outputs * 4 ch * (1*3*3) = 2304
        nn.ReLU(),
        nn.Conv2d(4, 8, 3, stride=2, padding=1),  # 4*4 * 8 * (4*9) = 4608
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise: 4*4 * 8 * (1*9) = 1152
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 10),                 # 128 * 10 = 1280
    )
    macs, out = count_macs(net, torch.zeros(1, 1, 8, 8))
    assert out.shape == (1, 10)
    assert macs == 2304 + 4608 + 1152 + 1280


def test_cumulative_costs_add_every_head_on_the_way():
    model = build_model(ArchConfig(family="resnet18", width=4, exits="stage"))
    c = exit_costs(model, (1, 32, 32))
    assert len(c["cumulative"]) == 4
    running = 0
    for s, h, cum in zip(c["segment"], c["head"], c["cumulative"]):
        running += s + h
        assert cum == running
    # Head l is GAP + Linear(channels_l, 10): its MACs are exactly channels * 10.
    assert c["head"] == [4 * 10, 8 * 10, 16 * 10, 32 * 10]


def test_full_resnet18_imagenet_matches_torchvision_count():
    model = build_model(ArchConfig(family="resnet18", width=64, stem="imagenet", in_channels=3, num_classes=1000,
                                   exits="stage"))
    c = exit_costs(model, (3, 224, 224))
    heads = sum(c["head"][:-1])
    # torchvision's ResNet-18 is 1.814 GMACs (conv + fc); ours adds the three auxiliary heads.
    assert abs((c["cumulative"][-1] - heads) - 1_814_073_856) < 1e-3 * 1.8e9
