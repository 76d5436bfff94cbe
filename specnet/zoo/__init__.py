"""The specnet model zoo: manifests + weights ⇄ :class:`ZooModel`.

A zoo entry and a user's trained model are the same kind of thing: a manifest
(``zoo/<name>.json`` in the package, or ``<dir>/manifest.json``) naming a
registered architecture and its config, the preprocessing (``input``), the label
scale or classes, and a weight file with its sha256.

>>> from specnet import zoo
>>> zoo.list("resnet-*")
['resnet-lamost']
>>> zoo.info("bertcnn-sdss-k")["labels"]["classes"]
['K1', 'K3', 'K5', 'K7']
>>> zm = zoo.load("resnet-lamost", weights=False)  # doctest: +SKIP
>>> zm.classify("spec.fits")                        # doctest: +SKIP

Functions: :func:`list`, :func:`info`, :func:`format_info`, :func:`load`, :func:`save`,
:func:`make_manifest`. Weight resolution and the hash check live in
:mod:`specnet.zoo.weights`, flag thresholds in :mod:`specnet.zoo.flags`.
"""
from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path

from specnet.errors import ZooError
from specnet.zoo.flags import DEFAULT_THRESHOLDS, FLAGS
from specnet.zoo.manifest import (MANIFEST_FILE, format_info, info, list_entries, load_schema, locate,
                                  preprocess_config, read_manifest, validate_manifest, versions, zoo_dir)
from specnet.zoo.weights import cache_dir, resolve_weights, sha256_file, verify_file
from specnet.zoo.zoo_model import ZooModel

#: ``specnet.zoo.list(pattern)``: names of the installed entries (fnmatch wildcards).
list = list_entries  # noqa: A001 - the public name the API promises

#: Papers to cite per architecture (written into manifests that give none).
CITATIONS = {
    "resnet_regressor": [
        "Wang et al. 2021: 1-D ResNet regression of MK subtypes of LAMOST low-resolution spectra "
        "(architecture followed by resnet_regressor)",
        "He, Zhang, Ren & Sun 2016, CVPR, 'Deep Residual Learning for Image Recognition'",
    ],
    "bert_cnn": [
        "Liu Zhong-bao & Wang Jie 2022, Spectroscopy and Spectral Analysis 42(3), 699-703, "
        "doi:10.3964/j.issn.1000-0593(2022)03-0699-05 (BERT-CNN on SDSS DR10 K/F/G stars)",
        "Devlin, Chang, Lee & Toutanova 2019, NAACL, 'BERT: Pre-training of Deep Bidirectional Transformers'",
    ],
    "cnn": [
        "Liu Zhong-bao & Wang Jie 2022, Spectroscopy and Spectral Analysis 42(3), 699-703, "
        "doi:10.3964/j.issn.1000-0593(2022)03-0699-05 (CNN baseline)",
    ],
}
#: Licence written into manifests of user-trained models that state none.
DEFAULT_LICENCE = "unspecified (set 'licence' in the manifest)"


def make_manifest(name: str, architecture: str, config: dict, preprocess, survey: str, labels: dict, *,
                  training: dict | None = None, metrics: dict | None = None, licence: str = DEFAULT_LICENCE,
                  citations: list | None = None, description: str | None = None,
                  thresholds: dict | None = None, weights: dict | None = None) -> dict:
    """A complete, validated manifest; ``params`` and ``flops`` come from building the model.

    Parameters
    ----------
    name : str
        Entry name (also the weight file stem).
    architecture : str
        A registered builder (:func:`specnet.models.list_models`).
    config : dict
        Builder keyword arguments; ``input_shape`` is set from ``preprocess``.
    preprocess : specnet.preprocess.PreprocessConfig
    survey : str
        The survey/grid name the model is for (``"lamost-lrs"``, ``"sdss"``).
    labels : dict
        ``{"scale": "O0=0..M9=69", "min": .., "max": ..}`` or ``{"classes": [...]}``.

    Example
    -------
    >>> from specnet.preprocess import PreprocessConfig
    >>> m = make_manifest("tiny", "cnn", {"num_classes": 2, "filters": [4]},
    ...                   PreprocessConfig(), "lamost-lrs", {"classes": ["K1", "K3"]})
    >>> m["task"], m["weights"], m["params"] > 0
    ('classification', None, True)
    """
    from specnet import models

    config = json.loads(json.dumps(dict(config)))  # tuples → lists, fails early if not JSON-safe
    config["input_shape"] = [int(v) for v in preprocess.input_shape]
    model = models.build(architecture, **config)
    manifest = {"name": name}
    if description:
        manifest["description"] = description
    manifest.update({
        "architecture": architecture, "config": config, "task": models.task(architecture),
        "input": {"survey": survey, **preprocess.to_dict()}, "labels": labels, "weights": weights,
        "training": training or {}, "metrics": metrics or {},
        "params": models.count_params(model), "flops": models.count_flops(model),
        "licence": licence, "citations": citations if citations is not None else CITATIONS.get(architecture, []),
        "versions": versions(),
    })
    if thresholds:
        manifest["thresholds"] = dict(thresholds)
    return validate_manifest(manifest, f"manifest {name!r}")


def _build(manifest: dict, source: str):
    """Build the manifest's architecture with its config (input shape checked against ``input``)."""
    from specnet import models

    pre = preprocess_config(manifest)
    config = dict(manifest["config"])
    shape = config.get("input_shape")
    if shape is None:
        config["input_shape"] = list(pre.input_shape)
    elif tuple(shape) != tuple(pre.input_shape):
        raise ZooError(f"{source}: config input_shape {tuple(shape)} does not match the input grid "
                       f"{tuple(pre.input_shape)} (npix, channels)")
    try:
        return models.build(manifest["architecture"], **config)
    except ValueError as exc:
        raise ZooError(f"{source}: cannot build {manifest['architecture']!r} from the manifest config: "
                       f"{exc}") from None


