"""A tiny trained model shared by the workflow tests (trained once per session)."""
import json

import pytest

#: A ResNet small enough to train in seconds on 2 CPU cores (the paper's layer counts are kept).
TINY_RESNET = {"stem_filters": 4, "widths": [4, 8, 8, 8], "head_units": 8}
TINY_RESNET_JSON = json.dumps(TINY_RESNET)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    from specnet.train import fit

    out = tmp_path_factory.mktemp("fit") / "run"
    return fit("resnet_regressor", demo=True, demo_size=160, epochs=3, batch_size=16, config=TINY_RESNET,
               output=out, seed=1, verbose=0)
