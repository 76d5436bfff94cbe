"""The three error types of specnet; all are ``ValueError`` subclasses.

Each message names the file (or label, or zoo name) and the reason, so that a
batch job can write it straight into a rejects row.
"""


class SpectrumFormatError(ValueError):
    """A file or object that cannot be read as a spectrum.

    The message names the file and what is wrong (empty, truncated, not FITS,
    unknown layout and which layouts were tried, ...).
    """


class LabelError(ValueError):
    """A label that is not an MK spectral type (``"QSO"``, ``"WDhotter"``, ``""``)."""


class ZooError(ValueError):
    """An unknown zoo name, a bad manifest, or a weight file whose hash does not match."""
