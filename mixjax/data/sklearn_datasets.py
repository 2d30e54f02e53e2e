"""Small offline datasets bundled with scikit-learn, as in-memory sources.

* `digits`: 1,797 8×8 grey images of digits 0-9 (pixel values 0-16, scaled by 1/16),
  `input_shape = (8, 8, 1)`; test fraction 0.25 by default (1,347 train / 450 test).
* `iris` (150 × 4, 3 classes), `wine` (178 × 13, 3 classes), `breast_cancer`
  (569 × 30, 2 classes): tables, `input_shape = (D,)`; test fraction 0.3 by default.

The train/test split is stratified and fixed by `seed`; inputs are normalised per
channel (images) or per feature (tables) with training statistics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from sklearn import datasets as sk_datasets

from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import splits


@dataclasses.dataclass(frozen=True)
class _Spec:
  load: Callable[[], tuple[np.ndarray, np.ndarray]]
  test_fraction: float


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
  bunch = sk_datasets.load_digits()
  images = (bunch.images / 16.0).astype(np.float32)[..., None]
  return images, bunch.target


def _tabular(loader: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[[], tuple]:
  def load() -> tuple[np.ndarray, np.ndarray]:
    inputs, labels = loader(return_X_y=True)
    return inputs.astype(np.float32), labels

  return load


_SPECS = {
  "digits": _Spec(_load_digits, 0.25),
  "iris": _Spec(_tabular(sk_datasets.load_iris), 0.3),
  "wine": _Spec(_tabular(sk_datasets.load_wine), 0.3),
  "breast_cancer": _Spec(_tabular(sk_datasets.load_breast_cancer), 0.3),
}

NAMES = tuple(_SPECS)


def load_sklearn_source(
  name: str,
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  test_fraction: float | None = None,
) -> arrays.ArraySource:
  """Loads a scikit-learn dataset with a stratified train/test split fixed by `seed`.

  Args:
    name: one of `NAMES`.
    seed: an int in [0, 2**32); fixes the split, the label noise and the epoch orders.
    label_noise: fraction of training labels redrawn uniformly (see
      `mixjax.data.noise.corrupt_labels`), in [0, 1].
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
    test_fraction: fraction of the examples held out for testing, in (0, 1); None uses
      the dataset's default (0.25 for digits, 0.3 for the tables).

  Returns:
    An in-memory source.
  """
  if name not in _SPECS:
    raise ValueError(f"`name` must be one of {NAMES}, got {name!r}.")
  spec = _SPECS[name]
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  test_fraction = splits.check_test_fraction(test_fraction, spec.test_fraction)
  inputs, labels = spec.load()
  labels = labels.astype(np.int64)
  train, test = splits.stratified_split(
    labels, test_fraction=test_fraction, seed=seed, dataset=name
  )
  return arrays.ArraySource.from_splits(
    name,
    num_classes=int(labels.max()) + 1,
    train_inputs=inputs[train],
    train_labels=labels[train],
    test_inputs=inputs[test],
    test_labels=labels[test],
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
  )
