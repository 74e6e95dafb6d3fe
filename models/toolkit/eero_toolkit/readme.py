"""Regenerate the per-bundle tables of models/README.md from the bundles' manifests."""

from __future__ import annotations

import os

START, END = "<!-- tables:start (written by eero_toolkit) -->", "<!-- tables:end -->"


def bundle_table(manifest: dict, bundle_bytes: int) -> str:
    full = manifest["exits"][-1]["macs"]
    arch = manifest["architecture"]
    t = manifest.get("training", {})
    lines = [
        f"### {manifest['name']}",
        "",
        f"{arch['family']}, {arch.get('parameters', '?')} parameters, {len(manifest['exits'])} exits; "
        f"trained {t.get('epochs', '?')} epochs in {t.get('seconds', '?')} s; bundle {bundle_bytes / 1e6:.1f} MB.",
        "",
        "| exit | cumulative MACs | % of full cost | calibration acc. % | test acc. % |",
        "|---:|---:|---:|---:|---:|",
    ]
    for e in manifest["exits"]:
        lines.append(
            f"| {e['exit']} | {e['macs']:,} | {100 * e['macs'] / full:.1f} | "
            f"{100 * e['calibrationAccuracy']:.2f} | {100 * e['testAccuracy']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def write_readme(path: str) -> None:
    import yaml

    models_dir = os.path.dirname(os.path.abspath(path))
    parts = []
    for name in sorted(os.listdir(models_dir)):
        mpath = os.path.join(models_dir, name, "manifest.yaml")
        if os.path.exists(mpath):
            with open(mpath) as f:
                manifest = yaml.safe_load(f)
            size = sum(
                os.path.getsize(os.path.join(dp, fn))
                for dp, _, fns in os.walk(os.path.join(models_dir, name))
                for fn in fns
            )
            parts.append(bundle_table(manifest, size))
    text = f"# Models\n\n{START}\n{END}\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + START + "\n" + "\n".join(parts) + END + tail)
