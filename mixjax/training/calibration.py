"""Calibration metrics: expected calibration error, NLL and temperature scaling.

* ECE (Guo et al. 2017, "On Calibration of Modern Neural Networks", arXiv 1706.04599):
  the predictions are put in `NUM_BINS` = 15 equal-width bins of confidence (the top
  softmax probability), bin b holding the confidences in `(b / 15, (b + 1) / 15]`;
  ECE = Σ_b (n_b / N) |accuracy_b − confidence_b|. The eval step sums, per bin, the
  count, the confidences and the correct predictions (:func:`bin_sums`), so the metric
  sums over batches, devices and processes like the others; :func:`ece_from_sums`
  finishes it.
* NLL: the mean negative log-likelihood of the true label (what `test_loss` is, since
  the eval step uses the integer labels, never smoothed or mixed targets).
* Temperature scaling (Guo et al. 2017): one scalar T > 0 dividing the logits, fitted by
  minimising the NLL on held-out data (:func:`fit_temperature`); it never changes the
  predicted class, so accuracy stays the same.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import optimize

NUM_BINS = 15


def bin_sums(probs: jax.Array, labels: jax.Array, mask: jax.Array, num_bins: int = NUM_BINS):
  """Per-bin sums of the reliability statistics of one (masked) batch.

  Args:
    probs: float `[b, num_classes]` predicted probabilities.
    labels: int `[b]` true labels.
    mask: `[b]`, 1 where the example counts (0 on padding).
    num_bins: the number of equal-width confidence bins.

  Returns:
    dict of float32 `[num_bins]`: `ece_count` (examples), `ece_confidence` (summed top
    probabilities) and `ece_correct` (correct predictions), per bin.
  """
  confidence = jnp.max(probs, axis=-1)
  correct = (jnp.argmax(probs, axis=-1) == labels).astype(jnp.float32)
  # Bin b holds (b / n, (b + 1) / n]; a confidence of exactly 0 cannot occur (>= 1 / C).
  index = jnp.clip(jnp.ceil(confidence * num_bins).astype(jnp.int32) - 1, 0, num_bins - 1)
  weights = jax.nn.one_hot(index, num_bins) * mask.astype(jnp.float32)[:, None]
  return {
    "ece_count": jnp.sum(weights, axis=0),
    "ece_confidence": confidence @ weights,
    "ece_correct": correct @ weights,
  }


def ece_from_sums(sums) -> float:
  """ECE from :func:`bin_sums` totals (dict with `ece_count`, `ece_confidence`, `ece_correct`)."""
  count = np.asarray(sums["ece_count"], np.float64)
  gap = np.abs(np.asarray(sums["ece_confidence"]) - np.asarray(sums["ece_correct"]))
  return float(gap.sum() / max(count.sum(), 1.0))


def expected_calibration_error(
  probs: np.ndarray, labels: np.ndarray, num_bins: int = NUM_BINS
) -> float:
  """ECE with `num_bins` equal-width bins of `probs` `[n, C]` against int `labels` `[n]`."""
  probs, labels = jnp.asarray(probs), jnp.asarray(labels)
  return ece_from_sums(bin_sums(probs, labels, jnp.ones(labels.shape), num_bins))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
  """Mean negative log-likelihood of int `labels` `[n]` under `softmax(logits / T)`."""
  scaled = jnp.asarray(logits, jnp.float32) / temperature
  return float(optax.softmax_cross_entropy_with_integer_labels(scaled, labels).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, *, bounds=(0.05, 20.0)) -> float:
  """The temperature T minimising the NLL of `softmax(logits / T)` on `labels`.

  A bounded 1-D search over log T (`scipy.optimize.minimize_scalar`).

  Args:
    logits: float `[n, C]`, held-out logits (never the test set's).
    labels: int `[n]`.
    bounds: the range searched for T.

  Returns:
    T as a float.
  """
  logits = jnp.asarray(logits, jnp.float32)
  labels = jnp.asarray(labels)
  loss = jax.jit(
    lambda log_t: optax.softmax_cross_entropy_with_integer_labels(
      logits / jnp.exp(log_t), labels
    ).mean()
  )
  low, high = np.log(bounds[0]), np.log(bounds[1])
  result = optimize.minimize_scalar(
    lambda log_t: float(loss(log_t)),
    bounds=(low, high),
    method="bounded",
    options={"xatol": 1e-4},
  )
  return float(np.exp(result.x))
