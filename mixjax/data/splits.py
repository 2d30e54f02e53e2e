"""Held-out test splits for datasets that come without one: stratified, fixed by a seed."""

from __future__ import annotations

import numpy as np
from sklearn import model_selection

from mixjax.data import base


def check_test_fraction(test_fraction: float | None, default: float) -> float:
  """Checks a held-out fraction in (0, 1); None gives `default`."""
  if test_fraction is None:
    test_fraction = default
  return base.check_fraction(test_fraction, "test_fraction", low_open=True, high_open=True)


def stratified_split(
  labels: np.ndarray, *, test_fraction: float, seed: int, dataset: str, unit: str = "examples"
) -> tuple[np.ndarray, np.ndarray]:
  """Splits `range(len(labels))` into train and test indices, stratified by label.

  The indices are those `sklearn.model_selection.train_test_split` draws for
  `random_state=seed`, in its order.

  Args:
    labels: int `[n]`.
    test_fraction: the held-out fraction, in (0, 1) (see `check_test_fraction`).
    seed: the seed of the split, an int in [0, 2**32).
    dataset: what is split (a dataset name or a folder), for the error message.
    unit: what the examples are called in the message ("examples", "images").

  Returns:
    `(train_indices, test_indices)`, int `[n_train]` and `[n_test]`.

  Raises:
    ValueError: the fraction leaves some class without an example on one side.
  """
  try:
    return tuple(
      model_selection.train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=labels
      )
    )
  except ValueError as e:
    raise ValueError(
      f"`test_fraction`={test_fraction} cannot split {dataset!r} ({len(labels)} {unit}, "
      f"{len(np.unique(labels))} classes) with stratification: {e}"
    ) from e
