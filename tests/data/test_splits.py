"""Tests for the held-out splits (`mixjax.data.splits`)."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.data import splits


def test_stratified_split_partitions_by_class_and_is_fixed_by_the_seed():
  labels = np.repeat([0, 1, 2], [40, 20, 10])
  train, test = splits.stratified_split(labels, test_fraction=0.3, seed=2, dataset="toy")
  assert len(test) == 21 and len(train) == 49
  np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(70))
  np.testing.assert_array_equal(np.bincount(labels[test]), [12, 6, 3])
  again = splits.stratified_split(labels, test_fraction=0.3, seed=2, dataset="toy")
  np.testing.assert_array_equal(again[1], test)
  other = splits.stratified_split(labels, test_fraction=0.3, seed=3, dataset="toy")
  assert not np.array_equal(np.sort(other[1]), np.sort(test))


def test_a_fraction_too_small_to_stratify_names_the_dataset():
  labels = np.repeat([0, 1, 2], 4)
  match = r"`test_fraction`=0.1 cannot split 'pics' \(12 images, 3 classes\) with stratif"
  with pytest.raises(ValueError, match=match):
    splits.stratified_split(labels, test_fraction=0.1, seed=0, dataset="pics", unit="images")


def test_check_test_fraction():
  assert splits.check_test_fraction(None, 0.25) == 0.25
  assert splits.check_test_fraction(0.5, 0.25) == 0.5
  for value in (0.0, 1.0, -0.5, "0.5"):
    with pytest.raises(ValueError, match=r"`test_fraction` must be a number in \(0, 1\)"):
      splits.check_test_fraction(value, 0.25)
