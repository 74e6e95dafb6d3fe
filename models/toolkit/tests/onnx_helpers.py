"""The shipped bundles, graph walks and a tiny export, shared by the tests."""

import os

import torch
import yaml
from onnx import TensorProto

from eero_toolkit.archs import ArchConfig, build_model
from eero_toolkit.export import export_full_graph, export_stages, fold_batchnorm

MODELS = os.path.join(os.path.dirname(__file__), "..", "..")
BUNDLES = ["resnet18-fmnist", "convnext-fmnist"]
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def manifest_of(bundle: str) -> dict:
    with open(os.path.join(MODELS, bundle, "manifest.yaml")) as f:
        return yaml.safe_load(f)


def graph_files(m: dict):
    return [s["file"] for s in m["stages"]] + [m["reference"]["file"], m["earlyExit"]["file"]]


def nodes(graph):
    """Every node of a graph and of its subgraphs, with the graph it belongs to."""
    for node in graph.node:
        yield node, graph
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from nodes(sub)


def value_types(model) -> dict:
    """Element type of every value of the model, subgraphs included (the composer writes them all)."""
    types = {}

    def visit(graph):
        for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
            types[vi.name] = vi.type.tensor_type.elem_type
        for t in graph.initializer:
            types[t.name] = t.data_type
        for node, _ in nodes(graph):
            if node.op_type == "Constant":
                types[node.output[0]] = next(a.t.data_type for a in node.attribute if a.name == "value")
            for attr in node.attribute:
                if attr.HasField("g"):
                    visit(attr.g)

    visit(model.graph)
    return types


def type_name(elem_type: int) -> str:
    return TensorProto.DataType.Name(elem_type).lower()


def named_rows(graph) -> list:
    """Values whose row count is not a named symbol (onnxruntime needs the names, see early_exit.py)."""
    bad = []
    for node, _ in nodes(graph):
        for attr in node.attribute:
            if attr.HasField("g"):
                bad += named_rows(attr.g)
    for vi in list(graph.value_info) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        if not vi.type.tensor_type.HasField("shape") or any(
            not d.HasField("dim_value") and (not d.dim_param or d.dim_param.startswith("unk__")) for d in dims
        ):
            bad.append(vi.name)
    return bad


def export_tiny(arch: ArchConfig, out) -> dict:
    torch.manual_seed(0)
    model = build_model(arch).eval()
    fold_batchnorm(model)
    shape = (arch.in_channels, arch.image_size, arch.image_size)
    stages = export_stages(model, shape, str(out))
    full = export_full_graph(model, shape, os.path.join(str(out), "full.onnx"))
    return {"labels": [str(i) for i in range(arch.num_classes)], "stages": stages, "reference": full}
