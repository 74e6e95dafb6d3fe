"""MAC counts: hand counts, the PyTorch count against the ONNX graphs' count, the manifests' figures."""

import os

import onnx
import pytest
import torch
import yaml
from onnx import TensorProto, helper
from torch import nn

from eero_toolkit import ToolkitError
from eero_toolkit.archs import ArchConfig, build_model
from eero_toolkit.export import FullModel, fold_batchnorm
from eero_toolkit.macs import count_macs, exit_costs, file_macs, graph_macs

MODELS = os.path.join(os.path.dirname(__file__), "..", "..")
BUNDLES = ["resnet18-fmnist", "convnext-fmnist"]


def hand_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),  # 8*8 outputs * 4 ch * (1*3*3) = 2304; bias 256
        nn.ReLU(),  # 256
        nn.Conv2d(4, 8, 3, stride=2, padding=1),  # 4*4 * 8 * (4*9) = 4608; bias 128
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise: 4*4 * 8 * (1*9) = 1152; bias 128
        nn.MaxPool2d(2),  # 2*2 * 8 outputs * 4 = 128
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 10),  # 32 * 10 = 320; bias 10
        nn.Softmax(dim=1),  # 10 * 5
    ).eval()


HAND = {
    "conv": 2304 + 4608 + 1152,
    "bias": 256 + 128 + 128 + 10,
    "elementwise": 256,
    "reduce": 128,
    "matmul": 320,
    "softmax": 50,
}


def test_every_operator_class_matches_hand_counts_in_pytorch_and_in_the_exported_graph(tmp_path):
    net = hand_net()
    macs, out = count_macs(net, torch.zeros(1, 1, 8, 8))
    assert out.shape == (1, 10)
    assert dict(macs) == HAND and macs.linear == 2304 + 4608 + 1152 + 320
    path = str(tmp_path / "hand.onnx")
    torch.onnx.export(
        net,
        torch.zeros(1, 1, 8, 8),
        path,
        opset_version=17,
        input_names=["input"],
        output_names=["probs"],
        dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
    )
    assert dict(file_macs(path)) == HAND
    assert file_macs(path, symbols={"batch": 3}).total == 3 * sum(HAND.values())


def test_cumulative_costs_add_every_head_on_the_way():
    model = build_model(ArchConfig(family="resnet18", width=4, exits="stage"))
    c = exit_costs(model, (1, 32, 32))
    assert len(c["cumulative"]) == 4
    running = complete = 0
    for s, h, cum, stage, total in zip(
        c["segment"], c["head"], c["cumulative"], c["stages"], c["complete"], strict=True
    ):
        running += s + h
        complete += stage.total
        assert cum == running and stage.linear == s + h and total == complete
    # Head l is GAP + Linear(channels_l, 10): its MACs are exactly channels * 10.
    assert c["head"] == [4 * 10, 8 * 10, 16 * 10, 32 * 10]


def test_full_resnet18_imagenet_matches_torchvision_count():
    model = build_model(
        ArchConfig(family="resnet18", width=64, stem="imagenet", in_channels=3, num_classes=1000, exits="stage")
    )
    c = exit_costs(model, (3, 224, 224))
    heads = sum(c["head"][:-1])
    # torchvision's ResNet-18 is 1.814 GMACs (conv + fc); ours adds the three auxiliary heads.
    assert abs((c["cumulative"][-1] - heads) - 1_814_073_856) < 1e-3 * 1.8e9


def bundle_model(bundle: str):
    """The bundle's architecture with fresh weights (MACs do not depend on them), folded as export folds."""
    with open(os.path.join(MODELS, bundle, "manifest.yaml")) as f:
        manifest = yaml.safe_load(f)
    shape = {
        "in_channels": manifest["input"]["channels"],
        "num_classes": len(manifest["labels"]),
        "image_size": manifest["input"]["height"],
    }
    arch = ArchConfig.from_dict({**manifest["architecture"], **shape})
    model = build_model(arch).eval()
    fold_batchnorm(model)
    return manifest, model, (arch.in_channels, arch.image_size, arch.image_size)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_the_toolkit_count_of_every_stage_equals_the_count_of_its_onnx_graph(bundle):
    manifest, model, shape = bundle_model(bundle)
    costs = exit_costs(model, shape)
    folder = os.path.join(MODELS, bundle)
    from_graphs = [dict(file_macs(os.path.join(folder, s["file"]))) for s in manifest["stages"]]
    assert [dict(s) for s in costs["stages"]] == from_graphs
    full, _ = count_macs(FullModel(model).eval(), torch.zeros((1, *shape)))
    assert dict(full) == dict(file_macs(os.path.join(folder, manifest["reference"]["file"])))
    # The manifests' `macs` are the conv + matmul count.
    assert [e["macs"] for e in manifest["exits"]] == costs["cumulative"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_the_early_exit_graph_counts_every_operator_and_runs_each_convolution_once(bundle):
    with open(os.path.join(MODELS, bundle, "manifest.yaml")) as f:
        manifest = yaml.safe_load(f)
    folder = os.path.join(MODELS, bundle)
    early = file_macs(os.path.join(folder, manifest["earlyExit"]["file"]))  # every symbol 1: a row through every exit
    full = file_macs(os.path.join(folder, manifest["reference"]["file"]))
    assert early["conv"] == full["conv"]
    assert early["softmax"] == 5 * len(manifest["labels"]) * len(manifest["stages"])  # one Softmax per exit


def test_an_operator_without_a_rule_is_an_error_not_free():
    class Sorting(nn.Module):
        def forward(self, x):
            return torch.sort(x).values

    with pytest.raises(ToolkitError, match="no rule for aten.sort"):
        count_macs(Sorting(), torch.zeros(1, 4))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"])], "g", [x], [y])
    with pytest.raises(ToolkitError, match="no rule for the ONNX operator Hardmax"):
        graph_macs(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def test_a_symbolic_dimension_without_a_value_is_an_error_when_no_default_is_given():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", 4])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    assert graph_macs(model, symbols={"rows": 7}, default=None).total == 28
    with pytest.raises(ToolkitError, match="unknown dimension rows"):
        graph_macs(model, default=None)
    assert onnx.checker.check_model(model) is None
