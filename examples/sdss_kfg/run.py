"""Liu & Wang (2022): BERT-CNN classification of SDSS K, F and G subclasses, against an SVM and a CNN.

Reproduces, on mock SDSS spectra (or on real DR10 files fetched with ``fetch_sdss.py``,
``--data``):

* **Tables 3(a)–(c)** -- BERT-CNN precision, recall and F1 of each subclass of the K (K1, K3,
  K5, K7), F (F2, F5, F9) and G (G0, G2, G5) sets, trained on 30, 40, 50, 60 and 70 % of the
  spectra and tested on the rest;
* **Table 4** -- accuracy of the SVM, the CNN and the BERT-CNN at 70 % training, per set and
  on average;
* the **grid search** with k-fold cross-validation (10 folds in the paper) of the BERT-CNN's
  batch size, learning rate, hidden units and dropout, and of the SVM's C -- the paper's full
  grid behind ``--full-grid``, a reduced grid by default, a tiny one under ``--quick``.

Mock spectra follow the paper's selection: each subclass is simulated in its S/N window
(``fetch_sdss.SNR_WINDOWS``, SDSS ``SN_MEDIAN_ALL``), min-max normalised on the SDSS grid
(3800–9200 Å, vacuum, log-λ) as Liu & Wang did.

Usage::

    python examples/sdss_kfg/run.py --quick                 # a few minutes on 2 CPU cores
    python examples/sdss_kfg/run.py [--full-grid]           # full size (GPU advised)
    python examples/sdss_kfg/run.py --data data/sdss_kfg    # real spectra from fetch_sdss.py

Output (``--output``, default ``results/sdss_kfg``): ``tables.md``, ``results.json`` (every
number, the command, data source, sizes, seeds and library versions) and PNG figures
(confusion matrices at 70 %, accuracy and macro F1 against the training fraction).
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

_HERE = Path(__file__).resolve().parent


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


common = _load("specnet_examples_common", _HERE.parent / "common.py")
fetch_sdss = _load("specnet_examples_fetch_sdss", _HERE / "fetch_sdss.py")

NAME = "sdss_kfg"
PAPER = "Liu & Wang (2022), BERT-CNN classification of SDSS DR10 K, F and G stellar subclasses"
TASKS = fetch_sdss.PAPER_TASKS
TABLE3_KEYS = {"K": "table3a", "F": "table3b", "G": "table3c"}
FRACTIONS = (0.3, 0.4, 0.5, 0.6, 0.7)
TABLE4_FRACTION = 0.7

#: The paper's grid (``--full-grid``): 81 combinations.
PAPER_GRID = {"batch_size": [16, 32, 64], "learning_rate": [1e-2, 1e-3, 1e-4],
              "hidden_units": [128, 256, 512], "dropout": [0.3, 0.5, 0.7]}
PAPER_SVM_CS = (0.01, 0.1, 1.0, 10.0)

MODES = {
    "full": {"n_per_class": 500, "epochs": 30, "cv": 10,
             "grid": {"batch_size": [32], "learning_rate": [1e-3, 1e-4], "hidden_units": [256], "dropout": [0.3, 0.5]},
             "svm_cs": PAPER_SVM_CS, "bert": {}, "cnn": {}, "run_eagerly": False},
    "quick": {"n_per_class": 80, "epochs": 3, "cv": 2,
              "grid": {"batch_size": [8], "learning_rate": [1e-3], "hidden_units": [128], "dropout": [0.3, 0.5]},
              "svm_cs": (0.01, 0.1, 1.0),
              "bert": {"embed_dim": 32, "num_heads": 2, "num_layers": 1, "ff_dim": 64, "cnn_filters": [16, 32]},
              "cnn": {"filters": [8, 16, 32]}, "run_eagerly": False},
    "smoke": {"n_per_class": 12, "epochs": 1, "cv": 2,
              "grid": {"batch_size": [16], "learning_rate": [1e-2, 1e-3], "hidden_units": [16], "dropout": [0.5]},
              "svm_cs": (0.1, 1.0),
              "bert": {"embed_dim": 16, "num_heads": 2, "num_layers": 1, "ff_dim": 32, "cnn_filters": [8, 16]},
              "cnn": {"filters": [4, 8, 16], "hidden_units": 16}, "run_eagerly": True},
}


# ----------------------------------------------------------------------------- arguments
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="examples/sdss_kfg/run.py", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small mock sets, tiny models, 3 epochs, tiny grid")
    size.add_argument("--smoke", action="store_true", help="tiny everything: checks the code paths only (tests, CI)")
    p.add_argument("--full-grid", action="store_true", help="the paper's full grid (81 combinations; slow)")
    p.add_argument("--data", type=Path, help="real spectra: fetch_sdss.py's folder or a catalogue CSV (path,label)")
    p.add_argument("--label-column", help="label column of the --data CSV (default: label, subclass, ...)")
    p.add_argument("--templates", type=Path, help="template folder of the mock spectra "
                   "(default ../shared/data/templates beside the repository, else the built-in library)")
    p.add_argument("--output", type=Path, help=f"output folder (default results/{NAME} in the repository)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS), help="sets to run (default K F G)")
    p.add_argument("--n-per-class", type=int, help="mock spectra per subclass (overrides the mode)")
    p.add_argument("--epochs", type=int, help="training epochs (overrides the mode)")
    p.add_argument("--cv", type=int, help="cross-validation folds of the grid search (overrides the mode; paper: 10)")
    p.add_argument("--lum-classes", nargs="+", help="luminosity groups of the mock templates (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mock spectra, the splits and the training")
    p.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"),
                   help="Keras dtype policy (auto: mixed_float16 on a GPU)")
    p.add_argument("--n-jobs", type=int, default=-1, help="processes for the mock spectra (-1: all cores)")
    p.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")
    args = p.parse_args(argv)
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in MODES[args.mode].items()}
    for key in ("n_per_class", "epochs", "cv"):
        value = getattr(args, key)
        if value is not None:
            if value < (2 if key == "cv" else 1):
                raise SystemExit(f"--{key.replace('_', '-')} is too small. Received: {value}")
            cfg[key] = value
    if args.full_grid:
        cfg["grid"], cfg["svm_cs"] = dict(PAPER_GRID), PAPER_SVM_CS
    args.cfg = cfg
    args.tasks = [t for t in TASKS if t in args.tasks]
    args.output = args.output or common.REPO / "results" / NAME
    return args


# ----------------------------------------------------------------------------- data
def preprocess_config():
    """Liu & Wang's input: the SDSS grid (3800–9200 Å, vacuum, log-λ), min-max normalised, mask channel."""
    from specnet.preprocess import SDSS_GRID, PreprocessConfig

    return PreprocessConfig(grid=SDSS_GRID, normalisation="minmax", mask_channel=True)


