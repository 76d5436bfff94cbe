"""Tests of specnet.data: ingest, shards, tf.data pipelines, augmentation, precision, distribution."""
