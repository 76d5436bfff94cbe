"""Model cards: a Markdown page per zoo entry, generated from its manifest.

Metrics are printed as they are in the manifest — mock and real side by side,
including the bad ones — so a card can never disagree with the weights it
describes.

>>> from specnet import zoo
>>> card = model_card(zoo.info("cnn-sdss-k"))
>>> card.splitlines()[0]
'# cnn-sdss-k'
"""
from __future__ import annotations

from specnet.report import markdown_table

#: How the metric blocks of a manifest are titled in a card, in this order.
METRIC_BLOCKS = {
    "mock_test": "Mock test split (simulated spectra, same simulator as training)",
    "real_mock_only": "Real LAMOST spectra, model trained on mock spectra only",
    "real_finetuned_kfold": "Real LAMOST spectra, fine-tuned, k-fold held out (never seen in fine-tuning)",
    "real_chi2_sdss_eigen": "Real LAMOST spectra, minimum-chi2 fit to the SDSS eigen-templates (baseline)",
    "mock_test_wide_snr": "Mock test split, wide S/N mix",
    "real": "Real stars of this spectral class (SDSS and LAMOST fixtures; never trained on)",
    "test": "Test split",
}
CLASSIFICATION_COLUMNS = {"n": "N", "accuracy": "accuracy", "macro_f1": "macro F1",
                          "nearest_class_accuracy": "nearest-class acc.",
                          "mean_abs_subtype_error": "mean |Δ subtype|"}
#: Method keys of a classifier's ``metrics["same_run"]`` and how a card names them.
METHOD_NAMES = {"bert_cnn": "BERT-CNN", "cnn": "CNN", "svm": "SVM (linear)",
                "chi2_sdss_eigen": "min-χ² to SDSS eigen-templates"}
REGRESSION_COLUMNS = {"n": "N", "mae": "MAE", "std": "Std", "bias": "bias", "max_abs_error": "max |err|",
                      "within_0.5": "≤0.5", "within_1": "≤1", "within_2": "≤2"}


def _metrics_table(metrics: dict, task: str) -> str:
    rows = []
    for key, block in metrics.items():
        if not isinstance(block, dict):
            continue
        title = METRIC_BLOCKS.get(key, key)
        if task == "regression":
            rows.append({"set": title, **{k: block.get(k) for k in REGRESSION_COLUMNS}})
        elif key != "same_run":
            row = {"set": title, **{k: block.get(k) for k in CLASSIFICATION_COLUMNS}}
            if "exact_accuracy" in block:  # a real set: accuracy over the n_exact labelled with one of the classes
                row["accuracy"] = block["exact_accuracy"]
                row["set"] = f"{title}; accuracy on the {block.get('n_exact')} labelled with one of the classes"
            rows.append(row)
    if not rows:
        return "_No metrics yet: this entry is not trained._"
    columns = {"set": "data", **(REGRESSION_COLUMNS if task == "regression" else CLASSIFICATION_COLUMNS)}
    return markdown_table(rows, columns, floatfmt=".2f")


def _per_class_lines(metrics: dict) -> list[str]:
    """Per-class precision, recall and F1 of a classifier's mock test (as Liu & Wang's Table 3)."""
    block = metrics.get("mock_test")
    if not (isinstance(block, dict) and isinstance(block.get("precision"), dict)):
        return []
    rows = [{"class": c, "precision": block["precision"][c], "recall": block["recall"].get(c),
             "f1": block["f1"].get(c), "support": block.get("support", {}).get(c)} for c in block["precision"]]
    return ["Per class, on the mock test split:", "",
            markdown_table(rows, {"class": "class", "precision": "precision", "recall": "recall", "f1": "F1",
                                  "support": "N"}, floatfmt=".2f"), ""]