def _edges(subtypes) -> np.ndarray:
    """Bin edges half-way between a set's subclasses, so that splits stratify on the subclass."""
    s = np.unique(np.asarray(subtypes, float))
    return (s[1:] + s[:-1]) / 2.0


def mock_sets(args, config) -> tuple[dict, dict]:
    """One mock SDSS set per task: each subclass simulated ``n_per_class`` times in its S/N window."""
    from specnet.labels import parse_subtype
    from specnet.preprocess import preprocess
    from specnet.simulate import mock_survey

    lib, lib_source = common.load_library(args.templates)
    n = int(args.cfg["n_per_class"])
    sets = {}
    for t, task in enumerate(args.tasks):
        classes = TASKS[task]
        X_parts, y, snr = [], [], []
        for c, cls in enumerate(classes):
            lo, hi = fetch_sdss.SNR_WINDOWS[cls]
            common.progress(f"mock SDSS {cls}: {n} spectra, S/N {lo:g}-{hi:g}")
            spectra, cat = mock_survey(lib, n, profile="sdss", snr=(lo, hi), seed=args.seed * 1000 + 10 * t + c,
                                       subtype_distribution=[parse_subtype(cls)], lum_classes=args.lum_classes,
                                       n_jobs=args.n_jobs)
            X_parts.append(preprocess(spectra, config)[0])
            y += [c] * n
            snr += list(np.asarray(cat["snr"], float))
        sets[task] = {"X": np.concatenate(X_parts), "y": np.asarray(y, int), "classes": list(classes),
                      "snr": np.asarray(snr, float)}
    source = {"kind": "mock", "profile": "sdss", "library": lib_source, "n_per_class": n,
              "snr_windows": {c: list(fetch_sdss.SNR_WINDOWS[c]) for t in args.tasks for c in TASKS[t]},
              "lum_classes": args.lum_classes or "all", "seed": args.seed,
              "seeds": "seed*1000 + 10*task_index + class_index per subclass"}
    return sets, source


