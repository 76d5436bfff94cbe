"""Wang et al. (2021): a 1-D ResNet regressing the MK subtype of LAMOST spectra, its kernel sizes and baselines.

Reproduces, on a mock LAMOST survey (or on real files with ``--data``):

* **Table 1** -- the ResNet with kernel sizes 3, 5, 7, 9: max |error|, MAE, Std (Wang et al.'s
  scatter of |error| about the MAE) and the fraction within 0.5 subtype, on the test set;
* **Table 2** -- the ResNet (kernel chosen on the validation set) against nonparametric kernel
  regression, AdaBoost of CART trees and K-Means on the same 7:1:2 split, with fit and
  predict times;
* **Fig. 2** predicted vs label subtype with the second-order fit and its 95 % band,
  **Fig. 3** the error distributions of every method, **Fig. 4** mean Grad-CAM maps of A, F,
  G and K stars.

Subtypes are on the scale O0=0, B0=10, A0=20, F0=30, G0=40, K0=50, M0=60 … M9=69.

Usage::

    python examples/lamost_resnet/run.py --quick                      # a few minutes on 2 CPU cores
    python examples/lamost_resnet/run.py                              # the full-size run (GPU advised)
    python examples/lamost_resnet/run.py --data catalogue.csv         # real LAMOST files (path,label)

Output (``--output``, default ``results/lamost_resnet``): ``tables.md``, ``results.json`` (every
number, the command, data source, sizes, seeds and library versions), the figures as PNG and
``report/`` (:func:`specnet.report.write_report` of the chosen ResNet).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load_common():
    name = "specnet_examples_common"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


common = _load_common()

NAME = "lamost_resnet"
PAPER = ("Wang et al. (2021), stellar spectral classification with a deep 1-D ResNet on LAMOST DR5 "
         "(subtype regression, kernel sizes 3/5/7/9, baselines, Grad-CAM)")
KERNELS = (3, 5, 7, 9)
GRADCAM_CLASSES = ("A", "F", "G", "K")

#: Sizes per mode. "full" follows the paper's set-up as far as it is known (default ResNet);
#: "quick" finishes in a few minutes on 2 CPU cores; "smoke" only exercises every code path.
MODES = {
    "full": {"n": 20000, "epochs": 30, "batch_size": 64, "learning_rate": 1e-3, "resnet": {},
             "kernel": {"n_neighbors": 50}, "adaboost": {"n_estimators": 50, "max_depth": 3},
             "kmeans": {"n_clusters": 60, "n_init": 10}, "gradcam_per_class": 200, "run_eagerly": False},
    "quick": {"n": 800, "epochs": 3, "batch_size": 16, "learning_rate": 1e-3,
              "resnet": {"stem_filters": 8, "widths": [8, 16, 16, 16], "head_units": 16},
              "kernel": {"n_neighbors": 50}, "adaboost": {"n_estimators": 50, "max_depth": 3},
              "kmeans": {"n_clusters": 30, "n_init": 4}, "gradcam_per_class": 40, "run_eagerly": False},
    "smoke": {"n": 160, "epochs": 1, "batch_size": 16, "learning_rate": 1e-3,
              "resnet": {"stem_filters": 4, "widths": [4, 8, 8, 8], "head_units": 8},
              "kernel": {"n_neighbors": 20}, "adaboost": {"n_estimators": 10, "max_depth": 3, "n_components": 20},
              "kmeans": {"n_clusters": 8, "n_init": 2, "n_components": 20}, "gradcam_per_class": 6,
              "run_eagerly": True},
}

METRIC_COLUMNS = {"max_abs_error": "Max error", "mae": "MAE", "std": "Std", "within_0.5": "Within ±0.5"}
BASELINE_NAMES = {"kernel": "Kernel regression", "adaboost": "AdaBoost (CART)", "kmeans": "K-Means"}


# ----------------------------------------------------------------------------- arguments
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="examples/lamost_resnet/run.py", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small mock survey, tiny models, 3 epochs (minutes on a CPU)")
    size.add_argument("--smoke", action="store_true", help="tiny everything: checks the code paths only (tests, CI)")
    p.add_argument("--data", type=Path, help="real spectra: a catalogue CSV (path,label) or a folder of FITS files")
    p.add_argument("--label-column", help="label column of the --data CSV (default: label, subclass, ...)")
    p.add_argument("--templates", type=Path, help="template folder of the mock survey "
                   "(default ../shared/data/templates beside the repository, else the built-in library)")
    p.add_argument("--output", type=Path, help=f"output folder (default results/{NAME} in the repository)")
    p.add_argument("--n", type=int, help="number of mock spectra (overrides the mode)")
    p.add_argument("--epochs", type=int, help="training epochs (overrides the mode)")
    p.add_argument("--batch-size", type=int, help="batch size (overrides the mode)")
    p.add_argument("--learning-rate", type=float, help="Adam learning rate (overrides the mode)")
    p.add_argument("--kernels", type=int, nargs="+", default=list(KERNELS), choices=KERNELS,
                   help="ResNet kernel sizes of Table 1 (default 3 5 7 9)")
    p.add_argument("--snr", type=float, nargs=2, default=(10.0, 100.0), metavar=("LO", "HI"),
                   help="S/N (LAMOST SNRG) range of the mock survey, drawn log-uniformly")
    p.add_argument("--subtype-range", type=float, nargs=2, default=(10.0, 69.0), metavar=("LO", "HI"),
                   help="uniform subtype range of the mock survey (default B0-M9: 10 69)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mock survey, the split and the training")
    p.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"),
                   help="Keras dtype policy (auto: mixed_float16 on a GPU)")
    p.add_argument("--n-jobs", type=int, default=-1, help="processes for the mock survey (-1: all cores)")
    p.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")
    args = p.parse_args(argv)
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in MODES[args.mode].items()}
    for key in ("n", "epochs", "batch_size", "learning_rate"):
        if getattr(args, key) is not None:
            if getattr(args, key) <= 0:
                raise SystemExit(f"--{key.replace('_', '-')} must be positive. Received: {getattr(args, key)}")
            cfg[key] = getattr(args, key)
    if args.snr[0] <= 0 or args.snr[0] > args.snr[1]:
        raise SystemExit(f"--snr needs 0 < LO <= HI. Received: {args.snr}")
    if args.subtype_range[0] > args.subtype_range[1]:
        raise SystemExit(f"--subtype-range needs LO <= HI. Received: {args.subtype_range}")
    args.kernels = sorted(set(args.kernels))
    args.cfg = cfg
    args.output = args.output or common.REPO / "results" / NAME
    return args


# ----------------------------------------------------------------------------- data
def preprocess_config():
    """Wang et al.'s input: the LAMOST grid (3700–9100 Å, vacuum, log-λ), continuum-normalised, mask channel."""
    from specnet.preprocess import LAMOST_GRID, PreprocessConfig

    return PreprocessConfig(grid=LAMOST_GRID, normalisation="continuum", mask_channel=True)


