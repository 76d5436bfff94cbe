""":class:`ZooModel`: a Keras model together with the manifest that says how to feed and read it."""
from __future__ import annotations

import os

import numpy as np

from specnet.spectrum import Spectrum
from specnet.zoo import flags as _flags
from specnet.zoo.manifest import preprocess_config


class ZooModel:
    """A zoo (or user-trained) model: ``.model`` (Keras) + ``.manifest`` (dict).

    Preprocessing is derived from the manifest (``.preprocess_config``), never
    re-typed by the caller, so :meth:`classify` takes spectra or FITS paths as
    they come from the survey.

    Attributes
    ----------
    model : keras.Model
    manifest : dict
    preprocess_config : specnet.preprocess.PreprocessConfig
    task : {"regression", "classification"}
    classes : list of str or None
        Class names (classification), ``None`` for regression.
    thresholds : dict
        Flag thresholds (:mod:`specnet.zoo.flags` defaults updated by the manifest).
    trained : bool
        Whether trained weights were loaded (False for ``zoo.load(name, weights=False)``,
        even when the manifest names a weight file).

    Example
    -------
    >>> from specnet import zoo
    >>> zm = zoo.load("resnet-lamost", weights=False)  # doctest: +SKIP
    >>> zm.classify(["3703110.fits"])["label", "subtype", "flags"]  # doctest: +SKIP
    """

    def __init__(self, model, manifest: dict, source: str | None = None, trained: bool | None = None):
        self.model = model
        self.manifest = manifest
        self.trained = bool(manifest.get("weights")) if trained is None else bool(trained)
        self.source = source
        self.preprocess_config = preprocess_config(manifest)
        self.task = manifest["task"]
        self.classes = list(manifest["labels"]["classes"]) if self.task == "classification" else None
        self.thresholds = _flags.thresholds_for(manifest)

    # ------------------------------------------------------------------ views
    @property
    def name(self) -> str:
        """The manifest's ``name``."""
        return self.manifest["name"]

    @property
    def has_uncertainty(self) -> bool:
        """True for a regressor whose output is ``[subtype, sigma]``."""
        return self.task == "regression" and self.model.output_shape[-1] == 2

    @property
    def label_range(self) -> tuple[float, float] | None:
        """``(min, max)`` of the regression labels the model was trained on."""
        if self.task != "regression":
            return None
        return float(self.manifest["labels"]["min"]), float(self.manifest["labels"]["max"])

    def __repr__(self) -> str:
        trained = "trained" if self.trained else "untrained"
        return (f"ZooModel({self.name!r}, {self.manifest['architecture']}, {self.task}, "
                f"input_shape={self.preprocess_config.input_shape}, {trained})")

    # ------------------------------------------------------------ prediction
    def predict_array(self, X, batch_size: int = 64) -> np.ndarray:
        """Raw model output for a batch already on the model grid.

        Parameters
        ----------
        X : array-like, shape (N, npix, channels) or (npix, channels)
            Preprocessed inputs (as :func:`specnet.preprocess.preprocess` makes them).
        batch_size : int

        Returns
        -------
        ndarray, float32
            Regression: ``(N, 1)`` subtypes, or ``(N, 2)`` ``[subtype, sigma]`` with an
            uncertainty head; classification: ``(N, K)`` probabilities.
        """
        X = self._check_array(X)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int. Received: batch_size={batch_size!r}")
        if len(X) == 0:
            return np.zeros((0, self.model.output_shape[-1]), np.float32)
        out = self.model.predict(X, batch_size=batch_size, verbose=0)
        return np.asarray(out, dtype=np.float32)

    def _check_array(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 2:
            X = X[None]
        shape = tuple(self.preprocess_config.input_shape)
        if X.ndim != 3 or X.shape[1:] != shape:
            raise ValueError(f"{self.name}: inputs must have shape (N, {shape[0]}, {shape[1]}) "
                             f"(the model grid). Received: X.shape={X.shape}")
        return X

    def _gather(self, inputs):
        """Inputs → (X, mask or None, info dict of per-row arrays)."""
        from specnet.preprocess import coverage, preprocess

        if isinstance(inputs, np.ndarray):
            X = self._check_array(inputs)
            n = len(X)
            mask = X[..., 1] > 0.5 if self.preprocess_config.mask_channel else None
            info = {"id": [""] * n, "path": [""] * n, "snr": np.full(n, np.nan),
                    "coverage": coverage(mask) if mask is not None and n else np.full(n, np.nan),
                    "non_stellar": np.zeros(n, bool)}
            return X, info
        if isinstance(inputs, (Spectrum, str, os.PathLike)):
            inputs = [inputs]
        spectra = []
        for i, item in enumerate(inputs):
            if isinstance(item, Spectrum):
                spectra.append(item)
            elif isinstance(item, (str, os.PathLike)):
                from specnet.io import read_spectrum

                spectra.append(read_spectrum(item))
            else:
                raise ValueError(f"classify takes Spectrum objects, file paths or an array on the model grid. "
                                 f"Received: inputs[{i}]={item!r}")
        n = len(spectra)
        shape = self.preprocess_config.input_shape
        if n:
            X, mask = preprocess(spectra, self.preprocess_config)
            cov = np.atleast_1d(coverage(mask))
        else:
            X, cov = np.zeros((0, *shape), np.float32), np.zeros(0)
        info = {"id": [str(s.meta.get("id")) if s.meta.get("id") is not None else "" for s in spectra],
                "path": [str(s.meta.get("path") or "") for s in spectra],
                "snr": np.array([_flags.spectrum_snr(s) for s in spectra], float),
                "coverage": np.asarray(cov, float),
                "non_stellar": np.array([_flags.is_non_stellar(s) for s in spectra], bool)}
        return X, info

    def classify(self, inputs, batch_size: int = 64):
        """Predict spectral types, applying exactly the manifest's preprocessing.

        Parameters
        ----------
        inputs : Spectrum, path, sequence of those, or ndarray (N, npix, channels)
            Spectra, files any :mod:`specnet.io` layout reads (LAMOST, SDSS, ...), or
            an array already on the model grid (then S/N and class are unknown).
        batch_size : int
            Spectra per model call.

        Returns
        -------
        astropy.table.Table
            One row per input with columns ``id``, ``label`` (MK string: e.g. ``"K3"``),
            ``subtype`` (float, O0=0 … M9=69; for a classifier the predicted class's subtype),
            ``uncertainty`` (σ in subtypes, NaN without an uncertainty head; for a
            classifier 1 − max probability), ``proba`` (N × K, classifiers only),
            ``flags`` (e.g. ``"low_snr,non_stellar"``, see :mod:`specnet.zoo.flags`),
            ``snr``, ``coverage`` (good fraction of the model grid) and ``path``.
        """
        from astropy.table import Table

        from specnet.labels import format_subtype, parse_subtype

        X, info = self._gather(inputs)
        out = self.predict_array(X, batch_size=batch_size)
        n = len(X)
        cols = {"id": np.array(info["id"], dtype=str) if n else np.zeros(0, "U1")}
        if self.task == "classification":
            proba = out.astype(np.float64)
            idx = proba.argmax(axis=1) if n else np.zeros(0, int)
            labels = [self.classes[i] for i in idx]
            class_sub = np.array([parse_subtype(c) for c in self.classes], float)
            subtype = class_sub[idx]
            uncertainty = 1.0 - proba.max(axis=1) if n else np.zeros(0)
            flag_sets = _flags.compute_flags(n, self.thresholds, snr=info["snr"], coverage=info["coverage"],
                                             non_stellar=info["non_stellar"], task=self.task, proba=proba)
        else:
            subtype = out[:, 0].astype(np.float64)
            uncertainty = out[:, 1].astype(np.float64) if self.has_uncertainty else np.full(n, np.nan)
            labels = [format_subtype(v) if np.isfinite(v) else "" for v in subtype]
            flag_sets = _flags.compute_flags(n, self.thresholds, snr=info["snr"], coverage=info["coverage"],
                                             non_stellar=info["non_stellar"], task=self.task, subtype=subtype,
                                             sigma=uncertainty, label_range=self.label_range)
        cols["label"] = np.array(labels, dtype=str) if n else np.zeros(0, "U1")
        cols["subtype"] = subtype
        cols["uncertainty"] = uncertainty
        if self.task == "classification":
            cols["proba"] = proba.reshape(n, len(self.classes))
        fl = _flags.flag_strings(flag_sets)
        cols["flags"] = np.array(fl, dtype="U64")
        cols["snr"] = np.asarray(info["snr"], float)
        cols["coverage"] = np.asarray(info["coverage"], float)
        cols["path"] = np.array(info["path"], dtype=str) if n else np.zeros(0, "U1")
        table = Table(cols)
        table.meta["model"] = self.name
        if self.classes:
            table.meta["classes"] = ",".join(self.classes)
        return table