def real_sets(args, config) -> tuple[dict, dict]:
    """Sets from real files: every spectrum whose label is one of a task's subclasses joins that task."""
    from specnet.data.catalogue import label_to_target

    common.progress(f"reading real spectra from {args.data}")
    got = common.read_labelled(args.data, config, label_column=args.label_column)
    sets, skipped = {}, {}
    for task in args.tasks:
        classes = TASKS[task]
        idx, y = [], []
        for i, label in enumerate(got["labels"]):
            try:
                y.append(label_to_target(label, "classification", classes))
                idx.append(i)
            except ValueError:  # LabelError: not a subclass of this set
                continue
        counts = np.bincount(np.asarray(y, int), minlength=len(classes)) if y else np.zeros(len(classes), int)
        if counts.min() < max(2, args.cfg["cv"]):
            skipped[task] = {c: int(k) for c, k in zip(classes, counts)}
            common.progress(f"set {task} skipped: too few spectra per subclass {skipped[task]}")
            continue
        idx = np.asarray(idx, int)
        sets[task] = {"X": got["X"][idx], "y": np.asarray(y, int), "classes": list(classes), "snr": got["snr"][idx]}
    if not sets:
        raise SystemExit(f"--data holds no set with enough spectra per subclass: {skipped}")
    source = {"kind": "files", "path": str(args.data), "catalogue": got["source"], "n_read": len(got["labels"]),
              "n_rejected": len(got["rejects"]), "rejects": got["rejects"][:50], "skipped_sets": skipped}
    return sets, source


# ----------------------------------------------------------------------------- models
def _build(arch: str, args, input_shape, n_classes: int, params: dict):
    from specnet.models import build

    cfg = dict(args.cfg["bert" if arch == "bert_cnn" else "cnn"])
    if arch == "bert_cnn":
        cfg.update(hidden_units=params["hidden_units"], dropout=params["dropout"])
    return build(arch, input_shape=input_shape, num_classes=n_classes, **cfg)


def train_eval(arch: str, args, data, tr, te, params: dict, seed: int) -> dict:
    """Train ``arch`` on ``tr`` with ``params`` and score on ``te`` (:func:`specnet.metrics.classification_metrics`)."""
    from specnet.metrics import classification_metrics

    X, y = data["X"], data["y"]
    common.set_seed(seed)
    model = _build(arch, args, X.shape[1:], len(data["classes"]), params)
    fit = common.fit_keras(model, X[tr], y[tr], loss="sparse_categorical_crossentropy", epochs=args.cfg["epochs"],
                           batch_size=params["batch_size"], learning_rate=params["learning_rate"], seed=seed,
                           verbose=args.verbose, run_eagerly=args.cfg["run_eagerly"])
    proba, predict_s = common.predict_timed(model, X[te])
    metrics = classification_metrics(y[te], proba, data["classes"])
    return {"metrics": metrics, "fit": fit, "predict_s": predict_s, "n_train": int(len(tr)), "n_test": int(len(te))}


def split(data, fraction: float, seed: int):
    """Stratified (on subclass) train/test indices with ``fraction`` for training."""
    from specnet.simulate import stratified_split

    subtypes = _subtypes(data)
    tr, _, te = stratified_split(subtypes, (fraction, 0.0, 1.0 - fraction), seed=seed, bins=_edges(subtypes))
    return tr, te


