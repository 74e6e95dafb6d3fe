"""Smoke: train a tiny multi-exit net on a few hundred images, export, check the bundle."""

import os
import struct

import numpy as np
import pytest
import torch
import yaml

from eero_toolkit.archs import ArchConfig, build_model, load_backbone_weights
from eero_toolkit.cli import main
from eero_toolkit.data import FMNIST_DIR

needs_data = pytest.mark.skipif(not os.path.isdir(FMNIST_DIR), reason="dataset-fashion-mnist is not installed")


def read_manifest(bundle: str) -> dict:
    with open(os.path.join(bundle, "manifest.yaml")) as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundle")
    ckpt = str(d / "tiny.pt")
    assert main(["train", "--preset", "tiny-smoke", "--limit", "400", "--checkpoint", ckpt, "--threads", "1"]) == 0
    out = str(d / "tiny")
    assert main(["export", "--checkpoint", ckpt, "--out", out, "--limit", "400", "--threads", "1"]) == 0
    return out


@needs_data
def test_training_is_deterministic_with_a_seed(tmp_path):
    for i in range(2):
        assert (
            main(
                [
                    "train",
                    "--preset",
                    "tiny-smoke",
                    "--limit",
                    "128",
                    "--checkpoint",
                    str(tmp_path / f"{i}.pt"),
                    "--threads",
                    "1",
                ]
            )
            == 0
        )
    a, b = (torch.load(tmp_path / f"{i}.pt")["state"] for i in range(2))
    assert all(torch.equal(a[k], b[k]) for k in a)


@needs_data
def test_manifest_has_the_documented_fields(bundle):
    m = read_manifest(bundle)
    assert m["format"] == 1 and m["name"] == "tiny"
    assert set(m["input"]) >= {
        "channels",
        "colorSpace",
        "height",
        "width",
        "resize",
        "pad",
        "background",
        "scale",
        "mean",
        "std",
    }
    assert len(m["stages"]) == len(m["exits"]) == 4
    macs = [e["macs"] for e in m["exits"]]
    assert macs == sorted(macs) and macs[0] > 0
    assert "features" not in m["stages"][-1] and all("features" in s for s in m["stages"][:-1])
    for s in m["stages"]:
        assert os.path.getsize(os.path.join(bundle, s["file"])) == s["bytes"]
        assert len(s["sha256"]) == 64


@needs_data
def test_stage_graphs_pass_the_full_checker_and_have_no_batchnorm(bundle):
    import onnx

    for i in range(1, 5):
        proto = onnx.load(os.path.join(bundle, f"stage-{i}.onnx"))
        onnx.checker.check_model(proto, full_check=True)
        assert proto.opset_import[0].version == 17
        assert not any(n.op_type == "BatchNormalization" for n in proto.graph.node)
        assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


@needs_data
def test_outputs_file_layout_matches_the_format(bundle):
    m = read_manifest(bundle)
    with open(os.path.join(bundle, "outputs-test.bin"), "rb") as fh:
        raw = fh.read()
    assert raw[:8] == b"EEROLGT1"
    version, n, exits, k = struct.unpack("<IIII", raw[8:24])
    assert (version, n, exits, k) == (2, m["outputs"]["test"]["images"], 4, 10)
    assert len(raw) == 24 + 4 * n + 2 * exits * n * k
    labels = np.frombuffer(raw, "<i4", n, 24)
    logits = np.frombuffer(raw, "<f2", exits * n * k, 24 + 4 * n).reshape(exits, n, k)
    acc = float((logits[-1].argmax(-1) == labels).mean())
    assert abs(acc - m["exits"][-1]["testAccuracy"]) < 1e-3


@needs_data
def test_fixtures_carry_torch_logits_for_every_exit(bundle):
    import json

    with open(os.path.join(bundle, "fixtures", "logits.json")) as fh:
        f = json.load(fh)
    assert len(f["files"]) >= 10
    assert all(len(per_image) == 4 and len(per_image[0]) == 10 for per_image in f["logits"])
    assert all(os.path.exists(os.path.join(bundle, "fixtures", name)) for name in f["files"])