def load_data(args, config) -> dict:
    """``X`` (N, 3909, 2), ``y`` subtypes (N,), ``ids`` and the data-source record."""
    if args.data is not None:
        from specnet.labels import parse_subtype

        common.progress(f"reading real spectra from {args.data}")
        got = common.read_labelled(args.data, config, label_column=args.label_column)
        keep, y, rejects = [], [], list(got["rejects"])
        for i, label in enumerate(got["labels"]):
            try:
                y.append(float(parse_subtype(label)))
                keep.append(i)
            except ValueError as exc:  # LabelError is a ValueError
                rejects.append({"path": got["paths"][i], "reason": f"label {label!r}: {exc}"})
        if len(keep) < 10:
            raise SystemExit(f"--data gave {len(keep)} labelled spectra; at least 10 are needed. "
                             f"Rejects: {rejects[:3]}")
        keep = np.asarray(keep, int)
        source = {"kind": "files", "path": str(args.data), "catalogue": got["source"], "n_read": len(keep),
                  "n_rejected": len(rejects), "rejects": rejects[:50]}
        return {"X": got["X"][keep], "y": np.asarray(y, float), "ids": [got["paths"][i] for i in keep],
                "source": source}
    from specnet.preprocess import preprocess
    from specnet.simulate import mock_survey

    lib, lib_source = common.load_library(args.templates)
    n = int(args.cfg["n"])
    common.progress(f"mock LAMOST survey: {n} spectra from {lib_source['kind']} ({lib_source['n_templates']} "
                    f"templates), S/N {args.snr[0]:g}-{args.snr[1]:g}, subtypes {args.subtype_range[0]:g}-"
                    f"{args.subtype_range[1]:g}")
    spectra, cat = mock_survey(lib, n, profile="lamost-lrs", snr=tuple(args.snr), seed=args.seed,
                               subtype_range=tuple(args.subtype_range), n_jobs=args.n_jobs)
    X, _ = preprocess(spectra, config)
    source = {"kind": "mock", "profile": "lamost-lrs", "library": lib_source, "n": n, "snr": list(args.snr),
              "subtype_range": list(args.subtype_range), "subtype_distribution": "uniform", "seed": args.seed,
              "snr_measured_median": float(np.median(cat["snr"]))}
    return {"X": X, "y": np.asarray(cat["subtype"], float), "ids": list(cat["id"]), "source": source}


