"""Every registered zoo manifest: schema-valid, consistent with its builder and its preprocessing."""
import importlib.util
import json
import warnings

import jsonschema
import pytest

from specnet import models, zoo
from specnet.errors import ZooError
from specnet.preprocess import PreprocessConfig
from specnet.zoo.manifest import zoo_dir

ZOO_DIR = zoo_dir()

EXPECTED = {
    "resnet-lamost": ("resnet_regressor", None),
    "bertcnn-sdss-k": ("bert_cnn", ["K1", "K3", "K5", "K7"]),
    "bertcnn-sdss-f": ("bert_cnn", ["F2", "F5", "F9"]),
    "bertcnn-sdss-g": ("bert_cnn", ["G0", "G2", "G5"]),
    "cnn-sdss-k": ("cnn", ["K1", "K3", "K5", "K7"]),
    "cnn-sdss-f": ("cnn", ["F2", "F5", "F9"]),
    "cnn-sdss-g": ("cnn", ["G0", "G2", "G5"]),
}


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(zoo.load_schema())


def test_the_papers_entries_are_registered():
    assert set(EXPECTED) <= set(zoo.list())
    assert zoo.list("bertcnn-*") == ["bertcnn-sdss-f", "bertcnn-sdss-g", "bertcnn-sdss-k"]
    assert zoo.list("*-sdss-k") == ["bertcnn-sdss-k", "cnn-sdss-k"]
    assert zoo.list("no-such-*") == []


@pytest.mark.parametrize("name", zoo.list())
def test_manifest_is_schema_valid_and_consistent(name):
    path = zoo.zoo_dir() / f"{name}.json"
    manifest = json.loads(path.read_text())
    jsonschema.validate(manifest, zoo.load_schema())
    assert manifest["name"] == name
    assert manifest["task"] == models.task(manifest["architecture"])
    # input is exactly PreprocessConfig.to_dict() (+ survey), so prediction can derive it
    inp = dict(manifest["input"])
    survey = inp.pop("survey")
    pre = PreprocessConfig.from_dict(inp)
    assert pre.to_dict() == inp
    assert tuple(manifest["config"]["input_shape"]) == pre.input_shape
    if name in EXPECTED:
        arch, classes = EXPECTED[name]
        assert manifest["architecture"] == arch
        if classes is None:
            assert survey == "lamost-lrs" and pre.normalisation == "continuum" and pre.mask_channel
            assert manifest["config"]["kernel_size"] == 5
            assert 3699 < pre.grid.wave[0] < 3701 and 9098 < pre.grid.wave[-1] < 9101 and pre.grid.npix == 3909
        else:
            assert manifest["labels"]["classes"] == classes
            assert manifest["config"]["num_classes"] == len(classes)
            assert survey == "sdss" and pre.normalisation == "minmax"
            assert 3799 < pre.grid.wave[0] < 3801 and 9197 < pre.grid.wave[-1] < 9201
        if manifest["weights"] is None:
            assert manifest["metrics"] == {}
        else:  # a trained entry: its file is in zoo/ with the recorded size and hash, and it has metrics
            import hashlib

            path = ZOO_DIR / manifest["weights"]["file"]
            data = path.read_bytes()
            assert len(data) == manifest["weights"]["size"] <= 20_000_000
            assert hashlib.sha256(data).hexdigest() == manifest["weights"]["sha256"]
            assert manifest["metrics"] and manifest["training"]["stages"]
    assert manifest["citations"] and manifest["licence"]


@pytest.mark.parametrize("name", zoo.list())
def test_built_model_matches_the_recorded_params_and_flops(name):
    with pytest.warns(UserWarning, match="untrained"):
        zm = zoo.load(name, weights=False)
    assert zm.model.count_params() == zm.manifest["params"]
    assert models.count_flops(zm.model) == zm.manifest["flops"]
    assert zm.model.input_shape[1:] == zm.preprocess_config.input_shape
    assert zm.task == zm.manifest["task"]
    if zm.task == "classification":
        assert zm.classes == zm.manifest["labels"]["classes"]
        assert zm.model.output_shape == (None, len(zm.classes))
    else:
        assert zm.classes is None and zm.model.output_shape == (None, 1)


def test_recipe_regenerates_the_same_manifests(tmp_path):
    spec = importlib.util.spec_from_file_location("make_manifests", zoo.zoo_dir() / "recipes" / "make_manifests.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    assert recipe.main(["--check"]) == 0          # the files on disk are what the recipe makes
    assert recipe.main(["--out", str(tmp_path)]) == 0
    for name in EXPECTED:
        fresh = json.loads((tmp_path / f"{name}.json").read_text())
        assert fresh["params"] == zoo.info(name)["params"] and fresh["flops"] == zoo.info(name)["flops"]


def test_invalid_manifest_is_a_zoo_error_naming_the_field(tmp_path):
    manifest = zoo.info("cnn-sdss-k")
    manifest["task"] = "regresion"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ZooError, match="task") as info:
        zoo.load(path, weights=False)
    assert str(path) in str(info.value)
    manifest = zoo.info("cnn-sdss-k")
    del manifest["labels"]["classes"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ZooError, match="classes"):
        zoo.info(path)


def test_input_shape_must_match_the_grid(tmp_path):
    manifest = zoo.info("cnn-sdss-k")
    manifest["config"]["input_shape"] = [3909, 2]
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ZooError, match="does not match the input grid"):
            zoo.load(tmp_path / "m.json", weights=False)


def test_info_and_format_info():
    m = zoo.info("resnet-lamost")
    m["name"] = "changed"                           # a copy: the registry is untouched
    assert zoo.info("resnet-lamost")["name"] == "resnet-lamost"
    text = zoo.format_info("resnet-lamost")
    assert text.startswith("resnet-lamost — resnet_regressor (regression)")
    for part in ("3700.0–9099.1 Å vacuum", "3909 px", "continuum", "MFLOP", "Wang"):
        assert part in text, part
    assert "K1, K3, K5, K7" in zoo.format_info("cnn-sdss-k")
