"""zoo.load/save: untrained entries, unknown names, user model dirs, hashes, cache and offline mode."""
import json
import shutil
import warnings

import keras
import numpy as np
import pytest

from specnet import models, zoo
from specnet.errors import ZooError
from specnet.preprocess import Grid, PreprocessConfig
from tests.models.helpers import toy_batch

#: A short grid so that tiny models train and save in a second.
TINY_GRID = Grid.from_range(5000, 5600)   # 498 px
TINY = {
    "resnet_regressor": {"stem_filters": 4, "widths": [4, 8, 8, 8], "head_units": 8},
    "cnn": {"num_classes": 3, "filters": [4, 8], "hidden_units": 16},
}
LABELS = {"resnet_regressor": {"scale": "O0=0..M9=69", "min": 20.0, "max": 69.0},
          "cnn": {"classes": ["K1", "K3", "K5"]}}


def _tiny_trained(arch, seed=0):
    """A tiny model trained one epoch on a toy batch, and its manifest."""
    pre = PreprocessConfig(grid=TINY_GRID, normalisation="median")
    manifest = zoo.make_manifest(f"tiny-{arch}", arch, TINY[arch], pre, "lamost-lrs", LABELS[arch],
                                 training={"data": "toy batch"})
    keras.utils.set_random_seed(seed)
    model = models.build(arch, **manifest["config"])
    x, y = toy_batch(models.task(arch), input_shape=pre.input_shape)
    model.compile(optimizer="adam", loss=models.default_loss(arch), run_eagerly=True)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return model, manifest, x


@pytest.fixture(scope="module")
def saved_dirs(tmp_path_factory):
    out = {}
    for arch in TINY:
        model, manifest, x = _tiny_trained(arch)
        directory = tmp_path_factory.mktemp(arch) / "model"
        written = zoo.save(model, manifest, directory)
        out[arch] = (directory, written, model.predict(x, verbose=0), x)
    return out


def test_untrained_entry_with_weights_true_says_what_to_do(tmp_path):
    manifest = zoo.info("bertcnn-sdss-k")
    manifest.update(name="bertcnn-draft", weights=None, metrics={})
    (tmp_path / "bertcnn-draft.json").write_text(json.dumps(manifest))
    with pytest.raises(ZooError, match="not trained yet") as info:
        zoo.load(tmp_path / "bertcnn-draft.json")
    assert "weights=False" in str(info.value) and "bertcnn-draft" in str(info.value)
    assert "not trained yet" in zoo.format_info(tmp_path / "bertcnn-draft.json")
    with pytest.warns(UserWarning, match="not trained yet"):
        assert not zoo.load(tmp_path / "bertcnn-draft.json", weights=False).trained


@pytest.mark.parametrize("name", zoo.list())
def test_weights_false_builds_an_untrained_model_even_for_a_trained_entry(name):
    with pytest.warns(UserWarning, match="random, untrained weights"):
        zm = zoo.load(name, weights=False)
    assert not zm.trained and repr(zm).endswith("untrained)")
    if zoo.info(name)["weights"]:
        assert zoo.load(name).trained and repr(zoo.load(name)).endswith(", trained)")


def test_unknown_name_lists_close_matches():
    with pytest.raises(ZooError) as info:
        zoo.load("resnet-lamst", weights=False)
    msg = str(info.value)
    assert "Closest matches: resnet-lamost" in msg and "'resnet-lamst'" in msg
    assert all(name in msg for name in zoo.list())     # and everything that exists
    with pytest.raises(ZooError, match="no such model directory"):
        zoo.load("runs/does/not/exist")


def test_bad_weights_argument():
    with pytest.raises(ValueError, match="Received: weights=3"):
        zoo.load("cnn-sdss-k", weights=3)


