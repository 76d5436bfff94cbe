"""Recipe for the six SDSS classifier weights: ``bertcnn-sdss-{k,f,g}`` and ``cnn-sdss-{k,f,g}``.

One command, seeded::

    python zoo/recipes/sdss_classifiers.py --output runs/sdss --install

For each of Liu & Wang's (2022) three sets (K: K1/K3/K5/K7, F: F2/F5/F9, G: G0/G2/G5):

1. **Mock SDSS spectra** from *all* usable template libraries in
   ``../shared/data/templates`` (SDSS eigen-templates, Hammer, Pickles, MILES; the
   M/L composites hold none of these subclasses), SDSS profile (3800-9200 Å,
   vacuum, log-λ), min-max normalised with a mask channel. Per subclass, half the
   spectra are drawn in the paper's S/N window (Table 1: K 60-65; F2 50-65, F5
   65-70, F9 75-80; G0 55-65, G2 60-65, G5 40-70) and half from a wider mix
   (log-uniform S/N 10-100), each half split 7:1:2.
2. **BERT-CNN, CNN and SVM trained in the same run** on the same training split:
   the two networks with ``specnet.train.fit`` (the function behind ``specnet-fit``;
   batch 32, lr 1e-3, 256 hidden units, dropout 0.5 as in the paper), the linear SVM
   (:class:`specnet.baselines.SVMClassifier`) with C chosen on the validation split.
3. **Mock test**: accuracy and per-class P/R/F1 on the paper-window test split (the
   number Liu & Wang's Table 4 reports) and on the wide-S/N test split.
4. **Real check**: every real star of the set's letter in ``../shared/data/fixtures``
   (SDSS DR7 spSpec and DR8+ stars, sky fibres excluded; LAMOST DR1-DR10 stars, whose
   3700-9100 Å leaves 9100-9200 Å masked), scored by exact accuracy where the label is
   one of the set's subclasses and by the mean |subtype error| and nearest-class
   accuracy over all of them, next to a minimum-χ² fit to the SDSS eigen-templates of
   the set's subclasses on the same spectra.

``--install`` copies the weights to ``zoo/<name>.weights.h5`` and writes metrics,
provenance and citations into ``zoo/<name>.json``; then record golden outputs
(``python zoo/recipes/golden.py NAME...``) and regenerate the model cards
(``python zoo/recipes/model_cards.py``).
Run time on 2 CPU cores: about 40 minutes with the defaults (20 epochs; ``--quick``: under a
minute). The shipped weights: K with the defaults (``--output runs/sdss``), F and G with
``--tasks f g --epochs 40 --patience 6`` (about 16 minutes per set), because 20 epochs left
the G BERT-CNN at 0.79 with its validation accuracy still rising. Each manifest records
its exact command.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"

#: Liu & Wang (2022), Table 1: the S/N window (SDSS SN_MEDIAN_ALL) of each subclass.
SNR_WINDOWS = {
    "K1": (60.0, 65.0), "K3": (60.0, 65.0), "K5": (60.0, 65.0), "K7": (60.0, 65.0),
    "F2": (50.0, 65.0), "F5": (65.0, 70.0), "F9": (75.0, 80.0),
    "G0": (55.0, 65.0), "G2": (60.0, 65.0), "G5": (40.0, 70.0),
}
#: The wider S/N mix drawn for the other half of each subclass (log-uniform).
WIDE_SNR = (10.0, 100.0)
TASKS = {"k": ("K1", "K3", "K5", "K7"), "f": ("F2", "F5", "F9"), "g": ("G0", "G2", "G5")}
#: Liu & Wang (2022), Table 4: BERT-CNN accuracy, the target on the mock test.
PAPER_ACCURACY = {"k": 0.93, "f": 0.91, "g": 0.92}
LICENCE = "BSD-3-Clause (weights and manifest); training templates keep their own terms, see citations"
TEMPLATE_CITATION = (
    "Training templates (see shared/data/README.md): SDSS spEigenStar templates (SDSS idlspec2d); "
    "Covey et al. 2007, AJ 134, 2398 and Kesseli et al. 2017, ApJS 230, 16 (Hammer templates); "
    "Pickles 1998, PASP 110, 863; Sanchez-Blazquez et al. 2006, MNRAS 371, 703 (MILES)")


# ----------------------------------------------------------------------------- data
def mock_task(lib, classes, n_per_class: int, pre, seed: int):
    """Mock SDSS spectra of ``classes``: ``(x, y, part)``, part 0 = paper S/N window, 1 = wide mix."""
    from specnet.labels import parse_subtype
    from specnet.preprocess import preprocess
    from specnet.simulate import mock_survey

    xs, ys, parts = [], [], []
    for c, cls in enumerate(classes):
        for part, snr in enumerate((SNR_WINDOWS[cls], WIDE_SNR)):
            n = n_per_class // 2 if part == 0 else n_per_class - n_per_class // 2
            spectra, _ = mock_survey(lib, n, profile="sdss", snr=snr, seed=seed + 100 * c + part,
                                     subtype_distribution=[parse_subtype(cls)])
            xs.append(preprocess(spectra, pre)[0].astype(np.float32))
            ys.append(np.full(n, c, np.int64))
            parts.append(np.full(n, part, np.int8))
        print(f"      mock {cls}: {n_per_class} spectra (S/N {SNR_WINDOWS[cls]} and {WIDE_SNR})", flush=True)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(parts)


def split_groups(y, part, seed: int, fractions=(0.7, 0.1, 0.2)):
    """7:1:2 train/val/test indices, drawn separately in every (class, S/N part) group."""
    rng = np.random.default_rng(seed)
    out = ([], [], [])
    for key in np.unique(y * 2 + part):
        idx = rng.permutation(np.flatnonzero(y * 2 + part == key))
        n_tr, n_va = int(round(fractions[0] * len(idx))), int(round(fractions[1] * len(idx)))
        for k, chunk in enumerate((idx[:n_tr], idx[n_tr:n_tr + n_va], idx[n_tr + n_va:])):
            out[k].append(chunk)
    return tuple(np.sort(np.concatenate(o)) for o in out)


def real_stars(fixtures: Path, letter: str):
    """Real stars of spectral class ``letter`` in the fixtures: list of (path, label, survey).

    SDSS sky fibres (S/N < 1, labelled STAR by the pipeline) are left out: their labels mean nothing.
    """
    from specnet.labels import LabelError, parse_subtype
    from specnet.metrics import class_letters

    rows = []
    with open(fixtures / "index.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["obj_class"] != "STAR" or "SKY FIBRE" in row["label_source"]:
                continue
            try:
                st = parse_subtype(row["subclass"])
            except LabelError:
                continue
            if class_letters([st])[0] == letter.upper():
                rows.append((str(fixtures / row["path"]), row["subclass"], row["survey"]))
    return rows


def real_scores(true_labels, pred_idx, classes) -> dict:
    """Exact accuracy (labels among ``classes``), mean |subtype error| and nearest-class accuracy (all)."""
    from specnet.labels import parse_subtype
    from specnet.metrics import classification_metrics

    cls_st = np.array([parse_subtype(c) for c in classes])
    t_st = np.array([parse_subtype(s) for s in true_labels])
    p_st = cls_st[np.asarray(pred_idx)]
    dist = np.abs(t_st[:, None] - cls_st[None, :])
    nearest_ok = dist[np.arange(len(t_st)), np.asarray(pred_idx)] <= dist.min(axis=1) + 1e-9
    base = [str(lbl)[:2] for lbl in true_labels]  # "K5V" -> "K5"
    exact = np.array([b in classes for b in base])
    out = {"n": int(len(t_st)), "mean_abs_subtype_error": float(np.mean(np.abs(p_st - t_st))) if len(t_st) else None,
           "nearest_class_accuracy": float(nearest_ok.mean()) if len(t_st) else None,
           "n_exact": int(exact.sum())}
    if exact.any():
        m = classification_metrics([b for b, e in zip(base, exact) if e], np.asarray(pred_idx)[exact], classes)
        out["exact_accuracy"] = m["accuracy"]
    return out


def score(predict, tests: dict, x_real, real_labels, classes) -> dict:
    """Metrics of ``predict`` (X -> class indices) on each mock test ``{key: (X, y)}`` and on the real stars."""
    from specnet.metrics import classification_metrics

    out = {key: classification_metrics(y, predict(x), classes) for key, (x, y) in tests.items()}
    if x_real is not None:
        pred = predict(x_real)
        out["real"] = real_scores(real_labels, pred, classes)
        out["real_predictions"] = [classes[i] for i in pred]
    return out


def chi2_model(templates: Path, classes, pre):
    """Minimum-χ² fit to the SDSS eigen-templates of ``classes`` (class-index labels)."""
    from specnet.baselines import TemplateChi2
    from specnet.io import read_spectra
    from specnet.preprocess import preprocess

    temps, labels = [], []
    for f in sorted((templates / "sdss_eigenstar").glob("*.fits")):
        for s in read_spectra(f):
            sub = str(s.meta.get("subclass", "")).strip()
            if sub in classes:
                temps.append(s)
                labels.append(classes.index(sub))
    if not temps:
        return None, 0
    return TemplateChi2().fit(preprocess(temps, pre)[0], np.array(labels)), len(temps)


# ----------------------------------------------------------------------------- one task
def run_task(task: str, lib, args, out: Path) -> dict:
    from specnet import zoo
    from specnet.baselines import SVMClassifier
    from specnet.data import AugmentConfig
    from specnet.io import read_spectrum
    from specnet.labels import parse_subtype
    from specnet.preprocess import preprocess
    from specnet.train import fit
    from specnet.zoo.manifest import preprocess_config

    classes = list(TASKS[task])
    names = {"bert_cnn": f"bertcnn-sdss-{task}", "cnn": f"cnn-sdss-{task}"}
    pre = preprocess_config(zoo.info(names["bert_cnn"]))
    print(f"[{task.upper()}] {classes}: {args.n_per_class} mock spectra per subclass", flush=True)
    held = None
    if args.holdout_library:  # an experiment: train without one library, test on mocks from it alone
        held = mock_task(lib.filter(libraries=args.holdout_library), classes, max(2, args.n_per_class // 5), pre,
                         args.seed + 20_000 + 10_000 * "kfg".index(task))
        lib = lib.filter(libraries=[n for n in set(lib.libraries) if n != args.holdout_library])
    x, y, part = mock_task(lib, classes, args.n_per_class, pre, args.seed + 10_000 * "kfg".index(task))
    tr, va, te = split_groups(y, part, args.seed)
    te_win, te_wide = te[part[te] == 0], te[part[te] == 1]

    real = real_stars(Path(args.fixtures), classes[0][0])
    x_real = preprocess([read_spectrum(p) for p, _, _ in real], pre)[0] if real else None
    real_labels = [lbl for _, lbl, _ in real]

    st = np.array([parse_subtype(c) for c in classes])
    near = (lib.subtypes >= st.min() - 2) & (lib.subtypes <= st.max() + 2)
    result = {"classes": classes, "libraries": sorted(set(lib.libraries[near])), "n_mock": int(len(y)),
              "n_train": int(len(tr)), "n_val": int(len(va)), "n_test_window": int(len(te_win)),
              "n_test_wide": int(len(te_wide)), "methods": {},
              "real_set": [{"path": str(Path(p).relative_to(Path(args.fixtures))), "label": lbl, "survey": sv}
                           for p, lbl, sv in real]}
    tests = {"mock_test": (x[te_win], y[te_win]), "mock_test_wide": (x[te_wide], y[te_wide])}
    if held is not None:
        tests["mock_test_heldout_library"] = held[:2]
    aug = AugmentConfig(noise_snr=None, rv_shift_kms=10.0, tilt=0.0, mask_runs=0.1, mask_run_max=0.05,
                        seed=args.seed)
    for arch, name in names.items():
        print(f"[{task.upper()}] {arch}: training on {len(tr)} spectra", flush=True)
        t0 = time.time()
        config = {k: v for k, v in zoo.info(name)["config"].items() if k not in ("input_shape", "num_classes")}
        res = fit(arch, survey="sdss", classes=classes, config=config, train=(x[tr], y[tr]), val=(x[va], y[va]),
                  test=(x[te_win], y[te_win]), epochs=args.epochs, batch_size=32, lr=1e-3, seed=args.seed,
                  patience=args.patience, augment=aug, output=out / name, overwrite=True, name=name, verbose=2)
        zm = zoo.load(res.model_dir)
        entry = {"model_dir": str(res.model_dir), "seconds": round(time.time() - t0),
                 "epochs_run": res.manifest["training"]["epochs_run"],
                 **score(lambda xs: zm.predict_array(xs).argmax(1), tests, x_real, real_labels, classes)}
        result["methods"][arch] = entry
        print(f"      {name}: mock accuracy {entry['mock_test']['accuracy']:.3f} (wide S/N "
              f"{entry['mock_test_wide']['accuracy']:.3f}); real {entry.get('real')}", flush=True)

    print(f"[{task.upper()}] SVM: C from {args.svm_cs} on the validation split", flush=True)
    t0 = time.time()
    n_svm = min(len(tr), args.svm_max_train)
    sub = np.random.default_rng(args.seed).choice(tr, n_svm, replace=False)
    best = None
    for C in args.svm_cs:
        svm = SVMClassifier(C=C).fit(x[sub], y[sub])
        acc = float(np.mean(svm.predict(x[va]) == y[va]))
        print(f"      C={C:g}: val accuracy {acc:.3f}", flush=True)
        if best is None or acc > best[0]:
            best = (acc, C, svm)
    _, C, svm = best
    result["methods"]["svm"] = {"C": C, "n_train": int(n_svm), "seconds": round(time.time() - t0),
                                **score(svm.predict, tests, x_real, real_labels, classes)}

    chi2, n_t = chi2_model(Path(args.templates), classes, pre)
    if chi2 is not None and x_real is not None:
        result["methods"]["chi2_sdss_eigen"] = {
            "n_templates": n_t, **score(lambda xs: chi2.predict(xs).astype(int), {}, x_real, real_labels, classes)}
    acc = {m: v["mock_test"]["accuracy"] for m, v in result["methods"].items() if "mock_test" in v}
    print(f"[{task.upper()}] mock accuracy (paper windows): {acc}; target BERT-CNN >= {PAPER_ACCURACY[task]}",
          flush=True)
    return result


# ----------------------------------------------------------------------------- install
def _metric_summary(m: dict) -> dict:
    keys = ("n", "accuracy", "macro_precision", "macro_recall", "macro_f1", "precision", "recall", "f1",
            "support", "confusion_matrix")
    return {k: m[k] for k in keys if k in m}


def install(task: str, result: dict, args) -> None:
    """Copy both networks' weights into zoo/ and write metrics, provenance and citations."""
    others = {m: {"mock_test_accuracy": v.get("mock_test", {}).get("accuracy"),
                  "mock_test_wide_accuracy": v.get("mock_test_wide", {}).get("accuracy"), "real": v.get("real")}
              for m, v in result["methods"].items()}
    for arch, name in (("bert_cnn", f"bertcnn-sdss-{task}"), ("cnn", f"cnn-sdss-{task}")):
        run = result["methods"][arch]
        model_dir = Path(run["model_dir"])
        trained = json.loads((model_dir / "manifest.json").read_text())
        dst = f"{name}.weights.h5"
        shutil.copyfile(model_dir / trained["weights"]["file"], REPO / "zoo" / dst)
        data = (REPO / "zoo" / dst).read_bytes()
        path = REPO / "zoo" / f"{name}.json"
        entry = json.loads(path.read_text())
        if entry["config"] != trained["config"] or entry["input"] != trained["input"]:
            raise SystemExit(f"{name}: the trained config/input differ from zoo/{name}.json; "
                             f"regenerate the manifest (make_manifests.py) first")
        entry.pop("golden", None)  # stale once the weights change: re-record with golden.py
        entry["weights"] = {"file": dst, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        entry["metrics"] = {
            "mock_test": _metric_summary(run["mock_test"]),
            "mock_test_wide_snr": _metric_summary(run["mock_test_wide"]),
            "real": run.get("real"),
            "real_predictions": [{**r, "predicted": p} for r, p in
                                 zip(result["real_set"], run.get("real_predictions", []))],
            "same_run": others,
            "paper_target_accuracy": PAPER_ACCURACY[task],
        }
        stage = trained["training"]["stages"][-1]
        entry["training"] = {
            "recipe": "python zoo/recipes/sdss_classifiers.py " + " ".join(sys.argv[1:]),
            "seed": args.seed, "seconds": run["seconds"],
            "stages": [{
                "stage": "mock training", "libraries": result["libraries"], "profile": "sdss",
                "n_mock": result["n_mock"], "n_train": result["n_train"], "n_val": result["n_val"],
                "n_test": result["n_test_window"] + result["n_test_wide"],
                "split": "7:1:2 within each (subclass, S/N part)",
                "snr": {"paper_windows (half of each subclass)": {c: list(SNR_WINDOWS[c]) for c in result["classes"]},
                        "wide_mix (other half)": f"log-uniform {WIDE_SNR[0]:g}-{WIDE_SNR[1]:g}"},
                "augmentation": "rv shifts <= 10 km/s, masked blue-end runs (p=0.1, <= 5% of the grid)",
                **{k: stage.get(k) for k in ("epochs_requested", "epochs_run", "batch_size", "lr", "precision",
                                             "commit", "versions")},
            }],
        }
        cites = [c for c in entry.get("citations", []) if not c.startswith("Training templates")]
        entry["citations"] = cites + [TEMPLATE_CITATION]
        entry["licence"] = LICENCE
        entry["params"], entry["flops"] = trained.get("params", entry["params"]), trained.get("flops", entry["flops"])
        path.write_text(json.dumps(entry, indent=2) + "\n")
        print(f"installed {dst} ({len(data)} bytes) and updated zoo/{name}.json")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--templates", default=str(SHARED / "templates"))
    ap.add_argument("--fixtures", default=str(SHARED / "fixtures"))
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--n-per-class", type=int, default=2000, help="mock spectra per subclass (half in its window)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--svm-cs", type=float, nargs="+", default=[0.001, 0.01, 0.1])
    ap.add_argument("--svm-max-train", type=int, default=3000, help="SVM training spectra (a subsample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default="runs/sdss")
    ap.add_argument("--holdout-library", help="experiment (not for --install): train without this template "
                    "library and also test on mock spectra made from it alone, e.g. MILES")
    ap.add_argument("--quick", action="store_true", help="tiny sizes to check the recipe runs")
    ap.add_argument("--install", action="store_true", help="write weights and manifests into zoo/")
    args = ap.parse_args(argv)
    if args.holdout_library and args.install:
        ap.error("--holdout-library is an experiment: the zoo's weights are trained on every library (no --install)")
    if args.quick:
        args.n_per_class, args.epochs, args.svm_cs, args.svm_max_train = 60, 1, [0.01], 200

    from specnet.simulate import TemplateLibrary

    t0 = time.time()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    lib = TemplateLibrary.from_path(args.templates)
    summary = {}
    for task in args.tasks:
        summary[task] = run_task(task, lib, args, out)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"done in {time.time() - t0:.0f} s; summary in {out / 'summary.json'}", flush=True)
    if args.install:
        for task, result in summary.items():
            install(task, result, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