def _subtypes(data) -> np.ndarray:
    from specnet.labels import parse_subtype

    values = np.array([parse_subtype(c) for c in data["classes"]], float)
    return values[data["y"]]


def grid_search(args, task, data, tr) -> dict:
    """BERT-CNN k-fold grid search and SVM C search on the 70 % training part of a set."""
    from specnet.baselines import svm_grid_search
    from specnet.simulate import kfold

    subtypes = _subtypes(data)[tr]
    folds = list(kfold(subtypes, k=args.cfg["cv"], seed=args.seed, bins=_edges(subtypes)))
    n_comb = len(common.grid_combinations(args.cfg["grid"]))
    common.progress(f"{task}: BERT-CNN grid search, {n_comb} combination(s) × {len(folds)} folds")
    X_tr, y_tr = data["X"][tr], data["y"][tr]
    bert = common.keras_grid_search(lambda p: _build("bert_cnn", args, X_tr.shape[1:], len(data["classes"]), p),
                                    X_tr, y_tr, args.cfg["grid"], folds, epochs=args.cfg["epochs"], seed=args.seed,
                                    run_eagerly=args.cfg["run_eagerly"],
                                    on_step=lambda m: common.progress(f"  {task}: {m}"))
    common.progress(f"{task}: SVM grid search over C={list(args.cfg['svm_cs'])}, {args.cfg['cv']} folds")
    t0 = time.perf_counter()
    svm = svm_grid_search(X_tr, y_tr, Cs=args.cfg["svm_cs"], cv=args.cfg["cv"], seed=args.seed)
    svm_s = time.perf_counter() - t0
    svm_rows = [{"C": float(c), "mean_accuracy": float(m), "std_accuracy": float(s)}
                for c, m, s in zip(svm.cv_results_["param_C"], svm.cv_results_["mean_test_score"],
                                   svm.cv_results_["std_test_score"])]
    return {"bert_cnn": bert, "svm": {"results": svm_rows, "best_params": {"C": float(svm.best_params_["C"])},
                                      "best_accuracy": float(svm.best_score_), "search_s": svm_s},
            "svm_model": svm.best_estimator_}


# ----------------------------------------------------------------------------- tables & figures
TABLE3_COLUMNS = {"training": "Training set", "subclass": "Subclass", "precision": "Precision", "recall": "Recall",
                  "f1": "F1-score", "support": "Test spectra"}


def table3(task: str, runs: dict) -> dict:
    rows = []
    for frac, run in sorted(runs.items()):
        m = run["metrics"]
        for c in m["classes"]:
            rows.append({"training": f"{round(100 * frac)}%", "subclass": c, "precision": m["precision"][c],
                         "recall": m["recall"][c], "f1": m["f1"][c], "support": m["support"][c]})
        rows.append({"training": f"{round(100 * frac)}%", "subclass": "average (macro)",
                     "precision": m["macro_precision"], "recall": m["macro_recall"], "f1": m["macro_f1"],
                     "support": m["n"]})
    letter = {"K": "a", "F": "b", "G": "c"}[task]
    return common.table_entry(f"Table 3({letter}). BERT-CNN on the {task} set ({', '.join(TASKS[task])})",
                              TABLE3_COLUMNS, rows,
                              "Trained on the stated fraction of the set (stratified by subclass), tested on the rest.")


def table4(acc: dict, tasks) -> dict:
    rows = []
    for method in ("SVM", "CNN", "BERT-CNN"):
        row = {"method": method, **{t: acc[method][t] for t in tasks}}
        row["average"] = float(np.mean([acc[method][t] for t in tasks]))
        rows.append(row)
    return common.table_entry(f"Table 4. Accuracy at {round(100 * TABLE4_FRACTION)}% training",
                              {"method": "Method", **{t: f"{t} set" for t in tasks}, "average": "Average"}, rows,
                              f"Accuracy on the {round(100 * (1 - TABLE4_FRACTION))}% test part of each set; the "
                              "SVM's C and the networks' training parameters come from the grid search.")


