"""Training catalogues: which files to ingest and what their labels are.

A catalogue is a CSV with (at least) a ``path`` column and a label column, or a
folder of spectrum files. Paths in a CSV may be relative: they are resolved
against the CSV's own folder (so ``mock_survey(..., out_dir=d)`` output, whose
``catalogue.csv`` holds paths relative to ``d``, ingests as is).

* A folder holding ``catalogue.csv`` (or ``catalog.csv``) is read through that file.
* Any other folder is scanned recursively for ``.fits``, ``.fit``, ``.fits.gz``,
  ``.fit.gz`` and ``.fts`` files; their labels are then taken from each file's
  own header (``Spectrum.meta["subclass"]``) when it is read (``label=None``).

Rows are always **sorted by path** (then label), so that shard assignment in
:func:`specnet.data.ingest` is deterministic whatever order the CSV or the file
system lists them in. Only paths and labels are kept (two lists of strings),
never spectra: 10^6 rows cost ~150 MB.

Labels become training targets with :func:`label_to_target`:

* ``task="regression"``: the numeric subtype on the O0=0 … M9=69 (L0=70 … T9=89)
  scale, from :func:`specnet.labels.parse_subtype` (``"K3V"`` → 53.0); a label
  that is already a number on that scale (``"53.5"``) is taken as is.
* ``task="classification"``: the index of the label in ``classes``; a label that
  is not literally a class name is canonicalised first (``"K3V"`` → ``"K3"``).

Example
-------
>>> from specnet.data.catalogue import label_to_target
>>> label_to_target("K3V")
53.0
>>> label_to_target("K3V", task="classification", classes=["K1", "K3", "K5"])
1
"""
from __future__ import annotations

import csv
import dataclasses
import math
import os
from pathlib import Path
from typing import Iterable, Sequence

from specnet.errors import LabelError

TASKS = ("regression", "classification")
#: File name endings scanned for when a plain folder is given.
SPECTRUM_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz", ".fts")
#: Catalogue file names looked for at the top of a folder.
CATALOGUE_NAMES = ("catalogue.csv", "catalog.csv")
#: Label columns tried in order when ``label_column`` is not given.
LABEL_COLUMNS = ("label", "subclass", "spectral_type", "sptype", "spt", "mk")


@dataclasses.dataclass
class Catalogue:
    """Sorted file paths and their label strings.

    Attributes
    ----------
    paths : list of str
        Absolute (or as-given, if absolute already) paths, sorted.
    labels : list of (str or None)
        Label text per path; ``None`` = take it from the file header.
    source : str
        The CSV or folder this came from.

    Example
    -------
    >>> cat = Catalogue(["/a.fits", "/b.fits"], ["K3", None], "x.csv")
    >>> len(cat), cat.rows()[1]
    (2, ('/b.fits', None))
    """

    paths: list[str]
    labels: list[str | None]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.labels):
            raise ValueError(
                f"Catalogue paths and labels must have the same length. "
                f"Received: len(paths)={len(self.paths)}, len(labels)={len(self.labels)}")

    def __len__(self) -> int:
        return len(self.paths)

    def rows(self) -> list[tuple[str, str | None]]:
        """``(path, label)`` tuples in catalogue order."""
        return list(zip(self.paths, self.labels))

    def sorted(self) -> "Catalogue":
        """A copy sorted by path, then label (``None`` first)."""
        order = sorted(range(len(self)), key=lambda i: (self.paths[i], self.labels[i] is not None,
                                                        self.labels[i] or ""))
        return Catalogue([self.paths[i] for i in order], [self.labels[i] for i in order], self.source)


def _is_spectrum_file(name: str) -> bool:
    low = name.lower()
    return any(low.endswith(s) for s in SPECTRUM_SUFFIXES)


