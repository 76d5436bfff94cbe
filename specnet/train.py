"""Training and fine-tuning: the logic behind ``specnet-fit`` (no click here).

:func:`fit` trains any registered architecture, or fine-tunes a zoo entry or a
saved model directory, on a catalogue CSV, a folder of FITS files, an ingested
shard folder, or the embedded demo set. It checkpoints every epoch, resumes
after an interruption (``resume=True``), stops early, logs to CSV (and
optionally TensorBoard) and ends with

* ``OUTPUT/model/``  — manifest + weights, loadable with ``specnet.zoo.load(path)``;
* ``OUTPUT/report/`` — ``report.json``, ``report.md`` and PNG figures.

Example
-------
>>> from specnet.train import fit
>>> result = fit("resnet_regressor", demo=True, epochs=1, output="runs/demo")  # doctest: +SKIP
>>> result.model_dir                                                           # doctest: +SKIP
PosixPath('runs/demo/model')
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from specnet.errors import ZooError


@dataclasses.dataclass
class FitResult:
    """What :func:`fit` produced: paths, the Keras history and the test metrics."""

    output: Path
    model_dir: Path
    report_dir: Path
    history: dict
    metrics: dict
    manifest: dict


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def base_manifest(arch_or_name: str, *, survey: str | None = None, config: dict | None = None,
                  classes: list[str] | None = None) -> tuple[dict, Any]:
    """A manifest (and, for a zoo entry or model dir, its loaded ZooModel) to start from.

    A registered architecture gets a fresh manifest on the grid of ``survey``
    (``"lamost-lrs"`` by default for regression, ``"sdss"`` for classification);
    a zoo name or a model directory gives its own manifest, so fine-tuning keeps
    its preprocessing and label scale.
    """
    from specnet import models, zoo
    from specnet.preprocess import GRIDS, PreprocessConfig

    if arch_or_name in models.list_models():
        task = models.task(arch_or_name)
        survey = survey or ("lamost-lrs" if task == "regression" else "sdss")
        if survey not in GRIDS:
            raise ValueError(f"Unknown survey grid. Expected one of {sorted(GRIDS)}. Received: survey={survey!r}")
        pre = PreprocessConfig(grid=GRIDS[survey],
                               normalisation="continuum" if task == "regression" else "minmax")
        cfg = dict(config or {})
        cfg["input_shape"] = list(pre.input_shape)
        if task == "classification":
            if not classes:
                raise ValueError(f"Training the classifier {arch_or_name!r} needs class names "
                                 f"(--classes K1,K3,K5,K7 or a zoo entry). Received: classes={classes!r}")
            cfg["num_classes"] = len(classes)
            labels = {"classes": list(classes)}
        else:
            labels = {"scale": "O0=0 ... M9=69", "min": 0.0, "max": 69.0}
        manifest = {"name": f"{arch_or_name}-custom", "architecture": arch_or_name, "config": cfg,
                    "task": task, "input": {"survey": survey, **pre.to_dict()}, "labels": labels,
                    "weights": None, "training": {}, "metrics": {}}
        return manifest, None
    try:
        zm = zoo.load(arch_or_name, weights=True)
    except ZooError as exc:
        if "not trained" not in str(exc):
            raise
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zm = zoo.load(arch_or_name, weights=False)
    manifest = copy.deepcopy(zm.manifest)
    if config:
        manifest["config"].update(config)
    return manifest, zm


def _labels_to_targets(labels, manifest) -> np.ndarray:
    from specnet.labels import parse_subtype

    if manifest["task"] == "regression":
        return np.array([parse_subtype(x) if isinstance(x, str) else float(x) for x in labels], np.float32)
    classes = manifest["labels"]["classes"]
    return np.array([classes.index(x) for x in labels], np.int64)


def _demo_arrays(manifest: dict, n: int, seed: int):
    """The demo set on the manifest's grid, split 7:1:2 (Wang et al.)."""
    from specnet.demo import demo_spectra
    from specnet.preprocess import preprocess
    from specnet.simulate.splits import stratified_split
    from specnet.zoo.manifest import preprocess_config

    pre = preprocess_config(manifest)
    classes = manifest["labels"].get("classes")
    profile = manifest["input"].get("survey", "lamost-lrs")
    spectra, cat = demo_spectra(n, classes=classes, profile=profile, seed=seed)
    x, _ = preprocess(spectra, pre)
    labels = list(cat["label"]) if classes else list(np.asarray(cat["subtype"], float))
    y = _labels_to_targets(labels, manifest)
    tr, va, te = stratified_split(np.asarray(cat["subtype"], float), seed=seed)
    return (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te])


