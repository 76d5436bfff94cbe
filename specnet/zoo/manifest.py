"""Zoo manifests: where they live, the JSON schema, lookup by name or path, and a pretty view.

A manifest is one JSON object per weight set (fields in ``zoo/manifest.schema.json``).
The installed ones are the ``<name>.json`` files of the package ``specnet._zoo``
(the repository's top-level ``zoo/`` folder); a user's model directory holds a
``manifest.json`` beside ``<name>.weights.h5``.
"""
from __future__ import annotations

import builtins
import copy
import difflib
import fnmatch
import importlib.resources
import json
import os
from pathlib import Path

from specnet.errors import ZooError

SCHEMA_FILE = "manifest.schema.json"
MANIFEST_FILE = "manifest.json"
#: Keys of the manifest's ``input`` that are not :class:`~specnet.preprocess.PreprocessConfig` fields.
INPUT_EXTRA_KEYS = ("survey",)


def zoo_dir() -> Path:
    """The folder of the installed zoo (package ``specnet._zoo``; the repo's ``zoo/`` in a checkout)."""
    try:
        return Path(str(importlib.resources.files("specnet._zoo")))
    except ModuleNotFoundError:  # running from a checkout that was never pip-installed
        return Path(__file__).resolve().parents[2] / "zoo"