# ----------------------------------------------------------------------------- experiments
def _row(metrics: dict) -> dict:
    return {k: metrics[k] for k in METRIC_COLUMNS}


def train_resnets(args, data, split) -> dict:
    """Table 1: one ResNet per kernel size, trained on the training split, scored on the test split."""
    from specnet.metrics import regression_metrics
    from specnet.models import build, count_params, default_loss

    tr, va, te = split
    X, y = data["X"], data["y"]
    out = {}
    for k in args.kernels:
        common.progress(f"ResNet kernel {k}: training {args.cfg['epochs']} epoch(s) on {len(tr)} spectra")
        common.set_seed(args.seed)
        model = build("resnet_regressor", input_shape=X.shape[1:], kernel_size=k, **args.cfg["resnet"])
        fit = common.fit_keras(model, X[tr], y[tr], loss=default_loss("resnet_regressor"), epochs=args.cfg["epochs"],
                               batch_size=args.cfg["batch_size"], learning_rate=args.cfg["learning_rate"],
                               seed=args.seed, X_val=X[va], y_val=y[va], verbose=args.verbose,
                               run_eagerly=args.cfg["run_eagerly"])
        pred_te, predict_s = common.predict_timed(model, X[te])
        pred_va, _ = common.predict_timed(model, X[va]) if len(va) else (np.zeros((0, 1)), 0.0)
        metrics = regression_metrics(y[te], pred_te[:, 0])
        val_mae = float(np.mean(np.abs(pred_va[:, 0] - y[va]))) if len(va) else float("nan")
        common.progress(f"  kernel {k}: test MAE {metrics['mae']:.3f}, Std {metrics['std']:.3f}, "
                        f"validation MAE {val_mae:.3f} ({fit['fit_s']:.1f} s)")
        out[k] = {"model": model, "pred": pred_te[:, 0], "metrics": metrics, "val_mae": val_mae,
                  "fit": fit, "predict_s": predict_s, "n_params": count_params(model)}
    return out


def run_baselines(args, data, split) -> dict:
    """Table 2's classical methods, fitted on the training split (channel 0 = flux), timed."""
    from specnet.baselines import make_baseline
    from specnet.metrics import regression_metrics

    tr, _, te = split
    X, y = data["X"], data["y"]
    out = {}
    for name in BASELINE_NAMES:
        params = dict(args.cfg[name])
        if name == "kmeans":
            params["n_clusters"] = min(params["n_clusters"], len(tr))
        model = make_baseline(name, random_state=args.seed, **params)
        common.progress(f"{BASELINE_NAMES[name]}: fitting on {len(tr)} spectra {params}")
        t0 = time.perf_counter()
        model.fit(X[tr], y[tr])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = np.asarray(model.predict(X[te]), float)
        predict_s = time.perf_counter() - t0
        metrics = regression_metrics(y[te], pred)
        common.progress(f"  {BASELINE_NAMES[name]}: test MAE {metrics['mae']:.3f} (fit {fit_s:.1f} s)")
        out[name] = {"pred": pred, "metrics": metrics, "fit_s": fit_s, "predict_s": predict_s,
                     "params": model.get_params()}
    return out


