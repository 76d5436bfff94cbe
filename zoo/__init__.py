"""Zoo manifests and weights, installed as ``specnet._zoo`` (see setup.py)."""
