"""A score's per-row history in the early-exit graph: started at zero, passed from exit to exit, compacted
with the rows and handed through the segments' Ifs (flat.py, segments.py).

onnxruntime is not installed for Python here: these tests follow the values through the graph; the
learned score's numbers are checked against the service's router in test/engine (onnxruntime-node)."""

import os

import onnx
import pytest
from onnx import TensorProto
from onnx_helpers import export_tiny, named_rows, nodes, value_types

from eero_toolkit.archs import ArchConfig
from eero_toolkit.early_exit import compose_early_exit
from eero_toolkit.early_exit.scores import ExitScore, exit_scores


def counted(ctx):
    """A test score with a history of 2 columns: the score is column 0, and each exit adds 1 to it."""
    after = ctx.node("Add", [ctx.history, ctx.const([1.0, 0.0], "float64")], out=f"test/history_after{ctx.exit}")
    return ctx.node("Gather", [ctx.history, ctx.const(0, "int64", scalar=True)], axis=1), after


COUNTER = ExitScore(name="counter", code=7, subgraph=counted, history=(0.0, 0.0))
# Values other than zero to start from.
STARTED = ExitScore(name="started", code=8, subgraph=counted, history=(-1.0, 5.0))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    manifest = export_tiny(ArchConfig(family="resnet18", width=4, exits="stage"), out)
    stages = [onnx.load(os.path.join(str(out), s["file"])) for s in manifest["stages"]]
    return stages, manifest["stages"]


def flat_names(model):
    """Every node (main graph and branches) by output, with a branch's local `l<f>/` names mapped back."""
    produced = {}
    for node, _ in nodes(model.graph):
        for o in node.output:
            produced[o.split("/", 1)[1] if o.startswith("l") and "/" in o and o[1].isdigit() else o] = node
    return produced


def constant(model, name):
    return next(onnx.numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.output[0] == name)


def source(produced, name):
    """Where a value comes from, past the Ifs and the branch-local copies."""
    node = produced[name]
    while node.op_type == "If":
        name = f"l{node.name.rsplit('_', 1)[1]}/{name}"
        node = next(n for n, _ in nodes(node.attribute[0].g) if name in n.output)
    return node


@pytest.mark.parametrize("compact", [None, [2], []], ids=["every-exit", "after-exit-2", "never"])
def test_the_history_runs_from_zeros_through_every_exit_compacted_with_the_rows(tiny, compact):
    stages, specs = tiny
    m = len(stages)
    model = compose_early_exit(stages, specs, 10, compact=compact, scores=[*exit_scores(), COUNTER])
    onnx.checker.check_model(model, full_check=True)
    assert named_rows(model.graph) == []
    produced = flat_names(model)
    starts = [1] + [int(n.name.rsplit("_", 1)[1]) for n in model.graph.node if n.op_type == "If"]
    for l in range(1, m + 1):
        add = produced[f"test/history_after{l}"]
        came_from = add.input[0]
        if l == 1:
            # Every row starts from the score's start row: zeros [batch, 2] plus (0, 0).
            start = source(produced, came_from)
            assert start.op_type == "Add" and source(produced, start.input[0]).op_type == "ConstantOfShape"
            assert constant(model, start.input[1]).tolist() == [0.0, 0.0]
        elif l in starts:
            # A new segment reads the history its rows kept: the previous exit's, compressed to the rows that go on.
            assert came_from == f"hist_counter{l}"
            compress = source(produced, came_from)
            assert compress.op_type == "Compress" and compress.input[0].endswith(f"test/history_after{l - 1}")
        else:
            # Inside a segment every row of it runs on: the previous exit's history as it is.
            assert came_from == f"test/history_after{l - 1}"
    # Each If hands the next segment its history beside its rows.
    for node in model.graph.node:
        if node.op_type == "If" and node is not model.graph.node[-1]:
            nxt = [s for s in starts if s > int(node.name.rsplit("_", 1)[1])]
            if nxt:
                assert f"hist_counter{nxt[0]}" in node.output
    types = value_types(model)
    assert all(types[f"hist_counter{s}"] == TensorProto.DOUBLE for s in starts[1:])


def test_scores_without_history_carry_none(tiny):
    stages, specs = tiny
    model = compose_early_exit(stages, specs, 10)
    assert not any(o.startswith("hist_") for n, _ in nodes(model.graph) for o in n.output)


def test_every_row_starts_from_the_scores_start_row(tiny):
    stages, specs = tiny
    model = compose_early_exit(stages, specs, 10, scores=[*exit_scores(), STARTED])
    onnx.checker.check_model(model, full_check=True)
    start = source(flat_names(model), produced_input(model, "test/history_after1"))
    assert start.op_type == "Add" and constant(model, start.input[1]).tolist() == [-1.0, 5.0]


def produced_input(model, output):
    return next(n.input[0] for n, _ in nodes(model.graph) if output in n.output)
