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
