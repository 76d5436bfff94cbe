"""Where specnet keeps files of its own: ``$SPECNET_HOME`` (default ``~/.cache/specnet``).

``weights/`` holds downloaded zoo weights, ``cache/`` the parsed template
libraries and degraded template matrices of :mod:`specnet.simulate`.

>>> import os
>>> os.environ["SPECNET_HOME"] = "/tmp/specnet-home"
>>> str(specnet_home())
'/tmp/specnet-home'
>>> del os.environ["SPECNET_HOME"]
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "SPECNET_HOME"


def specnet_home() -> Path:
    """``$SPECNET_HOME`` if set, else ``$XDG_CACHE_HOME/specnet`` or ``~/.cache/specnet`` (not created)."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "specnet"
