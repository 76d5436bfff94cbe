"""Tests of specnet.zoo (manifests, weights, load/save, classify)."""
