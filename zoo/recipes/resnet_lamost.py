"""Recipe for the ``resnet-lamost`` zoo weights: mock pretraining, then fine-tuning on real LAMOST.

One command, seeded::

    python zoo/recipes/resnet_lamost.py --output runs/resnet-lamost --install

Stage 1 (mock): a LAMOST LRS mock survey from *all* usable template libraries in
``../shared/data/templates`` (SDSS eigen-templates, Hammer, Pickles, MILES, M/L
dwarf composites), half with the DR1 mask/noise profile and half with the DR9+
one, S/N log-normal around 22 (most 10-50, tail 5-200), split 7:1:2 (Wang et
al. 2021), trained with ``specnet.train.fit`` (Log-Cosh, in-graph augmentation:
masked runs, RV shifts, calibration tilts).

Real-data checks: the stage-1 model on all real LAMOST fixtures with pipeline
subclasses (mock-only), next to a minimum-chi2 fit to the SDSS eigen-templates
on the same spectra.

Stage 2 (real): LAMOST's type conventions differ from the libraries', which no
simulator can learn, so the model is fine-tuned on the real labelled LAMOST
spectra with ``fit`` (exactly what a user does with their own labels). Its
real-data metrics come from 5-fold cross-validation (each fold fine-tuned from
the stage-1 weights and scored on spectra it never saw); the shipped weights
are then fine-tuned on all of them.

``--install`` copies the final weights into ``zoo/`` and writes metrics and the
provenance of both stages into ``zoo/resnet-lamost.json``.
Run time on 2 CPU cores with the defaults: about an hour (``--quick``: minutes).
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def real_lamost(fixtures: Path):
    """Real LAMOST fixtures with an MK subclass: (paths, subtypes)."""
    from specnet.labels import LabelError, parse_subtype

    paths, labels = [], []
    with open(fixtures / "index.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["survey"] != "LAMOST" or row["obj_class"] != "STAR":
                continue
            try:
                labels.append(parse_subtype(row["subclass"]))
            except LabelError:
                continue
            paths.append(str(fixtures / row["path"]))
    return paths, np.array(labels, np.float32)


def mock_arrays(lib, n: int, pre, seed: int, chunk: int = 4000):
    """Mock spectra preprocessed onto the model grid, made in chunks so memory stays at X's size."""
    from specnet.preprocess import preprocess
    from specnet.simulate import mock_survey

    rng = np.random.default_rng(seed)
    xs, ys, profiles = [], [], []
    for i, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        profile = "lamost-dr1" if i % 2 == 0 else "lamost-lrs"
        snr = np.clip(np.exp(rng.normal(np.log(22.0), 0.65, m)), 5.0, 200.0)
        spectra, cat = mock_survey(lib, m, profile=profile, snr=snr, seed=seed + 1000 * i,
                                   subtype_range=(5.0, 69.0))
        x, _ = preprocess(spectra, pre)
        xs.append(x.astype(np.float32))
        ys.append(np.asarray(cat["subtype"], np.float32))
        profiles += [profile] * m
        print(f"  mock {start + m}/{n} ({profile})", flush=True)
    return np.concatenate(xs), np.concatenate(ys)


def chi2_baseline(lib_path: Path, pre, x_real, y_real):
    """Minimum-chi2 fit to the SDSS eigen-templates on the same preprocessed real spectra."""
    from specnet.baselines import TemplateChi2
    from specnet.io import read_spectra
    from specnet.labels import LabelError, parse_subtype
    from specnet.metrics import regression_metrics
    from specnet.preprocess import preprocess

    temps, labels = [], []
    for f in sorted((lib_path / "sdss_eigenstar").glob("*.fits")):
        for s in read_spectra(f):
            try:
                labels.append(parse_subtype(s.meta["subclass"]))
            except (LabelError, TypeError):
                continue
            temps.append(s)
    xt, _ = preprocess(temps, pre)
    est = TemplateChi2().fit(xt, np.array(labels))
    pred = est.predict(x_real)
    return regression_metrics(y_real, pred), len(temps)


