"""Evaluation reports: ``report.json`` (all metrics), ``report.md`` (tables + figure links) and PNGs.

:func:`write_report` is what training, evaluation and the example scripts call
after predicting a test set; :func:`markdown_table` lays out any list of rows
(e.g. the papers' method-comparison tables) as a GitHub-flavoured Markdown table.

>>> print(markdown_table([{"method": "ResNet", "mae": 1.1234}], ["method", "mae"]))
| method |   mae |
|:-------|------:|
| ResNet | 1.123 |
"""
from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from specnet.metrics import (
    WITHIN_THRESHOLDS,
    classification_metrics,
    per_class_regression,
    regression_metrics,
    second_order_fit,
)

__all__ = ["write_report", "markdown_table", "REPORT_JSON", "REPORT_MD"]

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
_TASKS = ("regression", "classification")
_WITHIN = [f"within_{t:g}" for t in WITHIN_THRESHOLDS]
_REGRESSION_COLUMNS = ["n", "mae", "std", "bias", "rmse", "median_abs_error", "max_abs_error", *_WITHIN]


# ----------------------------------------------------------------------------- markdown
def _cell(value, floatfmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        return "nan" if math.isnan(v) else format(v, floatfmt)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping], columns, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (dicts) in the order of ``columns``.

    ``columns`` is a sequence of keys, of ``(key, header)`` pairs, or a dict
    ``key -> header``. Floats use ``floatfmt``; integers are printed whole; a key
    missing from a row (or ``None``) gives an empty cell; ``|`` in text is escaped.
    Numeric columns are right-aligned, others left-aligned; cells are padded so
    the raw text reads as a table too.

    >>> print(markdown_table([{"class": "K", "n": 3, "mae": 0.5}], {"class": "Class", "n": "N", "mae": "MAE"}))
    | Class |   N |   MAE |
    |:------|----:|------:|
    | K     |   3 | 0.500 |
    """
    if isinstance(columns, Mapping):
        spec = [(k, _cell(str(h), floatfmt)) for k, h in columns.items()]
    elif isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence) or not columns:
        raise ValueError(f"columns must be a non-empty sequence of keys or (key, header) pairs, or a dict. "
                         f"Received: columns={columns!r}")
    else:
        spec = [(c[0], str(c[1])) if isinstance(c, tuple) and len(c) == 2 else (c, str(c)) for c in columns]
        spec = [(k, _cell(h, floatfmt)) for k, h in spec]  # headers escape "|" like cells
    if isinstance(rows, Mapping) or not all(isinstance(r, Mapping) for r in rows):
        raise ValueError(f"rows must be a list of dicts. Received: rows={rows!r:.80}")
    cells = [[_cell(row.get(key), floatfmt) for key, _ in spec] for row in rows]
    numeric = []
    for j, (key, _) in enumerate(spec):
        values = [row.get(key) for row in rows if row.get(key) is not None]
        numeric.append(bool(values) and all(isinstance(v, numbers.Number) for v in values))
    widths = [max([len(h), 3] + [len(r[j]) for r in cells]) for j, (_, h) in enumerate(spec)]

    def line(items):
        return "| " + " | ".join(s.rjust(w) if num else s.ljust(w)
                                 for s, w, num in zip(items, widths, numeric)) + " |"

    rule = "|" + "|".join((("-" * (w + 1)) + ":") if num else (":" + "-" * (w + 1))
                          for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line([h for _, h in spec]), rule, *(line(r) for r in cells)])


# ----------------------------------------------------------------------------- JSON
def _jsonable(obj):
    """Plain-JSON copy of ``obj``: numpy scalars/arrays to Python, NaN/inf to None, keys to str."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        v = float(obj)
        return v if math.isfinite(v) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    raise ValueError(f"report values must be JSON-serialisable. Received: {type(obj).__name__} {obj!r:.60}")


# ----------------------------------------------------------------------------- report
def _regression_section(metrics: dict) -> list[str]:
    overall = metrics["overall"]
    lines = ["## Metrics", "",
             "Errors are predicted − label on the subtype scale (O0=0, B0=10, … M0=60, M9=69). "
             "Std is Wang et al.'s scatter of |error| about the MAE, sqrt(mean((|e| − MAE)²)).", "",
             markdown_table([{"metric": k, "value": overall[k]} for k in ["n", "n_omitted", *_REGRESSION_COLUMNS[1:]]],
                            ["metric", "value"]), ""]
    if metrics["per_class"]:
        rows = [{"class": c, **m} for c, m in metrics["per_class"].items()]
        lines += ["## Per spectral class (of the label)", "",
                  markdown_table(rows, ["class", *_REGRESSION_COLUMNS]), ""]
    fit = metrics.get("second_order_fit")
    if fit:
        a, b, c = fit["coeffs"]
        lines += [f"Second-order fit: predicted = {a:.4g}·x² + {b:.4g}·x + {c:.4g} "
                  f"(residual σ = {fit['sigma']:.3f}, {100 * fit['level']:g}% prediction band in the figure).", ""]
    return lines