@pytest.mark.parametrize("arch", sorted(TINY))
def test_saved_model_dir_loads_with_identical_predictions(arch, saved_dirs):
    directory, written, pred, x = saved_dirs[arch]
    wfile = directory / f"tiny-{arch}.weights.h5"
    assert sorted(p.name for p in directory.iterdir()) == ["manifest.json", wfile.name]
    on_disk = json.loads((directory / "manifest.json").read_text())
    assert on_disk == written
    assert on_disk["weights"]["sha256"] == zoo.sha256_file(wfile)
    assert on_disk["weights"]["size"] == wfile.stat().st_size
    assert on_disk["params"] > 0 and on_disk["flops"] > 0 and on_disk["versions"]["keras"] == keras.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # trained weights: no warning
        zm = zoo.load(directory)
    np.testing.assert_allclose(zm.predict_array(x), pred, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(zoo.load(str(directory / "manifest.json")).predict_array(x), pred, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(zoo.load(directory, weights=wfile).predict_array(x), pred, rtol=1e-6, atol=1e-5)
    assert zm.task == models.task(arch) and zm.manifest["training"] == {"data": "toy batch"}


def test_corrupt_weights_fail_the_hash_check_and_are_never_loaded(saved_dirs, tmp_path, monkeypatch):
    src = saved_dirs["cnn"][0]
    bad = tmp_path / "model"
    shutil.copytree(src, bad)
    wfile = bad / "tiny-cnn.weights.h5"
    data = bytearray(wfile.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wfile.write_bytes(bytes(data))
    expected = json.loads((bad / "manifest.json").read_text())["weights"]["sha256"]

    def never(*args, **kwargs):
        raise AssertionError("load_weights was called on a file that failed its hash check")

    monkeypatch.setattr(keras.Model, "load_weights", never)
    with pytest.raises(ZooError, match="sha256") as info:
        zoo.load(bad)
    msg = str(info.value)
    assert str(wfile) in msg and expected in msg and zoo.sha256_file(wfile) in msg
    with pytest.raises(ZooError, match="sha256"):       # also when the file is named explicitly
        zoo.load(bad, weights=wfile)
    wfile.write_bytes(bytes(data[:-10]))
    with pytest.raises(ZooError, match="wrong size"):
        zoo.load(bad)


def _url_only_entry(saved_dirs, tmp_path):
    """A manifest in its own folder whose weights exist only at a file:// url."""
    src, written, pred, x = saved_dirs["cnn"]
    server = tmp_path / "server"
    server.mkdir()
    shutil.copy(src / "tiny-cnn.weights.h5", server / "tiny-cnn.weights.h5")
    manifest = dict(written, weights=dict(written["weights"], url=(server / "tiny-cnn.weights.h5").as_uri()))
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "manifest.json").write_text(json.dumps(manifest))
    return entry, pred, x


def test_offline_mode_refuses_to_download(saved_dirs, tmp_path, monkeypatch):
    entry, _, _ = _url_only_entry(saved_dirs, tmp_path)
    monkeypatch.setenv("SPECNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPECNET_OFFLINE", "1")
    with pytest.raises(ZooError, match="SPECNET_OFFLINE=1") as info:
        zoo.load(entry)
    assert "file://" in str(info.value) and "tiny-cnn.weights.h5" in str(info.value)


def test_download_goes_to_the_cache_and_is_verified(saved_dirs, tmp_path, monkeypatch):
    entry, pred, x = _url_only_entry(saved_dirs, tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("SPECNET_HOME", str(home))
    monkeypatch.setenv("SPECNET_OFFLINE", "0")
    np.testing.assert_allclose(zoo.load(entry).predict_array(x), pred, rtol=1e-6, atol=1e-5)
    assert (home / "weights" / "tiny-cnn.weights.h5").is_file()
    monkeypatch.setenv("SPECNET_OFFLINE", "1")          # now served from the cache, offline
    np.testing.assert_allclose(zoo.load(entry).predict_array(x), pred, rtol=1e-6, atol=1e-5)
    # a corrupted cache copy is refused, not silently used
    cached = home / "weights" / "tiny-cnn.weights.h5"
    data = bytearray(cached.read_bytes())
    data[100] ^= 0x01
    cached.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="sha256"):
        zoo.load(entry)


def test_save_refuses_a_manifest_that_does_not_describe_the_model(saved_dirs, tmp_path):
    model, manifest, _ = _tiny_trained("cnn")
    wrong = dict(manifest, config=dict(manifest["config"], hidden_units=32))
    with pytest.raises(ZooError, match="parameters"):
        zoo.save(model, wrong, tmp_path / "x")
    with pytest.raises(ZooError, match="'labels'"):
        zoo.save(model, {k: v for k, v in manifest.items() if k != "labels"}, tmp_path / "y")
