"""Report figures: learning curves, predicted vs label subtype, error histograms, confusion matrices.

Every function returns a :class:`matplotlib.figure.Figure` bound to an Agg canvas
(no pyplot state, no ``plt.show``), so they are safe on headless machines and in
threads. Write them with :func:`save_figure`. Subtype axes use the scale O0=0,
B0=10, A0=20, F0=30, G0=40, K0=50, M0=60 … M9=69, L0=70 … T9=89 and are ticked
with MK names.

>>> fig = plot_pred_vs_true([40, 45, 50, 55, 60, 65], [41, 45, 49, 56, 60, 64])
>>> [t.get_text() for t in fig.axes[0].get_xticklabels()][:2]
['G0', 'G5']
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MultipleLocator

from specnet.labels import CLASSES
from specnet.metrics import _paired_floats, regression_metrics, second_order_fit

__all__ = [
    "mk_ticks",
    "plot_learning_curves",
    "plot_pred_vs_true",
    "plot_error_histogram",
    "plot_confusion_matrix",
    "save_figure",
]

#: Default resolution of :func:`save_figure` (dots per inch).
DEFAULT_DPI = 150
_SCALE_MAX = 10 * len(CLASSES) - 1  # T9 = 89


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def mk_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick positions and MK names (``"K5"``) covering the subtype range ``[lo, hi]``.

    The step is 10 subtypes (O0, B0, A0 …) for spans of 30 or more, 5 for spans of
    10–30 and 1 below that; positions outside O0–T9 are dropped.

    >>> mk_ticks(48, 61)
    ([50, 55, 60], ['K0', 'K5', 'M0'])
    """
    if not (np.isfinite(lo) and np.isfinite(hi) and hi >= lo):
        raise ValueError(f"lo and hi must be finite with hi >= lo. Received: lo={lo}, hi={hi}")
    span = hi - lo
    step = 10 if span >= 30 else 5 if span >= 10 else 1
    first = int(np.ceil(max(lo, 0) / step) * step)
    pos = [p for p in range(first, int(np.floor(min(hi, _SCALE_MAX))) + 1, step)]
    return pos, [f"{CLASSES[p // 10]}{p % 10}" for p in pos]


def _set_mk_axis(axis, lo: float, hi: float) -> None:
    pos, names = mk_ticks(lo, hi)
    axis.set_major_locator(FixedLocator(pos))
    axis.set_ticklabels(names)
    if hi - lo <= 80:
        axis.set_minor_locator(MultipleLocator(1 if hi - lo <= 40 else 5))


