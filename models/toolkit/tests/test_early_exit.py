"""early-exit.onnx and the shared weights.bin of the shipped bundles (a compose of tiny networks: test_compose.py).

onnxruntime is not installed for Python here; the graphs' behaviour (routing, parity with the
service's router, zero survivors) is tested with onnxruntime-node in
test/engine/early-exit-graph.test.ts. These tests check what can be read from the files."""

import hashlib
import json
import os
import shutil

import onnx
import pytest
from onnx import TensorProto, defs
from onnx_helpers import BUNDLES, FIXTURES, MODELS, graph_files, manifest_of, named_rows, nodes, type_name, value_types

from eero_toolkit.cli import main
from eero_toolkit.early_exit import OUTPUTS, SUMMARY
from eero_toolkit.external_weights import ALIGN, initializer_digests, initializers, tensor_bytes


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
    assert concats[SUMMARY["scores"]] == [f"left{l}_scores" for l in range(1, exits)] + [f"exit{exits}_scores"]
    assert len(concats[SUMMARY["counts"]]) == exits
    types = value_types(model)
    assert [type_name(types[v]) for v in SUMMARY.values()] == ["int64", "int64", "float", "double"]


@pytest.mark.parametrize("bundle,entries", [("resnet18-fmnist", [4, 6, 8]), ("convnext-fmnist", [])])
def test_a_segment_whose_block_adds_its_input_back_starts_with_a_blocked_layout_entry(bundle, entries):
    """ResNet's blocks without a downsampling shortcut add their input back (an Add beside the Conv):
    after a compaction that input is a plain NCHW tensor, which onnxruntime would leave out of the
    residual's fusion into the block's last Conv. A 1x1 MaxPool (the identity) at the segment's start
    gives it the blocked layout; blocks with a downsampling Conv, and ConvNeXt's NHWC features, need none."""
    m = manifest_of(bundle)
    model = onnx.load(os.path.join(MODELS, bundle, m["earlyExit"]["file"]), load_external_data=False)
    pools = {}
    for node in model.graph.node:
        if node.op_type != "If":
            continue
        branch = next(a.g for a in node.attribute if a.name == "then_branch")
        found = [n for n in branch.node if n.op_type == "MaxPool"]
        if found:
            pools[int(node.name.rsplit("_", 1)[1])] = found
    assert sorted(pools) == entries
    for found in pools.values():
        assert len(found) == 1
        attrs = {a.name: list(a.ints) for a in found[0].attribute}
        assert attrs == {"kernel_shape": [1, 1], "strides": [1, 1]}
