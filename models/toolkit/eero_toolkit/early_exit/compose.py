"""early-exit.onnx from a bundle's stage graphs, and the bundle rewritten around it."""

from __future__ import annotations

import hashlib
import os

import onnx
from onnx import ModelProto, TensorProto, ValueInfoProto, helper

from .. import ToolkitError
from ..external_weights import share_weights
from .flat import build_flat
from .interface import EARLY_EXIT_FILE, INPUTS, OPSET, OUTPUTS, SUMMARY, local_name
from .learned_file import read_learned_score
from .scores import ExitScore, exit_scores
from .segments import chain_ifs, renamed, value_infos


def _inputs(stages: list[ModelProto], m: int, classes: int, scores: list[ExitScore]) -> list[ValueInfoProto]:
    chw = [d.dim_value for d in stages[0].graph.input[0].type.tensor_type.shape.dim[1:]]
    make = helper.make_tensor_value_info
    inputs = [
        make("input", TensorProto.FLOAT, ["batch", *chw]),
        make("thresholds", TensorProto.DOUBLE, ["batch", m]),
        make("temperature", TensorProto.DOUBLE, [1]),
        make("noise", TensorProto.DOUBLE, ["batch", m, classes]),
        make("score_kind", TensorProto.INT64, [1]),
        make("credit", TensorProto.DOUBLE, [1]),
        make("steps", TensorProto.DOUBLE, [m - 1]),
    ]
    sizes = {"exits": m, "exits-1": m - 1}
    for s in scores:
        inputs += [make(i.name, i.elem_type, [sizes.get(d, d) for d in i.dims]) for i in s.inputs]
    return inputs


def compose_early_exit(
    stages: list[ModelProto],
    specs: list[dict],
    classes: int,
    channels_last: bool = True,
    macs: list[float] | None = None,
    compact: list[int] | None = None,
    scores: list[ExitScore] | None = None,
) -> ModelProto:
    """One ModelProto from the stage graphs (loaded with their data) and their manifest specs.

    `channels_last` keeps ConvNeXt features NHWC between blocks (faster); without it every stage's
    nodes are copied as they are. Either way the exit heads may sum in another order than the stage
    graphs' (NHWC averages, GlobalAveragePool), so logits may differ from theirs in the last bits.
    `macs`: the exits' cumulative multiply-adds (the manifest's), which decide where the rows are
    compacted (compaction.compacts; every exit without them); `compact` names those exits instead.
    `scores`: the exit scores `score_kind` chooses from (the registry's by default)."""
    m = len(stages)
    if m < 1 or len(specs) != m:
        raise ToolkitError("early exit: need one manifest spec per stage graph")
    if classes < 2:
        raise ToolkitError("early exit: the margin score needs at least 2 classes")
    scores = exit_scores() if scores is None else scores
    b = build_flat(stages, specs, classes, channels_last, macs, compact, scores)
    inputs = _inputs(stages, m, classes, scores)
    infos = value_infos(b, inputs)
    nodes, inits, value_info = chain_ifs(b, m, infos)
    lefts = [local_name(1, l, "left") for l in range(1, m)] + [local_name(1, m, "rows")]
    left_logits = [local_name(1, l, "left_logits") for l in range(1, m)] + [local_name(1, m, "logits")]
    left_scores = [local_name(1, l, "left_scores") for l in range(1, m)] + [local_name(1, m, "scores")]
    counts = [f"ee/left_count{l}" for l in range(1, m + 1)]
    nodes += [helper.make_node("Shape", [v], [c], name=c) for v, c in zip(lefts, counts, strict=True)]
    nodes += [
        helper.make_node("Concat", lefts, [SUMMARY["rows"]], name="ee/left_rows", axis=0),
        helper.make_node("Concat", counts, [SUMMARY["counts"]], name="ee/left_counts", axis=0),
        helper.make_node("Concat", left_logits, [SUMMARY["logits"]], name="ee/left_logits", axis=0),
        helper.make_node("Concat", left_scores, [SUMMARY["scores"]], name="ee/left_scores", axis=0),
    ]
    value_info += [helper.make_tensor_value_info(c, TensorProto.INT64, [1]) for c in counts]
    level = {l: max(f for f in b.levels if f <= l) for l in range(1, m + 1)}
    outputs = [
        renamed(infos[local_name(level[l], l, kind)], local_name(1, l, kind))
        for l in range(1, m + 1)
        for kind in OUTPUTS
    ]
    outputs += [
        helper.make_tensor_value_info(SUMMARY["rows"], TensorProto.INT64, ["batch"]),
        helper.make_tensor_value_info(SUMMARY["counts"], TensorProto.INT64, [m]),
        helper.make_tensor_value_info(SUMMARY["logits"], TensorProto.FLOAT, ["batch", classes]),
        helper.make_tensor_value_info(SUMMARY["scores"], TensorProto.DOUBLE, ["batch"]),
    ]
    graph = helper.make_graph(nodes, "early-exit", inputs, outputs, initializer=inits, value_info=value_info)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="eero_toolkit")
    model.ir_version = stages[0].ir_version
    return model


