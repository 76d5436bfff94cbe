"""Tests of ``specnet.simulate``; shared, process-wide cached inputs (real data, read in place)."""
from __future__ import annotations

import functools
import warnings

from tests.conftest import FIXTURES, TEMPLATES  # noqa: F401  (re-exported for the test modules)


@functools.lru_cache(maxsize=1)
def real_library():
    """Every real template under ``shared/data/templates`` (the loader's own cache makes reloads fast)."""
    from specnet.simulate import TemplateLibrary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TemplateLibrary.from_path(TEMPLATES)


@functools.lru_cache(maxsize=4)
def matrix(profile: str):
    """The real library degraded to ``profile`` (built once per process, cached on disk too)."""
    from specnet.simulate import template_matrix

    return template_matrix(real_library(), profile)