def grid_table(task: str, search: dict) -> dict:
    rows = [{"model": "BERT-CNN", **{k: r[k] for k in sorted(search["bert_cnn"]["best_params"])},
             "mean_accuracy": r["mean_accuracy"], "std_accuracy": r["std_accuracy"]}
            for r in search["bert_cnn"]["results"]]
    rows += [{"model": "SVM", "C": r["C"], "mean_accuracy": r["mean_accuracy"], "std_accuracy": r["std_accuracy"]}
             for r in search["svm"]["results"]]
    return common.table_entry(
        f"Grid search on the {task} set ({search['bert_cnn']['n_folds']}-fold cross-validation, 70% training part)",
        {"model": "Model", "batch_size": "Batch size", "learning_rate": "Learning rate",
         "hidden_units": "Hidden units", "dropout": "Dropout", "C": "C", "mean_accuracy": "CV accuracy",
         "std_accuracy": "Std over folds"},
        rows, f"Chosen: BERT-CNN {search['bert_cnn']['best_params']}, SVM C={search['svm']['best_params']['C']:g}.")


def figure_vs_fraction(runs: dict):
    """Accuracy and macro F1 of the BERT-CNN against the training fraction, one line per set."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=True)
    for i, (task, by_frac) in enumerate(runs.items()):
        fr = sorted(by_frac)
        for ax, key in zip(axes, ("accuracy", "macro_f1")):
            ax.plot([100 * f for f in fr], [by_frac[f]["metrics"][key] for f in fr], "o-", color=f"C{i}",
                    label=f"{task} set")
    for ax, title in zip(axes, ("accuracy", "macro F1")):
        ax.set_xlabel("training set (% of the spectra)")
        ax.set_title(f"BERT-CNN {title}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test score")
    axes[0].set_ylim(0, 1.02)
    axes[0].legend(fontsize=8)
    return fig


def main(argv=None) -> dict:
    """Run the experiment; returns what ``results.json`` holds."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    t_start = time.perf_counter()
    run = common.run_record(f"examples/{NAME}/run.py", argv, args.mode, args.seed)
    common.progress(f"{NAME} ({args.mode}) -> {args.output}")
    config = preprocess_config()
    sets, source = real_sets(args, config) if args.data is not None else mock_sets(args, config)

    with common.precision(args.precision) as policy:
        return _experiment(args, run, config, sets, source, policy, t_start)


