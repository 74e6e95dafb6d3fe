"""The learned score in the early-exit graph (scores/learned.py) and the bundle's learned-score file.

onnxruntime is not installed for Python here: its values are checked against the service's router
on the shipped bundles' whole calibration split in test/engine/early-exit-learned.test.ts. These
tests check how the graph computes it: the features picked exactly, z added left to right, the
history each feature reads, the last exit's +inf, and what the manifest says."""

import hashlib
import json
import os

import numpy as np
import onnx
import pytest
from onnx_helpers import export_tiny, nodes

from eero_toolkit import ToolkitError
from eero_toolkit.archs import ArchConfig
from eero_toolkit.early_exit import compose_bundle, compose_early_exit
from eero_toolkit.early_exit.learned_file import read_learned_score
from eero_toolkit.early_exit.scores import exit_scores
from eero_toolkit.early_exit.scores.learned import FEATURES, build_learned, history_columns

ALL = list(FEATURES)
DEFAULT = ["margin", "logGap", "logMargin", "log1mMargin", "agree", "streak", "prevMargin", "maxPrevMargin"]


def params(features, exits=4, classes=10, kind="logistic"):
    per_exit = [{"bias": 0.5 + l, "weights": [0.25 * (j + 1) for j in range(len(features))]} for l in range(exits - 1)]
    return {"version": 1, "kind": kind, "exits": exits, "classes": classes, "features": features, "perExit": per_exit}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    manifest = export_tiny(ArchConfig(family="resnet18", width=4, exits="stage"), out)
    stages = [onnx.load(os.path.join(str(out), s["file"])) for s in manifest["stages"]]
    return stages, manifest["stages"]


def constant(model, name):
    return next(onnx.numpy_helper.to_array(n.attribute[0].t) for n, _ in nodes(model.graph) if n.output[0] == name)


def learned_nodes(model, op):
    return [n for n, _ in nodes(model.graph) if n.op_type == op and n.name.startswith("ee/learned/")]


def test_a_logistic_file_gives_the_learned_score_and_an_mlp_none():
    score = build_learned(params(DEFAULT))
    assert (score.name, score.code) == ("learned", 3)
    assert [(i.key, i.name, i.dims) for i in score.inputs] == [
        ("learnedWeights", "learned_weights", ("exits-1", len(DEFAULT) + 1))
    ]
    # RowState before exit 1: no prediction (-1), no streak, no margins; only what the features read.
    assert history_columns(DEFAULT) == ("prediction", "streak", "margin", "maxMargin")
    assert score.history == (-1.0, 0.0, 0.0, 0.0)
    assert build_learned(params(["margin", "logGap"])).history == ()
    assert history_columns(["meanPrevMargin", "agree"]) == ("prediction", "sumMargin")
    assert build_learned(params(DEFAULT, kind="mlp")) is None
    assert [s.name for s in exit_scores({"learned": params(DEFAULT, kind="mlp")})] == ["margin", "maxprob", "entropy"]
    with pytest.raises(ToolkitError, match=r"features \['bogus'\] unknown"):
        build_learned(params(["margin", "bogus"]))