def load(name_or_path, weights=True) -> ZooModel:
    """Load a zoo entry, a model directory or a manifest file as a :class:`ZooModel`.

    Parameters
    ----------
    name_or_path : str or path
        A zoo name (:func:`list`), a model directory (``manifest.json`` + weights)
        or a manifest ``.json`` file.
    weights : bool, None or path
        ``True``: the manifest's weight file (package or model directory, then the
        cache ``$SPECNET_HOME``, then its ``url`` unless ``SPECNET_OFFLINE=1``), sha256
        verified before loading; an entry not trained yet raises :class:`ZooError`.
        ``False``/``None``: random weights (warns). A path: that ``.weights.h5`` file
        (verified when it carries the manifest's file name).

    The model is always built from the manifest's registered architecture and
    config, then ``load_weights`` fills it: no code is deserialised from files.

    Raises
    ------
    ZooError
        Unknown name (with the closest matches), invalid manifest, missing/untrained
        weights, hash mismatch, or offline with only a url.
    """
    manifest, base_dir, source = locate(name_or_path)
    name = manifest["name"]
    path = None
    if weights is True:
        path = resolve_weights(manifest, base_dir)
    elif weights is False or weights is None:
        note = " (its weights are not trained yet)" if not manifest.get("weights") else ""
        warnings.warn(f"{name}: built with random, untrained weights (weights={weights}){note}; "
                      f"its predictions mean nothing until it is trained", UserWarning, stacklevel=2)
    elif isinstance(weights, (str, os.PathLike)):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ZooError(f"{name}: weight file {path} does not exist")
        entry = manifest.get("weights") or {}
        if entry and path.name == entry.get("file"):
            verify_file(path, entry.get("sha256"), entry.get("size"), name)
    else:
        raise ValueError(f"weights must be True, False, None or a path to a .weights.h5 file. "
                         f"Received: weights={weights!r}")
    model = _build(manifest, source)
    if path is not None:
        try:
            model.load_weights(path)
        except Exception as exc:  # wrong architecture, truncated HDF5, ...
            raise ZooError(f"{name}: cannot load weight file {path} into {manifest['architecture']}: "
                           f"{type(exc).__name__}: {exc}") from None
    return ZooModel(model, manifest, source, trained=path is not None)


def save(model, manifest: dict, directory: str | os.PathLike) -> dict:
    """Write a model directory: ``manifest.json`` + ``<name>.weights.h5``; return the manifest written.

    ``weights`` (file, sha256, size), ``params``, ``flops`` and ``versions`` are filled
    in; ``training``, ``metrics``, ``licence`` and ``citations`` get defaults when
    absent. The manifest must describe ``model``: it is rebuilt from the manifest's
    architecture and config, the model's weights are copied into it (a mismatch raises)
    and that uncompiled copy is saved, so the file holds weights only, no optimizer state.
    ``load(directory)`` gives the model back.

    Parameters
    ----------
    model : keras.Model or ZooModel
    manifest : dict
        At least ``name``, ``architecture``, ``config``, ``task``, ``input``, ``labels``.
    directory : path
        Created if needed; an existing manifest/weight file there is replaced.
    """
    if isinstance(model, ZooModel):
        model = model.model
    manifest = copy.deepcopy(manifest)
    for key in ("name", "architecture", "config", "task", "input", "labels"):
        if key not in manifest:
            raise ZooError(f"save: the manifest needs {key!r}. Received keys: {sorted(manifest)}")
    try:
        manifest = json.loads(json.dumps(manifest))
    except (TypeError, ValueError) as exc:
        raise ZooError(f"save: manifest {manifest.get('name')!r} is not JSON-serialisable: {exc}") from None
    from specnet import models

    name = manifest["name"]
    rebuilt = _build(manifest, f"manifest {name!r}")
    if rebuilt.count_params() != model.count_params():
        raise ZooError(f"save: manifest {name!r} describes a {manifest['architecture']} with "
                       f"{rebuilt.count_params()} parameters but the model has {model.count_params()}; "
                       f"the manifest 'config' must be the builder arguments of this model")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wfile = directory / f"{name}.weights.h5"
    try:  # the uncompiled rebuild holds the weights only: no optimizer state (a third of the size)
        rebuilt.set_weights(model.get_weights())
    except Exception as exc:
        raise ZooError(f"save: the weights of this model do not fit the manifest's {manifest['architecture']} "
                       f"config: {exc}") from None
    rebuilt.save_weights(wfile)
    manifest["weights"] = {"file": wfile.name, "sha256": sha256_file(wfile), "size": wfile.stat().st_size}
    manifest["params"] = models.count_params(rebuilt)
    manifest["flops"] = models.count_flops(rebuilt)
    manifest["versions"] = versions()
    manifest.setdefault("training", {})
    manifest.setdefault("metrics", {})
    manifest.setdefault("licence", DEFAULT_LICENCE)
    manifest.setdefault("citations", CITATIONS.get(manifest["architecture"], []))
    validate_manifest(manifest, f"manifest {name!r}")
    tmp = directory / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MANIFEST_FILE)
    return manifest


__all__ = ["list", "info", "format_info", "load", "save", "make_manifest", "ZooModel", "ZooError",
           "read_manifest", "validate_manifest", "load_schema", "zoo_dir", "cache_dir", "sha256_file",
           "DEFAULT_THRESHOLDS", "FLAGS", "CITATIONS"]
