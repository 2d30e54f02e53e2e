"""Tests for the in-memory input pipeline (scikit-learn sources) and label noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mixjax import data
from mixjax.data import base

# ---------------------------------------------------------------------------------------
# A synthetic source whose inputs encode their own index, so that the order, the sharding
# and the coverage of every batch can be read back exactly.


def _indexed_source(
  num_train: int = 100,
  num_test: int = 37,
  *,
  seed: int = 0,
  process_index: int = 0,
  process_count: int = 1,
) -> base.ArraySource:
  info = base.DatasetInfo(
    name="indexed", num_classes=7, input_shape=(1,), num_train=num_train, num_test=num_test
  )
  return base.ArraySource(
    info=info,
    train_inputs=np.arange(num_train, dtype=np.float32)[:, None],
    train_labels=np.arange(num_train) % 7,
    test_inputs=np.arange(num_test, dtype=np.float32)[:, None] + 1000,
    test_labels=np.arange(num_test) % 7,
    seed=seed,
    process_index=process_index,
    process_count=process_count,
  )


def _indices(source: base.ArraySource, batch: dict[str, np.ndarray]) -> np.ndarray:
  """Recovers the example indices of a batch from its normalised inputs."""
  return np.rint(batch["image"][:, 0] * source.std[0] + source.mean[0]).astype(np.int64)


def _epoch(source: base.ArraySource, **kwargs) -> list[np.ndarray]:
  return [_indices(source, b) for b in source.train_batches(**kwargs)]


# ---------------------------------------------------------------------------------------
# scikit-learn sources


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


# ---------------------------------------------------------------------------------------
# Batching, resuming, sharding and evaluation (synthetic indexed data)


def test_epoch_is_a_permutation_that_changes_across_epochs():
  source = _indexed_source(100)
  first = _epoch(source, epoch=0, global_batch_size=16)
  assert len(first) == 6  # Remainder dropped.
  seen = np.concatenate(first)
  assert len(np.unique(seen)) == 96 and seen.min() >= 0 and seen.max() < 100
  again = _epoch(source, epoch=0, global_batch_size=16)
  np.testing.assert_array_equal(np.concatenate(again), seen)
  second = np.concatenate(_epoch(source, epoch=1, global_batch_size=16))
  assert not np.array_equal(second, seen)
  other_seed = np.concatenate(_epoch(_indexed_source(100, seed=1), epoch=0, global_batch_size=16))
  assert not np.array_equal(other_seed, seen)


def test_labels_follow_their_examples():
  source = _indexed_source(100)
  for batch in source.train_batches(epoch=2, global_batch_size=10):
    np.testing.assert_array_equal(batch["label"], _indices(source, batch) % 7)


@pytest.mark.parametrize("start_step", [0, 1, 4, 6])
def test_resume_yields_the_tail_of_the_epoch(start_step):
  source = _indexed_source(100)
  full = _epoch(source, epoch=5, global_batch_size=16)
  resumed = _epoch(source, epoch=5, global_batch_size=16, start_step=start_step)
  assert len(resumed) == source.steps_per_epoch(16) - start_step
  for a, b in zip(full[start_step:], resumed, strict=True):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("process_count", [2, 4])
def test_processes_split_each_global_batch(process_count):
  global_batches = _epoch(_indexed_source(100), epoch=1, global_batch_size=24)
  shards = []
  for index in range(process_count):
    source = _indexed_source(100, process_index=index, process_count=process_count)
    shards.append(_epoch(source, epoch=1, global_batch_size=24, start_step=1))
  assert all(len(s) == len(global_batches) - 1 for s in shards)
  for step, global_batch in enumerate(global_batches[1:]):
    parts = [s[step] for s in shards]
    assert all(len(p) == 24 // process_count for p in parts)
    np.testing.assert_array_equal(np.concatenate(parts), global_batch)


@pytest.mark.parametrize("process_count, global_batch_size", [(1, 10), (2, 10), (4, 12), (2, 100)])
def test_eval_covers_the_test_split_once(process_count, global_batch_size):
  num_test = 37
  local = global_batch_size // process_count
  seen, counts = [], []
  for index in range(process_count):
    source = _indexed_source(num_test=num_test, process_index=index, process_count=process_count)
    batches = list(source.eval_batches(global_batch_size=global_batch_size))
    counts.append(len(batches))
    for batch in batches:
      assert batch["image"].shape == (local, 1) and batch["label"].shape == (local,)
      mask = batch["mask"]
      assert mask.shape == (local,) and mask.dtype == bool
      assert np.all(batch["image"][~mask] == 0) and np.all(batch["label"][~mask] == 0)
      indices = _indices(source, batch)[mask] - 1000
      np.testing.assert_array_equal(batch["label"][mask], indices % 7)
      seen.append(indices)
  assert len(set(counts)) == 1  # Every process yields the same number of batches.
  assert counts[0] == -(-num_test // global_batch_size)
  np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(num_test))


def test_steps_per_epoch_drops_the_remainder():
  source = _indexed_source(100, process_index=1, process_count=4)
  assert source.steps_per_epoch(4) == 25
  assert source.steps_per_epoch(12) == 8
  assert source.steps_per_epoch(100) == 1


# ---------------------------------------------------------------------------------------
# Errors


def test_batch_size_errors():
  source = _indexed_source(100, process_count=4)
  with pytest.raises(ValueError, match="global_batch_size.*divisible by process_count=4.*got 10"):
    source.train_batches(epoch=0, global_batch_size=10)
  with pytest.raises(ValueError, match="global_batch_size.*divisible.*got 6"):
    source.eval_batches(global_batch_size=6)
  with pytest.raises(ValueError, match="global_batch_size.*at most.*100, got 104"):
    source.train_batches(epoch=0, global_batch_size=104)
  with pytest.raises(ValueError, match="global_batch_size.*at most"):
    source.steps_per_epoch(104)
  with pytest.raises(ValueError, match="global_batch_size.*positive int, got 0"):
    source.train_batches(epoch=0, global_batch_size=0)
  with pytest.raises(ValueError, match=r"start_step.*\[0, 25\], got 26"):
    source.train_batches(epoch=0, global_batch_size=4, start_step=26)
  with pytest.raises(ValueError, match="epoch.*got -1"):
    source.train_batches(epoch=-1, global_batch_size=4)


@pytest.mark.parametrize(
  "kwargs, match",
  [
    (dict(name="mnist_typo", test_fraction=0.2), "test_fraction.*scikit-learn"),
    (dict(name="", seed=0), "name.*dataset name"),
    (dict(name=3), "name.*dataset name"),
    (dict(label_noise=1.5), r"label_noise.*\[0, 1\], got 1.5"),
    (dict(label_noise=-0.1), "label_noise"),
    (dict(label_noise=float("nan")), "label_noise"),
    (dict(test_fraction=0.0), r"test_fraction.*\(0, 1\), got 0.0"),
    (dict(test_fraction=1.0), "test_fraction"),
    (dict(test_fraction=0.001), "test_fraction.*stratification"),
    (dict(seed=-1), r"seed.*\[0, 2\*\*32\), got -1"),
    (dict(seed=1.5), "seed"),
    (dict(process_index=2, process_count=2), r"process_index.*\[0, process_count=2\), got 2"),
    (dict(process_count=0), "process_count.*positive int, got 0"),
    (dict(data_dir="/tmp"), "data_dir.*only to tfds"),
  ],
)
def test_load_source_errors(kwargs, match):
  kwargs = {"name": "digits", "seed": 0, **kwargs}
  with pytest.raises(ValueError, match=match):
    data.load_source(kwargs.pop("name"), **kwargs)


def test_datasets_lists_every_supported_name():
  assert data.DATASETS[:4] == ("digits", "iris", "wine", "breast_cancer")
  assert {"cifar10", "cifar100", "mnist", "fashion_mnist", "svhn_cropped", "imagenet2012"} <= set(
    data.DATASETS
  )


# ---------------------------------------------------------------------------------------
# Label noise


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
