"""Mock surveys from real template libraries.

* :class:`TemplateLibrary` / :class:`Template` -- labelled templates (vacuum Å), loaded
  from ``shared/data/templates`` with :meth:`TemplateLibrary.from_path` (cached);
* :class:`SurveyProfile`, :func:`get_profile`, :func:`register_profile` -- ``lamost-lrs``,
  ``lamost-dr1``, ``sdss``, calibrated on the real fixtures;
* :func:`mock_survey` -- labelled survey-like spectra (in memory and/or written as real
  LAMOST/SDSS FITS files + ``catalogue.csv``), vectorised and parallel;
* :func:`write_spectrum` -- the FITS writers;
* :func:`stratified_split`, :func:`kfold` -- reproducible splits stratified on subtype;
* :func:`builtin_library` -- the small demo library shipped with the package.

>>> from specnet.simulate import profile_names
>>> {"lamost-dr1", "lamost-lrs", "sdss"} <= set(profile_names())
True
"""
from specnet.simulate.library import Template, TemplateLibrary
from specnet.simulate.mock import ALL_EFFECTS, mock_survey, render_batch, template_matrix
from specnet.simulate.profiles import MaskModel, SurveyProfile, get_profile, profile_names, register_profile
from specnet.simulate.splits import kfold, stratified_split
from specnet.simulate.write import LAYOUTS, write_spectrum

__all__ = [
    "Template", "TemplateLibrary", "SurveyProfile", "MaskModel", "get_profile", "register_profile", "profile_names",
    "mock_survey", "render_batch", "template_matrix", "ALL_EFFECTS", "write_spectrum", "LAYOUTS",
    "stratified_split", "kfold", "builtin_library",
]


def __getattr__(name):
    # builtin.py is written separately; import it lazily so this package works without it.
    if name == "builtin_library":
        from specnet.simulate.builtin import builtin_library

        return builtin_library
    raise AttributeError(f"module 'specnet.simulate' has no attribute {name!r}")