class Stage1:
    """A finished stage-1 run read back from its model folder (``--stage1``)."""

    def __init__(self, model_dir: Path):
        self.model_dir = model_dir
        self.manifest = json.loads((model_dir / "manifest.json").read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--templates", default=str(SHARED / "templates"))
    ap.add_argument("--fixtures", default=str(SHARED / "fixtures"))
    ap.add_argument("--n", type=int, default=72000, help="mock spectra (7:1:2 split; 0.7n train)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ft-epochs", type=int, default=15)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default="runs/resnet-lamost")
    ap.add_argument("--ft-lr", type=float, default=2e-4, help="fine-tuning learning rate")
    ap.add_argument("--real-repeat", type=int, default=10, help="copies of each real spectrum per fine-tuning epoch")
    ap.add_argument("--ft-mock", type=int, default=1500, help="mock spectra mixed into fine-tuning")
    ap.add_argument("--stage1", help="a finished stage-1 model folder (e.g. runs/resnet-lamost/stage1_mock/model): "
                    "skip pretraining, mix fresh mock spectra (seed+1) into fine-tuning")
    ap.add_argument("--quick", action="store_true", help="tiny sizes to check the recipe runs")
    ap.add_argument("--install", action="store_true", help="write the weights and manifest into zoo/")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.epochs, args.ft_epochs, args.folds = 600, 1, 2, 2

    from specnet import zoo
    from specnet.data import AugmentConfig
    from specnet.metrics import regression_metrics
    from specnet.preprocess import preprocess
    from specnet.simulate import TemplateLibrary
    from specnet.simulate.splits import kfold, stratified_split
    from specnet.train import fit
    from specnet.zoo.manifest import preprocess_config

    t0 = time.time()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    entry = zoo.info("resnet-lamost")
    pre = preprocess_config(entry)
    print(f"[1/5] template library from {args.templates}", flush=True)
    lib = TemplateLibrary.from_path(args.templates)
    libraries = sorted(set(lib.libraries))
    print(f"      {len(lib)} templates: {libraries}", flush=True)
    aug = AugmentConfig(noise_snr=None, rv_shift_kms=15.0, tilt=0.05, mask_runs=0.3, seed=args.seed)
    if args.stage1:
        print(f"[2/5] stage 1: reusing {args.stage1}", flush=True)
        x, y = mock_arrays(lib, args.ft_mock, pre, args.seed + 1)
        tr = np.arange(len(y))
        stage1 = Stage1(Path(args.stage1))
        mock_test = stage1.manifest["metrics"]["test"]
    else:
        x, y = mock_arrays(lib, args.n, pre, args.seed)
        tr, va, te = stratified_split(y, seed=args.seed)
        print(f"[2/5] stage 1: mock pretraining on {len(tr)} spectra", flush=True)
        config = {k: v for k, v in entry["config"].items() if k != "input_shape"}
        stage1 = fit("resnet_regressor", survey="lamost-lrs", config=config, train=(x[tr], y[tr]),
                     val=(x[va], y[va]), test=(x[te], y[te]), epochs=args.epochs, batch_size=64, lr=1e-3,
                     seed=args.seed, patience=3, augment=aug, output=out / "stage1_mock", overwrite=True,
                     name="resnet-lamost", verbose=2)
        mock_test = stage1.metrics

    print("[3/5] real LAMOST spectra: mock-only model and the chi2 baseline", flush=True)
    paths, y_real = real_lamost(Path(args.fixtures))
    from specnet.io import read_spectrum

    x_real, _ = preprocess([read_spectrum(p) for p in paths], pre)
    m1 = zoo.load(stage1.model_dir)
    pred_mock_only = m1.predict_array(x_real)[:, 0]
    real_mock_only = regression_metrics(y_real, pred_mock_only)
    real_chi2, n_chi2 = chi2_baseline(Path(args.templates), pre, x_real, y_real)

    print(f"[4/5] stage 2: {args.folds}-fold fine-tuning on {len(paths)} real spectra", flush=True)
    rng = np.random.default_rng(args.seed)
    keep_mock = rng.choice(tr, size=min(args.ft_mock, len(tr)), replace=False)
    pred_cv = np.full(len(y_real), np.nan, np.float32)

    def finetune(idx, name):
        xr = np.concatenate([np.repeat(x_real[idx], args.real_repeat, axis=0), x[keep_mock]])
        yr = np.concatenate([np.repeat(y_real[idx], args.real_repeat), y[keep_mock]])
        return fit(stage1.model_dir, train=(xr, yr), epochs=args.ft_epochs, batch_size=32, lr=args.ft_lr,
                   seed=args.seed, patience=args.ft_epochs, augment=aug, output=out / name, overwrite=True,
                   name="resnet-lamost", verbose=0)

    for k, (ftr, fte) in enumerate(kfold(y_real, k=args.folds, seed=args.seed)):
        res = finetune(ftr, f"stage2_fold{k}")
        pred_cv[fte] = zoo.load(res.model_dir).predict_array(x_real[fte])[:, 0]
        print(f"      fold {k}: MAE {np.mean(np.abs(pred_cv[fte] - y_real[fte])):.2f}", flush=True)
    real_kfold = regression_metrics(y_real, pred_cv)

    print("[5/5] final fine-tune on all real spectra", flush=True)
    final = finetune(np.arange(len(y_real)), "stage2_final")
    np.save(out / "real_kfold_predictions.npy", pred_cv)
    summary = {
        "mock_test": mock_test, "real_mock_only": real_mock_only, "real_finetuned_kfold": real_kfold,
        "real_chi2_sdss_eigen": real_chi2,
        "real_set": {"n": len(paths), "source": "shared/data/fixtures LAMOST DR1-DR10 with pipeline subclasses",
                     "folds": args.folds},
        "chi2_templates": n_chi2, "seconds": round(time.time() - t0),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: summary[k] for k in ("mock_test", "real_mock_only", "real_finetuned_kfold",
                                               "real_chi2_sdss_eigen")}, indent=1)[:3000])
    if args.install:
        install(final, stage1, summary, libraries, args, len(tr))
    return 0