def gradcam_maps(args, model, data, test_idx) -> dict:
    """Fig. 4: Grad-CAM maps of up to ``gradcam_per_class`` test spectra of each of A, F, G, K."""
    from specnet.explain import CLASS_FEATURES, gradcam, window_mask
    from specnet.metrics import class_letters
    from specnet.preprocess import LAMOST_GRID

    y_te = data["y"][test_idx]
    letters = class_letters(np.clip(y_te, 0, 89.999))
    chosen = np.concatenate([np.flatnonzero(letters == c)[: args.cfg["gradcam_per_class"]] for c in GRADCAM_CLASSES])
    chosen = np.sort(chosen.astype(int))
    wave = np.asarray(LAMOST_GRID.wave)
    summary = {"n_maps": int(chosen.size), "layer": "last Conv1D of the main path", "per_class": {}}
    if chosen.size == 0:
        return {"wave": wave, "maps": np.zeros((0, wave.size)), "labels": np.zeros(0), "fluxes": np.zeros((0, wave.size)),
                "summary": summary}
    X_sel = data["X"][test_idx][chosen]
    common.progress(f"Grad-CAM maps of {chosen.size} test spectra ({', '.join(GRADCAM_CLASSES)})")
    maps = gradcam(model, X_sel)
    for cls in GRADCAM_CLASSES:
        members = letters[chosen] == cls
        if not members.any():
            summary["per_class"][cls] = {"n": 0}
            continue
        mean = maps[members].mean(axis=0)
        names, regions = CLASS_FEATURES[cls]
        in_paper = window_mask(wave, list(names), half_width=30.0)
        for lo, hi in regions:
            in_paper |= (wave >= lo) & (wave <= hi)
        total = float(mean.sum())
        summary["per_class"][cls] = {
            "n": int(members.sum()),
            "peak_wavelength": float(wave[int(np.argmax(mean))]),
            "map_fraction_in_paper_features": float(mean[in_paper].sum() / total) if total > 0 else None,
            "pixel_fraction_in_paper_features": float(in_paper.mean()),
            "paper_features": list(names) + [f"{lo:g}-{hi:g} A" for lo, hi in regions],
        }
    return {"wave": wave, "maps": maps, "labels": y_te[chosen], "fluxes": X_sel[..., 0], "summary": summary}


# ----------------------------------------------------------------------------- output
def build_tables(resnets, chosen_k, baselines) -> dict:
    t1_rows = [{"kernel_size": k, **_row(r["metrics"]), "val_mae": r["val_mae"], "n_params": r["n_params"],
                "fit_s": r["fit"]["fit_s"]} for k, r in resnets.items()]
    table1 = common.table_entry(
        "Table 1. ResNet with different kernel sizes (test set)",
        {"kernel_size": "Kernel size", **METRIC_COLUMNS, "val_mae": "Validation MAE", "n_params": "Parameters",
         "fit_s": "Fit time (s)"},
        t1_rows,
        "Errors in subtypes (O0=0 … M9=69). Std = sqrt(mean((|e| − MAE)²)) (Wang et al.); "
        "Within ±0.5 is the fraction of spectra whose |error| is at most half a subtype; Max error is the largest |error|.")
    best = resnets[chosen_k]
    methods = {f"ResNet (kernel {chosen_k})": best["metrics"] | {"fit_s": best["fit"]["fit_s"],
                                                                  "predict_s": best["predict_s"]}}
    for name, r in baselines.items():
        methods[BASELINE_NAMES[name]] = r["metrics"] | {"fit_s": r["fit_s"], "predict_s": r["predict_s"]}
    t2_rows = [{"method": m, **_row(v), "fit_s": v["fit_s"], "predict_s": v["predict_s"]} for m, v in methods.items()]
    table2 = common.table_entry(
        "Table 2. ResNet vs classical methods on the same split (test set)",
        {"method": "Method", **METRIC_COLUMNS, "fit_s": "Fit time (s)", "predict_s": "Predict time (s)"},
        t2_rows,
        f"The ResNet's kernel ({chosen_k}) is the one with the lowest validation MAE in Table 1. "
        "Times are wall-clock seconds on this machine (fit on the training split, predict the test split).")
    # per-class MAE (the paper discusses errors per spectral class)
    preds = {f"ResNet (kernel {chosen_k})": best["pred"], **{BASELINE_NAMES[n]: r["pred"] for n, r in baselines.items()}}
    return {"table1": table1, "table2": table2, "preds": preds}


