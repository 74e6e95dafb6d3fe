"""The exit-score registry and how the early-exit graph offers its scores through `score_kind`."""

import os
import re

import onnx
import pytest
from onnx import TensorProto
from onnx_helpers import export_tiny

from eero_toolkit.archs import ArchConfig
from eero_toolkit.early_exit import compose_early_exit, score_codes
from eero_toolkit.early_exit.scores import ExitScore, GraphInput, exit_scores, get_score, register_score


def test_the_registry_holds_the_services_scores_under_their_names_and_codes():
    # The service's `score_kind` codes (src/router/scorers): 0 margin, 1 maxprob, 2 entropy, 3 learned (fitted).
    assert score_codes() == {"margin": 0, "maxprob": 1, "entropy": 2, "learned": 3}
    # A fitted score is in the graph only with a bundle's params.
    assert [s.name for s in exit_scores()] == ["margin", "maxprob", "entropy"]
    assert get_score("margin").top_k_weights == (1.0, -1.0)
    assert get_score("maxprob").top_k_weights == (1.0, 0.0)
    assert get_score("entropy").subgraph is not None


def test_a_second_score_of_a_taken_name_or_code_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        register_score(ExitScore(name="margin", code=7, top_k_weights=(1.0,)))
    with pytest.raises(ValueError, match="code 2 is 'entropy'"):
        register_score(ExitScore(name="other", code=2, top_k_weights=(1.0,)))
    with pytest.raises(ValueError, match="code 3 is 'learned'"):
        register_score(ExitScore(name="other", code=3, top_k_weights=(1.0,)))
    with pytest.raises(ValueError, match="exactly one"):
        ExitScore(name="neither", code=9)
    with pytest.raises(ValueError, match="needs a subgraph"):
        ExitScore(name="carried", code=9, top_k_weights=(1.0,), history=1)
    with pytest.raises(KeyError, match=r"known: margin, maxprob, entropy \(fitted: build it\)"):
        get_score("learned")
    assert [s.name for s in exit_scores()] == ["margin", "maxprob", "entropy"]


def node_ops(model) -> list:
    ops = []
    for node in model.graph.node:
        ops.append(node.op_type)
        for attr in node.attribute:
            if attr.HasField("g"):
                ops += node_ops(onnx.helper.make_model(attr.g))
    return ops


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    manifest = export_tiny(ArchConfig(family="resnet18", width=4, exits="stage"), out)
    stages = [onnx.load(os.path.join(str(out), s["file"])) for s in manifest["stages"]]
    return stages, manifest["stages"]


def weighted_top1(ctx):
    """A test score that reads its own graph input: top1 x weight[exit]."""
    weight = ctx.node("Gather", ["test_weights", ctx.const(ctx.exit - 1, "int64", scalar=True)], axis=0)
    return ctx.node("Mul", [ctx.node("ReduceMax", [ctx.probs], axes=[1], keepdims=0), weight])


def test_a_score_with_its_own_graph_input_is_offered_beside_the_registered_ones(tiny):
    stages, specs = tiny
    weights = GraphInput("testWeights", "test_weights", TensorProto.DOUBLE, ("exits",))
    extra = ExitScore(name="weighted", code=3, subgraph=weighted_top1, inputs=(weights,))
    model = compose_early_exit(stages, specs, 10, scores=[*exit_scores(), extra])
    onnx.checker.check_model(model, full_check=True)
    inputs = {i.name: [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert inputs["test_weights"] == [len(stages)]
    codes = sorted(
        int(onnx.numpy_helper.to_array(n.attribute[0].t))
        for n in model.graph.node
        if n.op_type == "Constant" and any(e.op_type == "Equal" and n.output[0] in e.input for e in model.graph.node)
    )
    assert codes == [0, 2, 3]  # margin picks its weight row; entropy and the new score each have a test
    ops = node_ops(model)
    assert ops.count("ReduceMax") == len(stages)
    # Per exit: one Where for each subgraph score (entropy, the new one) over the shared top-k score.
    assert ops.count("TopK") == len(stages) and ops.count("Where") == 1 + 2 * len(stages)


def test_the_scores_alone_decide_the_score_subgraph(tiny):
    stages, specs = tiny
    margin_only = compose_early_exit(stages, specs, 10, scores=[get_score("margin")])
    onnx.checker.check_model(margin_only, full_check=True)
    ops = node_ops(margin_only)
    assert ops.count("Where") == 0 and ops.count("Equal") == 0 and ops.count("TopK") == len(stages)
    entropy_only = compose_early_exit(stages, specs, 10, scores=[get_score("entropy")])
    onnx.checker.check_model(entropy_only, full_check=True)
    ops = node_ops(entropy_only)
    assert ops.count("TopK") == 0 and ops.count("Log") == len(stages)


SCORERS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "router", "scorers")


@pytest.mark.skipif(not os.path.isdir(SCORERS), reason="the service's sources are not beside the toolkit")
def test_the_registry_matches_the_services_scorers_that_the_graph_computes():
    service = {}
    for name in os.listdir(SCORERS):
        with open(os.path.join(SCORERS, name)) as f:
            text = f.read()
        found = re.search(r"name: '([a-z0-9_-]+)',[\s\S]*?graphCode: (\d+|undefined),", text)
        if found and found.group(2) != "undefined":
            service[found.group(1)] = int(found.group(2))
    assert service == score_codes()
