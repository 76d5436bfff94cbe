"""Plain 1-D CNN classifier: the baseline of Liu & Wang (2022) and Wang et al. (2021).

Layout::

    conv{i} (Conv1D, ReLU) → pool{i} (MaxPooling1D), for each of ``filters``
    flatten → hidden (Dense 128, ReLU) → hidden_dropout (0.5) → proba (Dense softmax, float32)
"""
from __future__ import annotations

import keras

from specnet.models.registry import (check_input_shape, check_int, check_ints, check_rate,
                                     register_model)


@register_model("cnn", task="classification", loss="categorical_crossentropy")
def cnn(input_shape=(3909, 2), num_classes=4, filters=(16, 32, 64), kernel_size=5, pool_size=4,
        hidden_units=128, dropout=0.5, name="cnn"):
    """Baseline convolutional classifier of spectral subclasses.

    Parameters
    ----------
    input_shape : (int, int)
        ``(npix, channels)`` of the preprocessed spectrum.
    num_classes : int
        Number of classes (≥ 2).
    filters : sequence of int
        Filters of each Conv1D (ReLU, "same" padding) + MaxPooling1D block.
    kernel_size : int
        Convolution kernel length in pixels.
    pool_size : int
        Size and stride of each MaxPooling1D.
    hidden_units : int
        Units of the ReLU Dense layer (128 in the papers' baseline).
    dropout : float
        Dropout rate after it (0.5).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Input ``(batch, npix, channels)``, output ``(batch, num_classes)`` softmax,
        float32 under any dtype policy.

    Example
    -------
    >>> cnn(input_shape=(256, 2), num_classes=3, filters=(4, 8)).output_shape
    (None, 3)
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    filters = check_ints("filters", filters)
    kernel_size = check_int("kernel_size", kernel_size)
    pool_size = check_int("pool_size", pool_size)
    hidden_units = check_int("hidden_units", hidden_units)
    dropout = check_rate("dropout", dropout)
    npix, channels = check_input_shape(input_shape, min_npix=pool_size ** len(filters))

    inputs = keras.Input((npix, channels), name="spectrum")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = keras.layers.Conv1D(f, kernel_size, padding="same", activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling1D(pool_size, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(dropout, name="hidden_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="proba")(x)
    return keras.Model(inputs, outputs, name=name)