def per_class_table(y_test, preds) -> tuple[dict, dict]:
    from specnet.metrics import per_class_regression

    per_class = {m: per_class_regression(y_test, p) for m, p in preds.items()}
    classes = [c for c in "OBAFGKMLT" if any(c in v for v in per_class.values())]
    rows = [{"method": m, **{c: v[c]["mae"] for c in classes if c in v}} for m, v in per_class.items()]
    counts = per_class[next(iter(per_class))]
    rows.append({"method": "N (test spectra)", **{c: counts[c]["n"] for c in classes if c in counts}})
    entry = common.table_entry("MAE per spectral class of the label (test set)",
                               {"method": "Method", **{c: c for c in classes}}, rows,
                               "Mean |error| in subtypes of the test spectra whose label lies in each class.")
    return entry, per_class


def make_figures(out_dir: Path, y_test, resnet_best, chosen_k, preds, cams) -> dict:
    from specnet import plots
    from specnet.explain.plots import plot_class_means

    figs = {}
    fig = plots.plot_pred_vs_true(y_test, resnet_best["pred"], title=f"ResNet (kernel {chosen_k}), test set")
    figs["fig2"] = plots.save_figure(fig, out_dir / "fig2_pred_vs_true.png").name
    errors = {m: np.asarray(p) - y_test for m, p in preds.items()}
    fig = plots.plot_error_histogram(errors, title="Error distributions, test set")
    figs["fig3"] = plots.save_figure(fig, out_dir / "fig3_error_distributions.png").name
    fig = plot_class_means(cams["wave"], cams["maps"], cams["labels"], classes=GRADCAM_CLASSES,
                           fluxes=cams["fluxes"] if len(cams["maps"]) else None)
    figs["fig4"] = plots.save_figure(fig, out_dir / "fig4_gradcam_AFGK.png").name
    fig = plots.plot_learning_curves(resnet_best["fit"]["history"], title=f"ResNet (kernel {chosen_k})")
    figs["learning_curves"] = plots.save_figure(fig, out_dir / "learning_curves.png").name
    return figs