def install(final, stage1, summary, libraries, args, n_train) -> None:
    """Copy the final weights into zoo/ and record metrics and provenance in its manifest."""
    import hashlib

    manifest = json.loads((final.model_dir / "manifest.json").read_text())
    src = final.model_dir / manifest["weights"]["file"]
    dst_name = "resnet-lamost.weights.h5"
    shutil.copyfile(src, REPO / "zoo" / dst_name)
    data = (REPO / "zoo" / dst_name).read_bytes()
    entry = json.loads((REPO / "zoo" / "resnet-lamost.json").read_text())
    entry["weights"] = {"file": dst_name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    entry["metrics"] = {k: summary[k] for k in ("mock_test", "real_mock_only", "real_finetuned_kfold",
                                                "real_chi2_sdss_eigen")}
    if args.stage1:  # stage 1 was run earlier by this recipe: keep its record
        first = dict(entry["training"]["stages"][0], reused_from=str(args.stage1))
    else:
        first = {"stage": "mock pretraining", "libraries": libraries, "n_mock": args.n, "n_train": n_train,
                 "split": "7:1:2 stratified", "profiles": ["lamost-dr1", "lamost-lrs"],
                 "snr": "log-normal, median 22, sigma 0.65 dex(e), clipped 5-200", "epochs": args.epochs,
                 **{k: stage1.manifest["training"].get(k) for k in ("epochs_run", "commit", "versions")}}
    entry["training"] = {
        "recipe": "python zoo/recipes/resnet_lamost.py " + " ".join(sys.argv[1:]),
        "seed": args.seed, "seconds": summary["seconds"],
        "stages": [first, {
            "stage": "fine-tuning on real LAMOST", "n_real": summary["real_set"]["n"],
            "data": summary["real_set"]["source"], "mixed_with_mock": args.ft_mock,
            "real_repeat": args.real_repeat, "epochs": args.ft_epochs, "lr": args.ft_lr,
            "validation": f"{args.folds}-fold CV (metrics), then all",
            "commit": final.manifest["training"].get("commit")}],
    }
    (REPO / "zoo" / "resnet-lamost.json").write_text(json.dumps(entry, indent=2) + "\n")
    print(f"installed {dst_name} ({len(data)} bytes) and updated zoo/resnet-lamost.json")


if __name__ == "__main__":
    sys.exit(main())