def scan_folder(folder: str | os.PathLike) -> list[str]:
    """Every spectrum file under ``folder`` (recursive, sorted absolute paths).

    Hidden folders (``.ingest`` and the like) are skipped.

    >>> scan_folder("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: ...
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"scan_folder needs an existing folder. Received: folder={str(folder)!r}")
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.abspath(os.path.join(root, f)) for f in files if _is_spectrum_file(f))
    return sorted(out)


def read_catalogue(catalogue_or_folder: str | os.PathLike | Catalogue,
                   label_column: str | None = None, path_column: str = "path") -> Catalogue:
    """Read a catalogue CSV or a folder into a sorted :class:`Catalogue`.

    Parameters
    ----------
    catalogue_or_folder : str, PathLike or Catalogue
        A CSV file, a folder with ``catalogue.csv``, or a folder of spectrum
        files (labels then come from the file headers).
    label_column : str, optional
        Column holding the label; by default the first of :data:`LABEL_COLUMNS`
        present. A CSV with none of them gives ``label=None`` rows.
    path_column : str
        Column holding the file path (relative paths are resolved against the
        CSV's folder).

    Returns
    -------
    Catalogue

    Example
    -------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "cat.csv").write_text("path,label\\nb.fits,K3\\na.fits,G2V\\n")
    >>> cat = read_catalogue(d / "cat.csv")
    >>> [pathlib.Path(p).name for p in cat.paths], cat.labels
    (['a.fits', 'b.fits'], ['G2V', 'K3'])
    """
    if isinstance(catalogue_or_folder, Catalogue):
        return catalogue_or_folder.sorted()
    src = Path(catalogue_or_folder)
    if src.is_dir():
        for name in CATALOGUE_NAMES:
            if (src / name).is_file():
                return read_catalogue(src / name, label_column, path_column)
        paths = scan_folder(src)
        return Catalogue(paths, [None] * len(paths), str(src))
    if not src.is_file():
        raise ValueError(f"catalogue must be a CSV file or a folder. Received: "
                         f"catalogue_or_folder={str(catalogue_or_folder)!r} (does not exist)")
    base = src.resolve().parent
    paths: list[str] = []
    labels: list[str | None] = []
    with open(src, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if path_column not in fields:
            raise ValueError(f"catalogue {str(src)!r} has no {path_column!r} column. "
                             f"Received: columns={fields}")
        if label_column is None:
            label_column = next((c for c in LABEL_COLUMNS if c in fields), None)
        elif label_column not in fields:
            raise ValueError(f"catalogue {str(src)!r} has no {label_column!r} column. "
                             f"Received: label_column={label_column!r}, columns={fields}")
        for row in reader:
            p = (row.get(path_column) or "").strip()
            if not p:
                continue
            paths.append(p if os.path.isabs(p) else str(base / p))
            labels.append(None if label_column is None else (row.get(label_column) or ""))
    return Catalogue(paths, labels, str(src)).sorted()


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value


def label_to_target(text, task: str = "regression", classes: Sequence[str] | None = None):
    """Turn one label into a training target.

    Parameters
    ----------
    text : str or number
        An MK type (``"K3V"``, ``"dM0"``, ``"m2p5v"``...) or a number on the subtype scale.
    task : {"regression", "classification"}
    classes : sequence of str
        Class names (classification only; required there).

    Returns
    -------
    float (regression: subtype, O0=0 … M9=69) or int (classification: class index)

    Raises
    ------
    LabelError
        Not an MK type (``"QSO"``, ``""``), a number off the scale, or not one of ``classes``.

    Example
    -------
    >>> label_to_target("53.5"), label_to_target("G2", "classification", ["G0", "G2", "G5"])
    (53.5, 1)
    """
    from specnet.labels import SUBTYPE_MAX, SUBTYPE_MIN, format_subtype, parse_subtype

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}. Received: task={task!r}")
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text).strip() == "":
        raise LabelError(f"empty label: {text!r}")
    s = str(text).strip()
    if task == "regression":
        num = _as_number(s)
        if num is not None:
            if not (math.isfinite(num) and SUBTYPE_MIN <= num <= SUBTYPE_MAX):
                raise LabelError(f"numeric label {s!r} is off the subtype scale "
                                 f"[{SUBTYPE_MIN}, {SUBTYPE_MAX}]")
            return float(num)
        return float(parse_subtype(s))
    if not classes:
        raise ValueError(f"classification needs a non-empty list of classes. Received: classes={classes!r}")
    classes = list(classes)
    if s in classes:
        return classes.index(s)
    value = parse_subtype(s)  # LabelError for non-MK text
    for decimals in (0, 1):
        name = format_subtype(value, decimals=decimals)
        if name in classes:
            return classes.index(name)
    raise LabelError(f"label {s!r} ({format_subtype(value, decimals=1)}) is not one of the classes {classes}")


def infer_classes(labels: Iterable) -> list[str]:
    """Class names (``"K3"``-style, sorted along the subtype scale) found in ``labels``.

    Labels that are not MK types are ignored (they become rejects at ingest).

    >>> infer_classes(["K3V", "K1", "QSO", "K3", None])
    ['K1', 'K3']
    """
    from specnet.labels import format_subtype, parse_subtype

    found: dict[str, float] = {}
    for text in labels:
        if text is None or str(text).strip() == "":
            continue
        try:
            value = parse_subtype(str(text).strip())
        except (LabelError, ValueError):
            continue
        name = format_subtype(value)
        found.setdefault(name, value)
    return sorted(found, key=lambda n: (found[n], n))
