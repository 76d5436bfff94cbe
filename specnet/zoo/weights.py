"""Where a manifest's weight file is found, and the sha256 check before anything is loaded.

Resolution order for ``weights=True`` (keras.applications style):

1. beside the manifest: the installed package folder ``specnet._zoo`` for a zoo
   name, or the model directory for ``load(path)``;
2. the cache ``$SPECNET_HOME/weights/`` (``SPECNET_HOME`` defaults to ``~/.cache/specnet``);
3. the manifest's ``url``, downloaded into that cache with
   ``keras.utils.get_file`` — unless ``SPECNET_OFFLINE=1``, which forbids the network.

Every file found is checked against the manifest's ``sha256`` (and ``size``) before it
is handed to Keras; a mismatch raises :class:`~specnet.errors.ZooError` and the file
is never loaded.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from specnet.errors import ZooError

#: Environment variables read here.
ENV_HOME = "SPECNET_HOME"
ENV_OFFLINE = "SPECNET_OFFLINE"


def cache_dir() -> Path:
    """``$SPECNET_HOME`` or ``~/.cache/specnet`` (not created here).

    >>> cache_dir().name in ("specnet", os.path.basename(os.environ.get("SPECNET_HOME", "")))
    True
    """
    from specnet.paths import specnet_home

    return specnet_home()


def weights_cache_dir() -> Path:
    """Folder of cached weight files: ``cache_dir() / "weights"``."""
    return cache_dir() / "weights"


def is_offline() -> bool:
    """True when ``SPECNET_OFFLINE`` is set to something other than ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: str | os.PathLike, sha256: str | None, size: int | None = None,
                name: str = "") -> Path:
    """Check ``path`` against the manifest's ``sha256`` and ``size``; return it as a Path.

    Raises :class:`ZooError` naming the file, the expected and the actual value.
    """
    path = Path(path)
    label = f"{name}: " if name else ""
    if size is not None:
        actual_size = path.stat().st_size
        if actual_size != int(size):
            raise ZooError(f"{label}weight file {path} has the wrong size: expected {int(size)} bytes, "
                           f"got {actual_size}; the file was not loaded (delete it and try again)")
    if sha256:
        actual = sha256_file(path)
        if actual != sha256.lower():
            raise ZooError(f"{label}weight file {path} fails its sha256 check: expected {sha256.lower()}, "
                           f"got {actual}; the file was not loaded (delete it and try again)")
    return path


def resolve_weights(manifest: dict, base_dir: str | os.PathLike | None) -> Path:
    """The verified local path of ``manifest['weights']['file']`` (downloading it if allowed).

    Parameters
    ----------
    manifest : dict
        A validated manifest whose ``weights`` is not null.
    base_dir : path or None
        The folder the manifest came from (package zoo folder or model directory).
    """
    name = manifest.get("name", "?")
    entry = manifest.get("weights")
    if not entry:
        raise ZooError(f"{name}: the weights are not trained yet (manifest 'weights' is null); "
                       f"load it with weights=False to build it untrained")
    fname, sha, size, url = entry["file"], entry.get("sha256"), entry.get("size"), entry.get("url")
    if os.path.basename(fname) != fname:
        raise ZooError(f"{name}: weights.file must be a bare file name. Received: file={fname!r}")
    tried = []
    candidates = []
    if base_dir is not None:
        candidates.append(Path(base_dir) / fname)
    candidates.append(weights_cache_dir() / fname)
    for path in candidates:
        tried.append(str(path))
        if path.is_file():
            return verify_file(path, sha, size, name)
    if not url:
        raise ZooError(f"{name}: weight file {fname} not found (looked in {', '.join(tried)}) and the "
                       f"manifest gives no url to download it from")
    if is_offline():
        raise ZooError(f"{name}: weight file {fname} not found (looked in {', '.join(tried)}) and "
                       f"{ENV_OFFLINE}=1 forbids downloading it from {url}; unset {ENV_OFFLINE} or put "
                       f"the file in {weights_cache_dir()}")
    import keras

    try:
        # get_file falls back to /tmp/.keras when cache_dir is not (yet) writable: create it first
        weights_cache_dir().mkdir(parents=True, exist_ok=True)
        got = keras.utils.get_file(fname=fname, origin=url, file_hash=sha, hash_algorithm="sha256",
                                   cache_dir=str(cache_dir()), cache_subdir="weights")
    except Exception as exc:  # network errors, hash mismatch of the download
        raise ZooError(f"{name}: could not download weight file {fname} from {url}: {exc}") from None
    return verify_file(got, sha, size, name)
