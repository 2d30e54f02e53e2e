"""Tests for the scikit-learn datasets (`mixjax.data.sklearn_datasets`), loaded offline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as sk_datasets

from mixjax import data
from mixjax.data import sklearn_datasets
from mixjax.data import splits


def test_digits_split_sizes_shapes_and_dtypes():
  source = data.load_source("digits", seed=0)
  assert source.info == data.DatasetInfo(
    name="digits", num_classes=10, input_shape=(8, 8, 1), num_train=1347, num_test=450
  )
  assert source.steps_per_epoch(128) == 1347 // 128
  batches = list(source.train_batches(epoch=0, global_batch_size=128))
  assert len(batches) == 10
  for batch in batches:
    assert set(batch) == {"image", "label"}
    assert batch["image"].shape == (128, 8, 8, 1) and batch["image"].dtype == np.float32
    assert batch["label"].shape == (128,) and batch["label"].dtype == np.int32
    assert batch["label"].min() >= 0 and batch["label"].max() < 10
  for batch in source.eval_batches(global_batch_size=128):
    assert batch["image"].shape == (128, 8, 8, 1) and batch["image"].dtype == np.float32
    assert batch["label"].dtype == np.int32 and batch["mask"].dtype == bool
  assert source.corrupted_indices.shape == (0,) and source.corrupted_indices.dtype == np.int64


@pytest.mark.parametrize(
  "name, num_features, num_classes, num_examples",
  [("iris", 4, 3, 150), ("wine", 13, 3, 178), ("breast_cancer", 30, 2, 569)],
)
def test_tabular_sources(name, num_features, num_classes, num_examples):
  source = data.load_source(name, seed=3)
  info = source.info
  assert info.input_shape == (num_features,) and info.num_classes == num_classes
  assert info.num_train + info.num_test == num_examples
  assert info.num_test == int(np.ceil(0.3 * num_examples))
  (batch,) = source.train_batches(epoch=0, global_batch_size=info.num_train)
  assert batch["image"].shape == (info.num_train, num_features)
  # Standardised per feature with training statistics.
  np.testing.assert_allclose(batch["image"].mean(axis=0), 0.0, atol=1e-4)
  np.testing.assert_allclose(batch["image"].std(axis=0), 1.0, atol=1e-4)
  # Stratified: every class is in both splits, in about the same proportion.
  test_labels = np.concatenate(
    [b["label"][b["mask"]] for b in source.eval_batches(global_batch_size=16)]
  )
  train_freq = np.bincount(batch["label"], minlength=num_classes) / info.num_train
  test_freq = np.bincount(test_labels, minlength=num_classes)
  test_freq = test_freq / test_freq.sum()
  np.testing.assert_allclose(train_freq, test_freq, atol=0.05)


def test_digits_normalised_with_training_statistics():
  source = data.load_source("digits", seed=0)
  (train,) = source.train_batches(epoch=0, global_batch_size=source.info.num_train)
  np.testing.assert_allclose(train["image"].mean(), 0.0, atol=1e-5)
  np.testing.assert_allclose(train["image"].std(), 1.0, atol=1e-5)
  test = np.concatenate([b["image"] for b in source.eval_batches(global_batch_size=450)])
  assert abs(test.mean()) < 0.1  # Same distribution, normalised with train statistics.
  # Raw digits pixels are in [0, 16] / 16: the statistics are on that scale.
  assert 0.0 < source.mean[0] < 1.0 and 0.0 < source.std[0] < 1.0


def test_split_is_fixed_by_seed():
  def test_set(seed, test_fraction=None):
    source = data.load_source("digits", seed=seed, test_fraction=test_fraction)
    batches = source.eval_batches(global_batch_size=64)
    return np.concatenate([b["label"][b["mask"]] for b in batches])

  np.testing.assert_array_equal(test_set(5), test_set(5))
  assert not np.array_equal(test_set(5), test_set(6))
  assert len(test_set(5, test_fraction=0.5)) == 899


def test_train_order_is_a_function_of_seed_and_epoch():
  def epoch_images(seed, epoch, **kwargs):
    source = data.load_source("digits", seed=seed, **kwargs)
    return np.stack([b["image"] for b in source.train_batches(epoch=epoch, global_batch_size=64)])

  np.testing.assert_array_equal(epoch_images(0, 3), epoch_images(0, 3))
  # Independent of the label noise.
  np.testing.assert_array_equal(epoch_images(0, 3), epoch_images(0, 3, label_noise=0.5))
  assert not np.array_equal(epoch_images(0, 3), epoch_images(0, 4))


def test_load_source_applies_label_noise_to_the_training_split():
  clean = data.load_source("digits", seed=0)
  noisy = data.load_source("digits", seed=0, label_noise=0.3)
  assert len(noisy.corrupted_indices) == round(0.3 * 1347)
  assert noisy.corrupted_indices.max() < 1347
  (a,) = clean.train_batches(epoch=0, global_batch_size=1347)
  (b,) = noisy.train_batches(epoch=0, global_batch_size=1347)
  np.testing.assert_array_equal(a["image"], b["image"])
  changed = np.sum(a["label"] != b["label"])
  # About 9 in 10 redrawn labels differ from the true one.
  assert 0.8 * len(noisy.corrupted_indices) < changed <= len(noisy.corrupted_indices)
  clean_test = clean.eval_batches(global_batch_size=64)
  noisy_test = noisy.eval_batches(global_batch_size=64)
  for x, y in zip(clean_test, noisy_test, strict=True):
    np.testing.assert_array_equal(x["label"], y["label"])  # The test split stays clean.


def test_the_split_is_the_stratified_split_of_the_seed():
  source = sklearn_datasets.load_sklearn_source("iris", seed=4)
  inputs, labels = sk_datasets.load_iris(return_X_y=True)
  train, test = splits.stratified_split(labels, test_fraction=0.3, seed=4, dataset="iris")
  np.testing.assert_array_equal(source.train_labels, labels[train])
  np.testing.assert_array_equal(source.test_labels, labels[test])
  np.testing.assert_allclose(source.mean, inputs[train].mean(axis=0), rtol=1e-5)


def test_names_and_unknown_names():
  assert sklearn_datasets.NAMES == ("digits", "iris", "wine", "breast_cancer")
  with pytest.raises(ValueError, match=r"`name` must be one of .*'digits'.*got 'mnist'"):
    sklearn_datasets.load_sklearn_source("mnist", seed=0)
