"""early-exit.onnx for an `export-untrained` folder, as `eero_toolkit compose` writes it for a bundle.

Usage: PYTHONPATH=models/toolkit python3 benchmarks/support/compose_untrained.py DIR

The folder has graphs.json (stages, reference, macs) instead of a manifest: this builds the manifest
fields compose needs from it (labels "0".."K-1", the exits' MACs, which decide where rows are
compacted), composes, and writes the result back into graphs.json: the stages' and reference's new
sha256/bytes (their weights move into weights.bin) and an `earlyExit` block as in a manifest.
"""
import json
import os
import sys

from eero_toolkit.early_exit import compose_bundle


def main(folder: str) -> None:
    path = os.path.join(folder, "graphs.json")
    with open(path) as f:
        graphs = json.load(f)
    classes = graphs["reference"]["logits"]["shape"][1]
    manifest = {
        "labels": [str(i) for i in range(classes)],
        "stages": graphs["stages"],
        "exits": [{"exit": i + 1, "macs": m} for i, m in enumerate(graphs["macs"])],
        "reference": graphs["reference"],
    }
    composed = compose_bundle(folder, manifest)
    graphs.update(stages=composed["stages"], reference=composed["reference"], weights=composed["weights"],
                  earlyExit=composed["earlyExit"])
    with open(path + ".tmp", "w") as f:
        json.dump(graphs, f, indent=1)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main(sys.argv[1])