def _dataset(source, manifest, out: Path, split: str, batch_size: int, shuffle: bool, seed: int,
             augment=None):
    """A ``tf.data.Dataset`` for arrays, a shard folder, a catalogue CSV or a folder of FITS."""
    from specnet import data
    from specnet.zoo.manifest import preprocess_config

    if source is None:
        return None
    if isinstance(source, tuple):
        x, y = source
        return data.dataset_from_arrays(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                        augment=augment, config=preprocess_config(manifest))
    source = Path(source)
    if source.is_dir() and (source / "manifest.json").exists():
        shard_dir = source
    else:
        shard_dir = out / "cache" / split
        data.ingest(source, preprocess_config(manifest), shard_dir, task=manifest["task"],
                    classes=manifest["labels"].get("classes"), label_column=_label_column(source, manifest))
    return data.make_dataset(shard_dir, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment)


def _label_column(source: Path, manifest: dict) -> str | None:
    """``subtype`` for a regression catalogue that has one (mock catalogues: exact, not rounded), else default."""
    if manifest["task"] != "regression" or source.suffix.lower() != ".csv":
        return None
    with open(source, newline="") as fh:
        header = fh.readline().strip().split(",")
    return "subtype" if "subtype" in header else None


def _predict(model, ds):
    ys, ps = [], []
    for xb, yb in ds:
        out = model(xb, training=False)
        if isinstance(out, (list, tuple)):
            out = out[0]
        ps.append(np.asarray(out, dtype=np.float64))
        ys.append(np.asarray(yb))
    return np.concatenate(ys), np.concatenate(ps)


def fit(arch_or_name: str, train=None, val=None, test=None, *, demo: bool = False, demo_size: int = 1500,
        epochs: int = 20, batch_size: int = 32, lr: float = 1e-3, kernel_size: int | None = None,
        precision: str = "auto", output: str | os.PathLike = "specnet-run", seed: int = 0,
        resume: bool = False, overwrite: bool = False, patience: int = 5, survey: str | None = None,
        classes: list[str] | None = None, config: dict | None = None, tensorboard: bool = False,
        name: str | None = None, augment=None, verbose: int | str = "auto") -> FitResult:
    """Train ``arch_or_name`` and write a loadable model directory and a report.

    Parameters
    ----------
    arch_or_name : str
        A registered architecture (``"resnet_regressor"``, ``"bert_cnn"``, ``"cnn"``),
        a zoo entry (fine-tuning) or a model directory.
    train, val, test : path or (x, y) tuple, optional
        Catalogue CSV (``path,label[,...]``), folder of FITS files, ingested shard
        folder, or in-memory arrays on the model's grid. ``val``/``test`` optional.
    demo : bool
        Train on the embedded demo set (``demo_size`` mock spectra, split 7:1:2).
    epochs, batch_size, lr, kernel_size, seed, patience
        The usual; ``kernel_size`` overrides the architecture's (ResNet: 3/5/7/9).
    precision : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        ``auto`` is mixed_float16 on a GPU and float32 on a CPU.
    output : path
        Run folder: ``checkpoints/``, ``log.csv``, ``model/``, ``report/``.
    resume : bool
        Continue an interrupted run from its last epoch checkpoint.
    augment : specnet.data.AugmentConfig, optional
        In-graph augmentation of the training split (extra noise, RV shifts,
        flux-calibration tilts, masked runs); ``None`` for none.
    overwrite : bool
        Replace an existing finished run in ``output``.
    """
    import keras

    from specnet import models, zoo
    from specnet.data import get_strategy, prepare_model, set_precision
    from specnet.report import write_report

    out = _worker_output(Path(output))
    backup = out / "checkpoints" / "backup"
    if out.exists() and any(out.iterdir()) and not resume:
        if not overwrite:
            raise FileExistsError(f"{out} already holds a run; pass resume=True (--resume) to continue it "
                                  f"or overwrite=True (--overwrite) to start again")
        shutil.rmtree(out)
    if resume and not backup.exists() and (out / "model" / "manifest.json").exists():
        raise FileExistsError(f"{out} holds a finished run; nothing to resume (use --overwrite to retrain)")
    out.mkdir(parents=True, exist_ok=True)
    if demo and classes is None and arch_or_name in models.list_models() and models.task(arch_or_name) == "classification":
        from specnet.demo import PAPER_TASKS

        classes = PAPER_TASKS["k"]
    keras.utils.set_random_seed(seed)
    policy = set_precision(precision)
    cfg = dict(config or {})
    if kernel_size is not None:
        cfg["kernel_size"] = int(kernel_size)
    manifest, base = base_manifest(arch_or_name, survey=survey, config=cfg, classes=classes)
    if name:
        manifest["name"] = name

    if demo:
        train, val, test = _demo_arrays(manifest, demo_size, seed)
    if train is None:
        raise ValueError("fit needs training data: a catalogue/folder/shards (--train) or demo=True (--demo). "
                         "Received: train=None")
    ds_train = _dataset(train, manifest, out, "train", batch_size, True, seed, augment)
    ds_val = _dataset(val, manifest, out, "val", batch_size, False, seed)
    ds_test = _dataset(test, manifest, out, "test", batch_size, False, seed)

    strategy = get_strategy()
    with strategy.scope():
        model = models.build(manifest["architecture"], **manifest["config"])
        if base is not None and base.manifest.get("weights"):
            model.set_weights(base.model.get_weights())
        loss = models.default_loss(manifest["architecture"])
        if loss == "categorical_crossentropy":  # our targets are class indices, not one-hot rows
            loss = "sparse_categorical_crossentropy"
        metrics = ["mae"] if manifest["task"] == "regression" else ["accuracy"]
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss, metrics=metrics)
    prepare_model(model, strategy)  # no-op unless MultiWorkerMirroredStrategy (keras#20585)

    monitor = "val_loss" if ds_val is not None else "loss"
    # The log row is written before the epoch's backup, so a kill in between repeats
    # that epoch on --resume (a duplicate row) rather than losing it (a gap).
    callbacks = [
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=resume),
        keras.callbacks.ModelCheckpoint(str(out / "checkpoints" / "best.weights.h5"), monitor=monitor,
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True),
        # double_checkpoint: a kill while the backup is being written leaves a corrupt
        # HDF5 file; Keras then falls back to the previous epoch's copy.
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(out / "tensorboard")))
    hist = model.fit(ds_train, validation_data=ds_val, epochs=epochs, callbacks=callbacks, verbose=verbose,
                     shuffle=False)  # the tf.data pipeline shuffles
    history = _full_history(out / "log.csv", hist.history)

    eval_ds = ds_test if ds_test is not None else (ds_val if ds_val is not None else ds_train)
    y_true, y_pred = _predict(model, eval_ds)
    report_dir = out / "report"
    classes_ = manifest["labels"].get("classes")
    if manifest["task"] == "classification":
        y_pred = y_pred.argmax(axis=-1)
    else:
        y_pred = y_pred.reshape(len(y_pred), -1)[:, 0]
    report = write_report(report_dir, manifest["task"], y_true, y_pred, history=history, classes=classes_,
                          title=f"{manifest['name']} ({manifest['architecture']})")
    metrics_ = report["overall"]

    manifest["training"] = _provenance(manifest, base, arch_or_name, demo, demo_size, train, val, test,
                                       epochs, batch_size, lr, seed, policy, len(history.get("loss", [])))
    split = "test" if ds_test is not None else ("val" if ds_val is not None else "train")
    manifest.setdefault("metrics", {})[f"{split}"] = metrics_
    model_dir = out / "model"
    manifest = zoo.save(model, manifest, model_dir)
    return FitResult(out, model_dir, report_dir, history, metrics_, manifest)