def main(argv=None) -> dict:
    """Run the experiment; returns what ``results.json`` holds."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    t_start = time.perf_counter()
    run = common.run_record(f"examples/{NAME}/run.py", argv, args.mode, args.seed)
    common.progress(f"{NAME} ({args.mode}) -> {args.output}")
    config = preprocess_config()
    data = load_data(args, config)  # before TensorFlow is imported: the mock survey may fork

    with common.precision(args.precision) as policy:
        return _experiment(args, run, config, data, policy, t_start)


def _experiment(args, run, config, data, policy: str, t_start: float) -> dict:
    """Everything after loading the data: training, baselines, figures and the output files."""
    from specnet.report import write_report
    from specnet.simulate import stratified_split

    split = stratified_split(data["y"], (0.7, 0.1, 0.2), seed=args.seed)
    tr, va, te = split
    common.progress(f"split 7:1:2 -> train {len(tr)}, validation {len(va)}, test {len(te)}; precision {policy}")
    resnets = train_resnets(args, data, split)
    chosen_k = min(resnets, key=lambda k: (np.nan_to_num(resnets[k]["val_mae"], nan=np.inf), k))
    baselines = run_baselines(args, data, split)
    tables = build_tables(resnets, chosen_k, baselines)
    preds = tables.pop("preds")
    y_te = data["y"][te]
    tables["per_class_mae"], per_class = per_class_table(y_te, preds)
    best = resnets[chosen_k]
    cams = gradcam_maps(args, best["model"], data, te)

    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = make_figures(out_dir, y_te, best, chosen_k, preds, cams)
    report = write_report(out_dir / "report", "regression", y_te, best["pred"], history=best["fit"]["history"],
                          title=f"ResNet (kernel {chosen_k}) on the {data['source']['kind']} test set",
                          extra={"kernel_size": chosen_k, "mode": args.mode, "seed": args.seed})

    run.update({"data": data["source"], "preprocess": config.to_dict(), "precision": policy,
                "devices": common.devices(),
                "sizes": {"n": int(len(data["y"])), "train": int(len(tr)), "validation": int(len(va)),
                          "test": int(len(te)), "split": [0.7, 0.1, 0.2], "split_seed": args.seed},
                "config": {"mode": args.cfg, "kernels": args.kernels, "chosen_kernel": int(chosen_k),
                           "kernel_choice": "lowest validation MAE", "loss": "log_cosh", "optimizer": "adam",
                           "batchnorm": "statistics recalibrated on the training set after fitting"},
                "wall_s": time.perf_counter() - t_start})
    results = {
        "experiment": NAME, "paper": PAPER, "run": run,
        "tables": {k: tables[k] for k in ("table1", "table2", "per_class_mae")},
        "metrics": {**{f"resnet_k{k}": r["metrics"] for k, r in resnets.items()},
                    **{name: r["metrics"] for name, r in baselines.items()}},
        "per_class": per_class,
        "second_order_fit": report.get("second_order_fit"),
        "timing": {**{f"resnet_k{k}": {"fit_s": r["fit"]["fit_s"], "predict_s": r["predict_s"]} for k, r in resnets.items()},
                   **{name: {"fit_s": r["fit_s"], "predict_s": r["predict_s"]} for name, r in baselines.items()}},
        "baseline_params": {name: r["params"] for name, r in baselines.items()},
        "histories": {f"resnet_k{k}": r["fit"]["history"] for k, r in resnets.items()},
        "gradcam": cams["summary"],
        "figures": {**figures, "report": "report/report.md"},
    }
    md = [f"# {PAPER}", "",
          f"Run: `{run['command']}` ({args.mode} mode, seed {args.seed}); data: {_describe(data['source'])}; "
          f"{len(tr)}/{len(va)}/{len(te)} train/validation/test spectra.", ""]
    md += [common.render_table(tables[k]) for k in ("table1", "table2", "per_class_mae")]
    md += ["### Figures", "", f"* Fig. 2 -- predicted vs label: `{figures['fig2']}`",
           f"* Fig. 3 -- error distributions: `{figures['fig3']}`",
           f"* Fig. 4 -- Grad-CAM class means (A, F, G, K): `{figures['fig4']}`",
           f"* learning curves: `{figures['learning_curves']}`; full report: `report/report.md`", ""]
    common.write_results(out_dir, results, "\n".join(md))
    common.progress(f"done in {time.perf_counter() - t_start:.1f} s: {out_dir / 'tables.md'}")
    return results


def _describe(source: dict) -> str:
    if source["kind"] == "mock":
        lib = source["library"]
        return (f"mock LAMOST survey ({source['n']} spectra, profile {source['profile']}, {lib['kind']} "
                f"{lib['path']}, {lib['n_templates']} templates)")
    return f"{source['n_read']} real spectra from {source['path']} ({source['n_rejected']} rejected)"


if __name__ == "__main__":
    main()