def _experiment(args, run, config, sets: dict, source: dict, policy: str, t_start: float) -> dict:
    """Everything after loading the data: grid searches, Tables 3-4, figures and the output files."""
    from specnet import plots
    from specnet.metrics import classification_metrics

    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    fractions = list(FRACTIONS)
    tables, searches, runs, table4_runs, figures, sizes = {}, {}, {}, {}, {}, {}
    acc = {"SVM": {}, "CNN": {}, "BERT-CNN": {}}
    for task, data in sets.items():
        sizes[task] = {"n": int(len(data["y"])), "per_class": dict(zip(data["classes"],
                                                                       map(int, np.bincount(data["y"]))))}
        tr70, te70 = split(data, TABLE4_FRACTION, args.seed)
        search = grid_search(args, task, data, tr70)
        best = search["bert_cnn"]["best_params"]
        common.progress(f"{task}: chosen BERT-CNN {best}; SVM C={search['svm']['best_params']['C']:g}")
        runs[task] = {}
        for frac in fractions:
            tr, te = split(data, frac, args.seed)
            common.progress(f"{task}: BERT-CNN at {round(100 * frac)}% training ({len(tr)} train / {len(te)} test)")
            runs[task][frac] = train_eval("bert_cnn", args, data, tr, te, best, args.seed)
            common.progress(f"  accuracy {runs[task][frac]['metrics']['accuracy']:.3f}, "
                            f"macro F1 {runs[task][frac]['metrics']['macro_f1']:.3f}")
        tables[TABLE3_KEYS[task]] = table3(task, runs[task])
        # Table 4 at 70 %: the BERT-CNN run above, the CNN with the same training parameters, the SVM
        common.progress(f"{task}: CNN and SVM at 70% training")
        cnn = train_eval("cnn", args, data, tr70, te70, best, args.seed)
        t0 = time.perf_counter()
        svm_pred = search.pop("svm_model").predict(data["X"][te70])
        svm = {"metrics": classification_metrics(data["y"][te70], svm_pred, data["classes"]),
               "predict_s": time.perf_counter() - t0, "n_train": int(len(tr70)), "n_test": int(len(te70))}
        bert70 = runs[task][TABLE4_FRACTION]
        table4_runs[task] = {"SVM": svm, "CNN": cnn, "BERT-CNN": bert70}
        for method, r in table4_runs[task].items():
            acc[method][task] = r["metrics"]["accuracy"]
        searches[task] = search
        tables[f"grid_{task}"] = grid_table(task, search)
        fig = plots.plot_confusion_matrix(bert70["metrics"]["confusion_matrix"], data["classes"],
                                          title=f"BERT-CNN, {task} set, 70% training")
        figures[f"confusion_{task}"] = plots.save_figure(fig, out_dir / f"confusion_bertcnn_{task}.png").name
    tables["table4"] = table4(acc, list(sets))
    figures["vs_fraction"] = plots.save_figure(figure_vs_fraction(runs), out_dir / "bertcnn_vs_training_fraction.png").name

    run.update({"data": source, "preprocess": config.to_dict(), "precision": policy, "devices": common.devices(),
                "sizes": sizes,
                "config": {"mode": args.cfg, "full_grid": bool(args.full_grid), "fractions": fractions,
                           "table4_fraction": TABLE4_FRACTION, "split": "stratified on subclass, seed = --seed",
                           "selection": "best mean cross-validated accuracy on the 70% training part",
                           "cnn": "builder's architecture, batch size and learning rate of the chosen BERT-CNN",
                           "optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
                "wall_s": time.perf_counter() - t_start})
    order = [TABLE3_KEYS[t] for t in sets] + ["table4"] + [f"grid_{t}" for t in sets]
    results = {
        "experiment": NAME, "paper": PAPER, "run": run,
        "tables": {k: tables[k] for k in order},
        "metrics": {"table3": {t: {f"{round(100 * f)}%": r["metrics"] for f, r in by.items()} for t, by in runs.items()},
                    "table4": {t: {m: r["metrics"] for m, r in by.items()} for t, by in table4_runs.items()}},
        "timing": {t: {m: {"fit_s": r.get("fit", {}).get("fit_s"), "predict_s": r["predict_s"]}
                       for m, r in by.items()} for t, by in table4_runs.items()},
        "grid_search": searches,
        "histories": {t: {f"{round(100 * f)}%": r["fit"]["history"] for f, r in by.items()} for t, by in runs.items()},
        "figures": figures,
    }
    md = [f"# {PAPER}", "",
          f"Run: `{run['command']}` ({args.mode} mode, seed {args.seed}); data: {_describe(source)}.", ""]
    md += [common.render_table(tables[k], floatfmt=".4g" if k.startswith("grid_") else ".3f") for k in order]
    md += ["### Figures", ""] + [f"* `{name}`" for name in figures.values()] + [""]
    common.write_results(out_dir, results, "\n".join(md))
    common.progress(f"done in {time.perf_counter() - t_start:.1f} s: {out_dir / 'tables.md'}")
    return results


def _describe(source: dict) -> str:
    if source["kind"] == "mock":
        lib = source["library"]
        return (f"mock SDSS spectra ({source['n_per_class']} per subclass in the paper's S/N windows, "
                f"{lib['kind']} {lib['path']}, {lib['n_templates']} templates)")
    return f"{source['n_read']} real spectra from {source['path']} ({source['n_rejected']} rejected)"


if __name__ == "__main__":
    main()
