"""Custom Keras layers and the Gaussian NLL loss shared by the specnet builders.

Every object here is registered with
``keras.saving.register_keras_serializable(package="specnet")`` and has a
``get_config``, so models that use them round-trip through ``get_config`` /
``from_config`` and ``.keras`` files without ``custom_objects``.

Only :mod:`keras.ops` is used (backend-neutral).
"""
from __future__ import annotations

import keras
from keras import ops

from specnet.models.registry import check_number


@keras.saving.register_keras_serializable(package="specnet")
class LabelScale(keras.layers.Layer):
    """Affine map from normalised network units to the subtype scale: ``y = offset + scale * z``.

    The regressor's last Dense layer works in normalised units ``z`` (≈ zero mean,
    unit spread); this layer turns ``z`` into a subtype on the O0=0 … M9=69 scale,
    so the network need not learn a large bias. Use ``offset=0`` for a pure
    rescaling (e.g. of a standard deviation). Input/output shape ``(..., d)``.

    Parameters
    ----------
    offset : float
        Added after scaling (subtype units; e.g. 40 = G0).
    scale : float
        Positive multiplier (subtype units per normalised unit).

    Example
    -------
    >>> import numpy as np
    >>> LabelScale(offset=40.0, scale=15.0)(np.array([[0.0], [1.0]], "float32")).numpy().ravel().tolist()
    [40.0, 55.0]
    """

    def __init__(self, offset: float = 0.0, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = check_number("offset", offset)
        self.scale = check_number("scale", scale, positive=True)
        self.supports_masking = True

    def call(self, inputs):
        return ops.add(ops.multiply(inputs, ops.cast(self.scale, inputs.dtype)),
                       ops.cast(self.offset, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"offset": self.offset, "scale": self.scale})
        return config


@keras.saving.register_keras_serializable(package="specnet")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embeddings added to a token sequence (BERT style).

    Input ``(batch, tokens, dim)``; output the same shape, ``inputs + P[:tokens]``
    with ``P`` a trainable ``(sequence_length, dim)`` matrix.

    Parameters
    ----------
    sequence_length : int
        Maximum number of tokens (patches of the spectrum).
    initializer : str or keras.initializers.Initializer
        Initializer of ``P`` (default ``"glorot_uniform"``).

    Example
    -------
    >>> import numpy as np
    >>> layer = PositionEmbedding(sequence_length=8)
    >>> tuple(layer(np.zeros((2, 8, 4), "float32")).shape)
    (2, 8, 4)
    """

    def __init__(self, sequence_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if isinstance(sequence_length, bool) or not isinstance(sequence_length, int) or sequence_length < 1:
            raise ValueError(
                f"sequence_length must be a positive int. Received: sequence_length={sequence_length!r}")
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        dim = input_shape[-1]
        self.position_embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, dim), initializer=self.initializer,
            trainable=True)
        super().build(input_shape)

    def call(self, inputs):
        length = ops.shape(inputs)[-2]
        pos = ops.slice(self.position_embeddings, (0, 0), (length, ops.shape(inputs)[-1]))
        return ops.add(inputs, ops.cast(pos, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length,
                       "initializer": keras.initializers.serialize(self.initializer)})
        return config


@keras.saving.register_keras_serializable(package="specnet", name="gaussian_nll")
def gaussian_nll(y_true, y_pred):
    """Gaussian negative log-likelihood for a regressor with an uncertainty head.

    The ``resnet_regressor`` built with ``uncertainty=True`` has one output of
    shape ``(batch, 2)``: column 0 the subtype ``mu``, column 1 its standard
    deviation ``sigma > 0`` (both in subtype units). The loss per sample is
    ``0.5 * ((y - mu) / sigma)**2 + log(sigma)`` (the constant ``0.5 log 2π``
    is dropped). ``y_true`` has shape ``(batch,)`` or ``(batch, 1)``
    (a ``(batch, 2)`` target uses its column 0).

    Train with ``model.compile(loss=specnet.models.gaussian_nll)`` (or
    ``loss="gaussian_nll"`` after importing :mod:`specnet.models`).

    Example
    -------
    >>> import numpy as np
    >>> float(gaussian_nll(np.array([[40.0]]), np.array([[40.0, 1.0]]))[0])
    0.0
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    y_true = ops.reshape(y_true, (ops.shape(y_true)[0], -1))[:, 0]
    mu = y_pred[:, 0]
    sigma = ops.maximum(y_pred[:, 1], ops.cast(1e-3, y_pred.dtype))
    return 0.5 * ops.square((y_true - mu) / sigma) + ops.log(sigma)
