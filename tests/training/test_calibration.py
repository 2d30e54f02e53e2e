"""ECE with 15 equal-width bins, NLL and temperature scaling."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest

from mixjax.training import calibration


def _reference_ece(probs, labels, num_bins=15):
  """ECE by an explicit loop over the bins (lower edge open, upper edge closed)."""
  confidence = probs.max(1)
  correct = probs.argmax(1) == labels
  edges = np.linspace(0.0, 1.0, num_bins + 1)
  total = 0.0
  for low, high in zip(edges[:-1], edges[1:], strict=True):
    inside = (confidence > low) & (confidence <= high)
    if inside.any():
      total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
  return total


def _random_probs(n, classes=10, seed=0, scale=3.0):
  rng = np.random.default_rng(seed)
  logits = scale * rng.normal(size=(n, classes)).astype(np.float32)
  return np.asarray(jax.nn.softmax(logits)), rng.integers(0, classes, n)


def test_ece_matches_a_loop_over_the_bins():
  probs, labels = _random_probs(500)
  got = calibration.expected_calibration_error(probs, labels)
  assert got == pytest.approx(_reference_ece(probs, labels), rel=1e-5)
  assert got > 0.1  # Random labels, confident predictions: badly calibrated.


def test_ece_is_zero_when_each_bins_accuracy_is_its_confidence():
  # Confidence 0.8 on class 0 everywhere, and class 0 is right 80% of the time.
  probs = np.tile(np.array([[0.8, 0.2]], np.float32), (10, 1))
  labels = np.array([0] * 8 + [1] * 2)
  assert calibration.expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-6)
  assert calibration.expected_calibration_error(probs, 1 - labels) == pytest.approx(0.6)


def test_a_confidence_on_a_bin_edge_goes_to_the_lower_bin():
  probs = np.array([[2 / 3, 1 / 3]], np.float32)  # 2/3 = 10/15 exactly: bin 9, (9/15, 10/15].
  sums = calibration.bin_sums(probs, np.array([0]), np.ones(1))
  assert int(np.argmax(sums["ece_count"])) == 9


def test_bin_sums_add_over_batches_and_skip_masked_examples():
  probs, labels = _random_probs(64, seed=1)
  mask = np.arange(64) < 50
  whole = calibration.bin_sums(probs[:50], labels[:50], np.ones(50))
  first = calibration.bin_sums(probs[:32], labels[:32], mask[:32])
  second = calibration.bin_sums(probs[32:], labels[32:], mask[32:])
  for key in whole:
    np.testing.assert_allclose(first[key] + second[key], whole[key], rtol=1e-6, atol=1e-6)


def test_nll_is_the_mean_cross_entropy_at_temperature():
  rng = np.random.default_rng(2)
  logits = rng.normal(size=(20, 5)).astype(np.float32)
  labels = rng.integers(0, 5, 20)
  expected = optax.softmax_cross_entropy_with_integer_labels(logits / 2.0, labels).mean()
  assert calibration.nll(logits, labels, temperature=2.0) == pytest.approx(float(expected))


def test_fit_temperature_recovers_the_temperature_of_overconfident_logits():
  # Labels drawn from softmax(z); the model reports 3·z: the NLL-optimal T is close to 3.
  rng = np.random.default_rng(3)
  z = rng.normal(size=(20000, 10)).astype(np.float32)
  p = np.asarray(jax.nn.softmax(z), np.float64)
  labels = (p.cumsum(1) > rng.random((20000, 1))).argmax(1)
  temperature = calibration.fit_temperature(3.0 * z, labels)
  assert temperature == pytest.approx(3.0, rel=0.05)
  assert calibration.nll(3 * z, labels, temperature) < calibration.nll(3 * z, labels)
