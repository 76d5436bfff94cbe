"""Readers for LAMOST, SDSS, template-library and ASCII spectra.

>>> from specnet.io import read_spectrum, formats
>>> sorted(formats())[:2]  # doctest: +SKIP
['ascii', 'hammer']

``read_spectrum(path)`` identifies the layout (or take ``format=``) and returns
a :class:`specnet.Spectrum` with wavelengths in Å.
"""
from specnet.errors import SpectrumFormatError
from specnet.io.registry import (Format, formats, get_format, identify, read_spectra,
                                 read_spectrum, register_format)

# Importing the layout modules registers their readers.
from specnet.io import lamost, sdss, templates, ascii  # noqa: E402,F401

__all__ = ["read_spectrum", "read_spectra", "identify", "formats", "get_format",
           "register_format", "Format", "SpectrumFormatError"]
