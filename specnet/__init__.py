"""specnet: MK spectral types for LAMOST and SDSS stellar spectra with Keras 3.

Importing :mod:`specnet` is light: TensorFlow/Keras are only imported by the
sub-packages that need them (``specnet.models``, ``specnet.zoo``, ...).

>>> import specnet
>>> specnet.parse_subtype("K3V")
53.0
"""
__version__ = "0.1.0"

from specnet.errors import LabelError, SpectrumFormatError, ZooError  # noqa: F401
from specnet.spectrum import Spectrum  # noqa: F401
from specnet.labels import format_subtype, luminosity_class, parse_subtype  # noqa: F401

__all__ = [
    "Spectrum",
    "SpectrumFormatError",
    "LabelError",
    "ZooError",
    "parse_subtype",
    "format_subtype",
    "luminosity_class",
    "__version__",
]
