"""Record golden predictions for trained zoo entries (see :mod:`specnet.zoo.golden`).

    python zoo/recipes/golden.py resnet-lamost [more names...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(names: list[str]) -> int:
    from specnet import zoo
    from specnet.zoo.golden import golden_record

    for name in names:
        path = REPO / "zoo" / f"{name}.json"
        entry = json.loads(path.read_text())
        entry["golden"] = golden_record(zoo.load(name))
        path.write_text(json.dumps(entry, indent=2) + "\n")
        print(f"{name}: recorded {len(entry['golden']['outputs'])} golden outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