@pytest.mark.parametrize(
    "features", [DEFAULT, ALL, ["negEntropy", "meanPrevMargin", "maxprob"]], ids=["default", "all", "few"]
)
def test_each_exit_picks_the_features_in_order_and_adds_z_left_to_right(tiny, features):
    stages, specs = tiny
    m = len(stages)
    model = compose_early_exit(stages, specs, 10, scores=exit_scores({"learned": params(features)}))
    onnx.checker.check_model(model, full_check=True)
    shape = next(i for i in model.graph.input if i.name == "learned_weights").type.tensor_type.shape
    assert [d.dim_value for d in shape.dim] == [m - 1, len(features) + 1]
    # z: one Mul of X by the exit's row of learned_weights, one running sum (CumSum) over it, its last column.
    sums = learned_nodes(model, "CumSum")
    produced = {o: n for n, _ in nodes(model.graph) for o in n.output}
    z_sums = [s for s in sums if produced[s.input[0]].op_type == "Mul"]
    assert len(z_sums) == m - 1
    for l, cumsum in enumerate(z_sums):
        mul = produced[cumsum.input[0]]
        row = produced[mul.input[1]]
        assert row.op_type == "Gather" and row.input[0] == "learned_weights"
        assert constant(model, row.input[1]).tolist() == l
        pick = constant(model, produced[mul.input[0]].input[1])  # X = Base x pick
        assert pick.shape[1] == len(features) + 1
        # Each column picks one value (logGap: the difference of two), so X holds the router's doubles.
        for j, f in enumerate(["bias", *features]):
            nonzero = sorted(pick[:, j][pick[:, j] != 0].tolist())
            want = [] if f == "meanPrevMargin" and l == 0 else [-1.0, 1.0] if f == "logGap" else [1.0]
            assert nonzero == want, (l, f)
    # No sum in another order: no ReduceSum, and the only MatMuls pick (0/1/-1) or combine the top two.
    assert learned_nodes(model, "ReduceSum") == []
    for matmul in learned_nodes(model, "MatMul"):
        assert set(np.unique(constant(model, matmul.input[1]))) <= {-1.0, 0.0, 1.0}
    # The last exit takes the rest: its learned score is +inf.
    infs = [n for n in learned_nodes(model, "ConstantOfShape") if constant_attr(n) == [np.inf]]
    assert len(infs) == 1
    # The learned score reads the shared TopK (one per exit).
    assert sum(n.op_type == "TopK" for n, _ in nodes(model.graph)) == m


def constant_attr(node):
    return onnx.numpy_helper.to_array(node.attribute[0].t).tolist()


def bundle_with(tmp_path, p, features=None):
    manifest = export_tiny(ArchConfig(family="resnet18", width=4, exits="stage"), tmp_path)
    data = json.dumps(p).encode()
    (tmp_path / "learned-score.json").write_bytes(data)
    block = {
        "file": "learned-score.json",
        "sha256": hashlib.sha256(data).hexdigest(),
        "features": features or p["features"],
    }
    manifest["learnedScore"] = block
    return manifest


def test_compose_reads_the_manifests_learned_score_file_and_lists_the_graphs_scores(tmp_path):
    manifest = compose_bundle(str(tmp_path), bundle_with(tmp_path, params(DEFAULT)))
    early = manifest["earlyExit"]
    assert early["scores"] == {"margin": 0, "maxprob": 1, "entropy": 2, "learned": 3}
    assert early["learnedFeatures"] == DEFAULT
    assert early["inputs"]["learnedWeights"] == "learned_weights"
    model = onnx.load(str(tmp_path / "early-exit.onnx"), load_external_data=False)
    assert [i.name for i in model.graph.input] == list(early["inputs"].values())
    assert [o.name for o in model.graph.output][-1] == "left_scores"


def test_an_mlp_file_leaves_the_learned_score_out_of_the_graph(tmp_path):
    manifest = compose_bundle(str(tmp_path), bundle_with(tmp_path, params(DEFAULT, kind="mlp")))
    early = manifest["earlyExit"]
    assert early["scores"] == {"margin": 0, "maxprob": 1, "entropy": 2}
    assert "learnedFeatures" not in early and "learnedWeights" not in early["inputs"]


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda m, p: m["learnedScore"].update(sha256="0" * 64), "sha256 differs"),
        (lambda m, p: m["learnedScore"].update(file="missing.json"), "cannot be read"),
        (lambda m, p: m["learnedScore"].update(features=["margin"]), "differ from the manifest's"),
        (lambda m, p: m["stages"].pop(), "exits: the bundle has 3 exits"),
        (lambda m, p: m["labels"].pop(), "classes: the bundle has 9 classes"),
    ],
    ids=["sha256", "missing", "features", "exits", "classes"],
)
def test_a_learned_score_file_that_does_not_fit_the_bundle_is_refused_naming_the_field(tmp_path, change, message):
    p = params(DEFAULT)
    manifest = bundle_with(tmp_path, p)
    change(manifest, p)
    with pytest.raises(ToolkitError, match=message):
        read_learned_score(str(tmp_path), manifest)
    assert read_learned_score(str(tmp_path), {"stages": [], "labels": []}) is None