def _same_run_lines(metrics: dict) -> list[str]:
    """A classifier's comparison with the baselines trained in the same run, and its real predictions."""
    lines = _per_class_lines(metrics)
    same = metrics.get("same_run")
    if isinstance(same, dict) and same:
        rows = []
        for key, m in same.items():
            real = m.get("real") or {}
            rows.append({"method": METHOD_NAMES.get(key, key), "mock": m.get("mock_test_accuracy"),
                         "wide": m.get("mock_test_wide_accuracy"), "exact": real.get("exact_accuracy"),
                         "nearest": real.get("nearest_class_accuracy"), "dsub": real.get("mean_abs_subtype_error")})
        target = metrics.get("paper_target_accuracy")
        paper = f"Liu & Wang's Table 4 reports BERT-CNN accuracy {target} on real DR10 spectra." if target else ""
        lines += ["## Against the baselines trained in the same run", "",
                  "Same mock training split for every method; the χ² fit has no training. " + paper,
                  "", markdown_table(rows, {"method": "method", "mock": "mock acc. (paper S/N)",
                                            "wide": "mock acc. (wide S/N)", "exact": "real acc.",
                                            "nearest": "real nearest-class acc.", "dsub": "real mean |Δ subtype|"},
                                     floatfmt=".2f"), ""]
    preds = metrics.get("real_predictions")
    if isinstance(preds, list) and preds:
        lines += ["## Real spectra, one by one", "",
                  markdown_table(preds, {"path": "file (shared/data/fixtures)", "survey": "survey",
                                         "label": "survey label", "predicted": "predicted"}), ""]
    return lines


def model_card(manifest: dict) -> str:
    """The Markdown model card of a manifest (a zoo entry or a saved model folder's)."""
    m = manifest
    inp, grid = m["input"], m["input"]["grid"]
    lo, hi = 10 ** grid["log_start"], 10 ** (grid["log_start"] + grid["log_step"] * (grid["npix"] - 1))
    labels = m["labels"]
    label_text = (", ".join(labels["classes"]) if "classes" in labels
                  else f"subtype on {labels.get('scale', 'O0=0 ... M9=69')}, {labels.get('min')}–{labels.get('max')}")
    w = m.get("weights")
    lines = [f"# {m['name']}", "", m.get("description", ""), "",
             "| | |", "|---|---|",
             f"| architecture | `{m['architecture']}` ({m['task']}) |",
             f"| input | {inp.get('survey')}: {grid['npix']} px, {lo:.0f}–{hi:.0f} Å {grid['medium']}, "
             f"log-λ step {grid['log_step']}, normalisation `{inp['normalisation']}`"
             f"{', mask channel' if inp.get('mask_channel') else ''}, "
             f"{'rest frame' if inp.get('rest_frame') else 'observed frame'} |",
             f"| labels | {label_text} |",
             f"| parameters | {m.get('params', '?'):,} |" if isinstance(m.get("params"), int) else "| parameters | ? |",
             f"| FLOPs / spectrum | {m.get('flops', 0) / 1e6:.1f} M |",
             f"| weights | {'`' + w['file'] + '`, ' + str(round(w['size'] / 1e6, 2)) + ' MB, sha256 `' + w['sha256'][:16] + '…`' if w else 'not trained yet'} |",
             f"| licence | {m.get('licence', '?')} |", "",
             "## Metrics", "", "Reported as they came out, mock and real side by side.", "",
             _metrics_table(m.get("metrics") or {}, m["task"]), ""]
    lines += _same_run_lines(m.get("metrics") or {})
    training = m.get("training") or {}
    if training:
        lines += ["## Training", ""]
        if training.get("recipe"):
            lines += [f"Recipe: `{training['recipe']}`", ""]
        for stage in training.get("stages", []):
            desc = ", ".join(f"{k}: {v}" for k, v in stage.items() if k not in ("versions",))
            lines.append(f"- {desc}")
        lines.append("")
    cites = m.get("citations") or []
    if cites:
        lines += ["## Citations", ""] + [f"- {c}" for c in cites] + [""]
    return "\n".join(lines)
