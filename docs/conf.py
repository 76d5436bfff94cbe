"""Sphinx configuration of the specnet documentation.

Build (warning-free is the rule, ``-W`` turns any warning into an error)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

The code examples of the narrative pages are ``.. doctest::`` blocks run by the
doctest builder (``-b doctest``; ``tests/test_docs.py`` runs both builders).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(REPO))          # import the checkout being documented, not another install
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("SPECNET_OFFLINE", "1")

import specnet  # noqa: E402

# -- project -----------------------------------------------------------------
project = "specnet"
author = "the specnet authors"
copyright = "specnet authors, BSD-3-Clause"
release = specnet.__version__
version = ".".join(release.split(".")[:2])

# -- extensions --------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",      # the docstrings are numpy style
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_click",
    "myst_parser",              # model cards docs/zoo/*.md
    "specnet_docs",             # docs/_ext: generated tables (zoo, formats, MK examples), xref fixes
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "**/README.md", "scripts", "**/.ipynb_checkpoints"]
default_role = "py:obj"
nitpicky = False
suppress_warnings = []

# -- autodoc / autosummary / napoleon ------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_ignore_module_all = True      # document every object once, where it is defined
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "ignore-module-all": True,
}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

# -- doctest: only the explicit ``.. doctest::`` blocks of the narrative pages --
# (docstring examples in the API pages are the modules' own business)
doctest_test_doctest_blocks = ""
doctest_global_setup = f"""
import os as _os
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("MPLBACKEND", "Agg")
from pathlib import Path as _Path
#: the real survey files of the test-suite (shared/data/fixtures beside the clone)
_SHARED = _Path(_os.environ.get("SPECNET_SHARED_DATA", {str(REPO.parent / "shared" / "data")!r}))
"""

# -- myst ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"specnet {release}"
html_static_path = ["_static"]
html_theme_options = {
    "description": "MK spectral types for LAMOST and SDSS spectra with Keras 3",
    "fixed_sidebar": True,
    "show_relbar_bottom": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_show_sourcelink = False
