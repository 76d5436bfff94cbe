"""Write the model card of every zoo entry to ``docs/zoo/<name>.md`` (from its manifest).

    python zoo/recipes/model_cards.py

``tests/zoo/test_cards.py`` fails when a committed card differs from what its
manifest gives, so rerun this after changing a manifest.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    from specnet import zoo
    from specnet.zoo.card import model_card

    out = REPO / "docs" / "zoo"
    out.mkdir(parents=True, exist_ok=True)
    for name in zoo.list():
        (out / f"{name}.md").write_text(model_card(zoo.info(name)) + "\n")
        print(f"docs/zoo/{name}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
