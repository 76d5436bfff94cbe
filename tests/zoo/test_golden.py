"""Golden tests: every trained zoo entry, loaded from the installed package, predicts what it did at training time.

The inputs are mock spectra from the built-in templates (no file from ``../shared``),
and ``SPECNET_OFFLINE=1`` makes sure the weights come from the package itself.
"""
import numpy as np
import pytest

from specnet import zoo

TRAINED = [n for n in zoo.list() if zoo.info(n).get("weights")]


def test_trained_entries_record_golden_outputs():
    assert TRAINED, "no zoo entry has weights"
    for name in TRAINED:
        assert "golden" in zoo.info(name), f"{name} has weights but no golden outputs (zoo/recipes/golden.py)"


@pytest.mark.parametrize("name", TRAINED)
def test_installed_entry_matches_its_golden_outputs(name, monkeypatch):
    from specnet.zoo.golden import golden_outputs

    monkeypatch.setenv("SPECNET_OFFLINE", "1")
    zm = zoo.load(name)
    record = zm.manifest["golden"]
    np.testing.assert_allclose(golden_outputs(zm), np.asarray(record["outputs"]), atol=record["atol"])