def compose_bundle(bundle_dir: str, manifest: dict, channels_last: bool = True) -> dict:
    """Write `early-exit.onnx` into a bundle and move every graph's weights into one shared
    `weights.bin`; returns `manifest` with the rewritten files' sha256/bytes and the `weights` and
    `earlyExit` blocks (models/FORMAT.md). Idempotent: a composed bundle is recomposed to the same
    bytes, since the graphs are read back with their external data first."""

    def load(name: str) -> ModelProto:
        path = os.path.join(bundle_dir, name)
        if not os.path.exists(path):
            raise ToolkitError(f"{path}: missing; compose needs the bundle's stage graphs and full.onnx")
        return onnx.load(path)  # with its external data, if any

    stages = [load(s["file"]) for s in manifest["stages"]]
    reference = load(manifest["reference"]["file"])
    macs = [e["macs"] for e in manifest["exits"]] if "exits" in manifest else None
    learned = read_learned_score(bundle_dir, manifest)
    scores = exit_scores({"learned": learned} if learned else None)
    model = compose_early_exit(stages, manifest["stages"], len(manifest["labels"]), channels_last, macs, None, scores)
    onnx.checker.check_model(model, full_check=True)
    files = [(s["file"], g) for s, g in zip(manifest["stages"], stages, strict=True)]
    files += [(manifest["reference"]["file"], reference), (EARLY_EXIT_FILE, model)]
    weights = share_weights(files, bundle_dir)
    for name, _ in files:
        onnx.checker.check_model(os.path.join(bundle_dir, name), full_check=True)
    for spec in [*manifest["stages"], manifest["reference"]]:
        spec.update(_file_facts(bundle_dir, spec["file"]))
    score_inputs = {i.key: i.name for s in scores for i in s.inputs}
    early = {
        "file": EARLY_EXIT_FILE,
        **_file_facts(bundle_dir, EARLY_EXIT_FILE),
        "inputs": {**INPUTS, **score_inputs},
        "outputs": dict(OUTPUTS),
        "scores": {s.name: s.code for s in scores},
    }
    if any(s.name == "learned" for s in scores):
        early["learnedFeatures"] = list(learned["features"])
    # The new blocks go right after `reference`; yaml keeps the key order.
    out = {}
    for key, value in manifest.items():
        if key not in ("weights", "earlyExit"):
            out[key] = value
        if key == "reference":
            out["weights"], out["earlyExit"] = weights, early
    manifest.clear()
    manifest.update(out)
    return manifest


def _file_facts(bundle_dir: str, name: str) -> dict:
    with open(os.path.join(bundle_dir, name), "rb") as f:
        data = f.read()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
