"""early-exit.onnx and the shared weights.bin: the shipped bundles and a compose of tiny networks.

onnxruntime is not installed for Python here; the graphs' behaviour (routing, parity with the
service's router, zero survivors) is tested with onnxruntime-node in
test/engine/early-exit-graph.test.ts. These tests check what can be read from the files."""

import hashlib
import json
import os
import shutil

import onnx
import pytest
import torch
import yaml
from onnx import TensorProto, defs

from eero_toolkit.archs import ArchConfig, build_model
from eero_toolkit.cli import main
from eero_toolkit.data import FMNIST_DIR
from eero_toolkit.early_exit import OUTPUTS, SUMMARY, compose_bundle, compose_early_exit
from eero_toolkit.export import export_full_graph, export_stages, fold_batchnorm
from eero_toolkit.external_weights import ALIGN, initializer_digests, initializers, tensor_bytes

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


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_early_exit_node_has_a_cuda_kernel_for_its_types(bundle):
    with open(os.path.join(FIXTURES, "cuda-kernels.json")) as f:
        kernels = json.load(f)
    m = manifest_of(bundle)
    model = onnx.load(os.path.join(MODELS, bundle, m["earlyExit"]["file"]), load_external_data=False)
    opset = model.opset_import[0].version
    types = value_types(model)
    problems = []
    for node, _ in nodes(model.graph):
        if node.domain not in ("", "ai.onnx"):
            problems.append(f"{node.name}: domain {node.domain}")
            continue
        if node.op_type in kernels["noKernel"]:
            continue
        spec = kernels["ops"].get(node.op_type)
        if spec is None:
            problems.append(f"{node.op_type}: not in the fixture (look it up in OperatorKernels.md)")
            continue
        since = defs.get_schema(node.op_type, opset).since_version
        first, last = spec["versions"]
        if since < first or (last is not None and since > last):
            problems.append(f"{node.op_type}-{since}: no CUDA kernel (registered for {first}..{last})")
        for kind, names, constraints in (
            ("input", node.input, spec["inputs"]),
            ("output", node.output, spec["outputs"]),
        ):
            for name, constraint in zip(names, constraints, strict=False):
                if not name:
                    continue
                got = type_name(types[name])
                fixed = constraint.startswith("tensor(")
                allowed = [constraint[len("tensor(") : -1]] if fixed else spec["types"][constraint]
                if got not in allowed:
                    problems.append(
                        f"{node.name or node.op_type}: {kind} {name} is {got}; CUDA {node.op_type} takes {allowed}"
                    )
    assert problems == []


@pytest.mark.parametrize("bundle", BUNDLES)
def test_stage_and_full_graph_weights_are_bit_identical_to_the_exported_ones(bundle):
    with open(os.path.join(FIXTURES, "initializer-digests.json")) as f:
        expected = json.load(f)[bundle]
    m = manifest_of(bundle)
    for name in graph_files(m)[:-1]:
        digests = initializer_digests(onnx.load(os.path.join(MODELS, bundle, name)))  # through weights.bin
        assert hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest() == expected[name], name


