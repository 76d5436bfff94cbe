"""Grad-CAM maps for every specnet architecture, computed with tf-keras-vis.

:func:`gradcam` returns one map per spectrum, shape ``(N, npix)``, on the
model's input wavelength grid, each normalised to [0, 1] by its own maximum
(after the ReLU of Grad-CAM, so 0 means "no positive evidence" and a map with
no positive evidence at all is all zeros). Five methods of tf-keras-vis 0.8.7:

* ``"gradcam"`` (:class:`tf_keras_vis.gradcam.Gradcam`): channel weights =
  gradients averaged over positions;
* ``"gradcam++"`` (:class:`~tf_keras_vis.gradcam_plus_plus.GradcamPlusPlus`);
* ``"scorecam"`` (:class:`~tf_keras_vis.scorecam.Scorecam`), gradient-free;
* ``"layercam"`` (:class:`~tf_keras_vis.layercam.Layercam`): positive gradient
  × activation, position by position;
* ``"hirescam"``: LayerCAM without the ReLU on the gradients, i.e. HiResCAM
  (Draelos & Carin 2020), gradient × activation summed over channels.

Grad-CAM's averaging of gradients over positions suits heads that pool
globally (``resnet_regressor``), where it equals HiResCAM up to the head's
non-linearity. ``cnn`` and ``bert_cnn`` end in ``Flatten → Dense``: each
position has its own weights, and the average can point away from the
evidence. On mock spectra whose classes differ by one line, the trained tiny
``cnn`` puts no Grad-CAM mass on the line while HiResCAM/LayerCAM put
10–15× chance there (see ``tests/explain/test_gradcam.py``); prefer
``"hirescam"`` for those two.

What is explained:

* Regressors (``resnet_regressor``; output ``(N, 1)`` or ``(N, 2)`` =
  ``[subtype, sigma]``): the predicted subtype, ``output[:, 0]``.
* Classifiers (``cnn``, ``bert_cnn``; softmax output): the score of one class
  with the softmax made linear (tf-keras-vis ``ReplaceToLinear``), i.e. the
  logit; ``target`` = class index or name, default the predicted class.

The layer explained is by default the last convolution taken after its
block (:func:`~specnet.explain.graph.default_layer_name`). Gradients are
taken on the model cut at that layer (:func:`~specnet.explain.graph.split_at`).
The layer's output has ``L <= npix`` positions (``L`` = ``npix / downsampling``
for the CNNs, the number of tokens for BERT-CNN). tf-keras-vis would resize
the ``(N, L)`` map to the input with ``scipy.ndimage.zoom(order=1)``, which aligns the first and last *positions*
with the first and last *pixels*; for a strided or tokenised layer that shifts
features by up to half a stride. So the raw map is taken from tf-keras-vis
(``expand_cam=False, normalize_cam=False``) and :func:`upsample_map` maps
position ``j`` to the centre of the pixels it summarises,
``(j + 0.5) * npix / L - 0.5``, with linear interpolation in between.

:func:`gradcam_reference` is an independent ``tf.GradientTape`` Grad-CAM; the
test suite checks that both agree, so a silent change in the dependency shows.

Example
-------
>>> import numpy as np, keras
>>> from specnet.explain import gradcam
>>> x = keras.Input((64, 1)); h = keras.layers.Conv1D(4, 3, padding="same", name="c")(x)
>>> y = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling1D()(h))
>>> maps = gradcam(keras.Model(x, y), np.random.default_rng(0).normal(size=(3, 64, 1)))
>>> maps.shape, bool(maps.min() >= 0 and maps.max() <= 1)
((3, 64), True)
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Sequence

import numpy as np

from specnet.explain.graph import (_as_list, conv_layer_name, linear_model, pixel_span,
                                   softmax_output_layer, split_at)

METHODS = ("gradcam", "gradcam++", "scorecam", "layercam", "hirescam")

#: Scale used to pass a regression output through Scorecam's internal softmax (see _scorecam_regressor).
_SCORECAM_REG_SCALE = 100.0


# --------------------------------------------------------------------- helpers
def _is_zoo_model(obj: Any) -> bool:
    return hasattr(obj, "model") and hasattr(obj, "preprocess_config") and not _is_keras_model(obj)


def _is_keras_model(obj: Any) -> bool:
    import keras

    return isinstance(obj, keras.Model)


def _unwrap(model: Any):
    """``(keras_model, zoo_model_or_None)`` for a keras Model or a ZooModel."""
    if _is_keras_model(model):
        return model, None
    if _is_zoo_model(model):
        return model.model, model
    raise ValueError("model must be a keras.Model or a specnet ZooModel. "
                     f"Received: model={type(model).__name__}")


def _grid_wave(zoo) -> np.ndarray:
    """The ZooModel's grid wavelengths (vacuum Å)."""
    return np.asarray(zoo.preprocess_config.grid.wave, dtype=np.float64)


