"""Tests of specnet.models (builders, registry, FLOP counts)."""