@pytest.mark.parametrize("bundle", BUNDLES)
def test_early_exit_weights_are_the_stage_graphs_weights(bundle):
    m = manifest_of(bundle)
    stage_tensors = {}
    for s in m["stages"]:
        for t in onnx.load(os.path.join(MODELS, bundle, s["file"])).graph.initializer:
            stage_tensors.setdefault((t.data_type, tensor_bytes(t)), t.name)
    model = onnx.load(os.path.join(MODELS, bundle, m["earlyExit"]["file"]))
    composed = list(initializers(model.graph))
    assert composed and all((t.data_type, tensor_bytes(t)) in stage_tensors for t in composed)
    assert len(composed) == sum(
        len(onnx.load(os.path.join(MODELS, bundle, s["file"]), load_external_data=False).graph.initializer)
        for s in m["stages"]
    )


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_initializer_is_stored_once_in_weights_bin(bundle):
    m = manifest_of(bundle)
    folder = os.path.join(MODELS, bundle)
    path = os.path.join(folder, m["weights"]["file"])
    with open(path, "rb") as f:
        blob = f.read()
    assert (len(blob), hashlib.sha256(blob).hexdigest()) == (m["weights"]["bytes"], m["weights"]["sha256"])
    ranges = {}
    for name in graph_files(m):
        for t in initializers(onnx.load(os.path.join(folder, name), load_external_data=False).graph):
            assert t.data_location == TensorProto.EXTERNAL and not t.raw_data, f"{name}: {t.name} is stored inline"
            ext = {e.key: e.value for e in t.external_data}
            assert ext["location"] == m["weights"]["file"]
            offset, length = int(ext["offset"]), int(ext["length"])
            assert offset % ALIGN == 0 and offset + length <= len(blob)
            ranges.setdefault(blob[offset : offset + length], set()).add(offset)
    assert all(len(offsets) == 1 for offsets in ranges.values()), "identical tensors stored twice"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_manifest_describes_the_rewritten_files_and_the_early_exit_interface(bundle):
    m = manifest_of(bundle)
    folder = os.path.join(MODELS, bundle)
    for spec in m["stages"] + [m["reference"], m["earlyExit"], m["weights"]]:
        with open(os.path.join(folder, spec["file"]), "rb") as f:
            data = f.read()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (spec["bytes"], spec["sha256"]), spec["file"]
    ee = m["earlyExit"]
    model = onnx.load(os.path.join(folder, ee["file"]), load_external_data=False)
    assert model.opset_import[0].version == 17
    assert [i.name for i in model.graph.input] == list(ee["inputs"].values())
    exits = len(m["stages"])
    assert [o.name for o in model.graph.output] == [
        ee["outputs"][k].format(l=l) for l in range(1, exits + 1) for k in ("rows", "logits", "scores", "leave")
    ] + list(SUMMARY.values())
    assert ee["outputs"] == OUTPUTS
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"


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


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_value_has_a_full_shape_with_named_row_counts(bundle):
    m = manifest_of(bundle)
    model = onnx.load(os.path.join(MODELS, bundle, m["earlyExit"]["file"]), load_external_data=False)
    assert named_rows(model.graph) == []
    rows = [
        o.type.tensor_type.shape.dim[0].dim_param
        for o in model.graph.output
        if o.name.startswith("exit") and o.name.endswith("_rows")
    ]
    assert rows == ["batch"] + [f"n{l}" for l in range(2, len(m["stages"]) + 1)]


def test_compose_rewrites_a_shipped_bundle_to_the_same_bytes(tmp_path):
    src = os.path.join(MODELS, "resnet18-fmnist")
    dst = tmp_path / "resnet18-fmnist"
    shutil.copytree(src, dst)
    assert main(["compose", "--bundle", str(dst)]) == 0
    for name in sorted(os.listdir(src)):
        if os.path.isfile(os.path.join(src, name)):
            with open(os.path.join(src, name), "rb") as f:
                assert (dst / name).read_bytes() == f.read(), name


def export_tiny(arch: ArchConfig, out) -> dict:
    torch.manual_seed(0)
    model = build_model(arch).eval()
    fold_batchnorm(model)
    shape = (arch.in_channels, arch.image_size, arch.image_size)
    stages = export_stages(model, shape, str(out))
    full = export_full_graph(model, shape, os.path.join(str(out), "full.onnx"))
    return {"labels": [str(i) for i in range(arch.num_classes)], "stages": stages, "reference": full}


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


@pytest.mark.parametrize(
    "bundle,segments", [("resnet18-fmnist", [1, 4, 5, 6, 7, 8]), ("convnext-fmnist", list(range(1, 13)))]
)
def test_rows_are_compacted_where_it_pays_and_the_summary_covers_every_exit(bundle, segments):
    """ResNet-18's 16x32x32 maps after exits 1 and 2 stay uncompacted (the next block costs fewer
    than 300 multiply-adds per float of the map); every later exit, and every ConvNeXt exit, compacts.
    A segment after the first runs in an If; exits inside a segment compress their outputs."""
    m = manifest_of(bundle)
    model = onnx.load(os.path.join(MODELS, bundle, m["earlyExit"]["file"]), load_external_data=False)
    ifs = [n.name for n in model.graph.node if n.op_type == "If"]
    assert ifs == [f"ee/if_exit_{f}" for f in segments[1:]]
    concats = {n.output[0]: list(n.input) for n in model.graph.node if n.op_type == "Concat"}
    exits = len(m["stages"])
    assert concats[SUMMARY["rows"]] == [f"left{l}_rows" for l in range(1, exits)] + [f"exit{exits}_rows"]
    assert concats[SUMMARY["logits"]] == [f"left{l}_logits" for l in range(1, exits)] + [f"exit{exits}_logits"]
    assert len(concats[SUMMARY["counts"]]) == exits
    types = value_types(model)
    assert [type_name(types[v]) for v in SUMMARY.values()] == ["int64", "int64", "float"]


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
