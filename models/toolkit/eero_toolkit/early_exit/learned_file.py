"""The bundle's learned-score file (models/FORMAT.md "learned-score.json"), read for the composer.

The file is the service's LearnedParams (src/router/learned/params.ts) as JSON, written by `eero
calibrate`; the manifest names it in `learnedScore`. The composer needs its feature list (fixed in
the graph) and its kind (a logistic model is computed in the graph; an MLP is not, and the service
then scores it on the stage chain). The weights are graph inputs, so a refit with the same features
needs no recomposition."""

from __future__ import annotations

import hashlib
import json
import os

from .. import ToolkitError

LEARNED_VERSION = 1
KINDS = ("logistic", "mlp")


def read_learned_score(bundle_dir: str, manifest: dict) -> dict | None:
    """The params of the manifest's `learnedScore` file, checked against the bundle; None without one."""
    block = manifest.get("learnedScore")
    if block is None:
        return None
    path = os.path.join(bundle_dir, block.get("file", ""))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ToolkitError(f"{path}: the manifest's learnedScore file cannot be read ({e.strerror})") from e
    if "sha256" in block and hashlib.sha256(data).hexdigest() != block["sha256"]:
        raise ToolkitError(f"{path}: sha256 differs from the manifest's learnedScore.sha256")
    try:
        params = json.loads(data)
    except ValueError as e:
        raise ToolkitError(f"{path}: not JSON ({e})") from e
    check_learned_params(params, len(manifest["stages"]), len(manifest["labels"]), path)
    if "features" in block and list(block["features"]) != list(params["features"]):
        raise ToolkitError(f"{path}: features {params['features']} differ from the manifest's {block['features']}")
    return params


def check_learned_params(params, exits: int, classes: int, where: str) -> None:
    """The fields the graph reads, as the service's validateLearnedParams checks them."""

    def bad(field: str, why: str):
        raise ToolkitError(f"{where}: learned score: {field}: {why}")

    if not isinstance(params, dict):
        bad("(root)", "must be an object")
    if params.get("version") != LEARNED_VERSION:
        bad("version", f"must be {LEARNED_VERSION}, got {params.get('version')!r}")
    if params.get("kind") not in KINDS:
        bad("kind", f"must be one of {', '.join(KINDS)}, got {params.get('kind')!r}")
    if params.get("exits") != exits:
        bad("exits", f"the bundle has {exits} exits, the learned score was fitted for {params.get('exits')!r}")
    if params.get("classes") != classes:
        bad("classes", f"the bundle has {classes} classes, the learned score was fitted for {params.get('classes')!r}")
    features = params.get("features")
    if not isinstance(features, list) or not features or len(set(features)) != len(features):
        bad("features", "must be a non-empty list of feature names without repeats")
    per_exit = params.get("perExit")
    if not isinstance(per_exit, list) or len(per_exit) != exits - 1:
        bad("perExit", f"must hold one model for each of the first {exits - 1} exits")
    if params["kind"] == "logistic":
        for l, m in enumerate(per_exit):
            if not isinstance(m, dict) or len(m.get("weights", [])) != len(features):
                bad(f"perExit[{l}].weights", f"must hold {len(features)} numbers")
