"""Regenerate the untrained zoo manifests (``zoo/<name>.json``) from the real builders.

Usage (from the repository root)::

    python zoo/recipes/make_manifests.py            # rewrite zoo/*.json (weights: null)
    python zoo/recipes/make_manifests.py --check    # exit 1 if a manifest on disk is stale

Params and FLOPs are measured on the models the builders make; the builder
config is written out in full (every default spelled out) so that a later change
of a builder default cannot silently change what an entry builds. An entry that
already has trained weights on disk is left alone.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1]

REGRESSION_LABELS = {"scale": "O0=0..M9=69", "min": 20.0, "max": 69.0}
SDSS_TASKS = {"k": ["K1", "K3", "K5", "K7"], "f": ["F2", "F5", "F9"], "g": ["G0", "G2", "G5"]}
LICENCE = "BSD-3-Clause (weights and manifest); training templates keep their own terms, see citations"


def full_config(architecture: str, **overrides) -> dict:
    """Every keyword argument of the builder with its default, updated by ``overrides``."""
    from specnet import models

    sig = inspect.signature(models.get_builder(architecture))
    config = {k: p.default for k, p in sig.parameters.items()
              if k not in ("name", "input_shape") and p.default is not inspect.Parameter.empty}
    unknown = set(overrides) - set(config)
    if unknown:
        raise ValueError(f"{architecture} has no arguments {sorted(unknown)}. Received: {overrides!r}")
    config.update(overrides)
    return json.loads(json.dumps(config))


def entries() -> list[dict]:
    """The manifests of every untrained entry (dicts, validated)."""
    from specnet.preprocess import LAMOST_GRID, SDSS_GRID, PreprocessConfig
    from specnet.zoo import make_manifest

    out = [make_manifest(
        "resnet-lamost", "resnet_regressor", full_config("resnet_regressor", kernel_size=5),
        PreprocessConfig(grid=LAMOST_GRID, normalisation="continuum", mask_channel=True), "lamost-lrs",
        REGRESSION_LABELS,
        description="1-D ResNet regressor of the MK subtype (A0-M9) of LAMOST LRS spectra, after Wang et al. 2021",
        training={"status": "not trained yet",
                  "intended_data": "LAMOST LRS stellar spectra with pipeline subclasses A0-M9 (DR5+ catalogue); "
                                   "fine-tune and validate k-fold on the 82 LAMOST DR1 calibration spectra "
                                   "(shared/data/fixtures/lamost/dr1_calibration)",
                  "recipe": "specnet-fit resnet-lamost --train <catalog.csv> --val <val.csv> --output runs/resnet-lamost",
                  "manifest_recipe": "python zoo/recipes/make_manifests.py"},
        licence=LICENCE)]
    for task, classes in SDSS_TASKS.items():
        for arch, stem, paper in (("bert_cnn", "bertcnn", "BERT-CNN of Liu & Wang 2022"),
                                  ("cnn", "cnn", "CNN baseline of Liu & Wang 2022")):
            name = f"{stem}-sdss-{task}"
            out.append(make_manifest(
                name, arch, full_config(arch, num_classes=len(classes)),
                PreprocessConfig(grid=SDSS_GRID, normalisation="minmax", mask_channel=True), "sdss",
                {"classes": classes},
                description=f"{paper}: {task.upper()}-type subclasses {', '.join(classes)} of SDSS spectra",
                training={"status": "not trained yet",
                          "intended_data": f"SDSS DR10 {task.upper()} stars of subclasses {', '.join(classes)}, "
                                           f"min-max normalised (as Liu & Wang 2022)",
                          "recipe": f"specnet-fit {name} --train <catalog.csv> --val <val.csv> --output runs/{name}",
                          "manifest_recipe": "python zoo/recipes/make_manifests.py"},
                licence=LICENCE))
    return out


def _comparable(m: dict) -> dict:
    m = dict(m)
    m.pop("versions", None)
    return m


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale manifests (exit 1 if any)")
    parser.add_argument("--out", type=Path, default=ZOO, help="folder to write to (default: zoo/)")
    args = parser.parse_args(argv)
    stale = 0
    for manifest in entries():
        path = args.out / f"{manifest['name']}.json"
        old = json.loads(path.read_text()) if path.exists() else None
        if old and old.get("weights"):
            print(f"{path.name}: has trained weights, left alone")
            continue
        if old is not None and _comparable(old) == _comparable(manifest):
            print(f"{path.name}: up to date ({manifest['params']} params, {manifest['flops'] / 1e6:.1f} MFLOP)")
            continue
        stale += 1
        if args.check:
            print(f"{path.name}: STALE")
            continue
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"{path.name}: written ({manifest['params']} params, {manifest['flops'] / 1e6:.1f} MFLOP)")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
