"""Figures of Grad-CAM maps with the MK lines identified.

Every function returns a :class:`matplotlib.figure.Figure` bound to an Agg
canvas (no pyplot state, never ``plt.show``), safe on headless machines.
Wavelengths are vacuum Å, like the line list in :mod:`specnet.explain.lines`.

>>> import numpy as np
>>> wave = np.linspace(3800, 5200, 700)
>>> flux = 1 - 0.5 * np.exp(-0.5 * ((wave - 4862.7) / 5) ** 2)
>>> cam = np.exp(-0.5 * ((wave - 4862.7) / 30) ** 2)
>>> fig = plot_explanation(wave, flux, cam, title="demo")
>>> "Hβ" in [t.get_text() for t in fig.axes[0].texts]
True
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from specnet.explain.lines import CLASS_FEATURES, MK_CLASSES, Line, get_lines, lines_in

__all__ = ["plot_explanation", "plot_class_means", "mark_lines", "class_letters", "save_figure"]

#: Colour map of the importance (0 = dark, 1 = bright).
CMAP = "plasma"


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _check_1d(name: str, arr, n: int | None = None) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and arr.size != n):
        want = f"({n},)" if n is not None else "1-D"
        raise ValueError(f"{name} must have shape {want}. Received: {name}.shape={arr.shape}")
    return arr


def _select_lines(lines, wmin: float, wmax: float, classes=None) -> list[Line]:
    if lines is None or lines is False:
        return []
    if isinstance(lines, str) and lines == "auto":
        return lines_in(wmin, wmax, classes=classes)
    return sorted((line for line in get_lines(lines) if wmin <= line.wave <= wmax), key=lambda l: l.wave)


def mark_lines(ax, lines: Iterable[Line], merge: float = 0.008, fontsize: float = 7.0,
               color: str = "0.35") -> list:
    """Dotted vertical markers at ``lines`` with their labels above the axes.

    Lines closer than ``merge`` × the x range share one label (``"Ca H/Hε"``).
    Returns the label :class:`~matplotlib.text.Text` artists.
    """
    lines = sorted(lines, key=lambda l: l.wave)
    if not lines:
        return []
    xmin, xmax = ax.get_xlim()
    gap = merge * abs(xmax - xmin)
    groups, current = [], [lines[0]]
    for line in lines[1:]:
        if line.wave - current[-1].wave < gap:
            current.append(line)
        else:
            groups.append(current)
            current = [line]
    groups.append(current)
    texts = []
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for group in groups:
        for line in group:
            ax.axvline(line.wave, color=color, lw=0.7, ls=":", zorder=1)
        labels = list(dict.fromkeys(line.label for line in group))
        x = float(np.mean([line.wave for line in group]))
        texts.append(ax.text(x, 1.01, "/".join(labels), transform=transform, rotation=90,
                             ha="center", va="bottom", fontsize=fontsize, color=color, clip_on=False))
    return texts


def _coloured_curve(ax, wave, flux, cam, cmap=CMAP, lw=1.0):
    """The spectrum as a LineCollection coloured by ``cam`` (segment mean); returns it."""
    pts = np.column_stack([wave, flux])
    seg = np.stack([pts[:-1], pts[1:]], axis=1)
    ok = np.isfinite(seg).all(axis=(1, 2))
    colour = 0.5 * (cam[:-1] + cam[1:])
    lc = LineCollection(seg[ok], cmap=cmap, norm=Normalize(0.0, 1.0), linewidths=lw, zorder=3)
    lc.set_array(colour[ok])
    ax.add_collection(lc)
    good = np.isfinite(flux)
    if good.any():
        lo, hi = np.percentile(flux[good], [0.5, 99.5])
        pad = 0.08 * (hi - lo if hi > lo else max(abs(hi), 1.0))
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(wave[0], wave[-1])
    return lc


def plot_explanation(wave, flux, cam, lines="auto", title: str | None = None, ax=None,
                     cmap: str = CMAP, show_map: bool = True) -> Figure:
    """A spectrum coloured by its Grad-CAM importance, with the MK lines marked.

    Parameters
    ----------
    wave : array (npix,)
        Vacuum wavelength in Å (increasing).
    flux : array (npix,)
        Flux on ``wave`` (any unit; NaN pixels are left out of the curve).
    cam : array (npix,)
        Importance in [0, 1] on ``wave`` (e.g. a row of :func:`specnet.explain.gradcam`).
    lines : "auto", None, or names / Line objects / wavelengths
        ``"auto"`` marks every line of :data:`specnet.explain.lines.LINES` in range.
    title : str, optional
    ax : matplotlib Axes, optional
        Draw into it (its figure is returned); default a new 10×3.6 in figure.
    cmap : str
        Matplotlib colour map of the importance.
    show_map : bool
        Also shade the map itself (bottom third of the panel, right-hand axis 0–1).

    Returns
    -------
    matplotlib.figure.Figure

    Example
    -------
    >>> fig = plot_explanation(wave, flux, maps[0], title="LAMOST 12345: K3")  # doctest: +SKIP
    >>> save_figure(fig, "12345.png")  # doctest: +SKIP
    """
    wave = _check_1d("wave", wave)
    flux = _check_1d("flux", flux, wave.size)
    cam = _check_1d("cam", cam, wave.size)
    if wave.size < 2:
        raise ValueError(f"wave needs at least 2 pixels. Received: wave.size={wave.size}")
    cam = np.clip(np.where(np.isfinite(cam), cam, 0.0), 0.0, 1.0)
    fig, ax = _new_axes(ax, (10, 3.6))
    lc = _coloured_curve(ax, wave, flux, cam, cmap)
    if show_map:
        twin = ax.twinx()
        twin.fill_between(wave, 0.0, cam, color="tab:orange", alpha=0.25, lw=0, zorder=0)
        twin.set_ylim(0.0, 3.0)
        twin.set_yticks([0.0, 0.5, 1.0])
        twin.set_ylabel("importance", fontsize=8, loc="bottom")
        twin.tick_params(labelsize=7)
    fig.colorbar(lc, ax=ax, pad=0.07 if show_map else 0.02, fraction=0.04, label="Grad-CAM")
    mark_lines(ax, _select_lines(lines, wave[0], wave[-1]))
    ax.set_xlabel("vacuum wavelength (Å)")
    ax.set_ylabel("flux")
    if title:
        ax.set_title(title, pad=50, fontsize=10)
    return fig


def class_letters(labels) -> np.ndarray:
    """MK class letter per label: subtype numbers (O0=0 … T9=89) or type strings ("K3V", "dM0").

    Unparseable labels give ``""``.

    >>> class_letters([23.0, "K3V", "QSO"]).tolist()
    ['A', 'K', '']
    """
    from specnet.labels import parse_subtype

    out = []
    for lab in labels:
        value = None
        if isinstance(lab, (int, float, np.integer, np.floating)) and not isinstance(lab, bool):
            value = float(lab)
        else:
            try:
                value = float(parse_subtype(str(lab)))
            except ValueError:
                value = None
        if value is None or not np.isfinite(value) or not 0 <= value < 10 * len(MK_CLASSES):
            out.append("")
        else:
            out.append(MK_CLASSES[int(value // 10)])
    return np.array(out, dtype=object)


def plot_class_means(wave, maps, labels, classes: Sequence[str] = ("A", "F", "G", "K"),
                     fluxes=None, lines="auto", cmap: str = CMAP) -> Figure:
    """Mean Grad-CAM map per MK class, one panel each, as in Wang et al. (2021, Fig. 4).

    Each panel shows the class mean map (±1σ band), shades the regions and marks
    the lines Wang et al. found the ResNet looking at (A: Hβ, Hγ, Hδ; F: Ca II
    H & K and Balmer lines; G: 3800–4400 Å; K: Mg b and 3699–4390 Å; see
    :data:`specnet.explain.lines.CLASS_FEATURES`), plus the other MK lines of
    that class in range. With ``fluxes`` the class mean spectrum is drawn
    coloured by the mean map as well.

    Parameters
    ----------
    wave : array (npix,)
        Vacuum Å.
    maps : array (N, npix)
        Maps in [0, 1].
    labels : sequence (N,)
        Class letters, type strings or subtype numbers (see :func:`class_letters`).
    classes : sequence of str
        Panels to draw, in order; a class with no spectrum gets an empty panel saying so.
    fluxes : array (N, npix), optional
    lines : "auto" or None
        ``"auto"``: the class's lines; ``None``: no line marks.

    Returns
    -------
    matplotlib.figure.Figure

    Example
    -------
    >>> fig = plot_class_means(grid_wave, maps, ["A", "K", "K"], classes=("A", "K"))  # doctest: +SKIP
    """
    wave = _check_1d("wave", wave)
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 2 or maps.shape[1] != wave.size:
        raise ValueError(f"maps must have shape (N, {wave.size}). Received: maps.shape={maps.shape}")
    letters = class_letters(labels) if len(labels) else np.array([], dtype=object)
    if letters.size != maps.shape[0]:
        raise ValueError(f"labels must hold one label per map ({maps.shape[0]}). "
                         f"Received: len(labels)={len(labels)}")
    if fluxes is not None:
        fluxes = np.asarray(fluxes, dtype=np.float64)
        if fluxes.shape != maps.shape:
            raise ValueError(f"fluxes must have the maps' shape {maps.shape}. "
                             f"Received: fluxes.shape={fluxes.shape}")
    classes = tuple(classes)
    if not classes or any(c not in MK_CLASSES for c in classes):
        raise ValueError(f"classes must be MK class letters {MK_CLASSES}. Received: classes={classes!r}")
    fig = Figure(figsize=(10, 2.4 * len(classes) + 0.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(classes), 1, sharex=True, squeeze=False)[:, 0]
    for ax, cls in zip(axes, classes):
        members = letters == cls
        n = int(members.sum())
        names, regions = CLASS_FEATURES.get(cls, ((), ()))
        ax.set_xlim(wave[0], wave[-1])
        for lo, hi in regions:
            ax.axvspan(lo, hi, color="tab:green", alpha=0.08, lw=0)
        if n == 0:
            ax.text(0.5, 0.5, f"no {cls} spectra", transform=ax.transAxes, ha="center", va="center",
                    color="0.4")
            ax.set_yticks([])
        else:
            mean = maps[members].mean(axis=0)
            std = maps[members].std(axis=0)
            target = ax
            if fluxes is not None:
                mflux = np.nanmean(np.where(np.isfinite(fluxes[members]), fluxes[members], np.nan), axis=0)
                _coloured_curve(ax, wave, mflux, np.clip(mean, 0, 1), cmap)
                ax.set_ylabel("mean flux", fontsize=8)
                target = ax.twinx()
                target.set_ylabel("mean map", fontsize=8)
            target.fill_between(wave, np.clip(mean - std, 0, None), np.minimum(mean + std, 1.0),
                                color="tab:orange", alpha=0.25, lw=0)
            target.plot(wave, mean, color="tab:red", lw=1.0)
            target.set_ylim(0.0, 1.05 if fluxes is None else 3.0)
            if fluxes is None:
                ax.set_ylabel("mean map", fontsize=8)
        if lines is not None and lines is not False:
            chosen = _select_lines(names, wave[0], wave[-1]) if names else []
            extra = _select_lines("auto", wave[0], wave[-1], classes=[cls]) if lines == "auto" else \
                _select_lines(lines, wave[0], wave[-1])
            seen = {line.name for line in chosen}
            mark_lines(ax, chosen + [line for line in extra if line.name not in seen])
        key = ", ".join(dict.fromkeys(line.label for line in get_lines(names))) if names else ""
        if regions:
            key += (", " if key else "") + ", ".join(f"{lo:.0f}–{hi:.0f} Å" for lo, hi in regions)
        ax.set_title(f"{cls} stars (n={n})" + (f" — Wang et al. 2021: {key}" if key else ""),
                     fontsize=9, loc="left", pad=50)
    axes[-1].set_xlabel("vacuum wavelength (Å)")
    return fig


def save_figure(fig: Figure, path, dpi: int = 110) -> str:
    """Write ``fig`` (PNG, PDF, SVG… by extension); create the folder; return the path."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
