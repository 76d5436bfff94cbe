"""Golden predictions: fixed inputs the package makes itself, and a trained entry's outputs on them.

Every trained zoo entry records, at training time, its raw outputs on
:func:`golden_inputs` (mock spectra from the built-in templates, no external
file). ``tests/zoo/test_golden.py`` reloads each entry from the installed
package and checks it still gives the same numbers, so a silent change in
preprocessing, the builders, Keras or the weights file is caught.

>>> from specnet.zoo.golden import GOLDEN_N
>>> GOLDEN_N
8
"""
from __future__ import annotations

import numpy as np

GOLDEN_N = 8
GOLDEN_SEED = 20261121


def golden_inputs(manifest: dict) -> list:
    """``GOLDEN_N`` mock spectra of the entry's survey profile (and classes, for a classifier)."""
    from specnet.demo import demo_spectra

    classes = manifest["labels"].get("classes")
    survey = manifest["input"].get("survey", "lamost-lrs")
    spectra, _ = demo_spectra(GOLDEN_N, classes=classes, profile=survey, seed=GOLDEN_SEED)
    return spectra


def golden_outputs(zm) -> np.ndarray:
    """Raw model outputs of a :class:`~specnet.zoo.ZooModel` on its golden inputs, float64."""
    from specnet.preprocess import preprocess

    x, _ = preprocess(golden_inputs(zm.manifest), zm.preprocess_config)
    return np.asarray(zm.predict_array(x), np.float64)


def golden_record(zm, atol: float = 1e-3) -> dict:
    """The ``golden`` manifest field for ``zm``: how the inputs are made, the outputs, the tolerance."""
    return {
        "inputs": f"specnet.demo.demo_spectra({GOLDEN_N}, classes=labels.classes, profile=input.survey, "
                  f"seed={GOLDEN_SEED})",
        "outputs": np.round(golden_outputs(zm), 5).tolist(),
        "atol": atol,
    }
