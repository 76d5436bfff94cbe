"""The documentation builds warning-free and its code examples run.

One HTML build (``sphinx-build -W``, exactly the command of ``docs/README.md``
but into a temporary folder) and one doctest build reusing its doctrees are
shared by the tests of this file; the rest checks that what the pages promise
(the zoo table, the layouts, the API pages, the CLI reference) is really there.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
BUILD_COMMAND = ".venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html"


def _load_extension():
    """The docs' Sphinx extension (``docs/_ext/specnet_docs.py``), imported from its file."""
    spec = importlib.util.spec_from_file_location("specnet_docs", DOCS / "_ext" / "specnet_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


specnet_docs = _load_extension()


def _sphinx(builder: str, out: Path, doctrees: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg", SPECNET_SHARED_DATA=str(SHARED_DATA))
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder, "-d", str(doctrees),
           str(DOCS), str(out)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _problems(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", ln)
            and "absl::InitializeLog" not in ln]


class Build:
    """One sphinx-build run: its output folders and the warnings/errors it printed."""

    def __init__(self, root: Path):
        self.html, self.doctrees = root / "html", root / "doctrees"
        res = _sphinx("html", self.html, self.doctrees)
        self.returncode = res.returncode
        self.problems = _problems(res.stdout + res.stderr)
        self.stderr = res.stderr


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    """One fresh ``-W --keep-going`` HTML build (``--keep-going`` writes every page even on warnings,
    so the content checks below still say what they find when the warning check fails)."""
    return Build(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def built(build):
    """``(html_dir, doctrees_dir)`` of that build."""
    assert (build.html / "index.html").is_file(), build.stderr[-4000:]
    return build.html, build.doctrees


def _text(html_file: Path) -> str:
    """The visible text of a built page (tags stripped, entities of interest decoded)."""
    raw = html_file.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", raw)
    for ent, ch in (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&#8211;", "–"), ("&quot;", '"'),
                    ("&#39;", "'")):
        text = text.replace(ent, ch)
    return " ".join(text.split())


# ---------------------------------------------------------------------------- the build
def test_readme_gives_the_warning_free_build_command():
    assert BUILD_COMMAND in (DOCS / "README.md").read_text()


def test_html_build_is_warning_free(build):
    assert build.returncode == 0 and not build.problems, (
        f"sphinx-build -W failed (rc={build.returncode}):\n" + "\n".join(build.problems or [build.stderr[-4000:]]))


def test_html_build_has_every_page(built):
    html, _ = built
    toc = _text(html / "index.html")
    for page in ("installation", "quickstart", "reading", "labels", "zoo/index", "training", "prediction",
                 "explain", "experiments", "performance", "reference", "cli"):
        assert (html / f"{page}.html").is_file(), page
    assert "Reading spectra" in toc and "The MK label scale" in toc and "API reference" in toc


def test_doctest_examples_of_the_pages_pass(built):
    html, doctrees = built
    out = html.parent / "doctest"
    res = _sphinx("doctest", out, doctrees)
    report = (out / "output.txt").read_text() if (out / "output.txt").exists() else ""
    failed = re.findall(r"\*{20,}\n(File .*?)(?=\*{20,})", report, flags=re.S)
    assert res.returncode == 0, "doctest builder failed:\n" + ("\n".join(failed) or report[-4000:] + res.stderr[-3000:])
    n_tests = int(re.search(r"(\d+) tests?\n", report).group(1))
    failures = [int(n) for n in re.findall(r"(\d+) failures? in", report)]
    assert failures and not any(failures), report[-3000:]
    # every narrative page with examples contributed (a page whose blocks were
    # silently not collected would pass with zero tests)
    for page in ("quickstart", "reading", "labels", "training", "explain"):
        assert re.search(rf"Document: {page}\n-+\n.*?(\d+) tests?", report, flags=re.S), page
    assert n_tests >= 40, report[-2000:]


# ---------------------------------------------------------------------------- generated content
def test_every_public_module_has_an_api_page(built):
    html, _ = built
    import specnet

    missing = []
    for mod in pkgutil.walk_packages(specnet.__path__, "specnet."):
        if any(part.startswith("_") for part in mod.name.split(".")):
            continue
        if not (html / "api" / f"{mod.name}.html").is_file():
            missing.append(mod.name)
    assert not missing, f"modules without an API page: {missing}"
    page = _text(html / "api" / "specnet.labels.html")
    assert "parse_subtype" in page and "format_subtype" in page and "LabelError" in page


def test_reexported_names_link_to_their_definition(built):
    html, _ = built
    raw = (html / "reference.html").read_text(encoding="utf-8")
    # :func:`specnet.io.registry.read_spectrum` and :func:`specnet.labels.parse_subtype` resolve
    assert 'href="api/specnet.io.registry.html#specnet.io.registry.read_spectrum"' in raw
    assert 'href="api/specnet.labels.html#specnet.labels.parse_subtype"' in raw
    # a re-exported name written with its package path resolves to the definition too
    raw = (html / "reading.html").read_text(encoding="utf-8")
    assert "specnet.io.registry.html#specnet.io.registry.read_spectra" in raw


def test_cli_reference_documents_every_command(built):
    html, _ = built
    from specnet.cli import main

    page = _text(html / "cli.html")
    assert "specnet-fit" in page and "specnet-predict" in page

    def names(group, prefix):
        for name, cmd in group.commands.items():
            yield f"{prefix} {name}"
            if hasattr(cmd, "commands"):
                yield from names(cmd, f"{prefix} {name}")

    missing = [n for n in names(main, "specnet") if n not in page]
    assert not missing, missing
    assert "--precision" in page and "--resume" in page and "--catalog" in page


def test_formats_table_lists_every_registered_layout(built):
    html, _ = built
    from specnet.io import formats, get_format

    page = _text(html / "reading.html")
    flat = re.sub(r"\W+", "", page)
    for name in formats():
        assert name in page, name
        assert re.sub(r"\W+", "", get_format(name).description)[:40] in flat, name


def test_mk_examples_table_shows_what_the_parser_returns(built):
    html, _ = built
    from specnet.labels import parse_subtype

    page = _text(html / "labels.html")
    for text in ("m2p5v", "b57v", "07Ia", "K0/K1III/IV"):
        value = f"{parse_subtype(text):g}"
        assert re.search(rf"{re.escape(text)} {re.escape(value)} ", page), (text, value)
    assert re.search(r"WDhotter LabelError", page)


def test_zoo_page_lists_every_manifest(built):
    html, _ = built
    page = _text(html / "zoo" / "index.html")
    manifests = sorted((REPO / "zoo").glob("*.json"))
    for path in manifests:
        name = json.loads(path.read_text()).get("name", path.stem)
        assert name in page, name
    if not manifests:
        assert "No manifest in zoo/ yet" in page
    for card in (DOCS / "zoo").glob("*.md"):
        assert (html / "zoo" / f"{card.stem}.html").is_file(), card.name


def test_zoo_rows_describe_a_manifest(tmp_path):
    """The generator on a manifest as ``specnet-fit`` writes one (classification and regression)."""
    weights = tmp_path / "toy-k.weights.h5"
    weights.write_bytes(b"\0" * 2500)
    grid = {"log_start": 3.5682, "log_step": 1e-4, "npix": 3909, "medium": "vacuum"}
    (tmp_path / "toy-k.json").write_text(json.dumps({
        "name": "toy-k", "architecture": "bert_cnn", "task": "classification",
        "input": {"survey": "sdss", "grid": grid, "normalisation": "minmax"},
        "labels": {"classes": ["K1", "K3", "K5", "K7"]},
        "weights": {"file": weights.name, "sha256": "0" * 64},
        "metrics": {"test": {"accuracy": 0.871, "macro_f1": 0.86, "n": 120}}}))
    (tmp_path / "toy-reg.json").write_text(json.dumps({
        "name": "toy-reg", "architecture": "resnet_regressor", "task": "regression",
        "input": {"survey": "lamost-lrs", "grid": grid, "normalisation": "continuum"},
        "labels": {"scale": "O0=0 ... M9=69", "min": 0.0, "max": 69.0}, "weights": None, "metrics": {}}))
    k, reg = specnet_docs.zoo_rows(tmp_path)
    assert k["name"] == "toy-k" and k["task"] == "classification (4 classes)"
    assert k["labels"] == "K1, K3, K5, K7"
    assert "3700–9099 Å" in k["input"] and "3909 px" in k["input"] and "minmax" in k["input"]
    assert "accuracy 0.871" in k["metrics"] and "2.5 kB" in k["size"]
    assert reg["metrics"] == "not trained yet" and "no weights yet" in reg["size"]
    assert "O0–M9" in reg["labels"]
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json"):
        specnet_docs.zoo_rows(tmp_path)


def test_docstrings_are_made_valid_rst_before_napoleon():
    lines = ["Intro: mae = mean(|e|), ``mean|e|`` and :math:`|x|` stay; fitted ``classes_`` and classes_ too.",
             "", "Several machines", "----------------", "Run it::", "", "    a |b| c_", "",
             "Example", "-------", ">>> abs(-1) | 0", "1"]

    class App:
        class config:
            napoleon_custom_sections = None

    specnet_docs.headings_to_rubrics(App, "module", "m", None, {}, lines)
    assert lines[0] == ("Intro: mae = mean(\\|e\\|), ``mean|e|`` and :math:`|x|` stay; "
                        "fitted ``classes_`` and classes\\_ too.")
    assert ".. rubric:: Several machines" in lines and "----------------" not in lines
    assert "    a |b| c_" in lines                                # literal block untouched
    assert "Example" in lines and "-------" in lines              # napoleon's own section is kept
    assert ">>> abs(-1) | 0" in lines


def test_click_example_blocks_become_code():
    lines = ["Classify FILES.", "", "| Example:", "|   specnet-predict m spec-*.fits --output t.csv", ""]
    specnet_docs.click_examples_as_code(None, None, lines)
    assert lines[:4] == ["Classify FILES.", "", "Example:", ""]
    assert ".. code-block:: shell" in lines and "   specnet-predict m spec-*.fits --output t.csv" in lines
