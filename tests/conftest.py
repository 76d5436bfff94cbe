"""Shared pytest fixtures: where the real data lives (``../shared/data``)."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The real data folder; CI has ``shared/`` beside the checkout. Override with SPECNET_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("SPECNET_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = SHARED_DATA / "fixtures"
TEMPLATES = SHARED_DATA / "templates"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("SPECNET_OFFLINE", "1")


def fixture_rows() -> list[dict]:
    """Rows of ``fixtures/index.csv`` with ``path`` made absolute."""
    with open(FIXTURES / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["abspath"] = str(FIXTURES / row["path"])
    return rows


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder {SHARED_DATA} is missing: CI must have shared/ beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures_dir(shared_data) -> Path:
    return shared_data / "fixtures"


@pytest.fixture(scope="session")
def templates_dir(shared_data) -> Path:
    return shared_data / "templates"