# ----------------------------------------------------------------------------- learning curves
def plot_learning_curves(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Training curves from a Keras ``History.history`` dict, one panel per quantity.

    Each key ``k`` is drawn with its ``val_k`` partner (solid = training, dashed =
    validation); keys such as ``learning_rate`` get their own panel. Loss and
    learning-rate panels use a log y axis when all values are positive.

    >>> fig = plot_learning_curves({"loss": [2.0, 1.0, 0.6], "val_loss": [2.2, 1.3, 0.9]})
    >>> fig.axes[0].get_yscale()
    'log'
    """
    if not isinstance(history, Mapping) or not history:
        raise ValueError(f"history must be a non-empty dict of lists. Received: history={history!r:.80}")
    curves = {}
    for key, values in history.items():
        arr = np.asarray(values, dtype=np.float64).ravel()
        if arr.size == 0:
            raise ValueError(f"history entries must not be empty. Received: len(history[{key!r}])=0")
        curves[str(key)] = arr
    bases = []
    for key in curves:
        base = key[4:] if key.startswith("val_") else key
        if base not in bases:
            bases.append(base)
    ncol = min(len(bases), 3)
    nrow = int(np.ceil(len(bases) / ncol))
    fig = _new_figure((4.2 * ncol, 3.2 * nrow))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, base in zip(axes, bases):
        for key, style, label in ((base, "-", "training"), ("val_" + base, "--", "validation")):
            if key in curves:
                y = curves[key]
                ax.plot(np.arange(1, y.size + 1), y, style, marker="o" if y.size < 30 else None, ms=3, label=label)
        values = np.concatenate([curves[k] for k in (base, "val_" + base) if k in curves])
        finite = values[np.isfinite(values)]
        if ("loss" in base or base in ("lr", "learning_rate")) and finite.size and (finite > 0).all():
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(base)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[len(bases):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- predicted vs label
def plot_pred_vs_true(y_true, y_pred, title: str | None = None, level: float = 0.95,
                      nan_policy: str = "raise", label_name: str = "label",
                      pred_name: str = "predicted") -> Figure:
    """Predicted vs label subtype (Wang et al. 2021, Fig. 2).

    Points, the 1:1 line, the second-order fit and its ``level`` prediction band
    (:func:`specnet.metrics.second_order_fit`), with MAE/Std/N in a corner. Both
    axes share limits and are ticked with MK names (O0, B0, … or K0, K5, … for
    narrow ranges).

    >>> fig = plot_pred_vs_true([20, 30, 40, 50, 60], [21, 29, 41, 50, 59])
    >>> "A0" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    True
    """
    t, p, _ = _paired_floats(y_true, y_pred, nan_policy)
    m = regression_metrics(t, p)
    lo = float(min(t.min(), p.min()))
    hi = float(max(t.max(), p.max()))
    pad = max(1.0, 0.04 * (hi - lo))
    lo, hi = lo - pad, hi + pad
    fig = _new_figure((5.6, 5.4))
    ax = fig.subplots()
    alpha = float(np.clip(30.0 / np.sqrt(t.size), 0.08, 0.8))
    ax.scatter(t, p, s=8 if t.size < 2000 else 3, alpha=alpha, color="C0", edgecolors="none",
               rasterized=t.size > 5000, label=f"spectra (N={t.size})")
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", label="1:1")
    if t.size >= 4 and np.unique(t).size >= 3:
        _, band = second_order_fit(t, p, x=np.linspace(t.min(), t.max(), 200), level=level)
        ax.plot(band.x, band.fit, color="C3", lw=1.5, label="second-order fit")
        ax.fill_between(band.x, band.lower, band.upper, color="C3", alpha=0.18, lw=0,
                        label=f"{100 * level:g}% prediction band")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    _set_mk_axis(ax.xaxis, lo, hi)
    _set_mk_axis(ax.yaxis, lo, hi)
    ax.set_xlabel(f"{label_name} subtype")
    ax.set_ylabel(f"{pred_name} subtype")
    ax.grid(alpha=0.25)
    ax.text(0.97, 0.03, f"MAE = {m['mae']:.2f}\nStd = {m['std']:.2f}\nbias = {m['bias']:+.2f}",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=9,
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- error histogram
def _nice_step(raw: float) -> float:
    for step in (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0):
        if step >= raw:
            return step
    return float(np.ceil(raw / 10) * 10)


def plot_error_histogram(errors_by_method: Mapping[str, Sequence[float]], title: str | None = None,
                         limit: float | None = None, step: float | None = None) -> Figure:
    """Overlaid distributions of signed errors (predicted − label, subtypes) of several methods.

    As Wang et al. (2021, Fig. 3). All methods share bins centred on 0 of width
    ``step`` over ``[-limit, limit]``; by default ``limit`` is the largest 99.5th
    percentile of |error| (at least 1) and ``step`` a round number giving ~40 bins.
    Errors beyond ``±limit`` are counted in the end bins. The y axis is the
    fraction of each method's spectra; the legend gives N, MAE and Std.
    Non-finite errors are dropped.

    >>> fig = plot_error_histogram({"ResNet": [0.1, -0.4, 0.9], "SVM": [1.5, -2.0, 0.3]})
    >>> [t.get_text().split()[0] for t in fig.axes[0].get_legend().get_texts()]
    ['ResNet', 'SVM']
    """
    if not isinstance(errors_by_method, Mapping) or not errors_by_method:
        raise ValueError(f"errors_by_method must be a non-empty dict name -> errors. "
                         f"Received: errors_by_method={errors_by_method!r:.80}")
    errors = {}
    for name, values in errors_by_method.items():
        e = np.asarray(values, dtype=np.float64).ravel()
        e = e[np.isfinite(e)]
        if e.size == 0:
            raise ValueError(f"each method needs at least one finite error. Received: {name!r} with 0 finite values")
        errors[str(name)] = e
    if limit is None:
        limit = max(1.0, max(float(np.percentile(np.abs(e), 99.5)) for e in errors.values()))
    if not (np.isfinite(limit) and limit > 0):
        raise ValueError(f"limit must be a positive number. Received: limit={limit}")
    step = _nice_step(2 * limit / 40) if step is None else float(step)
    if not (np.isfinite(step) and 0 < step <= limit):
        raise ValueError(f"step must be in (0, limit]. Received: step={step}, limit={limit}")
    half = (np.ceil(limit / step - 0.5) + 0.5) * step
    edges = np.arange(-half, half + step / 2, step)
    fig = _new_figure((6.0, 4.2))
    ax = fig.subplots()
    for i, (name, e) in enumerate(errors.items()):
        clipped = np.clip(e, edges[0] + step / 2, edges[-1] - step / 2)
        a = np.abs(e)
        mae = a.mean()
        std = np.sqrt(np.mean((a - mae) ** 2))
        ax.hist(clipped, bins=edges, weights=np.full(e.size, 1.0 / e.size), histtype="step", lw=1.6,
                color=f"C{i % 10}", label=f"{name} (N={e.size}, MAE={mae:.2f}, Std={std:.2f})")
    ax.axvline(0, color="0.4", lw=0.8, ls=":")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("predicted − label (subtypes)")
    ax.set_ylabel("fraction of spectra")
    ax.grid(alpha=0.25)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(cm, classes: Sequence, normalise: bool = True, title: str | None = None) -> Figure:
    """A confusion matrix (rows = true class, columns = predicted) with counts in each cell.

    With ``normalise=True`` colours show each row divided by its total (the
    per-class recall on the diagonal) and cells read ``count`` over ``percent``;
    otherwise colours show counts.

    >>> fig = plot_confusion_matrix([[5, 1], [2, 7]], ["K1", "K3"])
    >>> sorted(t.get_text() for t in fig.axes[0].texts)[:2]
    ['1\\n17%', '2\\n22%']
    """
    m = np.asarray(cm, dtype=np.float64)
    names = [str(c) for c in classes]
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(names):
        raise ValueError(f"cm must be square with one row per class. "
                         f"Received: cm.shape={m.shape}, len(classes)={len(names)}")
    if not np.isfinite(m).all() or (m < 0).any():
        raise ValueError("cm must hold finite non-negative counts. Received: negative or non-finite entries")
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    shown = frac if normalise else m
    k = len(names)
    size = float(np.clip(0.55 * k + 2.2, 3.6, 12.0))
    fig = _new_figure((size + 0.8, size))
    ax = fig.subplots()
    vmax = 1.0 if normalise else max(float(m.max()), 1.0)
    im = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax)
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of true class" if normalise else "count")
    fontsize = float(np.clip(11 - 0.25 * k, 5, 10))
    for (i, j), count in np.ndenumerate(m):
        text = f"{count:g}" + (f"\n{100 * frac[i, j]:.0f}%" if normalise else "")
        ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                color="white" if shown[i, j] > 0.6 * vmax else "black")
    ax.set_xticks(np.arange(k), labels=names, rotation=45 if k > 8 else 0)
    ax.set_yticks(np.arange(k), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- saving
def save_figure(fig: Figure, path, dpi: int = DEFAULT_DPI) -> Path:
    """Write ``fig`` to ``path`` (PNG unless the suffix names another format) and return the path.

    Parent folders are created; a path without suffix gets ``.png``.

    >>> import tempfile, os
    >>> out = save_figure(plot_confusion_matrix([[1]], ["K1"]), os.path.join(tempfile.mkdtemp(), "cm"))
    >>> out.suffix, out.stat().st_size > 1000
    ('.png', True)
    """
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure. Received: fig={type(fig).__name__}")
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path