def _is_spectrum_like(x: Any) -> bool:
    from specnet.spectrum import Spectrum

    return isinstance(x, (Spectrum, str, os.PathLike))


def prepare_inputs(model: Any, inputs: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Model-ready float32 inputs ``(N, npix, channels)`` and the grid (Å, or None).

    ``inputs`` may be an array ``(N, npix, C)``, ``(npix, C)`` (one spectrum)
    or ``(N, npix)`` for a one-channel model. For a ZooModel it may also be a
    :class:`~specnet.Spectrum`, a path, or a list of them: they are read with
    :func:`specnet.io.read_spectrum` and preprocessed with the manifest's
    :class:`~specnet.preprocess.PreprocessConfig`.
    """
    keras_model, zoo = _unwrap(model)
    wave = _grid_wave(zoo) if zoo is not None else None
    items = inputs
    if _is_spectrum_like(items):
        items = [items]
    if isinstance(items, (list, tuple)) and items and all(_is_spectrum_like(i) for i in items):
        if zoo is None:
            raise ValueError("Spectra or paths need a ZooModel (its manifest gives the preprocessing); "
                             "pass preprocessed arrays to a bare keras model. "
                             f"Received: inputs={type(inputs).__name__} of {type(items[0]).__name__}")
        from specnet.io import read_spectrum
        from specnet.preprocess import preprocess

        spectra = [read_spectrum(i) if isinstance(i, (str, os.PathLike)) else i for i in items]
        X, _ = preprocess(spectra, zoo.preprocess_config)
        items = X
    X = np.asarray(items, dtype=np.float32)
    shape = tuple(keras_model.input_shape[1:])
    if len(shape) == 2 and X.ndim in (1, 2):
        npix, channels = shape
        if X.ndim == 2 and X.shape[1:] == (channels,) and X.shape[0] in (npix, None):
            X = X[None]  # one spectrum (npix, C)
        elif channels == 1 and X.shape[-1] == npix:
            X = X.reshape(-1, npix, 1)  # (N, npix) or (npix,) for a one-channel model
    if X.ndim != len(shape) + 1 or any(s is not None and s != d for s, d in zip(shape, X.shape[1:])):
        raise ValueError(f"inputs must have shape (N, {', '.join(str(s) for s in shape)}) for this model. "
                         f"Received: inputs.shape={X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"inputs hold no spectrum. Received: inputs.shape={X.shape}")
    return X, wave


def infer_task(model: Any, task: str | None = None) -> str:
    """``"regression"`` or ``"classification"`` for a model.

    A ZooModel says so (``.task``); a keras model counts as a classifier when
    its output layer ends in a softmax, else as a regressor (explained through
    ``output[:, 0]``).
    """
    if task is not None:
        if task not in ("regression", "classification"):
            raise ValueError(f"task must be 'regression' or 'classification'. Received: task={task!r}")
        return task
    keras_model, zoo = _unwrap(model)
    if zoo is not None and getattr(zoo, "task", None) in ("regression", "classification"):
        return zoo.task
    return "classification" if softmax_output_layer(keras_model) is not None else "regression"


def resolve_targets(target: Any, predictions: np.ndarray, classes: Sequence[str] | None) -> np.ndarray:
    """Class indices, shape (N,), from ``target`` (None = argmax of ``predictions``).

    ``target`` may be an int, a class name (needs ``classes``), or a sequence
    of those, one per spectrum.
    """
    n, k = predictions.shape
    if target is None:
        return np.argmax(predictions, axis=1).astype(np.int64)
    items = [target] * n if isinstance(target, (str, int, np.integer)) else list(target)
    if len(items) != n:
        raise ValueError(f"target must be one class or one per spectrum ({n}). Received: len(target)={len(items)}")
    out = np.empty(n, dtype=np.int64)
    names = [str(c) for c in classes] if classes is not None else None
    for i, t in enumerate(items):
        if isinstance(t, str):
            if names is None or t not in names:
                raise ValueError(f"Unknown class name; classes are {names}. Received: target={t!r}")
            out[i] = names.index(t)
        elif isinstance(t, (int, np.integer)) and not isinstance(t, bool) and 0 <= int(t) < k:
            out[i] = int(t)
        else:
            raise ValueError(f"target must be a class index in [0, {k}) or a class name. Received: target={t!r}")
    return out


def upsample_map(cam: np.ndarray, npix: int, span: int | None = None) -> np.ndarray:
    """Resize maps ``(N, L)`` to ``(N, npix)``, position ``j`` at pixel ``(j+0.5)·span/L − 0.5``.

    ``span`` (default ``npix``) is how many leading pixels the ``L`` positions
    cover: BERT-CNN's patch embedding ignores the last ``npix % patch_size``
    pixels (see :func:`~specnet.explain.graph.pixel_span`). Linear interpolation between positions,
    constant beyond the first/last centre. ``L == npix`` returns the maps unchanged.

    >>> upsample_map(np.array([[0.0, 1.0]]), 4).round(2).tolist()
    [[0.0, 0.25, 0.75, 1.0]]
    """
    cam = np.asarray(cam, dtype=np.float64)
    if cam.ndim != 2:
        raise ValueError(f"cam must have shape (N, L). Received: cam.shape={cam.shape}")
    span = npix if span is None else int(span)
    if not 1 <= span <= npix:
        raise ValueError(f"span must be in [1, npix={npix}]. Received: span={span}")
    n_pos = cam.shape[1]
    if n_pos == npix:
        return cam
    x = (np.arange(npix) + 0.5) * (n_pos / span) - 0.5
    x = np.clip(x, 0, n_pos - 1)
    i0 = np.floor(x).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_pos - 1)
    w = x - i0
    return cam[:, i0] * (1 - w) + cam[:, i1] * w


def normalize_maps(cam: np.ndarray) -> np.ndarray:
    """Divide each (non-negative) map by its maximum; maps with max <= 0 become zeros.

    >>> normalize_maps(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]])).tolist()
    [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]
    """
    cam = np.asarray(cam, dtype=np.float64)
    top = cam.max(axis=1, keepdims=True)
    safe = np.where(top > 0, top, 1.0)
    return np.where(top > 0, cam / safe, 0.0)


def predict_array(keras_model, X: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Model outputs for ``X`` as float64 ``(N, k)``, without a progress bar."""
    out = keras_model.predict(X, batch_size=batch_size, verbose=0)
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(out.shape[0], -1)


