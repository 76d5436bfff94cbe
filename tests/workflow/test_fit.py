"""specnet-fit: a demo run writes a loadable model and a report; an interrupted run resumes."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.workflow.conftest import TINY_RESNET_JSON


def test_demo_fit_writes_a_model_dir_that_zoo_load_accepts(tiny_run):
    from specnet import zoo

    assert (tiny_run.model_dir / "manifest.json").exists()
    zm = zoo.load(tiny_run.model_dir)
    m = zm.manifest
    assert m["task"] == "regression" and m["architecture"] == "resnet_regressor"
    assert m["weights"]["sha256"] and m["training"]["epochs_run"] >= 1
    assert "embedded demo set" in m["training"]["data"]
    # the manifest records the test metrics that the report shows
    report = json.loads((tiny_run.report_dir / "report.json").read_text())
    assert report["overall"]["mae"] == pytest.approx(m["metrics"]["test"]["mae"])
    for png in ("learning_curves.png", "pred_vs_true.png", "error_hist.png"):
        assert (tiny_run.report_dir / png).stat().st_size > 5000
    # the loaded model predicts what the trained one predicted
    x = np.random.default_rng(0).normal(1, 0.1, (4, *zm.preprocess_config.input_shape)).astype("float32")
    assert np.isfinite(zm.predict_array(x)).all()


def test_fit_refuses_to_clobber_a_finished_run(tiny_run):
    from specnet.train import fit

    with pytest.raises(FileExistsError, match="--resume"):
        fit("resnet_regressor", demo=True, demo_size=50, epochs=1, output=tiny_run.output)


def test_fit_without_data_is_a_clear_error(tmp_path):
    from specnet.train import fit

    with pytest.raises(ValueError, match="Received: train=None"):
        fit("resnet_regressor", output=tmp_path / "x", epochs=1)


def _epochs(log):
    with open(log, newline="") as fh:
        return [int(r["epoch"]) for r in csv.DictReader(fh)]


def test_killed_fit_resumes_from_its_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "specnet.cli", "fit", "resnet_regressor", "--demo", "--demo-size", "160",
           "--epochs", "12", "--patience", "50", "--batch-size", "16", "--config", TINY_RESNET_JSON,
           "--output", str(out), "--seed", "3"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = out / "log.csv"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and len(_epochs(log)) >= 2 and (out / "checkpoints" / "backup").exists():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted: " + proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _epochs(log)
    assert 2 <= len(done_before) < 12 and not (out / "model").exists()

    res = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    epochs = _epochs(log)
    # every epoch appears once: the resumed run started where the killed one stopped
    assert sorted(set(epochs)) == list(range(12)) and len(epochs) <= 12 + 1
    assert (out / "model" / "manifest.json").exists()
