"""early-exit.onnx composed from fresh exports of tiny networks: its structure and options."""

import os

import onnx
import pytest
import yaml
from onnx import TensorProto
from onnx_helpers import export_tiny, graph_files, named_rows, nodes

from eero_toolkit.archs import ArchConfig
from eero_toolkit.cli import main
from eero_toolkit.data import FMNIST_DIR
from eero_toolkit.early_exit import SUMMARY, compose_bundle, compose_early_exit
from eero_toolkit.external_weights import initializers


@pytest.mark.parametrize(
    "arch",
    [
        ArchConfig(family="resnet18", width=4, exits="stage"),
        ArchConfig(family="convnext", depths=[1, 1, 1, 1], dims=[8, 8, 16, 16], exits="stage"),
    ],
    ids=["resnet", "convnext"],
)
def test_compose_of_a_fresh_export(tmp_path, arch):
    manifest = compose_bundle(str(tmp_path), export_tiny(arch, tmp_path))
    assert list(manifest)[-2:] == ["weights", "earlyExit"]
    model = onnx.load(os.path.join(str(tmp_path), "early-exit.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert named_rows(model.graph) == []
    assert len(model.graph.output) == 4 * len(manifest["stages"]) + len(SUMMARY)
    # Blocks 2..M each run in an If on "some row reached it", so a batch whose rows have all left skips them.
    ifs = [n for n, _ in nodes(model.graph) if n.op_type == "If"]
    assert len(ifs) == len(manifest["stages"]) - 1
    if arch.family == "convnext":
        # Features stay NHWC between blocks: the layer scale multiplies the NHWC tensor (no
        # Transpose back to NCHW at a block's end), no Transpose reads a boundary's Compress, and
        # every head averages axes 1 and 2.
        produced = {o: n for n, _ in nodes(model.graph) for o in n.output}
        scales = [n for n, _ in nodes(model.graph) if n.op_type == "Mul" and any("layer_scale" in i for i in n.input)]
        assert len(scales) == len(manifest["stages"])
        assert all(produced[i].op_type != "Transpose" for n in scales for i in n.input if i in produced)
        assert not any(
            n.op_type == "Transpose"
            and produced.get(n.input[0]) is not None
            and produced[n.input[0]].op_type == "Compress"
            for n, _ in nodes(model.graph)
        )
        heads = [n for n, _ in nodes(model.graph) if n.op_type == "ReduceMean"]
        assert [list(next(a.ints for a in h.attribute if a.name == "axes")) for h in heads] == [[1, 2]] * len(heads)


def test_compose_without_channels_last_copies_the_stages_and_transposes_before_the_compress(tmp_path):
    arch = ArchConfig(family="convnext", depths=[1, 1, 1, 1], dims=[8, 8, 16, 16], exits="stage")
    manifest = export_tiny(arch, tmp_path)
    stage_nodes = sum(len(onnx.load(os.path.join(str(tmp_path), s["file"])).graph.node) for s in manifest["stages"])
    compose_bundle(str(tmp_path), manifest, channels_last=False)
    model = onnx.load(os.path.join(str(tmp_path), "early-exit.onnx"))
    produced = {o: n for n, _ in nodes(model.graph) for o in n.output}
    stage_copies = [n for n, _ in nodes(model.graph) if n.name.startswith("s")]
    # Downsampling stages start with NCHW -> NHWC: that Transpose runs before the boundary's Compress
    # (the two commute), so that onnxruntime can cancel it against the previous block's last one.
    # Each exit head's ReduceMean over H and W is GlobalAveragePool + Flatten (one node more).
    assert len(stage_copies) == stage_nodes - 3 + len(manifest["stages"])
    assert sum(n.op_type == "GlobalAveragePool" for n, _ in nodes(model.graph)) == len(manifest["stages"])
    assert (
        sum(
            n.op_type == "Compress"
            and produced.get(n.input[0]) is not None
            and produced[n.input[0]].op_type == "Transpose"
            for n, _ in nodes(model.graph)
        )
        == 3
    )


@pytest.mark.skipif(not os.path.isdir(FMNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_export_writes_the_early_exit_graph_and_shared_weights(tmp_path):
    ckpt, out = str(tmp_path / "tiny.pt"), tmp_path / "tiny"
    assert main(["train", "--preset", "tiny-smoke", "--limit", "128", "--checkpoint", ckpt, "--threads", "1"]) == 0
    assert main(["export", "--checkpoint", ckpt, "--out", str(out), "--limit", "128", "--threads", "1"]) == 0
    m = yaml.safe_load((out / "manifest.yaml").read_text())
    assert m["earlyExit"]["file"] == "early-exit.onnx" and m["weights"]["file"] == "weights.bin"
    for name in graph_files(m):
        graph = onnx.load(str(out / name), load_external_data=False).graph
        assert all(t.data_location == TensorProto.EXTERNAL for t in initializers(graph)), name


def test_an_explicit_compaction_list_sets_the_segments(tmp_path):
    arch = ArchConfig(family="resnet18", width=4, exits="stage")
    manifest = export_tiny(arch, tmp_path)
    stages = [onnx.load(os.path.join(str(tmp_path), s["file"])) for s in manifest["stages"]]
    for compact, ifs in (([], []), ([2], ["ee/if_exit_3"]), (None, ["ee/if_exit_2", "ee/if_exit_3", "ee/if_exit_4"])):
        model = compose_early_exit(stages, manifest["stages"], len(manifest["labels"]), compact=compact)
        onnx.checker.check_model(model, full_check=True)
        assert [n.name for n in model.graph.node if n.op_type == "If"] == ifs
        assert named_rows(model.graph) == []
    with pytest.raises(Exception, match="compaction exits"):
        compose_early_exit(stages, manifest["stages"], len(manifest["labels"]), compact=[4])