def _scorecam_regressor(keras_model):
    """Wrap a regressor for tf-keras-vis Scorecam, which softmaxes the outputs before scoring.

    The wrapper outputs ``[y / S, 0]``; the score ``S·(log p0 − log p1)`` then
    recovers ``y`` exactly (``S`` = 100 keeps the softmax away from underflow).
    """
    import keras

    y = keras_model.outputs[0]
    y0 = keras.layers.Lambda(lambda t: keras.ops.cast(t[:, :1], "float32") / _SCORECAM_REG_SCALE,
                             name="explain_y_scaled")(y)
    zero = keras.layers.Lambda(lambda t: keras.ops.zeros_like(t), name="explain_zero")(y0)
    out = keras.layers.Concatenate(name="explain_pair")([y0, zero])
    return keras.Model(keras_model.inputs, out)


class _Explainer:
    """One tf-keras-vis visualiser set up for a model, task, method and layer."""

    def __init__(self, keras_model, task: str, method: str, layer_name: str):
        with warnings.catch_warnings():  # tf-keras-vis imports zoom from a deprecated scipy path
            warnings.simplefilter("ignore", DeprecationWarning)
            from tf_keras_vis.gradcam import Gradcam
            from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
            from tf_keras_vis.layercam import Layercam
            from tf_keras_vis.scorecam import Scorecam

        self.task, self.method = task, method
        # Classifiers are explained through their logits; Scorecam wants them too,
        # because it applies its own softmax to the model outputs.
        base = linear_model(keras_model) if task == "classification" else keras_model
        if method == "scorecam":
            # gradient-free: it masks the *input spectrum*, so it gets the whole model
            self.upstream = None
            model = base if task == "classification" else _scorecam_regressor(base)
            self.vis = Scorecam(model, clone=False)
            predict = self.vis.model.predict
            object.__setattr__(self.vis.model, "predict",
                               lambda *a, **k: predict(*a, **{**k, "verbose": 0}))
            self.layer = layer_name
        else:
            self.upstream, head = split_at(base, layer_name)
            cls = {"gradcam": Gradcam, "gradcam++": GradcamPlusPlus, "layercam": Layercam,
                   "hirescam": Layercam}[method]
            self.vis = cls(head, clone=False)
            self.layer = head.inputs[0]._keras_history.operation.name

    def score(self, idx):
        import tensorflow as tf

        if self.task == "regression":
            if self.method == "scorecam":
                return lambda p: _SCORECAM_REG_SCALE * (tf.math.log(p[:, 0]) - tf.math.log(p[:, 1]))
            return lambda out: out[:, 0]
        index = tf.constant(idx, dtype=tf.int32)
        return lambda out: tf.gather(out, index, axis=1, batch_dims=1)

    def raw(self, X: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """Un-normalised, un-resized maps ``(N, L)`` for one batch."""
        kwargs = dict(penultimate_layer=self.layer, seek_penultimate_conv_layer=False,
                      expand_cam=False, normalize_cam=False)
        if self.method == "hirescam":  # LayerCAM without its ReLU on the gradients
            kwargs["gradient_modifier"] = None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*structure of `inputs`.*")
            if self.upstream is None:
                cam = self.vis(self.score(idx), X, batch_size=max(len(X), 1), **kwargs)
            else:
                seeds = _as_list(self.upstream(X, training=False))
                cam = self.vis(self.score(idx), seeds, **kwargs)
        cam = np.asarray(cam, dtype=np.float64)
        return cam.reshape(cam.shape[0], -1)


def explain_arrays(model: Any, X: np.ndarray, target: Any = None, method: str = "gradcam",
                   layer: str | int | None = None, *, task: str | None = None,
                   classes: Sequence[str] | None = None, batch_size: int = 32):
    """Maps, predictions and explained class indices for preprocessed inputs ``X``.

    Returns ``(maps (N, npix) in [0, 1], predictions (N, k), targets (N,) or None)``;
    see :func:`gradcam` for the arguments.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
    keras_model, zoo = _unwrap(model)
    task = infer_task(model, task)
    if classes is None and zoo is not None:
        classes = getattr(zoo, "classes", None)
    preds = predict_array(keras_model, X, batch_size=max(batch_size, 64))
    idx = None
    if task == "classification":
        idx = resolve_targets(target, preds, classes)
    elif target is not None:
        raise ValueError("A regressor's map explains its predicted subtype; target must be None. "
                         f"Received: target={target!r}")
    explainer = _Explainer(keras_model, task, method, conv_layer_name(keras_model, layer))
    raw = np.concatenate([explainer.raw(X[i:i + batch_size], None if idx is None else idx[i:i + batch_size])
                          for i in range(0, X.shape[0], batch_size)], axis=0)
    raw = np.where(np.isfinite(raw), raw, 0.0)
    maps = normalize_maps(upsample_map(np.maximum(raw, 0.0), X.shape[1],
                                        pixel_span(keras_model, X.shape[1])))
    return maps.astype(np.float32), preds, idx


def gradcam(model: Any, inputs: Any, target: Any = None, method: str = "gradcam",
            layer: str | int | None = None, wave: np.ndarray | None = None, *,
            task: str | None = None, classes: Sequence[str] | None = None,
            batch_size: int = 32) -> np.ndarray:
    """Class-activation maps of ``model`` for ``inputs``, shape ``(N, npix)``, each in [0, 1].

    Parameters
    ----------
    model : keras.Model or ZooModel
        Any specnet architecture (``resnet_regressor``, ``cnn``, ``bert_cnn``),
        also one loaded from a ``.keras`` file or a zoo folder, under any dtype
        policy (``mixed_float16`` included).
    inputs : array or spectra
        ``(N, npix, C)`` preprocessed arrays (``(npix, C)`` for one spectrum;
        ``(N, npix)`` for a one-channel model). With a ZooModel also a
        :class:`~specnet.Spectrum`, a file path, or a list of them, preprocessed
        as the manifest says.
    target : int, str, sequence or None
        Classifiers: the class to explain (index or name; one, or one per
        spectrum); default the predicted class. Regressors: must be None (the
        map explains the predicted subtype ``output[:, 0]``).
    method : {"gradcam", "gradcam++", "scorecam", "layercam", "hirescam"}
        See the module notes; ``"hirescam"`` for the Flatten-head ``cnn``/``bert_cnn``.
    layer : str or int, optional
        Layer to explain (name or index; used as given); default
        :func:`~specnet.explain.graph.default_layer_name` (the last convolution, after its block).
    wave : array (M,), optional
        Vacuum Å. For a ZooModel, return the maps interpolated from the model
        grid onto these wavelengths (e.g. a spectrum's own rest-frame grid;
        0 outside the model grid). For a keras model it must be the ``npix``
        wavelengths of the input pixels and only checks the shape.
    task : {"regression", "classification"}, optional
        Override the task inferred from the model (softmax output = classifier).
    classes : sequence of str, optional
        Class names for ``target`` given by name (a ZooModel brings its own).
    batch_size : int
        Spectra per tf-keras-vis call.

    Returns
    -------
    ndarray, float32, shape (N, npix) — or (N, M) when ``wave`` resamples.
        Each row divided by its own maximum (0 = no positive evidence).

    Example
    -------
    >>> maps = gradcam(zoo_model, ["a.fits", "b.fits"], method="gradcam++")  # doctest: +SKIP
    """
    keras_model, zoo = _unwrap(model)
    X, grid = prepare_inputs(model, inputs)
    maps, _, _ = explain_arrays(model, X, target, method, layer, task=task, classes=classes,
                                batch_size=batch_size)
    if wave is None:
        return maps
    wave = np.asarray(wave, dtype=np.float64)
    if wave.ndim != 1 or not np.all(np.isfinite(wave)):
        raise ValueError(f"wave must be a finite 1-D array of Å. Received: wave.shape={wave.shape}")
    if grid is None:
        if wave.size != X.shape[1]:
            raise ValueError(f"wave must give the {X.shape[1]} input pixels' wavelengths for a keras model. "
                             f"Received: wave.size={wave.size}")
        return maps
    return np.stack([np.interp(wave, grid, m, left=0.0, right=0.0) for m in maps]).astype(np.float32)


# ------------------------------------------------------------------ reference
def gradcam_reference(model: Any, inputs: Any, target: Any = None, layer: str | int | None = None, *,
                      task: str | None = None, classes: Sequence[str] | None = None) -> np.ndarray:
    """Plain ``tf.GradientTape`` Grad-CAM, written without tf-keras-vis, for cross-checks.

    Same conventions as :func:`gradcam` with ``method="gradcam"``: the score is
    ``output[:, 0]`` for regressors and the logit of the target class for
    classifiers (the softmax's input, computed here from the output layer's
    kernel and bias, not by modifying the model); weights = the gradient
    averaged over positions; map = ReLU(Σ_c w_c A_c), moved onto the pixel
    grid by centre-aligned linear interpolation and divided by its maximum.

    >>> ref = gradcam_reference(model, X)  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    keras_model, zoo = _unwrap(model)
    X, _ = prepare_inputs(model, inputs)
    task = infer_task(model, task)
    if classes is None and zoo is not None:
        classes = getattr(zoo, "classes", None)
    name = conv_layer_name(keras_model, layer)
    sm = softmax_output_layer(keras_model) if task == "classification" else None
    head_out = sm.input if sm is not None else keras_model.outputs[0]
    # cut at the layer (see split_at) so that nothing before it is back-propagated
    upstream, head = split_at(keras_model, name, outputs=[head_out])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*structure of `inputs`.*")
        seeds = [tf.constant(t) for t in _as_list(upstream(X, training=False))]
    idx = resolve_targets(target, predict_array(keras_model, X), classes) if task == "classification" else None
    with tf.GradientTape() as tape:
        tape.watch(seeds[0])
        h = head(seeds, training=False)
        A = tf.cast(seeds[0], tf.float32)
        if sm is not None and not isinstance(sm, keras.layers.Softmax):
            # the output layer applies softmax itself: rebuild its logits from its weights
            h = tf.matmul(tf.cast(h, tf.float32), tf.cast(sm.kernel, tf.float32))
            if getattr(sm, "bias", None) is not None:
                h = h + tf.cast(sm.bias, tf.float32)
        h = tf.reshape(tf.cast(h, tf.float32), (tf.shape(h)[0], -1))
        if task == "regression":
            if target is not None:
                raise ValueError(f"target must be None for a regressor. Received: target={target!r}")
            score = h[:, 0]
        else:
            score = tf.gather(h, tf.constant(idx, tf.int32), axis=1, batch_dims=1)
    grads = tf.cast(tape.gradient(score, seeds[0]), tf.float32)
    weights = tf.reduce_mean(grads, axis=1, keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(A * weights, axis=-1)).numpy().astype(np.float64)
    n_pos, npix = cam.shape[1], X.shape[1]
    centres = (np.arange(n_pos) + 0.5) * pixel_span(keras_model, npix) / n_pos - 0.5
    pix = np.arange(npix, dtype=np.float64)
    up = np.stack([np.interp(pix, centres, row) for row in cam]) if n_pos != npix else cam
    top = up.max(axis=1, keepdims=True)
    return np.where(top > 0, up / np.where(top > 0, top, 1.0), 0.0).astype(np.float32)
