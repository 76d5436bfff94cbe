"""Registry of model builders (timm style): ``@register_model("name")`` and ``build(arch, **config)``.

A builder is a function ``builder(**config) -> keras.Model`` (a flat functional
model). Registering it records its task (``"regression"`` or
``"classification"``) and the loss it is trained with by default.

Example
-------
>>> from specnet.models import build, list_models
>>> "resnet_regressor" in list_models()
True
>>> model = build("cnn", input_shape=(256, 2), filters=(4,), num_classes=3)
>>> model.output_shape
(None, 3)
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from typing import Callable

TASKS = ("regression", "classification")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One registered architecture."""

    name: str
    builder: Callable
    task: str
    loss: str
    description: str = ""


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, task: str = "regression", loss: str | None = None):
    """Decorator registering a builder function under ``name``.

    Parameters
    ----------
    name : str
        Architecture name used by :func:`build` and in zoo manifests.
    task : {"regression", "classification"}
    loss : str, optional
        Default loss (a Keras loss identifier); ``"log_cosh"`` for regression
        and ``"categorical_crossentropy"`` for classification when omitted.

    Example
    -------
    >>> import keras
    >>> @register_model("tiny_dense_demo", task="regression")
    ... def tiny(input_shape=(8, 1)):
    ...     x = keras.Input(input_shape)
    ...     return keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    >>> task("tiny_dense_demo"), default_loss("tiny_dense_demo")
    ('regression', 'log_cosh')
    >>> unregister_model("tiny_dense_demo")
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}. Received: task={task!r}")
    if loss is None:
        loss = "log_cosh" if task == "regression" else "categorical_crossentropy"

    def decorator(fn: Callable) -> Callable:
        doc = (fn.__doc__ or "").strip().split("\n")[0]
        _MODELS[name] = ModelEntry(name, fn, task, loss, doc)
        fn.arch_name = name
        return fn

    return decorator


def unregister_model(name: str) -> None:
    """Remove ``name`` from the registry (for tests and examples)."""
    _entry(name)
    del _MODELS[name]


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered architectures matching an fnmatch ``pattern``.

    >>> list_models("*cnn*")
    ['bert_cnn', 'cnn']
    """
    import fnmatch

    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def _entry(arch: str) -> ModelEntry:
    try:
        return _MODELS[arch]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(arch), list(_MODELS), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown architecture. Registered: {', '.join(list_models())}.{hint} "
            f"Received: arch={arch!r}") from None


def get_builder(arch: str) -> Callable:
    """The builder function registered as ``arch`` (``ValueError`` naming close matches if none)."""
    return _entry(arch).builder


def task(arch: str) -> str:
    """``"regression"`` or ``"classification"`` for a registered architecture.

    >>> task("bert_cnn")
    'classification'
    """
    return _entry(arch).task


def default_loss(arch: str, uncertainty: bool = False):
    """The default loss of ``arch``, as something ``model.compile(loss=...)`` accepts.

    Regressors: ``"log_cosh"`` (``keras.losses.LogCosh``); a regressor built with
    ``uncertainty=True``: the function :func:`specnet.models.gaussian_nll`; classifiers:
    ``"categorical_crossentropy"`` (one-hot targets; use
    ``"sparse_categorical_crossentropy"`` for integer class indices).

    >>> default_loss("resnet_regressor"), default_loss("cnn")
    ('log_cosh', 'categorical_crossentropy')
    >>> import keras
    >>> type(keras.losses.get(default_loss("resnet_regressor"))).__name__
    'function'
    """
    entry = _entry(arch)
    if uncertainty and entry.task == "regression":
        from specnet.models.layers import gaussian_nll

        return gaussian_nll
    return entry.loss


def build(arch: str, **config):
    """Build architecture ``arch`` with builder keyword arguments ``config``.

    >>> build("resnet_regressor", input_shape=(128, 2), widths=(4, 4, 4, 4)).output_shape
    (None, 1)
    """
    return get_builder(arch)(**config)


# ----------------------------------------------------------- argument checks
# Shared by the builders so every one fails early with the offending value quoted.

def check_int(name: str, value, minimum: int = 1, choices=None) -> int:
    """``value`` as an int ≥ ``minimum`` (and in ``choices`` if given), else ``ValueError``.

    >>> check_int("kernel_size", 4, choices=(3, 5, 7, 9))
    Traceback (most recent call last):
    ...
    ValueError: kernel_size must be one of (3, 5, 7, 9). Received: kernel_size=4
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int. Received: {name}={value!r}")
    value = int(value)
    if choices is not None and value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return value


def check_number(name: str, value, positive: bool = False) -> float:
    """``value`` as a finite float (``> 0`` if ``positive``), else ``ValueError`` quoting it.

    >>> check_number("scale", -1.0, positive=True)
    Traceback (most recent call last):
    ...
    ValueError: scale must be a finite positive number. Received: scale=-1.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number. Received: {name}={value!r}")
    out = float(value)
    if not math.isfinite(out) or (positive and out <= 0):
        kind = "a finite positive number" if positive else "a finite number"
        raise ValueError(f"{name} must be {kind}. Received: {name}={value!r}")
    return out


def check_ints(name: str, values, minimum: int = 1, length: int | None = None) -> tuple[int, ...]:
    """A non-empty sequence of ints ≥ ``minimum`` (exactly ``length`` long if given) as a tuple."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of ints. Received: {name}={values!r}")
    values = tuple(values)
    if not values or (length is not None and len(values) != length):
        need = f"{length} ints" if length is not None else "at least one int"
        raise ValueError(f"{name} must hold {need}. Received: {name}={values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
            raise ValueError(f"{name} must hold ints >= {minimum}. Received: {name}={values!r}")
    return tuple(int(v) for v in values)


def check_rate(name: str, value) -> float:
    """A dropout-like rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_input_shape(input_shape, min_npix: int = 1) -> tuple[int, int]:
    """``(npix, channels)`` as a tuple of two positive ints, ``npix >= min_npix``.

    >>> check_input_shape([3909, 2])
    (3909, 2)
    """
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") or len(input_shape) != 2:
        raise ValueError(f"input_shape must be (npix, channels). Received: input_shape={input_shape!r}")
    npix, channels = input_shape
    for v in (npix, channels):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"input_shape must hold two positive ints. Received: input_shape={input_shape!r}")
    if npix < min_npix:
        raise ValueError(f"input_shape[0] (npix) must be >= {min_npix} for this configuration. "
                         f"Received: input_shape={tuple(input_shape)!r}")
    return int(npix), int(channels)
