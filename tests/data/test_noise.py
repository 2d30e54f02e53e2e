"""Tests for symmetric label noise (`mixjax.data.noise.corrupt_labels`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mixjax import data
from mixjax.data import noise


@pytest.mark.parametrize("n, fraction", [(100, 0.0), (100, 0.25), (101, 0.5), (7, 0.3), (50, 1.0)])
def test_corrupt_labels_changes_exactly_round_fraction_n(n, fraction):
  labels = np.arange(n) % 5
  new, corrupted = data.corrupt_labels(labels, fraction=fraction, num_classes=5, seed=1)
  assert corrupted.dtype == np.int64 and corrupted.shape == (round(fraction * n),)
  assert len(np.unique(corrupted)) == len(corrupted) and np.all(np.diff(corrupted) > 0)
  assert new.dtype == labels.dtype and new.shape == labels.shape
  keep = np.setdiff1d(np.arange(n), corrupted)
  np.testing.assert_array_equal(new[keep], labels[keep])
  assert new.min() >= 0 and new.max() < 5
  np.testing.assert_array_equal(labels, np.arange(n) % 5)  # Input untouched.


def test_corrupt_labels_zero_fraction_is_identity():
  labels = np.array([3, 1, 2, 0], np.int32)
  new, corrupted = data.corrupt_labels(labels, fraction=0.0, num_classes=4, seed=0)
  np.testing.assert_array_equal(new, labels)
  assert new is not labels and corrupted.shape == (0,) and corrupted.dtype == np.int64


def test_corrupt_labels_is_deterministic_by_seed():
  labels = np.zeros(1000, np.int64)
  a = data.corrupt_labels(labels, fraction=0.4, num_classes=10, seed=7)
  b = data.corrupt_labels(labels, fraction=0.4, num_classes=10, seed=7)
  c = data.corrupt_labels(labels, fraction=0.4, num_classes=10, seed=8)
  np.testing.assert_array_equal(a[0], b[0])
  np.testing.assert_array_equal(a[1], b[1])
  assert not np.array_equal(a[1], c[1])


def test_corrupted_labels_are_uniform_over_all_classes():
  labels = np.zeros(20_000, np.int64)
  new, corrupted = data.corrupt_labels(labels, fraction=1.0, num_classes=10, seed=0)
  counts = np.bincount(new[corrupted], minlength=10)
  assert stats.chisquare(counts).pvalue > 1e-3
  # The redrawn label may coincide with the true one (about 1 in num_classes).
  assert abs(np.mean(new == 0) - 0.1) < 0.01
  # The corrupted examples are spread over the whole split.
  _, few = data.corrupt_labels(labels, fraction=0.1, num_classes=10, seed=0)
  assert stats.kstest(few / 20_000, "uniform").pvalue > 1e-3


@pytest.mark.parametrize(
  "labels, kwargs, match",
  [
    (np.zeros(4, np.int64), dict(fraction=1.01), r"fraction.*\[0, 1\], got 1.01"),
    (np.zeros(4, np.int64), dict(fraction=-0.5), "fraction"),
    (np.zeros(4, np.int64), dict(num_classes=0), "num_classes.*positive int, got 0"),
    (np.zeros(4, np.float32), {}, "labels.*1-D integer.*float32"),
    (np.zeros((2, 2), np.int64), {}, r"labels.*1-D integer.*\(2, 2\)"),
    (np.array([0, 3]), dict(num_classes=3), r"labels.*\[0, num_classes=3\).*\[0, 3\]"),
    (np.zeros(4, np.int64), dict(seed=-3), "seed"),
  ],
)
def test_corrupt_labels_errors(labels, kwargs, match):
  kwargs = {"fraction": 0.5, "num_classes": 3, "seed": 0, **kwargs}
  with pytest.raises(ValueError, match=match):
    data.corrupt_labels(labels, **kwargs)


def test_the_noise_stream_is_the_documented_one():
  labels = np.arange(50) % 5
  new, corrupted = noise.corrupt_labels(labels, fraction=0.4, num_classes=5, seed=11)
  # Seeded with a spawn key of its own, so it never replays an epoch order [seed, epoch].
  rng = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(noise._NOISE_STREAM,)))
  expected = np.sort(rng.choice(50, size=20, replace=False))
  np.testing.assert_array_equal(corrupted, expected)
  np.testing.assert_array_equal(new[corrupted], rng.integers(0, 5, size=20))