def load_schema() -> dict:
    """The manifest JSON schema (``zoo/manifest.schema.json``)."""
    with open(zoo_dir() / SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def validate_manifest(manifest: dict, source: str = "manifest") -> dict:
    """Check ``manifest`` against the schema; return it, or raise :class:`ZooError` naming ``source``.

    Uses :mod:`jsonschema` when installed (the ``test`` extra); otherwise checks the
    required keys, the task and the labels only.
    """
    if not isinstance(manifest, dict):
        raise ZooError(f"{source}: a manifest must be a JSON object. Received: {type(manifest).__name__}")
    schema = load_schema()
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is in the test extra
        missing = [k for k in schema["required"] if k not in manifest]
        if missing:
            raise ZooError(f"{source}: invalid manifest: missing keys {missing}") from None
        if manifest["task"] not in ("regression", "classification"):
            raise ZooError(f"{source}: invalid manifest: task must be 'regression' or 'classification'. "
                           f"Received: task={manifest['task']!r}")
        need = ("classes",) if manifest["task"] == "classification" else ("scale", "min", "max")
        if not all(k in (manifest.get("labels") or {}) for k in need):
            raise ZooError(f"{source}: invalid manifest: labels need {need} for task {manifest['task']!r}")
        return manifest
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"at {'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors[:5]]
        raise ZooError(f"{source}: invalid manifest: " + "; ".join(lines))
    return manifest


def read_manifest(path: str | os.PathLike) -> dict:
    """Read and validate one manifest file (:class:`ZooError` if unreadable or invalid)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise ZooError(f"{path}: no such manifest file") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ZooError(f"{path}: cannot read manifest ({exc})") from None
    return validate_manifest(manifest, str(path))


def list_entries(pattern: str = "*") -> list[str]:
    """Names of the installed zoo entries matching an fnmatch ``pattern`` (sorted).

    >>> list_entries("bertcnn-*")
    ['bertcnn-sdss-f', 'bertcnn-sdss-g', 'bertcnn-sdss-k']
    """
    names = sorted(p.stem for p in zoo_dir().glob("*.json") if p.name != SCHEMA_FILE)
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def unknown_name_error(name: str) -> ZooError:
    """A :class:`ZooError` listing the entries and the closest matches to ``name``."""
    names = list_entries()
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
    hint = f" Closest matches: {', '.join(close)}." if close else ""
    return ZooError(f"Unknown zoo model {name!r}.{hint} Available: {', '.join(names)}. "
                    f"(A model directory or manifest path also works.)")


def locate(name_or_path) -> tuple[dict, Path, str]:
    """``(manifest, base_dir, source)`` for a zoo name, a model directory or a manifest file.

    A ``PathLike``, or a string holding a path separator or ending in ``.json``, is a
    path; another string is a zoo name, or else an existing directory. ``base_dir``
    is where the weight file is looked for first.
    """
    if isinstance(name_or_path, str):
        is_path = (os.sep in name_or_path or name_or_path.endswith(".json")
                   or (name_or_path not in list_entries() and os.path.isdir(name_or_path)))
    elif isinstance(name_or_path, os.PathLike):
        is_path = True
    else:
        raise ZooError(f"A zoo name or a path is needed. Received: {name_or_path!r}")
    if is_path:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            file = path / MANIFEST_FILE
            if not file.is_file():
                raise ZooError(f"{path}: not a model directory (no {MANIFEST_FILE} in it)")
            return read_manifest(file), path, str(file)
        if path.is_file():
            return read_manifest(path), path.parent, str(path)
        raise ZooError(f"{path}: no such model directory or manifest file")
    if name_or_path not in list_entries():
        raise unknown_name_error(name_or_path)
    file = zoo_dir() / f"{name_or_path}.json"
    manifest = read_manifest(file)
    if manifest["name"] != name_or_path:
        raise ZooError(f"{file}: manifest name {manifest['name']!r} differs from its file name")
    return manifest, zoo_dir(), str(file)


def info(name_or_path) -> dict:
    """A copy of the manifest of a zoo name (or model directory / manifest file).

    >>> info("resnet-lamost")["architecture"]
    'resnet_regressor'
    """
    return copy.deepcopy(locate(name_or_path)[0])


def _fmt_number(n) -> str:
    n = float(n)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n:g}"


def format_info(name_or_path) -> str:
    """A human-readable summary of a manifest (what ``specnet zoo info NAME`` prints).

    >>> print(format_info("bertcnn-sdss-k").splitlines()[0])
    bertcnn-sdss-k — bert_cnn (classification)
    """
    m, _, source = locate(name_or_path)
    inp, grid = m["input"], m["input"]["grid"]
    from specnet.preprocess import Grid

    lo, hi = Grid.from_dict(grid).wave_range
    lines = [f"{m['name']} — {m['architecture']} ({m['task']})"]
    if m.get("description"):
        lines.append(f"  {m['description']}")
    lines += [
        f"  manifest:      {source}",
        f"  input:         {inp['survey']} grid {lo:.1f}–{hi:.1f} Å {grid['medium']}, {grid['npix']} px, "
        f"log-step {grid['log_step']:g}",
        f"  preprocessing: normalisation={inp['normalisation']}, rest_frame={inp['rest_frame']}, "
        f"mask_channel={inp['mask_channel']}, fill={inp['fill']}, clip={inp['clip']}",
    ]
    labels = m["labels"]
    if m["task"] == "classification":
        lines.append(f"  classes:       {', '.join(labels['classes'])}")
    else:
        lines.append(f"  labels:        subtype on {labels['scale']}, trained range {labels['min']:g}–{labels['max']:g}")
    w = m["weights"]
    if w:
        lines.append(f"  weights:       {w['file']} ({w['size']} bytes, sha256 {w['sha256'][:12]}…)"
                     + (f" from {w['url']}" if w.get("url") else ""))
    else:
        lines.append("  weights:       not trained yet (load with weights=False for an untrained model)")
    lines.append(f"  size:          {_fmt_number(m['params'])} parameters, "
                 f"{_fmt_number(m['flops'])}FLOP per spectrum")
    cfg = ", ".join(f"{k}={v}" for k, v in m["config"].items())
    lines.append(f"  config:        {cfg}")
    if m["metrics"]:
        for split, vals in m["metrics"].items():
            if isinstance(vals, builtins.list):  # e.g. per-spectrum real predictions: see the model card
                continue
            vals = vals if isinstance(vals, dict) else {"value": vals}
            shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, (int, float)) else f"{k}={v}"
                              for k, v in vals.items() if not isinstance(v, (builtins.list, dict)))
            lines.append(f"  metrics[{split}]: {shown}")
    else:
        lines.append("  metrics:       none yet")
    for key, val in (m.get("training") or {}).items():
        if isinstance(val, builtins.list) and val and all(isinstance(v, dict) for v in val):
            val = f"{len(val)} stage(s)"
        lines.append(f"  training.{key}: {val}")
    lines.append(f"  licence:       {m['licence']}")
    for c in m["citations"]:
        lines.append(f"  cite:          {c}")
    v = m["versions"]
    lines.append(f"  versions:      specnet {v['specnet']}, keras {v['keras']}, tensorflow {v['tensorflow']}")
    return "\n".join(lines)


def preprocess_config(manifest: dict):
    """The :class:`~specnet.preprocess.PreprocessConfig` a manifest's ``input`` describes."""
    from specnet.preprocess import PreprocessConfig

    d = {k: v for k, v in manifest["input"].items() if k not in INPUT_EXTRA_KEYS}
    try:
        return PreprocessConfig.from_dict(d)
    except ValueError as exc:
        raise ZooError(f"{manifest.get('name', '?')}: bad 'input' in manifest: {exc}") from None


def versions() -> dict:
    """The versions of specnet, keras and tensorflow in use (recorded in every manifest)."""
    import keras

    import specnet

    try:
        import tensorflow as tf

        tf_version = tf.__version__
    except ImportError:  # pragma: no cover
        tf_version = None
    return {"specnet": specnet.__version__, "keras": keras.__version__, "tensorflow": tf_version}
