"""A bundle's early-exit.onnx composed WITHOUT its learned score, in a copy of the bundle: the baseline that
benchmarks/learned-graph.ts times the learned score's nodes against (same stages, same other scores).

Usage: PYTHONPATH=models/toolkit python3 benchmarks/support/compose_without_learned.py BUNDLE OUT
"""
import os
import shutil
import sys

import yaml

from eero_toolkit.early_exit import compose_bundle


def main(bundle: str, out: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(bundle, out)
    with open(os.path.join(out, "manifest.yaml")) as f:
        manifest = yaml.safe_load(f)
    manifest.pop("learnedScore", None)
    composed = compose_bundle(out, manifest)
    with open(os.path.join(out, "manifest.yaml"), "w") as f:
        yaml.safe_dump(composed, f, sort_keys=False, default_flow_style=None, width=120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
