"""Model cards in docs/zoo/ are exactly what the manifests give (zoo/recipes/model_cards.py)."""
from pathlib import Path

import pytest

from specnet import zoo
from specnet.zoo.card import model_card

CARDS = Path(__file__).resolve().parents[2] / "docs" / "zoo"


@pytest.mark.parametrize("name", zoo.list())
def test_committed_card_matches_manifest(name):
    card = CARDS / f"{name}.md"
    assert card.exists(), f"no model card for {name}: run python zoo/recipes/model_cards.py"
    assert card.read_text() == model_card(zoo.info(name)) + "\n", \
        f"docs/zoo/{name}.md is stale: run python zoo/recipes/model_cards.py"


def test_card_shows_mock_and_real_metrics_side_by_side():
    manifest = dict(zoo.info("resnet-lamost"))
    manifest["metrics"] = {"mock_test": {"n": 10, "mae": 0.5}, "real_mock_only": {"n": 98, "mae": 4.2}}
    card = model_card(manifest)
    assert "Mock test split" in card and "Real LAMOST spectra, model trained on mock spectra only" in card
    assert "4.20" in card and "0.50" in card


def test_classifier_card_compares_the_same_run_baselines_and_lists_real_predictions():
    manifest = dict(zoo.info("bertcnn-sdss-f"))
    manifest["metrics"] = {
        "mock_test": {"n": 300, "accuracy": 0.9, "macro_f1": 0.89, "precision": {"F2": 0.81, "F5": 0.9},
                      "recall": {"F2": 0.7, "F5": 0.95}, "f1": {"F2": 0.75, "F5": 0.92}, "support": {"F2": 100, "F5": 200}},
        "real": {"n": 30, "n_exact": 29, "exact_accuracy": 0.41, "nearest_class_accuracy": 0.43,
                 "mean_abs_subtype_error": 2.1},
        "real_predictions": [{"path": "sdss/x.fits", "survey": "SDSS", "label": "F9", "predicted": "F5"}],
        "same_run": {"svm": {"mock_test_accuracy": 0.97, "real": {"exact_accuracy": 0.2}},
                     "chi2_sdss_eigen": {"mock_test_accuracy": None, "real": {"exact_accuracy": 0.3}}},
        "paper_target_accuracy": 0.91}
    card = model_card(manifest)
    assert "accuracy on the 29 labelled with one of the classes" in card and "0.41" in card and "2.10" in card
    assert "## Against the baselines trained in the same run" in card and "SVM (linear)" in card
    assert "min-χ² to SDSS eigen-templates" in card and "0.97" in card and "accuracy 0.91" in card
    assert "| sdss/x.fits" in card and "F5" in card
    assert "| F2    |      0.81 |   0.70 | 0.75 | 100 |" in card
