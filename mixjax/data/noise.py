"""Symmetric label noise, as in the corrupted-label experiments of the mixup paper.

A fixed fraction of the training examples, chosen at random, get a label drawn
uniformly from all classes; the new label may coincide with the true one. The noise is
applied once, on the host, to the global training labels (identical on every process)
before they are sharded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mixjax import _checks
from mixjax.data import base

# Spawn key that separates the label-noise stream from every epoch order, which is
# seeded with the entropy `[seed, epoch]` and no spawn key.
_NOISE_STREAM = 0x6E6F6973


def corrupt_labels(
  labels: Any, *, fraction: float, num_classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
  """Replaces the labels of `round(fraction * n)` random examples by uniform labels.

  Args:
    labels: int `[n]`, labels in `[0, num_classes)`.
    fraction: the fraction of examples to corrupt, in [0, 1].
    num_classes: the number of classes the new labels are drawn from, uniformly.
    seed: an int in [0, 2**32); the result is a deterministic function of it.

  Returns:
    `(new_labels, corrupted_indices)`: `new_labels` has the dtype and shape of
    `labels` (a copy; `labels` is not modified); `corrupted_indices` is int64 `[k]`,
    sorted, `k = round(fraction * n)`, the examples whose label was redrawn.

  Examples:
    >>> new, idx = corrupt_labels(np.zeros(10, np.int64), fraction=0.3, num_classes=4, seed=0)
    >>> idx.shape
    (3,)
  """
  labels = np.asarray(labels)
  if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(
      f"`labels` must be a 1-D integer array, got shape {labels.shape} and dtype {labels.dtype}."
    )
  fraction = base.check_fraction(fraction, "fraction")
  num_classes = _checks.check_positive_int(num_classes, "num_classes")
  seed = base.check_seed(seed)
  n = labels.shape[0]
  if n and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(
      f"`labels` must lie in [0, num_classes={num_classes}), got values in "
      f"[{labels.min()}, {labels.max()}]."
    )
  count = round(fraction * n)
  rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_NOISE_STREAM,)))
  corrupted = np.sort(rng.choice(n, size=count, replace=False)).astype(np.int64)
  new_labels = labels.copy()
  new_labels[corrupted] = rng.integers(0, num_classes, size=count)
  return new_labels, corrupted
