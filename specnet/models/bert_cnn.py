"""BERT-CNN subclass classifier after Liu & Wang (2022), a flat functional model.

Layout::

    patch_embed (Conv1D, kernel = stride = patch_size) → tokens (npix // patch_size, embed_dim)
    pos_embed (learned PositionEmbedding) → embed_dropout
    num_layers × Transformer encoder, post-LN as in BERT, all layers inline:
        encoder{i}_mha → encoder{i}_attn_dropout → encoder{i}_attn_add → encoder{i}_attn_norm
        encoder{i}_ff1 (ReLU) → encoder{i}_ff2 → encoder{i}_ff_dropout → encoder{i}_ff_add → encoder{i}_ff_norm
    CNN over token features: cnn{j}_conv (ReLU) → cnn{j}_pool, for each of cnn_filters
    flatten → hidden (Dense 256, ReLU) → hidden_dropout (0.5) → proba (Dense softmax, float32)

The output is ``(batch, num_classes)`` class probabilities. Pixels beyond the
last whole patch (``npix % patch_size``) are ignored by the patch embedding.
"""
from __future__ import annotations

import keras

from specnet.models.layers import PositionEmbedding
from specnet.models.registry import (check_input_shape, check_int, check_ints, check_rate,
                                     register_model)


@register_model("bert_cnn", task="classification", loss="categorical_crossentropy")
def bert_cnn(input_shape=(3909, 2), num_classes=4, patch_size=16, embed_dim=64, num_heads=4,
             num_layers=2, ff_dim=128, cnn_filters=(32, 64), cnn_kernel_size=3, pool_size=2,
             hidden_units=256, dropout=0.5, attention_dropout=0.1, name="bert_cnn"):
    """BERT-CNN spectral-subclass classifier (Liu & Wang 2022).

    Parameters
    ----------
    input_shape : (int, int)
        ``(npix, channels)`` of the preprocessed spectrum.
    num_classes : int
        Number of subclasses (≥ 2), e.g. 4 for K1/K3/K5/K7.
    patch_size : int
        Pixels per token; the spectrum becomes ``npix // patch_size`` tokens.
    embed_dim, num_heads, num_layers, ff_dim : int
        Token width, attention heads (``embed_dim % num_heads == 0``), encoder
        layers and feed-forward width of the Transformer encoder.
    cnn_filters : sequence of int
        Filters of each Conv1D (ReLU) + MaxPooling1D block over the token features.
    cnn_kernel_size, pool_size : int
        Kernel (tokens) of those convolutions and size of their pooling.
    hidden_units : int
        Units of the ReLU Dense layer before the output (256 in the paper).
    dropout : float
        Dropout after that Dense layer (0.5 in the paper).
    attention_dropout : float
        Dropout inside the encoder (after embeddings, attention and feed-forward).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Input ``(batch, npix, channels)``, output ``(batch, num_classes)`` softmax,
        float32 under any dtype policy.

    Example
    -------
    >>> model = bert_cnn(input_shape=(512, 2), num_classes=3, embed_dim=16, num_heads=2,
    ...                  num_layers=1, ff_dim=32, cnn_filters=(8,), hidden_units=16)
    >>> model.output_shape
    (None, 3)
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    patch_size = check_int("patch_size", patch_size)
    embed_dim = check_int("embed_dim", embed_dim)
    num_heads = check_int("num_heads", num_heads)
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim must be divisible by num_heads. "
                         f"Received: embed_dim={embed_dim}, num_heads={num_heads}")
    num_layers = check_int("num_layers", num_layers, minimum=0)
    ff_dim = check_int("ff_dim", ff_dim)
    cnn_filters = check_ints("cnn_filters", cnn_filters)
    cnn_kernel_size = check_int("cnn_kernel_size", cnn_kernel_size)
    pool_size = check_int("pool_size", pool_size)
    hidden_units = check_int("hidden_units", hidden_units)
    dropout = check_rate("dropout", dropout)
    attention_dropout = check_rate("attention_dropout", attention_dropout)
    min_tokens = pool_size ** len(cnn_filters)
    npix, channels = check_input_shape(input_shape, min_npix=patch_size * min_tokens)
    tokens = npix // patch_size

    inputs = keras.Input((npix, channels), name="spectrum")
    x = keras.layers.Conv1D(embed_dim, patch_size, strides=patch_size, padding="valid",
                            name="patch_embed")(inputs)
    x = PositionEmbedding(tokens, name="pos_embed")(x)
    x = keras.layers.Dropout(attention_dropout, name="embed_dropout")(x)
    for i in range(1, num_layers + 1):
        p = f"encoder{i}"
        attn = keras.layers.MultiHeadAttention(num_heads, embed_dim // num_heads,
                                               name=f"{p}_mha")(x, x)
        attn = keras.layers.Dropout(attention_dropout, name=f"{p}_attn_dropout")(attn)
        x = keras.layers.Add(name=f"{p}_attn_add")([x, attn])
        x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{p}_attn_norm")(x)
        ff = keras.layers.Dense(ff_dim, activation="relu", name=f"{p}_ff1")(x)
        ff = keras.layers.Dense(embed_dim, name=f"{p}_ff2")(ff)
        ff = keras.layers.Dropout(attention_dropout, name=f"{p}_ff_dropout")(ff)
        x = keras.layers.Add(name=f"{p}_ff_add")([x, ff])
        x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{p}_ff_norm")(x)
    for j, filters in enumerate(cnn_filters, start=1):
        x = keras.layers.Conv1D(filters, cnn_kernel_size, padding="same", activation="relu",
                                name=f"cnn{j}_conv")(x)
        x = keras.layers.MaxPooling1D(pool_size, name=f"cnn{j}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(dropout, name="hidden_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="proba")(x)
    return keras.Model(inputs, outputs, name=name)
