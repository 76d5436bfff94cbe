"""``explain_files``: Grad-CAM figures and numbers for a list of spectrum files (the CLI's logic).

One PNG per readable spectrum, the maps as numbers (``maps.npz`` and
``maps.csv``), one mean-map figure per MK class, and ``rejects.csv`` for every
file that could not be read or preprocessed (with the reason): a bad file never
stops the job.

>>> from specnet.explain.batch import explain_files
>>> explain_files("resnet-lamost", ["a.fits", "b.fits"], "explain_out")  # doctest: +SKIP
{'explained': 2, 'rejected': 0, ...}
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from specnet.errors import SpectrumFormatError

__all__ = ["explain_files"]

_SUFFIXES = re.compile(r"(\.fits|\.fit|\.fts)?(\.gz|\.bz2)?$", re.IGNORECASE)


def _stem(path: str, taken: set) -> str:
    base = _SUFFIXES.sub("", os.path.basename(str(path))) or "spectrum"
    base = re.sub(r"[^A-Za-z0-9._+-]", "_", base)
    stem, k = base, 1
    while stem in taken:
        stem, k = f"{base}_{k}", k + 1
    taken.add(stem)
    return stem


def _load_model(model_or_zoo: Any):
    from specnet.explain.gradcam import _is_keras_model, _is_zoo_model

    if isinstance(model_or_zoo, (str, os.PathLike)):
        from specnet import zoo

        return zoo.load(model_or_zoo)
    if _is_zoo_model(model_or_zoo):
        return model_or_zoo
    if _is_keras_model(model_or_zoo):
        raise ValueError("explain_files needs a ZooModel (or a zoo name / model directory): its manifest "
                         "says how to preprocess the files. Received: a bare keras.Model")
    raise ValueError(f"model_or_zoo must be a ZooModel, a zoo name or a model directory. "
                     f"Received: model_or_zoo={model_or_zoo!r}")


def _read(path: str, config):
    """(X (npix, C), bad-pixel mask (npix,), Spectrum) for one file; raises on a bad file."""
    from specnet.io import read_spectrum
    from specnet.preprocess import preprocess

    spec = read_spectrum(path)
    X, mask = preprocess([spec], config)
    if not np.all(np.isfinite(X)):
        raise SpectrumFormatError(f"{path}: preprocessing produced non-finite values")
    if mask.all():
        raise SpectrumFormatError(f"{path}: no good pixel on the model grid "
                                  f"({config.grid.wave[0]:.0f}-{config.grid.wave[-1]:.0f} Å)")
    return X[0], mask[0], spec


def explain_files(model_or_zoo: Any, paths: Iterable[str | os.PathLike], output_dir: str | os.PathLike,
                  method: str = "gradcam", classes: Sequence[str] = ("A", "F", "G", "K"), *,
                  target: Any = None, layer: str | None = None, batch_size: int = 16,
                  dpi: int = 100, progress: bool = False) -> dict:
    """Explain every file in ``paths`` with ``model_or_zoo``; write figures and numbers to ``output_dir``.

    Parameters
    ----------
    model_or_zoo : ZooModel, zoo name or model directory
        Preprocessing comes from its manifest.
    paths : iterable of paths
        Spectrum files any :mod:`specnet.io` layout reads (LAMOST, SDSS, ...).
    output_dir : path
        Created if needed. Written there:

        * ``<file stem>.png`` — the spectrum on the model grid (vacuum Å, rest frame
          as preprocessed) coloured by its map, MK lines marked;
        * ``maps.npz`` — ``wave`` (npix,), ``maps`` (N, npix) float32 in [0, 1],
          ``paths``, ``ids``, ``predicted`` (label), ``subtype`` (O0=0 … M9=69),
          ``explained`` (the class or quantity explained), ``method``, ``layer``;
        * ``maps.csv`` — one row per spectrum: ``path,id,predicted,subtype,explained``
          then one column per grid wavelength (``w3699.99`` …);
        * ``class_mean_<C>.png`` for each class of ``classes`` with at least one
          spectrum (by predicted type), and ``class_means.png`` with all panels;
        * ``rejects.csv`` — ``path,reason`` for each file that failed (always written).
    method : {"gradcam", "gradcam++", "scorecam", "layercam", "hirescam"}
    classes : sequence of str
        MK classes for the mean-map figures (Wang et al. 2021 show A, F, G, K).
    target, layer
        As in :func:`specnet.explain.gradcam`.
    batch_size : int
        Spectra per explanation call.
    dpi : int
        Resolution of the PNGs.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    dict
        ``explained``, ``rejected`` (counts), ``output_dir``, ``pngs`` (list),
        ``maps_npz``, ``maps_csv``, ``rejects_csv``, ``class_means`` ({class: png}),
        ``overview`` (png or None).
    """
    from specnet.explain.gradcam import METHODS, explain_arrays
    from specnet.explain.graph import conv_layer_name
    from specnet.explain.plots import class_letters, plot_class_means, plot_explanation, save_figure
    from specnet.labels import format_subtype, parse_subtype

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [str(p) for p in paths]
    zm = _load_model(model_or_zoo)
    config = zm.preprocess_config
    wave = np.asarray(config.grid.wave, dtype=np.float64)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    from tqdm.auto import tqdm

    rejects: list[tuple[str, str]] = []
    rows: list[dict] = []
    maps_all: list[np.ndarray] = []
    pngs: list[str] = []
    taken: set = set()
    layer_name = conv_layer_name(zm.model, layer)
    bar = tqdm(total=len(paths), unit="spec", disable=not progress, desc="specnet explain")
    try:
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            good = []
            for p in chunk:
                try:
                    good.append((p, *_read(p, config)))
                except (ValueError, OSError) as exc:  # SpectrumFormatError is a ValueError
                    rejects.append((p, f"{type(exc).__name__}: {exc}"))
            if good:
                X = np.stack([g[1] for g in good])
                maps, preds, idx = explain_arrays(zm, X, target, method, layer, batch_size=batch_size)
                for i, (p, x, mask, spec) in enumerate(good):
                    if zm.task == "classification":
                        predicted = str(zm.classes[int(np.argmax(preds[i]))])
                        explained = str(zm.classes[int(idx[i])])
                        try:
                            subtype = float(parse_subtype(predicted))
                        except ValueError:
                            subtype = float("nan")
                    else:
                        subtype = float(preds[i, 0])
                        predicted = format_subtype(subtype) if np.isfinite(subtype) else ""
                        explained = "subtype"
                    sid = str(spec.meta.get("id") or "")
                    stem = _stem(p, taken)
                    flux = np.where(mask, np.nan, x[:, 0])
                    title = (f"{os.path.basename(p)}  —  {zm.name}: {predicted or '?'}"
                             f"  ({method}, explaining {explained})")
                    fig = plot_explanation(wave, flux, maps[i], title=title)
                    pngs.append(save_figure(fig, out / f"{stem}.png", dpi=dpi))
                    rows.append({"path": p, "id": sid, "predicted": predicted, "subtype": subtype,
                                 "explained": explained, "flux": flux})
                    maps_all.append(maps[i])
            bar.update(len(chunk))
    finally:
        bar.close()

    rejects_csv = out / "rejects.csv"
    with open(rejects_csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "reason"])
        writer.writerows(rejects)

    maps = np.stack(maps_all).astype(np.float32) if maps_all else np.zeros((0, wave.size), np.float32)
    col = {k: [r[k] for r in rows] for k in ("path", "id", "predicted", "subtype", "explained")}
    maps_npz = out / "maps.npz"
    np.savez_compressed(maps_npz, wave=wave, maps=maps, paths=np.array(col["path"], dtype=str),
                        ids=np.array(col["id"], dtype=str), predicted=np.array(col["predicted"], dtype=str),
                        subtype=np.array(col["subtype"], dtype=np.float64),
                        explained=np.array(col["explained"], dtype=str), method=np.array(method),
                        layer=np.array(layer_name))
    maps_csv = out / "maps.csv"
    with open(maps_csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "id", "predicted", "subtype", "explained"] + [f"w{w:.2f}" for w in wave])
        for r, m in zip(rows, maps):
            writer.writerow([r["path"], r["id"], r["predicted"], f"{r['subtype']:.3f}", r["explained"]]
                            + [f"{v:.4f}" for v in m])

    class_means, overview = {}, None
    if rows:
        letters = class_letters(col["subtype"])
        fluxes = np.stack([r["flux"] for r in rows])
        for cls in classes:
            members = letters == cls
            if members.any():
                fig = plot_class_means(wave, maps[members], letters[members], classes=(cls,),
                                       fluxes=fluxes[members])
                class_means[cls] = save_figure(fig, out / f"class_mean_{cls}.png", dpi=dpi)
        if classes:
            fig = plot_class_means(wave, maps, letters, classes=tuple(classes))
            overview = save_figure(fig, out / "class_means.png", dpi=dpi)

    return {"explained": len(rows), "rejected": len(rejects), "output_dir": str(out), "pngs": pngs,
            "maps_npz": str(maps_npz), "maps_csv": str(maps_csv), "rejects_csv": str(rejects_csv),
            "class_means": class_means, "overview": overview}