def _worker_output(out: Path) -> Path:
    """``out`` on the chief; ``out/worker-<i>`` on the other workers of a ``TF_CONFIG`` cluster.

    Under MultiWorkerMirroredStrategy every worker runs the same ``fit`` and must
    save (checkpoints, model, report), but only the chief's copy is the result;
    the others write beside it so they never clobber it.
    """
    cfg = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = cfg.get("task") or {}
    kind, index = task.get("type"), int(task.get("index", 0))
    has_chief = "chief" in (cfg.get("cluster") or {})
    if kind is None or kind == "chief" or (kind == "worker" and index == 0 and not has_chief):
        return out
    return out / f"{kind}-{index}"


def _full_history(log_csv: Path, fallback: dict) -> dict:
    """The whole learning curve from the CSV log (survives a resume), else Keras' history."""
    import csv

    if log_csv.exists():
        with open(log_csv, newline="") as fh:
            rows = list(csv.DictReader(fh))
        if rows:
            keys = [k for k in rows[0] if k != "epoch"]
            missing = (None, "", "NA")  # CSVLogger writes NA for a metric an epoch lacks
            series = {k: [float(r[k]) for r in rows if r.get(k) not in missing] for k in keys}
            return {k: v for k, v in series.items() if v}
    return {k: [float(v) for v in vals] for k, vals in fallback.items()}


def _provenance(manifest, base, arch_or_name, demo, demo_size, train, val, test, epochs, batch_size, lr,
                seed, policy, epochs_run) -> dict:
    import keras

    import specnet

    def describe(src):
        if src is None:
            return None
        if isinstance(src, tuple):
            return {"arrays": int(len(src[0]))}
        return str(src)

    stage = {
        "data": ("embedded demo set (specnet.simulate.builtin_library, mock "
                 f"{manifest['input'].get('survey')}, n={demo_size}, split 7:1:2)") if demo else describe(train),
        "val": None if demo else describe(val), "test": None if demo else describe(test),
        "epochs_requested": epochs, "epochs_run": epochs_run, "batch_size": batch_size, "lr": lr,
        "seed": seed, "precision": policy, "started_from": str(arch_or_name), "commit": _git_commit(),
        "versions": {"specnet": specnet.__version__, "keras": keras.__version__},
    }
    previous = dict(manifest.get("training") or {})
    stages = list(previous.get("stages", [])) if base is not None else []
    if base is not None and previous and not previous.get("stages"):
        stages.append(previous)
    stages.append(stage)
    return {"stages": stages, **{k: v for k, v in stage.items() if k != "versions"}}