def test_checkpoint_of_the_wrong_architecture_is_one_clear_error():
    import torchvision

    model = build_model(ArchConfig(family="resnet18", width=16))
    with pytest.raises(ValueError, match="wrong architecture or width"):
        load_backbone_weights(model, torchvision.models.resnet18().state_dict())
    with pytest.raises(ValueError, match="no resnet18 backbone tensors"):
        load_backbone_weights(model, torchvision.models.convnext_tiny().state_dict())


def test_cli_reports_an_unreadable_checkpoint_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    rc = main(
        [
            "train",
            "--preset",
            "tiny-smoke",
            "--limit",
            "64",
            "--checkpoint",
            str(tmp_path / "x.pt"),
            "--backbone-weights",
            str(bad),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: cannot read checkpoint")


def test_exit_counts_follow_the_exits_flag():
    assert build_model(ArchConfig(family="resnet18", exits="block")).num_exits == 8
    assert build_model(ArchConfig(family="resnet18", exits="stage")).num_exits == 4
    assert build_model(ArchConfig(family="convnext", exits="block")).num_exits == 12
    assert build_model(ArchConfig(family="convnext", exits="stage")).num_exits == 4


@needs_data
def test_selfsup_trains_only_fresh_heads_and_keeps_the_backbone(tmp_path):
    ckpt = str(tmp_path / "t.pt")
    assert main(["train", "--preset", "tiny-smoke", "--limit", "256", "--checkpoint", ckpt, "--threads", "1"]) == 0
    out = str(tmp_path / "ssl.pt")
    report = str(tmp_path / "ssl.md")
    assert (
        main(
            [
                "selfsup",
                "--checkpoint",
                ckpt,
                "--limit",
                "256",
                "--epochs",
                "1",
                "--save",
                out,
                "--report",
                report,
                "--threads",
                "1",
            ]
        )
        == 0
    )
    a, b = torch.load(ckpt)["state"], torch.load(out)["state"]
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("segments.") or k.startswith("heads.3."))
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("heads.0."))
    with open(report) as fh:
        assert "| 1 |" in fh.read()


def test_outputs_versions_store_float32_or_float16_logits(tmp_path):
    from eero_toolkit.export import write_outputs

    logits = torch.tensor([[[1.0, -2.5, 1 / 3]], [[7.0, 0.0, -0.1]]])  # 2 exits, 1 image, 3 classes
    labels = torch.tensor([2])
    for version, dtype, width in ((1, "<f4", 4), (2, "<f2", 2)):
        path = tmp_path / f"v{version}.bin"
        write_outputs(str(path), logits, labels, version=version)
        raw = path.read_bytes()
        assert struct.unpack("<I", raw[8:12])[0] == version
        assert len(raw) == 24 + 4 + width * 2 * 3
        got = np.frombuffer(raw, dtype, 6, 28).reshape(2, 1, 3)
        np.testing.assert_allclose(got, logits.numpy(), atol=0 if version == 1 else 1e-3)


@needs_data
def test_train_flags_reach_the_convnext_architecture_and_the_recipe(tmp_path):
    ckpt = tmp_path / "c.pt"
    assert (
        main(
            [
                "train",
                "--family",
                "convnext",
                "--depths",
                "1,1,1,1",
                "--dims",
                "8,8,8,8",
                "--layer-scale",
                "0.5",
                "--exits",
                "stage",
                "--exit-weights",
                "linear",
                "--epochs",
                "1",
                "--limit",
                "128",
                "--checkpoint",
                str(ckpt),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    saved = torch.load(ckpt)
    arch = saved["arch"]
    assert saved["train"]["exit_weights"] == "linear"
    assert (arch["layer_scale"], arch["dims"], arch["depths"]) == (0.5, [8, 8, 8, 8], [1, 1, 1, 1])
