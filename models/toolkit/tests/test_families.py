"""The architecture-family registry: the toolkit finds every family by name."""

import onnx
import pytest
from torch import nn

from eero_toolkit.archs import ArchConfig, build_model
from eero_toolkit.early_exit import compose_early_exit
from eero_toolkit.export import export_stages, fold_batchnorm
from eero_toolkit.families import Family, family_names, get_family, registry
from eero_toolkit.macs import exit_costs


def test_the_shipped_families_are_registered_under_their_names():
    assert family_names() == ["convnext", "resnet18"]
    assert get_family("resnet18").manifest_fields == ("width", "stem", "exits", "head_hidden")
    with pytest.raises(ValueError, match=r"unknown architecture 'vgg' \(convnext \| resnet18\)"):
        build_model(ArchConfig(family="vgg"))


def test_a_family_name_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_family("resnet18")(Family)


def test_a_new_family_is_one_class_and_the_toolkit_builds_folds_exports_and_composes_it(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))

    @registry.register_family("plain")
    class Plain(Family):
        """Two conv + BatchNorm + ReLU segments."""

        def segments(self, cfg):
            def block(cin, cout):
                return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

            return [block(cfg.in_channels, 4), block(4, 8)], [4, 8], {}

    assert "plain" in family_names()
    arch = ArchConfig(family="plain", image_size=16)
    model = build_model(arch).eval()
    assert model.num_exits == 2
    assert fold_batchnorm(model) == 2
    # conv 1: 8x8 outputs x 4 channels x (1 x 3 x 3); conv 2: 4x4 x 8 x (4 x 9); heads: 4 x 10 and 8 x 10.
    assert exit_costs(model, (1, 16, 16))["cumulative"] == [2304 + 40, 2304 + 40 + 4608 + 80]
    specs = export_stages(model, (1, 16, 16), str(tmp_path))
    stages = [onnx.load(str(tmp_path / s["file"])) for s in specs]
    onnx.checker.check_model(compose_early_exit(stages, specs, 10), full_check=True)
