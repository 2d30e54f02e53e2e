"""Tests for the normalisation statistics (`mixjax.data.stats`)."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.data import stats


def test_channel_stats_match_numpy_over_every_axis_but_the_last():
  x = np.random.default_rng(0).integers(0, 256, (9000, 3, 2, 3), dtype=np.uint8)  # > 1 chunk
  mean, std = stats.channel_stats(x)
  assert mean.dtype == std.dtype == np.float32 and mean.shape == std.shape == (3,)
  wide = x.astype(np.float64)
  np.testing.assert_allclose(mean, wide.mean(axis=(0, 1, 2)), rtol=1e-6)
  np.testing.assert_allclose(std, wide.std(axis=(0, 1, 2)), rtol=1e-5)


def test_chunks_give_the_statistics_of_their_concatenation():
  rng = np.random.default_rng(1)
  chunks = [rng.normal(3.0, 2.0, (n, 4)).astype(np.float32) for n in (1, 7, 50)]
  whole = stats.channel_stats(np.concatenate(chunks))
  parts = stats.channel_stats_from_chunks(iter(chunks))
  for a, b in zip(whole, parts, strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_constant_channel_gets_a_standard_deviation_of_one():
  x = np.stack([np.full(10, 5.0), np.arange(10.0)], axis=-1)
  mean, std = stats.channel_stats(x)
  np.testing.assert_allclose(mean, [5.0, 4.5])
  np.testing.assert_allclose(std, [1.0, np.arange(10.0).std()], rtol=1e-6)


def test_a_constant_channel_of_any_value_gets_one():
  """0.1 and 3.3 are not dyadic: E[x²] − E[x]² of them is ~1e-8, not 0."""
  x = np.stack([np.full(1000, 0.1), np.full(1000, 3.3), np.linspace(0, 1, 1000)], axis=-1)
  chunks = [x[:0], x[:400].astype(np.float32), x[400:].astype(np.float32)]
  for mean, std in (stats.channel_stats(x), stats.channel_stats_from_chunks(chunks)):
    np.testing.assert_allclose(mean, [0.1, 3.3, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(std[:2], [1.0, 1.0])
    np.testing.assert_allclose(std[2], np.linspace(0, 1, 1000).std(), rtol=1e-5)


def test_an_empty_split_is_refused():
  with pytest.raises(ValueError, match="empty training split"):
    stats.channel_stats(np.zeros((0, 3), np.float32))
  with pytest.raises(ValueError, match="empty training split"):
    stats.channel_stats_from_chunks([])