def _classification_section(metrics: dict) -> list[str]:
    o = metrics["overall"]
    keys = ["n", "n_omitted", "accuracy", "macro_precision", "macro_recall", "macro_f1",
            "weighted_precision", "weighted_recall", "weighted_f1"]
    rows = [{"class": c, "precision": o["precision"][c], "recall": o["recall"][c], "f1": o["f1"][c],
             "support": o["support"][c]} for c in o["classes"]]
    cm_rows = [{"true \\ predicted": c, **dict(zip(o["classes"], r))} for c, r in zip(o["classes"], o["confusion_matrix"])]
    return ["## Metrics", "", markdown_table([{"metric": k, "value": o[k]} for k in keys], ["metric", "value"]), "",
            "## Per class", "", markdown_table(rows, ["class", "precision", "recall", "f1", "support"]), "",
            "## Confusion matrix (rows = true class)", "",
            markdown_table(cm_rows, ["true \\ predicted", *o["classes"]]), ""]


def write_report(output_dir, task: str, y_true, y_pred, history: Mapping | None = None,
                 classes: Sequence | None = None, extra: Mapping | None = None,
                 title: str = "specnet evaluation report", nan_policy: str = "raise",
                 dpi: int = 150) -> dict:
    """Compute all metrics of ``task`` and write ``report.json``, ``report.md`` and figures.

    Regression (subtype scale O0=0 … M9=69): overall and per-class metrics
    (:func:`specnet.metrics.regression_metrics`, :func:`~specnet.metrics.per_class_regression`),
    the second-order fit, and ``pred_vs_true.png`` + ``error_hist.png``.
    Classification (``classes`` required): :func:`specnet.metrics.classification_metrics`
    and ``confusion_matrix.png``. With ``history`` (a Keras ``History.history``)
    also ``learning_curves.png``. ``extra`` (e.g. model name, epochs, timing) is
    stored under ``"extra"``. NaN/inf in the output become ``null``.

    Returns
    -------
    dict
        Exactly what ``report.json`` holds: ``title``, ``task``, ``overall``,
        ``per_class`` (regression), ``second_order_fit`` (regression), ``figures``
        (file names) and ``extra``.

    >>> import tempfile
    >>> m = write_report(tempfile.mkdtemp(), "regression", [40, 45, 50, 55], [41, 45, 49, 56])
    >>> m["overall"]["mae"], m["figures"]
    (0.75, ['pred_vs_true.png', 'error_hist.png'])
    """
    from specnet import plots

    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}. Received: task={task!r}")
    if extra is not None and not isinstance(extra, Mapping):
        raise ValueError(f"extra must be a dict or None. Received: extra={type(extra).__name__}")
    if history is not None and not isinstance(history, Mapping):
        raise ValueError(f"history must be a dict of lists (History.history) or None. "
                         f"Received: history={type(history).__name__}")
    extra_clean = _jsonable(dict(extra or {}))  # fail before writing anything
    out_dir = Path(output_dir)
    figures: dict[str, object] = {}
    report: dict = {"title": str(title), "task": task}
    if task == "regression":
        report["overall"] = regression_metrics(y_true, y_pred, nan_policy=nan_policy)
        report["per_class"] = per_class_regression(y_true, y_pred, nan_policy=nan_policy)
        t = np.asarray(y_true, dtype=np.float64)
        p = np.asarray(y_pred, dtype=np.float64)
        keep = np.isfinite(t) & np.isfinite(p)
        if keep.sum() >= 4 and np.unique(t[keep]).size >= 3:
            coeffs, band = second_order_fit(t[keep], p[keep])
            report["second_order_fit"] = {"coeffs": coeffs.tolist(), "sigma": band.sigma, "level": band.level}
        figures["pred_vs_true.png"] = plots.plot_pred_vs_true(y_true, y_pred, title=title, nan_policy=nan_policy)
        figures["error_hist.png"] = plots.plot_error_histogram({"model": p[keep] - t[keep]}, title=title)
    else:
        if classes is None:
            raise ValueError("classification reports need classes=[...]. Received: classes=None")
        report["overall"] = classification_metrics(y_true, y_pred, classes, nan_policy=nan_policy)
        figures["confusion_matrix.png"] = plots.plot_confusion_matrix(
            report["overall"]["confusion_matrix"], report["overall"]["classes"], title=title)
    if history:
        figures["learning_curves.png"] = plots.plot_learning_curves(history, title=title)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, fig in figures.items():
        plots.save_figure(fig, out_dir / name, dpi=dpi)
    report["figures"] = list(figures)
    report["extra"] = extra_clean
    report = _jsonable(report)

    md = [f"# {title}", "", f"Task: **{task}**", ""]
    md += _regression_section(report) if task == "regression" else _classification_section(report)
    if report["extra"]:
        md += ["## Extra", "", markdown_table([{"key": k, "value": v if not isinstance(v, (dict, list))
                                                 else json.dumps(v)} for k, v in report["extra"].items()],
                                                ["key", "value"]), ""]
    md += ["## Figures", ""] + [f"![{Path(n).stem.replace('_', ' ')}]({n})" for n in report["figures"]] + [""]
    (out_dir / REPORT_MD).write_text("\n".join(md), encoding="utf-8")
    (out_dir / REPORT_JSON).write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return report
