"""Tests for the in-memory source (`mixjax.data.arrays.ArraySource`): order, resume, shards."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import noise

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
) -> arrays.ArraySource:
  info = base.DatasetInfo(
    name="indexed", num_classes=7, input_shape=(1,), num_train=num_train, num_test=num_test
  )
  return arrays.ArraySource(
    info=info,
    train_inputs=np.arange(num_train, dtype=np.float32)[:, None],
    train_labels=np.arange(num_train) % 7,
    test_inputs=np.arange(num_test, dtype=np.float32)[:, None] + 1000,
    test_labels=np.arange(num_test) % 7,
    seed=seed,
    process_index=process_index,
    process_count=process_count,
  )


def _indices(source: arrays.ArraySource, batch: dict[str, np.ndarray]) -> np.ndarray:
  """Recovers the example indices of a batch from its normalised inputs."""
  return np.rint(batch["image"][:, 0] * source.std[0] + source.mean[0]).astype(np.int64)


def _epoch(source: arrays.ArraySource, **kwargs) -> list[np.ndarray]:
  return [_indices(source, b) for b in source.train_batches(**kwargs)]


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


def test_the_epoch_order_is_the_documented_permutation():
  source = _indexed_source(100, seed=9)
  order = arrays.epoch_permutation(100, seed=9, epoch=4)
  np.testing.assert_array_equal(order, np.random.default_rng([9, 4]).permutation(100))
  seen = np.concatenate(_epoch(source, epoch=4, global_batch_size=20))
  np.testing.assert_array_equal(seen, order)


def test_batches_are_normalised_with_the_training_statistics():
  source = _indexed_source(100)
  np.testing.assert_allclose(source.mean, [49.5])
  np.testing.assert_allclose(source.std, [np.arange(100).std()], rtol=1e-6)
  test = np.concatenate([b["image"][b["mask"]] for b in source.eval_batches(global_batch_size=8)])
  np.testing.assert_allclose(test[:, 0], (np.arange(37) + 1000 - 49.5) / source.std[0], rtol=1e-5)


# ---------------------------------------------------------------------------------------
# from_splits and subset


def _splits(num_train=40, num_test=10, num_classes=4):
  return dict(
    num_classes=num_classes,
    train_inputs=np.arange(num_train * 2, dtype=np.float32).reshape(num_train, 2),
    train_labels=np.arange(num_train) % num_classes,
    test_inputs=np.zeros((num_test, 2), np.float32),
    test_labels=np.arange(num_test) % num_classes,
  )


def test_from_splits_describes_the_arrays_and_applies_the_label_noise():
  source = arrays.ArraySource.from_splits(
    "toy", seed=5, label_noise=0.5, process_index=1, process_count=2, **_splits()
  )
  assert source.info == base.DatasetInfo(
    name="toy", num_classes=4, input_shape=(2,), num_train=40, num_test=10
  )
  assert (source.process_index, source.process_count) == (1, 2)
  expected, corrupted = noise.corrupt_labels(np.arange(40) % 4, fraction=0.5, num_classes=4, seed=5)
  np.testing.assert_array_equal(source.train_labels, expected)
  np.testing.assert_array_equal(source.corrupted_indices, corrupted)
  np.testing.assert_array_equal(source.test_labels, np.arange(10) % 4)  # Clean.
  assert source.class_names is None


def test_constructor_errors():
  splits = _splits()
  with pytest.raises(ValueError, match=r"class_names.*4 classes"):
    arrays.ArraySource.from_splits("toy", seed=0, class_names=("a", "b"), **splits)
  splits["test_inputs"] = np.zeros((10, 3), np.float32)
  with pytest.raises(ValueError, match=r"test split has inputs \(10, 3\).*\(2,\)"):
    arrays.ArraySource.from_splits("toy", seed=0, **splits)
  with pytest.raises(ValueError, match=r"seed.*\[0, 2\*\*32\), got -1"):
    arrays.ArraySource.from_splits("toy", seed=-1, **_splits())
  with pytest.raises(ValueError, match=r"process_index.*\[0, process_count=2\), got 2"):
    arrays.ArraySource.from_splits("toy", seed=0, process_index=2, process_count=2, **_splits())


def test_subset_takes_a_fold_of_the_training_split():
  source = arrays.ArraySource.from_splits(
    "toy", seed=3, label_noise=0.25, class_names=tuple("abcd"), **_splits()
  )
  train, held_out = np.arange(0, 40, 2), np.arange(1, 40, 2)
  fold = source.subset(train, held_out)
  assert (fold.info.num_train, fold.info.num_test) == (20, 20)
  np.testing.assert_array_equal(fold.train_labels, source.train_labels[train])
  np.testing.assert_array_equal(fold.test_labels, source.train_labels[held_out])
  # Noisy examples stay noisy, renumbered within the fold.
  expected = np.flatnonzero(np.isin(train, source.corrupted_indices))
  np.testing.assert_array_equal(fold.corrupted_indices, expected)
  assert fold.class_names == tuple("abcd")
  np.testing.assert_allclose(fold.mean, source._train_inputs[train].mean(axis=0))
  with pytest.raises(ValueError, match="train_indices.*distinct"):
    source.subset(np.array([0, 0, 1]))
  with pytest.raises(ValueError, match="test_indices.*1-D int"):
    source.subset(train, np.array([0.5]))
